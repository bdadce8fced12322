"""Rates of rare events (spikes) and their exact or score intervals.

A spike rate is a count over calls. A bootstrap of a count that is zero on both sides has
nothing to resample and collapses to a point ("1x [1, 1]"), claiming a certainty that 0 spikes
in 122 calls cannot give: the rule of three puts the rate anywhere up to about 2.5%. So counts
get the intervals made for them:
- each variant's rate: the one-sided Clopper-Pearson (exact binomial) upper bound, the largest
  rate the run could have missed ("0 of 640 calls: at most 0.47% at 95%");
- slow against fast: the excess rate p_slow - p_fast with Newcombe's hybrid score interval
  (Newcombe 1998, method 10: Wilson intervals of each rate combined), never a point, and the
  ratio of the rates with the exact conditional interval (given the total count, the slow
  side's share is binomial), which is [0, inf] when neither side spiked.

The verdict rests on the excess rate and the band [-r, r], r = report.spike_rate_of_interest:
the smallest excess the claim is about ("occasionally" could be one call in a hundred).
Calls are treated as independent trials; spikes that cluster (a burst of new shapes) make the
intervals somewhat too narrow, which the process-level scenarios (several processes, each with
its own order of shapes) partly offset.
"""

import math

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

from .format import rate as fmt_rate


def upper_bound(count, calls, level):
    """The largest rate consistent with `count` events in `calls` trials: one-sided exact
    (Clopper-Pearson) upper bound at `level`."""
    if calls <= 0:
        return float("nan")
    return float(stats.binomtest(int(count), int(calls), alternative="less").proportion_ci(level, "exact").high)


def excess_interval(count_slow, calls_slow, count_fast, calls_fast, level):
    """(excess, low, high): p_slow - p_fast and Newcombe's hybrid score interval at `level`."""
    if min(calls_slow, calls_fast) <= 0:
        return float("nan"), float("nan"), float("nan")
    excess = count_slow / calls_slow - count_fast / calls_fast
    low, high = confint_proportions_2indep(
        int(count_slow),
        int(calls_slow),
        int(count_fast),
        int(calls_fast),
        method="newcomb",
        compare="diff",
        alpha=1.0 - level,
    )
    return float(excess), float(low), float(high)


def ratio_interval(count_slow, calls_slow, count_fast, calls_fast, level):
    """(ratio, low, high) of the two rates: the exact conditional interval (the slow side's share
    of all events is binomial given their total). NaN ratio when neither side has an event."""
    total = int(count_slow) + int(count_fast)
    scale = calls_fast / calls_slow
    ratio = (
        (count_slow / calls_slow) / (count_fast / calls_fast) if count_fast else (math.inf if count_slow else math.nan)
    )
    if total == 0:
        return ratio, 0.0, math.inf
    share = stats.binomtest(int(count_slow), total).proportion_ci(level, "exact")

    def to_ratio(p):
        return math.inf if p >= 1 else p / (1 - p) * scale

    return float(ratio), to_ratio(share.low), to_ratio(share.high)


def excess_verdict(low, high, rate_of_interest):
    """The verdict and its reason from the excess rate's interval and the band [-r, r]."""
    band = f"±{fmt_rate(rate_of_interest)}"
    if np.isnan(low) or np.isnan(high):
        return "inconclusive", "no interval (no calls)"
    interval = f"excess spike rate [{fmt_rate(low, signed=True)}, {fmt_rate(high, signed=True)}]"
    if low > rate_of_interest:
        return "holds", f"{interval} lies above +{fmt_rate(rate_of_interest)}"
    if high < -rate_of_interest:
        return "reversed", f"{interval} lies below -{fmt_rate(rate_of_interest)}"
    if low >= -rate_of_interest and high <= rate_of_interest:
        return "equivalent", f"{interval} lies inside {band}: no excess of spikes the claim is about"
    return "inconclusive", f"{interval} crosses an edge of {band}: more calls needed"
