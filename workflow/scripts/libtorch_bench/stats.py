"""The statistics of a comparison: the ratio metric(slow) / metric(fast) of two variants'
samples in one cell, its bootstrap confidence interval, and the verdict the interval gives;
and the spike rule that the summaries, the mechanism and the figures share.

What is resampled depends on what the metric describes:
- medians, first calls, per-process totals: processes, then rounds within them, paired
  (the two-level bootstrap of Kalibera & Jones, "Rigorous benchmarking in reasonable time",
  ISMM 2013). A cell's rounds are taken in several fresh processes spread over the run; what
  a process brings (its memory layout, the machine's state while it ran) is shared by all its
  rounds, so a replicate first draws processes with replacement, then rounds within each
  drawn process. The harness interleaves the variants of a case within each round (A B C,
  B C A, ...), so *both* variants' samples come from the drawn rounds: a slow moment lands on
  both sides of the ratio, as it did in the measurement. Where no process is recorded (older
  raw files), every round is its own process: the paired round bootstrap. For cold start a
  round is a fresh process.
- the tail (p99, max): single calls, each variant independently. The tail is
  a property of individual calls; spikes are rare and cluster where their cause puts them
  (the first call with a new shape falls in the first round), so resampling rounds would
  make the interval hinge on which round a handful of spikes happened to fall in.
- spike rates: not resampled; a count of spikes over calls gets an exact or score interval
  (libtorch_bench/rates.py), since a bootstrap of zero counts collapses to a point.

The seed of each interval is derived from the report seed and the comparison's identity
(not from its position), so the same data always gives the same intervals and verdicts.
"""

import warnings
import zlib
from math import ceil

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
    if metric == "first_call":
        return np.nanmedian(m[..., 0], axis=-1)
    if metric == "process_total":
        totals = np.where(np.isnan(m).all(axis=-1), np.nan, np.nansum(m, axis=-1))
        return np.nanmedian(totals, axis=-1)
    raise ValueError(f"unknown metric {metric!r}; known: {METRICS}")


# The tail is a property of single calls: spikes are rare and cluster where the mechanism
# puts them (the first sight of a shape), so tail metrics resample calls; the others resample
# paired rounds (see the module docstring). Spike rates are counts: they are not resampled at
# all but get exact and score intervals (libtorch_bench/rates.py).
TAIL_METRICS = ("p99", "max")
COUNT_METRICS = ("spikes",)


VERDICTS = ("holds", "reversed", "equivalent", "inconclusive", "not run")
DECIDED = ("holds", "reversed", "equivalent")


def resampling_unit(metric):
    if metric in COUNT_METRICS:
        return "counts"
    return "samples" if metric in TAIL_METRICS else "rounds"


def paired_log_ratios(slow, fast):
    """The median metric's paired form: per round, log(slow / fast) of the round's medians (each
    variant's calls in that round); (values, the row of each) for rounds where both ran."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a round where one variant has no call: dropped below
        values = np.log(np.nanmedian(slow, axis=1) / np.nanmedian(fast, axis=1))
    keep = np.isfinite(values)
    return values[keep], np.arange(slow.shape[0])[keep]


def round_values(m, metric):
    """What a rounds-unit metric is the median of: (values, the row of each value).
    first_call: each round's first call; process_total: each round's sum."""
    rows = np.broadcast_to(np.arange(m.shape[0])[:, None], m.shape)
    if metric == "first_call":
        values, rows = m[:, 0], rows[:, 0]
    elif metric == "process_total":
        values = np.where(np.isnan(m).all(axis=1), np.nan, np.nansum(m, axis=1))
        rows = rows[:, 0]
    else:
        raise ValueError(f"{metric!r} is not resampled by rounds")
    keep = ~np.isnan(values)
    return values[keep], rows[keep]


def common_calls(*matrices):
    """The number of leading calls that every round present in the matrices has (rounds a
    variant did not run, all NaN, aside)."""
    lengths = []
    for m in matrices:
        present = ~np.isnan(m)
        taken = present.any(axis=1)
        lengths += list(np.argmin(np.c_[present, np.zeros(len(m), bool)], axis=1)[taken])
    return int(min(lengths)) if lengths else 0


def two_level_weights(rng, clusters, n_resamples):
    """(n_resamples, R) integer weights of R rounds: processes drawn with replacement, then as
    many rounds as each drawn process has, drawn with replacement within it."""
    labels, index = np.unique(np.asarray(clusters), return_inverse=True)
    drawn = rng.multinomial(len(labels), np.full(len(labels), 1 / len(labels)), size=n_resamples)
    weights = np.zeros((n_resamples, len(index)), dtype=np.int64)
    for p in range(len(labels)):
        members = np.flatnonzero(index == p)
        weights[:, members] = rng.multinomial(drawn[:, p] * len(members), np.full(len(members), 1 / len(members)))
    return weights


def weighted_median(values, rows, weights):
    """The median of `values` with each value weighted by its row's weight, per replicate:
    weights (B, R) -> (B,). Unit weights give numpy's median (the middle pair averaged)."""
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[:, rows[order]]
    cum = np.cumsum(w, axis=1)
    half = cum[:, -1:] / 2.0
    i = np.argmax(cum >= half, axis=1)
    at = np.arange(len(i))
    exact = cum[at, i] == half[:, 0]
    upper = v[np.minimum(i + 1, len(v) - 1)]
    return np.where(exact, (v[i] + upper) / 2.0, v[i])


