"""The statistics of one comparison on synthetic samples with known answers: a clear win, no
difference, a reversed comparison, spikes, cold-start metrics, and determinism."""

import numpy as np
import pytest

from libtorch_bench.stats import comparison_seed, metric_of, ratio_with_ci, round_matrix, verdict_of

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


def test_same_distribution_is_no_clear_difference(rng):
    a = rounds_of(1000 * rng.lognormal(0, 0.05, 20))
    b = rounds_of(1000 * rng.lognormal(0, 0.05, 20))
    ratio, low, high = ratio_with_ci(a, b, "median", **KW)
    assert low < 1 < high
    verdict, reason = verdict_of(low, high, 1.1, 1 / 1.1)
    assert verdict == "no clear difference" and "too small to matter" in reason


def test_reversed(rng):
    fast = rounds_of(3000 * rng.lognormal(0, 0.05, 20))
    slow = rounds_of(1000 * rng.lognormal(0, 0.05, 20))
    _, low, high = ratio_with_ci(slow, fast, "median", **KW)
    assert high < 0.4
    assert verdict_of(low, high, 1.1, 1 / 1.1)[0] == "reversed"


def test_wide_interval_is_too_uncertain(rng):
    a = rounds_of(1000 * rng.lognormal(0, 0.8, 6), rounds=6)
    b = rounds_of(1000 * rng.lognormal(0, 0.8, 6), rounds=6)
    _, low, high = ratio_with_ci(a * 1.3, b, "median", **KW)
    verdict, reason = verdict_of(low, high, 1.1, 1 / 1.1)
    assert verdict == "no clear difference" and "too uncertain" in reason


def test_identical_constant_samples_give_a_point_interval():
    a = np.full((5, 1), 30.0)
    assert ratio_with_ci(a, a, "median", **KW) == (1.0, 1.0, 1.0)


def test_paired_rounds_cancel_shared_drift():
    # Both variants drift together across rounds (the machine got slower); slow = 2 x fast
    # in every round. Paired round resampling sees a ratio of exactly 2.
    drift = np.linspace(1, 5, 20)[:, None]
    ratio, low, high = ratio_with_ci(2000 * drift, 1000 * drift, "median", unit="rounds", **KW)
    assert ratio == pytest.approx(2.0) and low == pytest.approx(2.0, rel=0.15) and high == pytest.approx(2.0, rel=0.15)


def test_spike_rate_finds_rare_spikes(rng):
    base = 1000 * rng.lognormal(0, 0.05, 400)
    spiky = base.copy()
    spiky[::40] *= 50  # 10 spikes in 400 calls
    a, b = rounds_of(spiky, 20, 20), rounds_of(base, 20, 20)
    assert metric_of(a, "spikes") > metric_of(b, "spikes")
    _, low, _ = ratio_with_ci(a, b, "spikes", **KW)
    assert low > 1.1
    # the same data without spikes: no difference
    _, low, high = ratio_with_ci(b, b, "spikes", **KW)
    assert low <= 1 <= high


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
