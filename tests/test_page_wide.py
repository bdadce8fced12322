"""A wide run (every release, 23 versions x 2 devices): the page's lines stay lines, its first
screen at 1280 px is the answer across releases (each claim's finding, its trend beside it),
and the detail of each release is on a page of its own, self-contained and in the archive."""

import re
import sys
import zipfile
from types import SimpleNamespace

import pandas as pd
import pytest

from conftest import REPO, SCRIPTS
from headless_chromium import inspect_page
from libtorch_bench.page import platform_names
from libtorch_bench.page.releases import page_name
from libtorch_bench.page.trust import drift
from synthetic_results import build_report, write_results

sys.path.insert(0, str(SCRIPTS))  # the rule scripts (archive_report)

VERSIONS = ["1.8.1", "1.9.1", "1.10.2", "2.2.2", "2.13.0", "2.15.0"]


def runs_of(versions, devices):
    rows = [{"libtorch": v, "version": v, "device": d} for v in versions for d in devices]
    return pd.DataFrame(rows + [{"libtorch": "2.13.0", "version": "installed", "device": d} for d in devices])


def test_a_wide_run_names_each_version_once_in_release_order():
    text = platform_names(runs_of(VERSIONS, ["cuda", "cpu"]))
    assert text == "libtorch 1.8.1, 1.9.1, 1.10.2, 2.2.2, 2.13.0, 2.13.0 (installed) and 2.15.0, each on cpu and cuda"
    # A small run keeps naming each platform.
    assert platform_names(runs_of(["1.8.1"], ["cpu"])) == "1.8.1 on cpu, 2.13.0 (installed) on cpu"


def test_the_drift_warning_names_a_few_runs_and_counts_the_rest():
    table = pd.DataFrame(
        {
            "before": [f"{v}/cpu/batch_from_rows" for v in VERSIONS],
            "cells": ["B=1;N=8"] * len(VERSIONS),
            "flagged": [True] * len(VERSIONS),
            "memory_change": [0.5] * len(VERSIONS),
            "compute_change": [0.1] * len(VERSIONS),
        }
    )
    warning, _ = drift(table, 0.25)
    assert warning.count("B=1;N=8") == 4 and "and 2 more (drift.csv lists them all)" in warning


def section(html, start, end):
    return html[html.index(start) : html.index(end, html.index(start))]


def test_a_release_measured_as_a_wheel_and_as_the_installed_torch_is_told_apart():
    from libtorch_bench.findings import and_list, short_labels

    on = [("2.12.1", "2.12.1", "cpu", "cpp"), ("2.13.0", "2.13.0", "cpu", "cpp"), ("2.13.0", "installed", "cpu", "cpp")]
    assert and_list(short_labels(on)) == "2.12.1, 2.13.0 and 2.13.0 (installed)"
    assert short_labels([("2.13.0", "installed", "cpu", "python")]) == ["2.13.0 python"]


# ---- a wide run rendered (synthetic results: six releases, a step in claim 2 at the third) ------

WIDE_RUN = ("1.8.1", "1.9.1", "1.10.2", "1.11.0", "2.0.1", "installed")  # > verdicts.WIDE platforms with cuda
FIRST_SCREEN = 800  # px, at 1280 wide
SCREENSHOTS = REPO / "build" / "tests"


@pytest.fixture(scope="module")
def wide_report(tmp_path_factory):
    """index.html of a synthetic six-release run whose one from_blob gets faster at 1.10.2."""
    root = tmp_path_factory.mktemp("wide")
    write_results(root, rounds=6, calls=8, processes=3, versions=WIDE_RUN, blog_step="1.10.2")
    return build_report(root, REPO)


def test_the_first_screen_of_a_wide_run_is_the_answer(wide_report):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = inspect_page(wide_report, SCREENSHOTS / "report_wide.png", width=1280, height=FIRST_SCREEN)
    assert page["errors"] == [] and page["layout"]["too_wide"] == []
    bottoms, tops = page["layout"]["bottoms"], page["layout"]["tops"]
    for claim in ("1", "2", "3"):  # each claim's finding, said across releases, its trend beside it
        assert bottoms[f"finding-claim{claim}"] <= FIRST_SCREEN, bottoms
        assert f"across-claim{claim}" in bottoms and bottoms[f"glance-claim{claim}"] <= FIRST_SCREEN
    # The run's one earned warning (a control that reads wrong on 1.8.1) is there, in one line.
    assert bottoms["control-wrong"] - tops["control-wrong"] <= 40
    assert "mixed-provenance" not in bottoms and "machine-drift" not in bottoms
    # No figure of a single release on the overview: those are on the release pages.
    assert [i["alt"] for i in page["images"] if " — libtorch " in i["alt"]] == []
    assert all(i["complete"] and i["width"] for i in page["images"])


