"""Spike rates are counts: exact and score intervals (libtorch_bench.rates), never a bootstrap
that collapses to a point, and verdicts against report.spike_rate_of_interest as the bounds
dictate. Known answers: 0 of 600 against 0 of 600 is bounded, not a point; 30 of 600 against 0
holds; 3 of 600 against 2 of 600 cannot be told apart from a 1% excess."""

import math

import numpy as np
import pandas as pd
import pytest

from libtorch_bench import rates
from libtorch_bench.comparisons import compare_case
from synthetic_results import SETTINGS

LEVEL = 0.95


def verdict(slow, n_slow, fast, n_fast, level=LEVEL, rate=0.01):
    _, low, high = rates.excess_interval(slow, n_slow, fast, n_fast, level)
    return rates.excess_verdict(low, high, rate)[0]


def test_no_spike_on_either_side_is_bounded_not_a_point():
    excess, low, high = rates.excess_interval(0, 600, 0, 600, LEVEL)
    assert excess == 0 and low < 0 < high and high - low > 0.005
    # the rule of three: 0 of 640 calls leaves room for up to about 3/640
    assert rates.upper_bound(0, 640, LEVEL) == pytest.approx(1 - 0.05 ** (1 / 640), rel=1e-6)
    assert 0.0046 < rates.upper_bound(0, 640, LEVEL) < 0.0048
    assert verdict(0, 600, 0, 600) == "equivalent"  # both bounds inside the 1% band
    assert verdict(0, 122, 0, 122) == "inconclusive"  # 122 calls cannot exclude 1%


def test_a_clear_excess_holds_and_a_clear_deficit_is_reversed():
    assert verdict(30, 600, 0, 600) == "holds"
    assert verdict(0, 600, 30, 600) == "reversed"


def test_a_small_difference_is_what_the_bounds_allow():
    excess, low, high = rates.excess_interval(3, 600, 2, 600, LEVEL)
    assert low < 0 < high
    expected = "equivalent" if -0.01 <= low and high <= 0.01 else "inconclusive"
    assert verdict(3, 600, 2, 600) == expected == "inconclusive"
    assert verdict(3, 6000, 2, 6000) == "equivalent"  # more calls: the same rates are bounded inside


def test_the_ratio_of_rates_has_an_exact_interval_that_is_never_a_point():
    ratio, low, high = rates.ratio_interval(0, 600, 0, 600, LEVEL)
    assert math.isnan(ratio) and (low, high) == (0.0, math.inf)
    ratio, low, high = rates.ratio_interval(30, 600, 0, 600, LEVEL)
    assert ratio == math.inf and low > 5 and high == math.inf
    ratio, low, high = rates.ratio_interval(20, 600, 10, 600, LEVEL)
    assert ratio == pytest.approx(2.0) and low < 2 < high


def test_the_bounds_hold_their_level():
    """Over many draws with a known rate, the one-sided bound lies above it at least as often as
    its level says (Clopper-Pearson is conservative)."""
    rng = np.random.default_rng(20211023)
    true_rate, calls = 0.004, 700
    counts = rng.binomial(calls, true_rate, size=400)
    covered = np.mean([rates.upper_bound(k, calls, LEVEL) >= true_rate for k in counts])
    assert covered >= LEVEL - 0.02


def spike_cell(slow_spikes, fast_spikes, calls, seed):
    """One steady cell's samples: two variants of 1 ms calls, the given numbers of 40 ms spikes."""
    rng = np.random.default_rng(seed)
    rows = []
    for variant, spikes in (("torchscript_default", slow_spikes), ("native", fast_spikes)):
        ns = rng.normal(1e6, 2e4, calls)
        ns[rng.choice(calls, spikes, replace=False)] = 4e7
        rows += [
            {"variant": variant, "round": i, "call": 0, "ns": int(v), "process": i % 5, "batch": 1}
            for i, v in enumerate(ns)
        ]
    return pd.DataFrame(rows)


BLOG_SPIKES = {
    "id": "blog_torchscript_vs_native_spikes",
    "claim": "1",
    "slow": "torchscript_default",
    "fast": "native",
    "metric": "spikes",
}
KEY = ("1.8.1", "cpu", "1.8.1", "cpp", "model=mlp;scenario=steady")


@pytest.mark.parametrize(
    ("slow", "fast", "calls", "expected"),
    [(0, 0, 600, "equivalent"), (30, 0, 600, "holds"), (0, 0, 120, "inconclusive")],
)
def test_spike_rows_of_claims_csv_rest_on_the_excess_rate(slow, fast, calls, expected):
    (row,) = compare_case(BLOG_SPIKES, spike_cell(slow, fast, calls, seed=calls + slow), KEY, SETTINGS, None)
    assert row["verdict"] == expected, row["reason"]
    assert row["spikes_slow"] == slow and row["n_slow"] == calls
    assert row["excess_low"] < row["excess"] <= row["excess_high"] or row["excess_low"] < row["excess_high"]
    assert row["rate_slow_high"] > row["rate_slow"]  # never a point, even with no spike
    assert row["resampled"].startswith("none")
