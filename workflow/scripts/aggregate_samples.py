"""Rule aggregate_samples: every raw CSV into summary.csv (one row per variant of each cell,
libtorch_bench.summary), runs.csv (one row per run, from the provenance JSONs) and drift.csv
(the machine-state probes against their median, libtorch_bench.machine)."""

from libtorch_bench.machine import drift_table
from libtorch_bench.rule_script import rule_main
from libtorch_bench.samples import read_runs, read_samples
from libtorch_bench.summary import summarize


def main(snakemake, log):
    samples = read_samples(snakemake.input.samples)
    runs = read_runs(snakemake.input.provenance)
    summary = summarize(samples, float(snakemake.params.spike_factor))
    summary.to_csv(snakemake.output.summary, index=False)
    runs.to_csv(snakemake.output.runs, index=False)
    drift = drift_table(snakemake.input.probes, samples, float(snakemake.params.probe_drift))
    drift.to_csv(snakemake.output.drift, index=False, float_format="%.6g")
    print(f"{len(samples)} samples in {len(runs)} runs -> {len(summary)} summary rows", file=log)


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main)  # noqa: F821 -- injected by Snakemake's script directive
