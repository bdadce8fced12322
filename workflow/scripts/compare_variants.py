"""Rule compare_variants: every comparison of the claim registry on the raw samples, with its
ratio, bootstrap interval and verdict, into claims.csv (libtorch_bench.comparisons)."""

from libtorch_bench import registry
from libtorch_bench.comparisons import compare_all
from libtorch_bench.rule_script import rule_main
from libtorch_bench.samples import read_runs, read_samples


def main(snakemake, log):
    table = compare_all(
        read_samples(snakemake.input.samples),
        read_runs(snakemake.input.provenance),
        registry.load(snakemake.input.comparisons),
        snakemake.params.settings,
        set(snakemake.params.techniques),
    )
    table.to_csv(snakemake.output.claims, index=False, float_format="%.6g")
    print(table["verdict"].value_counts().to_string(), file=log)


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main)  # noqa: F821 -- injected by Snakemake's script directive
