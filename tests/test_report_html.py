"""The report as a reader gets it: index.html opened in headless Chromium (every image loads,
no console error, no request leaves the page), the archive that opens offline, and
Snakemake's own report, all on a synthetic results tree (no build, no GPU, no timing)."""

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, copy_workflow
from headless_chromium import inspect_page
from synthetic_results import NOT_RUN_REASON, build_report, write_results

REPORT_RULES = [
    "aggregate_samples",
    "compare_variants",
    "derive_mechanism",
    "plot_platform",
    "plot_across_versions",
    "render_report",
    "archive_report",
]
MAX_HTML_BYTES = 5 * 1024 * 1024
SCREENSHOTS = REPO / "build" / "tests"


def check_in_chromium(html, screenshot):
    """What a reader sees at 1280 x 800: every image loads, nothing goes wrong, nothing leaves
    the page or reaches past the window, and every claim's finding is within two screens."""
    page = inspect_page(html, screenshot, width=1280, height=800)
    assert page["images"], "the page shows no figure"
    broken = [i["alt"] for i in page["images"] if not i["complete"] or i["width"] == 0]
    assert not broken, f"images that did not load: {broken}"
    assert page["errors"] == [], page["errors"]
    outside = [u for u in page["requests"] if not (u.startswith("data:") or u == Path(html).resolve().as_uri())]
    assert outside == [], f"the page asked for more than itself: {outside}"
    layout = page["layout"]
    assert layout["too_wide"] == [] and layout["scroll_width"] <= layout["inner_width"], layout["too_wide"][:10]
    findings = {k: v for k, v in layout["bottoms"].items() if k.startswith("finding-claim")}
    assert len(findings) == 3 and max(findings.values()) <= 2 * 800, findings
    assert Path(html).stat().st_size <= MAX_HTML_BYTES
    assert Path(screenshot).stat().st_size > 10_000
    return page


def test_page_opens_in_chromium_with_every_claim(synthetic_report):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = check_in_chromium(synthetic_report, SCREENSHOTS / "report_synthetic.png")
    assert len(page["images"]) >= 9  # 3 claims x (platform figures on cpu per version + trend + mechanism)
    html = synthetic_report.read_text()
    assert synthetic_report.stat().st_size <= MAX_HTML_BYTES
    for claim in ("Claim 1", "Claim 2", "Claim 3"):
        assert claim in html
    assert f"not run</span> {NOT_RUN_REASON}" in html or NOT_RUN_REASON in html
    assert "<figcaption><p>" in html and "Look at" in html  # every figure says what to look at
    assert len(re.findall(r"<figure[ >]", html)) == html.count("<figcaption><p>")


def test_mixed_provenance_heads_the_findings(tmp_path):
    root = tmp_path / "mixed"
    write_results(root, rounds=6, calls=4, processes=3)
    record = root / "results/raw/installed/cpu/batch_from_rows.json"
    record.write_text(record.read_text().replace('"host": "synthetic"', '"host": "elsewhere"'))
    html = build_report(root, REPO).read_text()
    findings = html[html.index('<section id="findings">') :]
    assert findings.index('id="mixed-provenance"') < findings.index('id="finding-claim1"')
    assert "2 different machines" in findings


def run_snakemake(workdir, *args):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args, "--cores", "2", "--configfile", "config/test.yaml"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def pipeline_report(tmp_path_factory):
    """The report rules of the real workflow on synthetic raw results (the timing rules are
    not allowed to run: the raw CSVs are taken as they are)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("workflow"))
    write_results(workdir, rounds=5, calls=6, processes=3)
    done = run_snakemake(
        workdir, "results/report/index.html", "results/libtorch-claims-report.zip", "--allowed-rules", *REPORT_RULES
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return workdir


def test_pipeline_outputs_and_claims_csv(pipeline_report):
    report = pipeline_report / "results" / "report"
    claims = pd.read_csv(report / "claims.csv", keep_default_na=False)
    for column in "claim libtorch device front case slow_variant fast_variant ratio ci_low ci_high verdict".split():
        assert column in claims.columns
    assert set(claims.verdict) <= {"holds", "reversed", "equivalent", "inconclusive", "not run"}
    not_run = claims[claims.verdict == "not run"]
    assert len(not_run) and not_run.reason.str.startswith("not run: ").all()
    assert (report / "index.html").stat().st_size <= MAX_HTML_BYTES
    assert (report / "summary.csv").exists() and (report / "runs.csv").exists()
    # The machine line from runs.csv: these results name no GPU, so none is shown (not "nan").
    machine = re.search(r"<p>Machine: .*?</p>", (report / "index.html").read_text(), re.S).group(0)
    assert "Synthetic CPU" in machine and "GPU" not in machine and "nan" not in machine


def test_archive_opens_offline(pipeline_report, tmp_path):
    archive = pipeline_report / "results" / "libtorch-claims-report.zip"
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path)
    top = tmp_path / "libtorch-claims-report"
    assert (top / "report" / "index.html").exists() and (top / "config" / "config.used.yaml").exists()
    assert any(n.endswith(".csv") and "/raw/" in n for n in names)
    assert any(n.endswith(".json") and "/raw/" in n for n in names)
    html = (top / "report" / "index.html").read_text()
    links = re.findall(r'href="([^"#]+)"', html)
    assert links, "the page links no raw data"
    missing = [link for link in links if not (top / "report" / link).resolve().exists()]
    assert missing == [], f"links that do not resolve inside the archive: {missing}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    check_in_chromium(top / "report" / "index.html", SCREENSHOTS / "report_archive.png")


def test_snakemake_report_zip(pipeline_report):
    done = run_snakemake(pipeline_report, "--report", "results/report.zip")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    with zipfile.ZipFile(pipeline_report / "results" / "report.zip") as zf:
        names = zf.namelist()
    assert any(n.endswith("index.html") for n in names)
    assert any(n.endswith("claims.csv") for n in names)
    assert sum(n.endswith(".png") for n in names) >= 6
