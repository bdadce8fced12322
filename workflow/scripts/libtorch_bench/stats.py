"""The statistics of a comparison: the ratio metric(slow) / metric(fast) of two variants'
samples in one cell, its bootstrap confidence interval, and the verdict the interval gives;
and the spike rule that the summaries, the mechanism and the figures share.

What is resampled depends on what the metric describes:
- medians, first calls, per-process totals: whole rounds, paired. The harness interleaves
  the variants of a case within each round (A B C, B C A, ...), so one round of every
  variant shares the machine's state at that moment, and calls within a round are not
  independent. A replicate draws R round indices with replacement and takes *both*
  variants' samples from those rounds, so a slow moment of the machine lands on both sides
  of the ratio, as it did in the measurement. For cold start a round is a fresh process.
- the tail (p99, max, spike rate): single calls, each variant independently. The tail is
  a property of individual calls; spikes are rare and cluster where their cause puts them
  (the first call with a new shape falls in the first round), so resampling rounds would
  make the interval hinge on which round a handful of spikes happened to fall in.

The seed of each interval is derived from the report seed and the comparison's identity
(not from its position), so the same data always gives the same intervals and verdicts.
"""

import warnings
import zlib

import numpy as np
import pandas as pd
from scipy import stats

from .registry import METRICS


def is_spike(ns, median, factor):
    """The spike rule: a call slower than `factor` times its variant's median in the same case."""
    return ns > factor * median


# ---- the statistics -------------------------------------------------------------------------


def round_matrix(rounds, calls, ns):
    """Samples of one variant as a DataFrame (index: round; columns: call; NaN where missing).
    Calls are placed by their `call` index when that is unique within a round (cold start:
    the call after loading), else in the order they were taken."""
    rounds = np.asarray(rounds, dtype=np.int64)
    calls = np.asarray(calls, dtype=np.int64)
    ns = np.asarray(ns, dtype=float)
    round_labels, row = np.unique(rounds, return_inverse=True)
    keys = row.astype(np.int64) * (int(calls.max(initial=0)) + 1) + calls
    if np.unique(keys).size != keys.size:  # repeated call index within a round: use the order
        order = np.argsort(row, kind="stable")
        position = np.empty_like(row)
        counts = np.bincount(row)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        position[order] = np.arange(row.size) - np.repeat(starts, counts)
        calls = position
    matrix = np.full((round_labels.size, int(calls.max(initial=0)) + 1), np.nan)
    matrix[row, calls] = ns
    return pd.DataFrame(matrix, index=pd.Index(round_labels, name="round"))


def paired_matrices(slow, fast):
    """Two round matrices aligned on the union of their rounds: arrays (R, Cs) and (R, Cf)."""
    rounds = slow.index.union(fast.index)
    return (slow.reindex(rounds).to_numpy(dtype=float), fast.reindex(rounds).to_numpy(dtype=float))


def _flat(m):
    """(..., R, C) -> (..., R*C)."""
    return m.reshape(m.shape[:-2] + (-1,))


def metric_of(m, metric, spike_factor=10.0):
    """The metric of samples arranged as (..., rounds, calls), reduced over the last two axes."""
    has_nan = np.isnan(m).any()
    if metric == "median":
        return (np.nanmedian if has_nan else np.median)(_flat(m), axis=-1)
    if metric == "p99":
        return (np.nanquantile if has_nan else np.quantile)(_flat(m), 0.99, axis=-1)
    if metric == "max":
        return np.nanmax(_flat(m), axis=-1)
    if metric == "spikes":
        flat = _flat(m)
        med = (np.nanmedian if has_nan else np.median)(flat, axis=-1)
        with np.errstate(invalid="ignore"):
            count = np.sum(is_spike(flat, med[..., None], spike_factor), axis=-1)
        n = np.sum(~np.isnan(flat), axis=-1)
        return (count + 0.5) / (n + 1.0)  # smoothed rate: finite when one side has none
    if metric == "first_call":
        return np.nanmedian(m[..., 0], axis=-1)
    if metric == "process_total":
        totals = np.where(np.isnan(m).all(axis=-1), np.nan, np.nansum(m, axis=-1))
        return np.nanmedian(totals, axis=-1)
    raise ValueError(f"unknown metric {metric!r}; known: {METRICS}")