def test_a_wide_run_says_where_the_step_was_and_that_the_rest_stayed_flat(wide_report):
    html = wide_report.read_text()
    claim2 = section(html, 'id="across-claim2"', "</p>")
    assert " rose from " in claim2 and " on 1.10.2, because one from_blob got faster (" in claim2, claim2
    claim3 = section(html, 'id="across-claim3"', "</p>")
    assert "moved nowhere beyond its intervals" in claim3 and " rose " not in claim3 and " fell " not in claim3


def test_each_release_has_a_page_of_its_own_and_it_opens_offline(wide_report):
    report = wide_report.parent
    index = wide_report.read_text()
    pages = sorted(p.name for p in report.glob("release-*.html"))
    assert pages == sorted(page_name(v) for v in WIDE_RUN)
    assert all(f'href="{name}"' in index for name in pages)  # linked from the overview
    for name in pages:
        html = (report / name).read_text()
        assert 'href="index.html"' in html
        assert re.findall(r'<img[^>]* src="(?!data:)', html) == [] and "<script" not in html and "<link" not in html
        links = [link for link in re.findall(r'href="([^"#]+)', html) if not link.startswith("index.html")]
        assert [link for link in links if not (report / link).resolve().exists()] == [], name
    page = inspect_page(report / page_name("1.10.2"), SCREENSHOTS / "report_wide_release.png", width=1280, height=800)
    assert page["errors"] == [] and page["layout"]["too_wide"] == []
    assert [u for u in page["requests"] if not u.startswith("data:")] == [(report / page_name("1.10.2")).as_uri()]
    alts = [i["alt"] for i in page["images"]]
    assert alts and all("libtorch 1.10.2 on cpu" in a for a in alts), alts  # its own figures, each loaded
    assert all(i["complete"] and i["width"] for i in page["images"])


def test_the_archive_holds_the_release_pages(wide_report, tmp_path):
    from archive_report import TOP, main

    report = wide_report.parent
    results = report.parent
    raw = sorted(str(p) for p in (results / "raw").rglob("*.csv"))
    rule = SimpleNamespace(
        input=SimpleNamespace(
            html=str(wide_report),
            releases=sorted(str(p) for p in report.glob("release-*.html")),
            tables=[str(report / f"{t}.csv") for t in ("claims", "summary", "runs", "mechanism", "drift")],
            samples=raw,
            provenance=[p[:-4] + ".json" for p in raw],
            probes=sorted(str(p) for p in (results / "probe").glob("*.csv")),
            figures=sorted(str(p) for p in (report / "figures").rglob("*.png")),
        ),
        output=SimpleNamespace(archive=str(tmp_path / "libtorch-claims-report.zip")),
        params=SimpleNamespace(config={}, config_files=[]),
    )
    with open(tmp_path / "archive.log", "w") as log:
        main(rule, log)
    with zipfile.ZipFile(rule.output.archive) as zf:
        zf.extractall(tmp_path / "unpacked")
    unpacked = tmp_path / "unpacked" / TOP / "report"
    for version in WIDE_RUN:
        html = (unpacked / page_name(version)).read_text()
        links = [link for link in re.findall(r'href="([^"#]+)', html)]
        assert links and [link for link in links if not (unpacked / link).resolve().exists()] == [], version


def test_a_wide_glance_says_the_platforms_where_nothing_ran_for_one_reason_once():
    from libtorch_bench.page.verdicts import compact_not_run

    platforms = [(v, v, d, "cpp") for v in ("1.8.1", "1.9.1", "2.0.1") for d in ("cpu", "cuda")]
    rows = [
        {"platform": f"{p[0]} · {p[2]}", "not_run": None if p[2] == "cpu" else "no CUDA device", "entries": []}
        for p in platforms
    ]
    rows[5]["not_run"] = "CUDA libraries of this libtorch cannot be loaded"  # another reason stays apart
    out = compact_not_run(rows, platforms)
    assert [r["platform"] for r in out] == [
        "1.8.1 · cpu",
        "cuda · 1.8.1 to 1.9.1 (2)",
        "1.9.1 · cpu",
        "2.0.1 · cpu",
        "2.0.1 · cuda",
    ]
