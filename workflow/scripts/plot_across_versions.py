"""Rule plot_across_versions: the registry's figures over every version and device (each
claim's version trend and mechanism)."""

from libtorch_bench import registry
from libtorch_bench.figures import across_figures
from libtorch_bench.rule_script import rule_main


def main(snakemake, log):
    across_figures(
        registry.load(snakemake.input.comparisons),
        snakemake.input.claims,
        snakemake.input.mechanism,
        dict(snakemake.output.items()),
        snakemake.params.settings,
    )


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main)  # noqa: F821 -- injected by Snakemake's script directive
