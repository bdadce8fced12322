"""Rule build_extension: the pybind11 module against the installed torch (libtorch_bench.build)."""

from libtorch_bench.build import build_or_record
from libtorch_bench.rule_script import rule_main


def main(snakemake, log):
    build_or_record(
        snakemake.input.manifest,
        snakemake.params.source_dir,
        snakemake.params.build_dir,
        "libtorch_bench_ext",
        snakemake.output[0],
        snakemake.threads,
        log,
    )


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main, kind="build")  # noqa: F821 -- see "Timing isolation" in common.smk
