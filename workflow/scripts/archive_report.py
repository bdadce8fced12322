"""Rule archive_report: one zip that opens offline: report/index.html (self-contained; a wide
run's report/release-*.html beside it) with its tables and figures, raw/ with every sample CSV
and its provenance JSON, and config/ with the configuration the run used. Paths inside keep the
layout of results/, so the page's links to the raw CSVs (../raw/...) work from the unpacked
archive and from results/ alike."""

import zipfile
from pathlib import Path

import yaml

from libtorch_bench.report_folder import ARCHIVE_TOP as TOP
from libtorch_bench.rule_script import rule_main

README = """Reproduction of the 2021 libtorch inference-speed claims.

Open report/index.html in a browser (it needs no network and no other file).
report/release-*.html  a run of many releases: each release's cases and figures (linked from index.html)
report/claims.csv    every comparison: claim, libtorch, device, front, case, variants, ratio,
                     interval, verdict (and the reason for each 'not run')
report/summary.csv   per variant and case: n, median, IQR, p99, max, spikes, CV
report/runs.csv      every run: status, reason, machine, versions, commit
report/drift.csv     the machine-state probes against their median, and the cells after each
report/figures/      the page's figures as PNG
raw/{version}/{device}/{technique}.csv   every sample, one row per timed call
raw/.../*.json       provenance of each run (with where and why each cell stopped sampling)
probe/{device}.csv   the machine-state probe timed before every process of claims 2-3
config/config.used.yaml   the configuration of this run (after defaults)
"""


def relative_to_results(path):
    parts = Path(path).parts
    return Path(*parts[parts.index("results") + 1 :]) if "results" in parts else Path(Path(path).name)


def build(archive, files, config, config_files):
    archive = Path(archive)
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(f".{archive.name}.partial")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{TOP}/README.txt", README)
        for path in sorted(set(files)):
            zf.write(path, f"{TOP}/{relative_to_results(path)}")
        zf.writestr(f"{TOP}/config/config.used.yaml", yaml.safe_dump(config, sort_keys=False))
        for path in config_files:
            if Path(path).exists():
                zf.write(path, f"{TOP}/config/{Path(path).name}")
    tmp.replace(archive)


def main(snakemake, log):
    files = (
        [snakemake.input.html]
        + list(snakemake.input.releases)
        + list(snakemake.input.tables)
        + list(snakemake.input.samples)
        + list(snakemake.input.provenance)
        + list(snakemake.input.probes)
        + list(snakemake.input.figures)
    )
    build(snakemake.output.archive, files, snakemake.params.config, snakemake.params.config_files)
    print(f"{len(files)} files -> {snakemake.output.archive}", file=log)


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main)  # noqa: F821 -- injected by Snakemake's script directive
