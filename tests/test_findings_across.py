"""The findings across releases (libtorch_bench/findings_across.py): on synthetic trends with a
known answer, the paragraph names the release where the step was put, its direction and the side
that moved, and says nothing moved on a flat trend; every number in it is a value of the table;
a run of two releases gets no such paragraph."""

import numpy as np
import pandas as pd
import pytest
from test_findings import NUMBER, csv_values

from libtorch_bench import registry
from libtorch_bench.findings import findings, lower_first, platform_list
from libtorch_bench.findings_across import SIDE_TOLERANCE

REG = registry.load()
RELEASES = ["1.8.1", "1.9.1", "1.10.2", "1.11.0", "2.0.1"]  # in version order, not text order


def claim2_rows(fast_ns, slow_ns=lambda i, n: 2000.0 * n / 8, width=0.04, seed=1, releases=RELEASES):
    """Claim 2's trend comparison (the blog's pair, families N) over `releases`: per release i and
    case, each side's median time, the paired ratio their quotient (a little noise) and an
    interval `width` either side."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, release in enumerate(releases):
        for n in (8, 512):
            for b in (1, 16, 256):
                slow, fast = slow_ns(i, n) * (1 + b / 1000), fast_ns(i, n) * (1 + b / 1000)
                ratio = slow / fast * np.exp(rng.normal(0, 0.005))
                rows.append(
                    {
                        "claim": "2",
                        "comparison": "blog_slow_vs_blog_fast",
                        "metric": "median",
                        "primary": True,
                        "libtorch": release,
                        "version": release,
                        "device": "cpu",
                        "front": "cpp",
                        "case": f"B={b};N={n}",
                        "slow_variant": "rows_from_blob_vstack",
                        "fast_variant": "flat_from_blob",
                        "ratio": ratio,
                        "ci_low": ratio * (1 - width),
                        "ci_high": ratio * (1 + width),
                        "verdict": "holds",
                        "reason": "interval above the band",
                        "median_slow_ns": slow,
                        "median_fast_ns": fast,
                        "max_slow_ns": 2 * slow,
                        "max_fast_ns": 2 * fast,
                    }
                )
    return pd.DataFrame(rows)


def across(rows):
    return {c["id"]: c for c in findings(REG, rows)["claims"]}["2"]["across"]


def step_at(k, factor):
    """One from_blob's time, divided by `factor` from release k on (the per-row path unchanged)."""
    return lambda i, n: 400.0 * n / 8 / (factor if i >= k else 1.0)


def test_a_step_is_said_at_its_release_with_its_direction_and_the_side_that_moved():
    rows = claim2_rows(step_at(2, 1.6))  # the ratio 5x rises to 8x at the third release, 1.10.2
    said = across(rows)
    assert len(said) == 2, said  # both families stepped there: the first told in full, the other shortly
    assert said[0].startswith("With rows of ") and " rose from " in said[0]
    assert "on 1.9.1 to " in said[0] and " on 1.10.2, because one from_blob got faster (" in said[0]
    assert said[0].endswith(", and stayed there through 2.0.1.")
    assert " floats it rose there too, from " in said[1] and "because" not in said[1]
    text = " ".join(said)
    found = [n for m in NUMBER.finditer(text) for n in m.groups() if n]
    assert found and [n for n in found if n not in csv_values(rows)] == [], text


def test_a_flat_trend_is_said_to_have_moved_nowhere():
    rng = np.random.default_rng(5)
    wobble = {(i, n): float(np.exp(rng.normal(0, 0.02))) for i in range(len(RELEASES)) for n in (8, 512)}
    rows = claim2_rows(lambda i, n: 400.0 * n / 8 * wobble[i, n], width=0.10)  # noise inside the intervals
    assert across(rows) == ["From 1.8.1 to 2.0.1, the blog's pair's ratio moved nowhere beyond its intervals."]


def test_a_run_of_two_releases_keeps_its_findings_per_release():
    rows = claim2_rows(step_at(1, 1.6), releases=RELEASES[:2])
    assert across(rows) == []
    sentences = {c["id"]: c for c in findings(REG, rows)["claims"]}["2"]["sentences"]
    assert sentences and all("1.9.1" not in s or "(1.9.1)" in s for s in sentences)


