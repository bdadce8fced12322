"""The report's statistics on synthetic data with known answers: a clear win, no difference,
a reversed comparison, 'not run' with its reason, spikes, and determinism."""

import numpy as np
import pandas as pd
import pytest

from aggregate import summarize
from claim_stats import (compare_all, comparison_seed, expand_pairs, metric_of, ratio_with_ci, round_matrix,
                         verdict_of)
from report_data import cell_of, load_comparisons, parse_params, read_runs, read_samples
from synthetic_results import NOT_RUN_REASON, SETTINGS, write_results

from conftest import REPO

COMPARISONS = REPO / "workflow" / "resources" / "comparisons.yaml"
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
    assert ratio_with_ci(data * 1.2, data[::-1], "median", **KW) == ratio_with_ci(data * 1.2, data[::-1], "median", **KW)


def test_expand_pairs_globs_each_and_fastest():
    variants = ["harness_empty", "native", "torchscript_a", "torchscript_b", "floor"]
    medians = {v: i for i, v in enumerate(variants)}
    pairs, _ = expand_pairs({"slow": "torchscript_*", "fast": "native"}, variants, medians, None)
    assert pairs == [("torchscript_a", "native"), ("torchscript_b", "native")]
    pairs, _ = expand_pairs({"slow": "each", "fast": "floor"}, variants, medians, "floor")
    assert [s for s, _ in pairs] == ["native", "torchscript_a", "torchscript_b"]
    pairs, _ = expand_pairs({"slow": "torchscript_b", "fast": {"fastest_of": ["native", "torchscript_*"]}},
                            variants, medians, None)
    assert pairs == [("torchscript_b", "native")]
    pairs, reason = expand_pairs({"slow": "aotinductor", "fast": "native"}, variants, medians, None)
    assert pairs is None and "aotinductor" in reason


def test_params_and_paths():
    assert parse_params("K=100;cols=1000;density=0.5;rows=64") == {"K": 100, "cols": 1000, "density": 0.5, "rows": 64}
    assert parse_params("model=mlp;scenario=cold") == {"model": "mlp", "scenario": "cold"}
    assert cell_of("results/raw/1.8.1/cuda/mask_indexing.python.csv") == ("1.8.1", "cuda", "mask_indexing", "python")
    assert cell_of("results/raw/installed/cpu/batch_from_rows.csv") == ("installed", "cpu", "batch_from_rows", "cpp")


# ---- the whole comparison table on a synthetic results tree ------------------------------------

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    raw = write_results(root, rounds=12, calls=12, processes=6)
    samples = read_samples(raw)
    runs = read_runs([p[:-4] + ".json" for p in raw])
    claims, comparisons = load_comparisons(COMPARISONS)
    table = compare_all(samples, runs, claims, comparisons, SETTINGS, set(runs.technique))
    return samples, runs, table


def verdicts(table, comparison, **where):
    rows = table[table.comparison == comparison]
    for key, value in where.items():
        rows = rows[rows[key] == value]
    return set(rows.verdict)


def test_known_answers_on_synthetic_results(synthetic):
    _, _, table = synthetic
    cpu = table[table.device == "cpu"]
    assert verdicts(cpu, "blog_slow_vs_blog_fast") == {"holds"}  # 5x by construction
    assert verdicts(cpu, "index_vs_index_select") == {"no clear difference"}  # same distribution
    assert verdicts(cpu, "masked_select_vs_index_select") == {"reversed"}  # 3x faster by construction
    k100 = cpu[(cpu.comparison == "mask_vs_reused_index") & cpu.case.str.startswith("K=100;")]
    assert set(k100.verdict) == {"holds"}
    spikes = cpu[(cpu.comparison == "torchscript_vs_native_spikes") & (cpu.slow_variant == "torchscript_default")
                 & cpu.case.str.contains("scenario=shapes")]
    assert set(spikes.verdict) == {"holds"} and (spikes.spikes_fast == 0).all() and (spikes.spikes_slow > 0).all()
    none = cpu[(cpu.comparison == "torchscript_vs_native_spikes") & (cpu.slow_variant == "torchscript_no_profiling")]
    assert "holds" not in set(none.verdict)


def test_not_run_rows_carry_the_reason(synthetic):
    _, _, table = synthetic
    cuda = table[table.device == "cuda"]
    assert set(cuda.verdict) == {"not run"}
    assert cuda.reason.str.contains(NOT_RUN_REASON, regex=False).all()
    # aotinductor exists on 'installed' only: on 1.8.1 its comparison is 'not run' with a reason
    aot = table[(table.comparison == "aotinductor_vs_native_median") & (table.version == "1.8.1")
                & (table.device == "cpu")]
    assert set(aot.verdict) == {"not run"} and aot.reason.str.contains("aotinductor").all()
    assert not table.verdict.isna().any() and not (table.verdict == "").any()


