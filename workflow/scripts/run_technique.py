"""Rule run_technique: time every variant of one technique over its grid on one libtorch and
device (libtorch_bench.runner.run)."""

from libtorch_bench.provenance import config_hash
from libtorch_bench.rule_script import rule_main
from libtorch_bench.runner import run


def main(snakemake, log):
    run(
        snakemake.input.runner,
        snakemake.wildcards.technique,
        snakemake.wildcards.device,
        snakemake.params.threads,
        snakemake.params.grid,
        snakemake.output.samples,
        snakemake.output.provenance,
        config_hash(snakemake.config),
        log,
    )


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main, kind="timing")  # noqa: F821 -- see "Timing isolation" in common.smk