# The tail is a property of single calls: spikes are rare and cluster where the mechanism
# puts them (the first sight of a shape), so tail metrics resample calls; the others resample
# paired rounds (see the module docstring).
TAIL_METRICS = ("p99", "max", "spikes")


def resampling_unit(metric):
    return "samples" if metric in TAIL_METRICS else "rounds"


def ratio_with_ci(slow, fast, metric, *, n_resamples, confidence_level, method, seed, spike_factor=10.0, unit=None):
    """ratio = metric(slow) / metric(fast) and its bootstrap interval. `slow` and `fast` are
    (R, C) arrays whose row r holds round r of each variant (NaN where a call is missing).
    unit 'rounds': replicates draw R round indices and take both variants from them;
    unit 'samples': replicates draw each variant's calls independently.
    Returns (ratio, low, high); the interval is NaN with fewer than two rounds or samples."""
    slow = np.asarray(slow, dtype=float)
    fast = np.asarray(fast, dtype=float)
    unit = unit or resampling_unit(metric)
    ratio = float(metric_of(slow, metric, spike_factor) / metric_of(fast, metric, spike_factor))
    if unit == "rounds":
        if slow.shape[0] < 2:
            return ratio, float("nan"), float("nan")

        def statistic(index, axis=-1):
            index = np.asarray(index).astype(np.intp)
            return metric_of(slow[index], metric, spike_factor) / metric_of(fast[index], metric, spike_factor)

        data = (np.arange(slow.shape[0]),)
    elif unit == "samples":
        slow_calls, fast_calls = slow[~np.isnan(slow)], fast[~np.isnan(fast)]
        if min(slow_calls.size, fast_calls.size) < 2:
            return ratio, float("nan"), float("nan")

        def statistic(s, f, axis=-1):
            return metric_of(s[..., None], metric, spike_factor) / metric_of(f[..., None], metric, spike_factor)

        data = (slow_calls, fast_calls)
    else:
        raise ValueError(f"unknown resampling unit {unit!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate resamples (all equal) are handled below
        result = stats.bootstrap(
            data,
            statistic,
            vectorized=True,
            n_resamples=n_resamples,
            confidence_level=confidence_level,
            method=method,
            batch=500,
            rng=np.random.default_rng(seed),
        )
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    if np.isnan(low) or np.isnan(high):  # every replicate equal: the interval is the point
        spread = result.bootstrap_distribution
        if np.all(spread == spread[0]):
            low = high = float(spread[0])
    return ratio, low, high


def verdict_of(low, high, holds_above, reversed_below):
    """The verdict and its reason from an interval of slow/fast."""
    if np.isnan(low) or np.isnan(high):
        return "no clear difference", "no interval (fewer than two rounds)"
    interval = f"interval [{low:.3g}, {high:.3g}]"
    if low > holds_above:
        return "holds", f"{interval} lies above {holds_above:g}"
    if high < reversed_below:
        return "reversed", f"{interval} lies below {reversed_below:g}"
    if low >= reversed_below and high <= holds_above:
        return "no clear difference", f"{interval} inside [{reversed_below:g}, {holds_above:g}]: too small to matter"
    return (
        "no clear difference",
        f"{interval} reaches into [{reversed_below:g}, {holds_above:g}]: too uncertain to call",
    )


def comparison_seed(base_seed, *parts):
    """A seed fixed by the comparison's identity, independent of evaluation order."""
    return (int(base_seed) * 1_000_003 + zlib.crc32("|".join(map(str, parts)).encode())) % (2**32)