def test_absent_technique_is_not_run(synthetic):
    samples, runs, _ = synthetic
    claims, comparisons = load_comparisons(COMPARISONS)
    runs = runs[runs.technique != "model_inference"]
    table = compare_all(samples[samples.technique != "model_inference"], runs, claims, comparisons, SETTINGS,
                        {"batch_from_rows", "mask_indexing"})
    claim1 = table[table.claim == "1"]
    assert set(claim1.verdict) == {"not run"}
    assert claim1.reason.str.contains("model_inference was not measured").all()


def test_claims_columns_and_identical_reruns(synthetic):
    samples, runs, table = synthetic
    for column in ("claim", "libtorch", "device", "front", "case", "slow_variant", "fast_variant", "ratio",
                   "ci_low", "ci_high", "verdict", "p99_slow_ns", "p99_fast_ns", "max_slow_ns", "max_fast_ns",
                   "spikes_slow", "spikes_fast"):
        assert column in table.columns
    assert set(table.verdict) <= {"holds", "reversed", "no clear difference", "not run"}
    claims, comparisons = load_comparisons(COMPARISONS)
    again = compare_all(samples, runs, claims, comparisons, SETTINGS, set(runs.technique))
    pd.testing.assert_frame_equal(table, again)


def test_summary_statistics():
    rows = []
    for i, ns in enumerate([100, 100, 100, 100, 100, 100, 100, 100, 100, 5000]):
        rows.append({"technique": "t", "variant": "v", "params": "a=1", "version": "x", "libtorch": "1",
                     "device": "cpu", "front": "cpp", "threads": 1, "round": i, "call": 0, "ns": ns})
    summary = summarize(pd.DataFrame(rows), 10.0)
    row = summary.iloc[0]
    assert row.n == 10 and row.median_ns == 100 and row.max_ns == 5000 and row.spikes == 1 and row.iqr_ns == 0
    assert row.cv == pytest.approx(np.std([100] * 9 + [5000], ddof=1) / 590)


def test_results_from_other_machines_or_commits_are_flagged_not_mixed_silently():
    import pandas as pd

    from report_data import mixed_provenance

    base = {"status": "ok", "front": "cpp", "host": "a", "cpu_model": "X", "git_commit": "c1", "config_hash": "h1"}
    runs = pd.DataFrame([
        {**base, "version": "1.8.1", "device": "cpu", "technique": "batch_from_rows"},
        {**base, "version": "installed", "device": "cpu", "technique": "batch_from_rows"},
        {**base, "version": "installed", "device": "cuda", "technique": "batch_from_rows", "status": "not run",
         "host": "", "git_commit": "c9"},  # a cell with no samples cannot mix anything
    ])
    assert mixed_provenance(runs) == []
    runs.loc[1, "git_commit"] = "c2"
    runs.loc[1, "host"] = "b"
    notes = mixed_provenance(runs)
    assert len(notes) == 2
    assert "2 different machines" in notes[0] and "installed/cpu/batch_from_rows" in notes[0]
    assert "2 different commits" in notes[1] and "c1: 1.8.1/cpu/batch_from_rows" in notes[1]
    # Two GPUs in one table are two machines' results, even where host names agree ("vm").
    runs.loc[1, ["git_commit", "host"]] = ["c1", "a"]
    runs["gpu"] = ["NVIDIA H200, 580.159.04, 143771 MiB", "NVIDIA H100 80GB HBM3, 580.159.04, 81559 MiB", ""]
    notes = mixed_provenance(runs)
    assert len(notes) == 1 and "2 different GPUs" in notes[0] and "H100" in notes[0]
    # One run made with TF32 off, one with nothing set: flagged too.
    runs["gpu"] = ""
    runs["environment"] = ["NVIDIA_TF32_OVERRIDE=0", "none", ""]
    notes = mixed_provenance(runs)
    assert len(notes) == 1 and "tuning variables" in notes[0] and "NVIDIA_TF32_OVERRIDE=0: 1.8.1" in notes[0]


def test_claim1_panels_name_each_size_as_configured():
    """Models with different size parameters: each panel names its own sizes, as integers."""
    import pandas as pd

    from figures import _model_cases

    samples = pd.DataFrame({
        "technique": "model_inference", "variant": "native",
        "params": ["batch=8;depth=3;features=512;hidden=1024;model=mlp;scenario=steady",
                   "batch=8;channels=32;image=64;model=cnn;scenario=steady"]})
    panels = list(_model_cases(samples)["panel"])
    assert panels == ["mlp · batch=8 depth=3 features=512 hidden=1024", "cnn · batch=8 channels=32 image=64"]