def ratio_with_ci(
    slow, fast, metric, *, n_resamples, confidence_level, method, seed, spike_factor=10.0, unit=None, clusters=None
):
    """ratio = metric(slow) / metric(fast) and its bootstrap interval. `slow` and `fast` are
    (R, C) arrays whose row r holds round r of each variant (NaN where a call is missing);
    `clusters` names the process of each round (default: each round its own).
    unit 'rounds': the two-level bootstrap over processes and rounds, both variants together
    (percentile interval); unit 'samples': each variant's calls drawn independently
    (scipy.stats.bootstrap, `method`). The median's ratio is paired: the median over rounds
    of the round's slow / fast, since the two ran within the same moments of the same process
    (what a round or a process shares cancels out); first calls and process totals, one per
    process, are a ratio of medians. Returns (ratio, low, high); the interval is NaN with
    fewer than two processes (rounds) or samples."""
    slow = np.asarray(slow, dtype=float)
    fast = np.asarray(fast, dtype=float)
    if metric == "process_total":  # a process cut short by its budget: total the calls all completed
        calls = common_calls(slow, fast)
        slow, fast = slow[:, :calls], fast[:, :calls]
    unit = unit or resampling_unit(metric)
    paired = metric == "median" and unit == "rounds"
    if paired:
        log_ratios, rounds = paired_log_ratios(slow, fast)
        ratio = float(np.exp(np.median(log_ratios))) if log_ratios.size else float("nan")
    else:
        ratio = float(metric_of(slow, metric, spike_factor) / metric_of(fast, metric, spike_factor))
    if unit == "rounds":
        clusters = np.arange(slow.shape[0]) if clusters is None else np.asarray(clusters)
        if np.unique(clusters).size < 2 or (paired and log_ratios.size < 2):
            return ratio, float("nan"), float("nan")
        weights = two_level_weights(np.random.default_rng(seed), clusters, n_resamples)
        if paired:
            replicates = np.exp(weighted_median(log_ratios, rounds, weights))
        else:
            replicates = weighted_median(*round_values(slow, metric), weights) / weighted_median(
                *round_values(fast, metric), weights
            )
        alpha = 1.0 - confidence_level
        low, high = np.quantile(replicates, [alpha / 2, 1 - alpha / 2])
        return ratio, float(low), float(high)
    if unit != "samples":
        raise ValueError(f"unknown resampling unit {unit!r}")
    slow_calls, fast_calls = slow[~np.isnan(slow)], fast[~np.isnan(fast)]
    if min(slow_calls.size, fast_calls.size) < 2:
        return ratio, float("nan"), float("nan")

    def statistic(s, f, axis=-1):
        return metric_of(s[..., None], metric, spike_factor) / metric_of(f[..., None], metric, spike_factor)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate resamples (all equal) are handled below
        result = stats.bootstrap(
            (slow_calls, fast_calls),
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
    """The verdict and its reason from an interval of slow/fast and the band
    [reversed_below, holds_above] of differences too small to matter."""
    band = f"[{reversed_below:g}, {holds_above:g}]"
    if np.isnan(low) or np.isnan(high):
        return "inconclusive", "no interval (fewer than two processes or samples)"
    interval = f"interval [{low:.3g}, {high:.3g}]"
    if low > holds_above:
        return "holds", f"{interval} lies above {holds_above:g}"
    if high < reversed_below:
        return "reversed", f"{interval} lies below {reversed_below:g}"
    if low >= reversed_below and high <= holds_above:
        return "equivalent", f"{interval} lies inside {band}: the same for practical purposes"
    return "inconclusive", f"{interval} crosses an edge of {band}: more data needed"


def look_confidence(confidence_level, looks):
    """The level of each interval when a cell is looked at `looks` times before it stops: the
    error rate split evenly over the looks (Bonferroni), so that the verdict a cell stops with
    is wrong with probability at most 1 - confidence_level."""
    return 1.0 - (1.0 - confidence_level) / max(1, int(looks))


def rounds_per_process(schedule, processes_per_look):
    """Rounds each process takes at each look: the look's new rounds split over its processes."""
    out, previous = [], 0
    for target in schedule:
        out.append(ceil((target - previous) / processes_per_look))
        previous += out[-1] * processes_per_look
    return out


def comparison_seed(base_seed, *parts):
    """A seed fixed by the comparison's identity, independent of evaluation order."""
    return (int(base_seed) * 1_000_003 + zlib.crc32("|".join(map(str, parts)).encode())) % (2**32)
