"""Rule render_report: the answer page, results/report/index.html, and for a wide run a page per
release beside it (libtorch_bench.page with the template workflow/report/page.html.jinja2)."""

from pathlib import Path

from libtorch_bench import page, registry
from libtorch_bench.rule_script import rule_main
from libtorch_bench.samples import read_table


def main(snakemake, log):
    report_dir = str(Path(snakemake.output.html).parent)
    tables = [snakemake.input[name] for name in ("claims", "summary", "mechanism", "runs", "drift")]
    pages = page.render_all(
        registry.load(snakemake.input.comparisons),
        read_table(snakemake.input.claims),
        read_table(snakemake.input.runs),
        read_table(snakemake.input.mechanism),
        read_table(snakemake.input.drift),
        dict(snakemake.input.items()),
        snakemake.params.platforms,
        snakemake.params.caption_dir,
        snakemake.params.config,
        report_dir,
        tables,
    )
    written, declared = set(pages) - {"index.html"}, {Path(p).name for p in snakemake.output.releases}
    if written != declared:  # the rule's outputs (report_common.smk) and the page's split must agree
        raise RuntimeError(f"release pages {sorted(written)} differ from the rule's outputs {sorted(declared)}")
    for name, html in pages.items():
        Path(report_dir, name).write_text(html, encoding="utf-8")
        print(f"{name}: {len(html) / 1e6:.2f} MB", file=log)


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main)  # noqa: F821 -- injected by Snakemake's script directive
