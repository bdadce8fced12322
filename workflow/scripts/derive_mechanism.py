"""Rule derive_mechanism: the quantities that explain each claim's verdicts (where spikes fall,
cost per row, cost of one mask conversion) into mechanism.csv (libtorch_bench.mechanism)."""

from libtorch_bench import registry
from libtorch_bench.mechanism import derive
from libtorch_bench.rule_script import rule_main
from libtorch_bench.samples import read_samples, read_table


def main(snakemake, log):
    table = derive(
        registry.load(snakemake.input.comparisons),
        read_samples(snakemake.input.samples),
        read_table(snakemake.input.summary),
        float(snakemake.params.spike_factor),
    )
    table.to_csv(snakemake.output.mechanism, index=False, float_format="%.6g")
    print(f"{len(table)} rows", file=log)


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main)  # noqa: F821 -- injected by Snakemake's script directive
