"""The statistics of one comparison on synthetic samples with known answers: each of the four
decided and undecided states where it should arise, processes inside the interval, spikes,
cold-start metrics, the level split over looks, and determinism."""

import numpy as np
import pytest

from libtorch_bench.stats import (
    comparison_seed,
    look_confidence,
    metric_of,
    ratio_with_ci,
    round_matrix,
    rounds_per_process,
    verdict_of,
    weighted_median,
)

KW = dict(n_resamples=1000, confidence_level=0.95, method="percentile", seed=1)


def rounds_of(values, rounds=20, calls=1):
    return np.asarray(values, dtype=float).reshape(rounds, calls)


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(3)


def test_clear_win_holds(rng):
    fast = rounds_of(1000 * rng.lognormal(0, 0.05, 20))
    slow = rounds_of(3000 * rng.lognormal(0, 0.05, 20))
    ratio, low, high = ratio_with_ci(slow, fast, "median", **KW)
    assert 2.7 < low <= ratio <= high < 3.3
    assert verdict_of(low, high, 1.1, 1 / 1.1)[0] == "holds"


def test_same_distribution_is_equivalent(rng):
    a = rounds_of(1000 * rng.lognormal(0, 0.05, 20))
    b = rounds_of(1000 * rng.lognormal(0, 0.05, 20))
    ratio, low, high = ratio_with_ci(a, b, "median", **KW)
    assert 1 / 1.1 < low < 1 < high < 1.1
    verdict, reason = verdict_of(low, high, 1.1, 1 / 1.1)
    assert verdict == "equivalent" and "the same for practical purposes" in reason


def test_a_difference_on_the_edge_of_the_band_is_inconclusive(rng):
    fast = rounds_of(1000 * rng.lognormal(0, 0.05, 40), rounds=40)
    slow = rounds_of(1100 * rng.lognormal(0, 0.05, 40), rounds=40)
    _, low, high = ratio_with_ci(slow, fast, "median", **KW)
    verdict, reason = verdict_of(low, high, 1.1, 1 / 1.1)
    assert low < 1.1 < high and verdict == "inconclusive" and "more data needed" in reason


def test_reversed(rng):
    fast = rounds_of(3000 * rng.lognormal(0, 0.05, 20))
    slow = rounds_of(1000 * rng.lognormal(0, 0.05, 20))
    _, low, high = ratio_with_ci(slow, fast, "median", **KW)
    assert high < 0.4
    assert verdict_of(low, high, 1.1, 1 / 1.1)[0] == "reversed"


def test_wide_interval_is_inconclusive(rng):
    a = rounds_of(1000 * rng.lognormal(0, 0.8, 6), rounds=6)
    b = rounds_of(1000 * rng.lognormal(0, 0.8, 6), rounds=6)
    _, low, high = ratio_with_ci(a * 1.3, b, "median", **KW)
    assert verdict_of(low, high, 1.1, 1 / 1.1)[0] == "inconclusive"
    assert verdict_of(float("nan"), float("nan"), 1.1, 1 / 1.1)[0] == "inconclusive"


def test_what_a_process_brings_widens_the_interval(rng):
    """Each of 6 processes slows the slow variant by its own factor (its memory layout, the
    machine's state): resampled by process, the interval covers that spread; treated as 60
    independent rounds it would be overconfident."""
    processes = np.repeat(np.arange(6), 10)
    offset = np.exp(rng.normal(0, 0.15, 6))[processes][:, None]
    fast = 1000 * rng.lognormal(0, 0.02, (60, 1))
    slow = 1500 * offset * rng.lognormal(0, 0.02, (60, 1))
    _, low_p, high_p = ratio_with_ci(slow, fast, "median", clusters=processes, **KW)
    _, low_r, high_r = ratio_with_ci(slow, fast, "median", **KW)
    assert (high_p - low_p) > 1.5 * (high_r - low_r)


def test_weighted_median_with_unit_weights_is_the_median(rng):
    for n in (1, 2, 7, 10):
        values = rng.random(n)
        assert weighted_median(values, np.arange(n), np.ones((1, n), dtype=int))[0] == pytest.approx(np.median(values))


def test_the_error_rate_is_split_over_the_looks():
    assert look_confidence(0.95, 1) == pytest.approx(0.95)
    assert look_confidence(0.95, 5) == pytest.approx(0.99)
    assert rounds_per_process([25, 50, 100, 200, 400], 5) == [5, 5, 10, 20, 40]


def test_identical_constant_samples_give_a_point_interval():
    a = np.full((5, 1), 30.0)
    assert ratio_with_ci(a, a, "median", **KW) == (1.0, 1.0, 1.0)


def test_paired_rounds_cancel_shared_drift():
    # Both variants drift together across rounds (the machine got slower); slow = 2 x fast
    # in every round. Paired round resampling sees a ratio of exactly 2.
    drift = np.linspace(1, 5, 20)[:, None]
    ratio, low, high = ratio_with_ci(2000 * drift, 1000 * drift, "median", unit="rounds", **KW)
    assert ratio == pytest.approx(2.0) and low == pytest.approx(2.0, rel=0.15) and high == pytest.approx(2.0, rel=0.15)


def test_spike_rates_are_not_bootstrapped():
    # Counts get exact and score intervals (tests/test_rates.py); the bootstrap refuses them.
    with pytest.raises(ValueError):
        metric_of(np.ones((2, 2)), "spikes")


def test_a_cold_total_counts_the_calls_every_process_completed():
    # The second process of the slow side was cut short by its budget after 2 of 4 calls.
    slow = np.array([[5.0, 1, 1, 1], [5.0, 1, np.nan, np.nan], [5.0, 1, 1, 1]])
    fast = np.array([[1.0, 1, 1, 1], [1.0, 1, 1, 1], [1.0, 1, 1, 1]])
    ratio, _, _ = ratio_with_ci(slow, fast, "process_total", **KW)
    assert ratio == pytest.approx(6 / 2)  # the first two calls of every process, not 8 / 4


def test_cold_start_metrics_use_call_index():
    m = round_matrix([0, 0, 1, 1], [0, 1, 0, 1], [100, 10, 300, 30]).to_numpy()
    assert metric_of(m, "first_call") == 200
    assert metric_of(m, "process_total") == (110 + 330) / 2


def test_seed_is_deterministic_and_identity_based():
    assert comparison_seed(1, "a", "b") == comparison_seed(1, "a", "b")
    assert comparison_seed(1, "a", "b") != comparison_seed(1, "a", "c")
    data = np.random.default_rng(0).lognormal(0, 0.3, (10, 1))
    assert ratio_with_ci(data * 1.2, data[::-1], "median", **KW) == ratio_with_ci(
        data * 1.2, data[::-1], "median", **KW
    )
