"""The comparison table (claims.csv) on a synthetic results tree with known answers: which
pairs a comparison makes, verdicts, 'not run' with its reason, columns, and identical reruns."""

import pandas as pd
import pytest

from libtorch_bench import registry
from libtorch_bench.comparisons import compare_all, compare_case, expand_pairs
from libtorch_bench.samples import read_runs, read_samples
from synthetic_results import NOT_RUN_REASON, SETTINGS, write_results


def test_expand_pairs_globs_each_and_fastest():
    variants = ["harness_empty", "native", "torchscript_a", "torchscript_b", "floor"]
    medians = {v: i for i, v in enumerate(variants)}
    pairs, _ = expand_pairs({"slow": "torchscript_*", "fast": "native"}, variants, medians, None)
    assert pairs == [("torchscript_a", "native"), ("torchscript_b", "native")]
    pairs, _ = expand_pairs({"slow": "each", "fast": "floor"}, variants, medians, "floor")
    assert [s for s, _ in pairs] == ["native", "torchscript_a", "torchscript_b"]
    pairs, _ = expand_pairs(
        {"slow": "torchscript_b", "fast": {"fastest_of": ["native", "torchscript_*"]}}, variants, medians, None
    )
    assert pairs == [("torchscript_b", "native")]
    pairs, reason = expand_pairs({"slow": "aotinductor", "fast": "native"}, variants, medians, None)
    assert pairs is None and "aotinductor" in reason


# ---- the whole comparison table on a synthetic results tree ------------------------------------


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    raw = write_results(root, rounds=12, calls=12, processes=6)
    samples = read_samples(raw)
    runs = read_runs([p[:-4] + ".json" for p in raw])
    table = compare_all(samples, runs, registry.load(), SETTINGS, set(runs.technique))
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
    assert verdicts(cpu, "index_vs_index_select") <= {"equivalent", "inconclusive"}  # same distribution
    assert verdicts(cpu, "masked_select_vs_index_select") == {"reversed"}  # 3x faster by construction
    k100 = cpu[(cpu.comparison == "mask_vs_reused_index") & cpu.case.str.startswith("K=100;")]
    assert set(k100.verdict) == {"holds"}
    spikes = cpu[
        (cpu.comparison == "torchscript_vs_native_spikes")
        & (cpu.slow_variant == "torchscript_default")
        & cpu.case.str.contains("scenario=shapes")
    ]
    assert set(spikes.verdict) == {"holds"} and (spikes.spikes_fast == 0).all() and (spikes.spikes_slow > 0).all()
    none = cpu[(cpu.comparison == "torchscript_vs_native_spikes") & (cpu.slow_variant == "torchscript_no_profiling")]
    assert "holds" not in set(none.verdict)


def test_not_run_rows_carry_the_reason(synthetic):
    _, _, table = synthetic
    cuda = table[table.device == "cuda"]
    assert set(cuda.verdict) == {"not run"}
    assert cuda.reason.str.contains(NOT_RUN_REASON, regex=False).all()
    # aotinductor exists on 'installed' only: on 1.8.1 its comparison is 'not run' with a reason
    aot = table[
        (table.comparison == "aotinductor_vs_native_median") & (table.version == "1.8.1") & (table.device == "cpu")
    ]
    assert set(aot.verdict) == {"not run"} and aot.reason.str.contains("aotinductor").all()
    assert not table.verdict.isna().any() and not (table.verdict == "").any()


def test_absent_technique_is_not_run(synthetic):
    samples, runs, _ = synthetic
    runs = runs[runs.technique != "model_inference"]
    table = compare_all(
        samples[samples.technique != "model_inference"],
        runs,
        registry.load(),
        SETTINGS,
        {"batch_from_rows", "mask_indexing"},
    )
    claim1 = table[table.claim == "1"]
    assert set(claim1.verdict) == {"not run"}
    assert claim1.reason.str.contains("model_inference was not measured").all()


def test_claims_columns_and_identical_reruns(synthetic):
    samples, runs, table = synthetic
    contract = "claim libtorch device front case slow_variant fast_variant ratio"
    contract += " ci_low ci_high verdict p99_slow_ns p99_fast_ns max_slow_ns max_fast_ns spikes_slow spikes_fast"
    for column in contract.split():
        assert column in table.columns
    assert set(table.verdict) <= {"holds", "reversed", "equivalent", "inconclusive", "not run"}
    again = compare_all(samples, runs, registry.load(), SETTINGS, set(runs.technique))
    pd.testing.assert_frame_equal(table, again)
    assert table.to_csv(index=False) == again.to_csv(index=False)  # claims.csv byte for byte


def test_no_decided_verdict_rests_on_a_one_point_interval(synthetic):
    _, _, table = synthetic
    decided = table[table.verdict.isin(["holds", "reversed", "equivalent"])]
    assert not (decided.ci_low == decided.ci_high).any()
    spikes = decided[decided.metric == "spikes"]
    assert len(spikes) and (spikes.excess_low < spikes.excess_high).all()
    # samples that cannot vary (a timer's whole ns on both sides) give no verdict, whatever the band
    constant = pd.DataFrame(
        {
            "variant": ["rows_from_blob_vstack"] * 6 + ["flat_from_blob"] * 6,
            "round": list(range(6)) * 2,
            "call": 0,
            "ns": [30.0] * 12,
            "process": list(range(6)) * 2,
            "batch": 1,
        }
    )
    blog = next(c for c in registry.load().comparisons if c["id"] == "blog_slow_vs_blog_fast")
    key = ("1.8.1", "cpu", "1.8.1", "cpp", "B=1;N=8")
    (row,) = compare_case(blog, constant, key, SETTINGS, "floor_memcpy")
    assert row["verdict"] == "inconclusive" and "single point" in row["reason"]
