"""One summary row per variant of each cell (technique, parameters, version, device, front):
n, median, IQR, p99, max, spikes (libtorch_bench.stats.is_spike), coefficient of variation, and
(appended) the largest number of calls a sample held (1: single calls; see harness.batch_target)."""

import numpy as np
import pandas as pd

from .stats import is_spike

GROUP = ["technique", "variant", "params", "version", "libtorch", "device", "front", "threads"]
SUMMARY_COLUMNS = GROUP + [
    "n",
    "rounds",
    "median_ns",
    "q25_ns",
    "q75_ns",
    "iqr_ns",
    "p99_ns",
    "min_ns",
    "max_ns",
    "mean_ns",
    "cv",
    "spikes",
    "spike_factor",
    "batch",  # appended: the most back-to-back calls one sample held (1: single calls)
]


def summarize(samples, spike_factor):
    """Vectorised per-group statistics of the `ns` column."""
    if samples.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    df = samples[GROUP + ["round", "ns"]].copy()
    batch = samples["batch"] if "batch" in samples else pd.Series(1, index=samples.index)
    df["ns"] = df["ns"].astype(float)
    grouped = df.groupby(GROUP, sort=True, observed=True)["ns"]
    quantiles = grouped.quantile([0.25, 0.5, 0.75, 0.99]).unstack()
    out = pd.DataFrame(
        {
            "n": grouped.size(),
            "rounds": df.groupby(GROUP, sort=True, observed=True)["round"].nunique(),
            "median_ns": quantiles[0.5],
            "q25_ns": quantiles[0.25],
            "q75_ns": quantiles[0.75],
            "p99_ns": quantiles[0.99],
            "min_ns": grouped.min(),
            "max_ns": grouped.max(),
            "mean_ns": grouped.mean(),
        }
    )
    out["iqr_ns"] = out["q75_ns"] - out["q25_ns"]
    std = grouped.std(ddof=1).fillna(0.0)
    out["cv"] = np.where(out["mean_ns"] > 0, std / out["mean_ns"], np.nan)
    median_per_sample = grouped.transform("median")
    df["spike"] = is_spike(df["ns"], median_per_sample, spike_factor)
    out["spikes"] = df.groupby(GROUP, sort=True, observed=True)["spike"].sum().astype("int64")
    out["spike_factor"] = spike_factor
    out["batch"] = batch.groupby([samples[g] for g in GROUP], sort=True, observed=True).max().astype("int64")
    return out.reset_index()[SUMMARY_COLUMNS]