@pytest.mark.parametrize(
    ("slow", "fast", "because"),
    [
        (lambda i, n: 2000.0 * (1.6 if i >= 2 else 1), lambda i, n: 400.0, ["because the tensor per row got slower ("]),
        (
            lambda i, n: 2000.0 / (1.3 if i >= 2 else 1),
            step_at(2, 2.0),
            ["because one from_blob got faster (", ") more than the tensor per row ("],
        ),
        (
            lambda i, n: 2000.0 * (1.3 if i >= 2 else 1),
            step_at(2, 1.3),
            ["because the tensor per row got slower (", ") and one from_blob faster ("],
        ),
    ],
    ids=["slow side", "both faster", "opposite ways"],
)
def test_which_side_moved(slow, fast, because):
    first = across(claim2_rows(fast, slow))[0]
    assert " rose from " in first and all(part in first for part in because), first


def test_a_side_within_the_tolerance_did_not_move():
    nudge = 1 + SIDE_TOLERANCE / 2  # the per-row path a little slower, one from_blob much faster
    first = across(claim2_rows(step_at(2, 1.6), lambda i, n: 2000.0 * (nudge if i >= 2 else 1)))[0]
    assert "because one from_blob got faster (" in first and "tensor per row" not in first.split("because")[1]


def test_times_that_tell_the_other_story_say_nothing_of_the_sides():
    rows = claim2_rows(step_at(2, 1.6))
    later = rows.libtorch.isin(RELEASES[2:])
    rows.loc[later, "median_fast_ns"] *= 2.0  # the medians' quotient now falls where the paired ratio rose
    first = across(rows)[0]
    assert " rose from " in first and "because" not in first


def test_what_came_after_the_step():
    back = claim2_rows(lambda i, n: 400.0 / (1.6 if i in (2, 3) else 1))  # up at 1.10.2, back down at 2.0.1
    assert across(back)[0].endswith(", then fell back at 2.0.1.")
    rows = claim2_rows(step_at(1, 1.6))  # up at 1.9.1, then 5% a release: no neighbours apart, 2.0.1 beyond 1.9.1
    creep = rows.libtorch.map(RELEASES.index).clip(lower=1) - 1
    rows[["ratio", "ci_low", "ci_high"]] = rows[["ratio", "ci_low", "ci_high"]].mul(1.05**creep, axis=0)
    first = across(rows)[0]
    assert " on 1.9.1, because " in first and ", then drifted to " in first and first.endswith(" on 2.0.1."), first


def test_too_few_processes_for_an_interval_is_said_so_not_flat():
    rows = claim2_rows(step_at(2, 1.6))
    rows["reason"] = "only 2 processes (fewer than report.min_rounds = 3)"
    assert across(rows) == [
        "Where the blog's pair's ratio moved from 1.8.1 to 2.0.1, this run cannot tell: too few processes per "
        "release for an interval."
    ]


def test_many_releases_are_named_as_ranges():
    on = [(r, r, "cpu", "cpp") for r in RELEASES]
    assert platform_list(on[:3] + on[4:], on) == "1.8.1–1.10.2 and 2.0.1"
    assert platform_list(on[:2] + on[3:], on) == "1.8.1, 1.9.1, 1.11.0 and 2.0.1"
    python = [("2.0.1", "2.0.1", "cpu", "python")]
    assert platform_list(on[2:] + python, on + python) == "1.10.2–2.0.1 and 2.0.1 python"
    assert lower_first("TorchScript and native") == "TorchScript and native"
    assert lower_first("Same shape every call") == "same shape every call"


def test_a_typo_in_the_across_rules_fails_when_the_registry_loads(tmp_path):
    text = registry.DEFAULT_PATH.read_text()
    typos = {
        text.replace("{ratio_after} on {after}{because}", "{ratio_afterr} on {after}{because}", 1): "ratio_afterr",
        text.replace("        flat: ", "        flatt: ", 1): "lacks \\['flat'\\]",
    }
    for typo, message in typos.items():
        (tmp_path / "c.yaml").write_text(typo)
        with pytest.raises(registry.RegistryError, match=message):
            registry.load(tmp_path / "c.yaml")
