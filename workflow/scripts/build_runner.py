"""Rule build_runner: the command-line runner of one libtorch version (libtorch_bench.build)."""

from libtorch_bench.build import build_or_record
from libtorch_bench.rule_script import rule_main


def main(snakemake, log):
    build_or_record(
        snakemake.input.manifest,
        snakemake.params.source_dir,
        snakemake.params.build_dir,
        "bench_runner",
        snakemake.output[0],
        snakemake.threads,
        log,
    )


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main, kind="build")  # noqa: F821 -- see "Timing isolation" in common.smk
