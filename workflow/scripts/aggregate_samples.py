"""Rule aggregate_samples: every raw CSV into summary.csv (one row per variant of each cell,
libtorch_bench.summary) and runs.csv (one row per run, from the provenance JSONs)."""

from libtorch_bench.rule_script import rule_main
from libtorch_bench.samples import read_runs, read_samples
from libtorch_bench.summary import summarize


def main(snakemake, log):
    samples = read_samples(snakemake.input.samples)
    runs = read_runs(snakemake.input.provenance)
    summary = summarize(samples, float(snakemake.params.spike_factor))
    summary.to_csv(snakemake.output.summary, index=False)
    runs.to_csv(snakemake.output.runs, index=False)
    print(f"{len(samples)} samples in {len(runs)} runs -> {len(summary)} summary rows", file=log)


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main)  # noqa: F821 -- injected by Snakemake's script directive
