"""Rule run_python_front: claim 3 as written in Python on the installed torch, timed with
torch.utils.benchmark, with the C++ technique's own inputs (libtorch_bench.python_front)."""

from libtorch_bench.provenance import config_hash
from libtorch_bench.python_front import run
from libtorch_bench.rule_script import rule_main


def main(snakemake, log):
    run(
        snakemake.input.module,
        snakemake.params.spec,
        snakemake.wildcards.device,
        snakemake.params.threads,
        snakemake.output.samples,
        snakemake.output.provenance,
        config_hash(snakemake.config),
    )


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main, kind="timing")  # noqa: F821 -- see "Timing isolation" in common.smk
