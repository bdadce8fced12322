"""Rule run_models (claim 1): every model and variant on one libtorch and device, cold start,
steady state and changing shapes, in fresh processes (libtorch_bench.model_runs)."""

from libtorch_bench.model_runs import run
from libtorch_bench.provenance import config_hash
from libtorch_bench.rule_script import rule_main


def main(snakemake, log):
    run(
        snakemake.input.runner,
        snakemake.wildcards.version,
        snakemake.wildcards.device,
        snakemake.params.threads,
        snakemake.params.spec,
        snakemake.params.models,
        snakemake.params.model_dir,
        snakemake.output.samples,
        snakemake.output.provenance,
        config_hash(snakemake.config),
        log,
    )


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main, kind="timing")  # noqa: F821 -- see "Timing isolation" in common.smk
