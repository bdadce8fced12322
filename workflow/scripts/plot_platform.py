"""Rule plot_platform: the figures of one libtorch version on one device that the claim
registry lists (a 'not run' card where a claim's technique did not run there)."""

from libtorch_bench import registry
from libtorch_bench.figures import platform_figures
from libtorch_bench.rule_script import rule_main


def main(snakemake, log):
    platform_figures(
        registry.load(snakemake.input.comparisons),
        snakemake.input.samples,
        snakemake.input.summary,
        snakemake.input.runs,
        snakemake.wildcards.version,
        snakemake.wildcards.device,
        dict(snakemake.output.items()),
        snakemake.params.settings,
    )


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main)  # noqa: F821 -- injected by Snakemake's script directive
