"""The harness: warm-up excluded, rounds interleaved in a fresh order every round, every sample
kept, rounds numbered on across processes, and the controls built over a base variant."""

import collections

import pytest
import torch


def counting(name, calls):
    def variant():
        calls[name] += 1
        return torch.ones(1)

    return (name, variant)


def test_warmup_calls_run_but_are_not_recorded(extension):
    calls = collections.Counter()
    variants = [counting(n, calls) for n in ("a", "b", "c")]
    samples = extension._time_python_variants(variants, warmup_rounds=3, rounds=4, calls_per_round=2)
    # +1: the correctness check runs every variant once before anything is timed
    assert calls == {"a": 1 + (3 + 4) * 2, "b": 1 + (3 + 4) * 2, "c": 1 + (3 + 4) * 2}
    recorded = collections.Counter(samples["variant"])
    assert recorded == {"a": 4 * 2, "b": 4 * 2, "c": 4 * 2, extension.harness_empty_variant(): 4 * 2}
    assert sorted(set(samples["round"])) == [0, 1, 2, 3]  # no warm-up round numbers
    assert sorted(set(samples["call"])) == [0, 1]


def test_rounds_interleave_variants_in_a_fresh_order(extension):
    calls = collections.Counter()
    variants = [counting(n, calls) for n in ("a", "b", "c")]
    samples = extension._time_python_variants(variants, warmup_rounds=1, rounds=40, calls_per_round=1)
    by_round = collections.defaultdict(list)
    for variant, rnd in zip(samples["variant"], samples["round"]):
        by_round[rnd].append(variant)
    names = {"a", "b", "c", extension.harness_empty_variant()}
    for order in by_round.values():
        assert sorted(order) == sorted(names)  # each variant exactly once per round
    firsts = collections.Counter(by_round[r][0] for r in by_round)
    assert set(firsts) == names  # each variant leads some round
    # each variant follows every other one: no fixed neighbour whose leftovers bias it
    follows = {(order[i - 1], order[i]) for order in by_round.values() for i in range(1, len(order))}
    assert all((x, y) in follows for x in names for y in names if x != y)
    assert extension.round_order(7, 5) == extension.round_order(7, 5)  # seeded: the same run, the same orders
    assert sorted(extension.round_order(7, 5)) == [0, 1, 2, 3, 4]


def test_rounds_number_on_across_processes_and_the_controls_come_along(extension):
    out = extension.run(
        "batch_from_rows",
        {"B": [16], "N": [64]},
        rounds=3,
        warmup_rounds=1,
        control_base="flat_from_blob",
        process=2,
        first_round=6,
    )
    assert set(out["round"]) == {6, 7, 8} and set(out["process"]) == {2}
    assert set(extension.control_variants()) <= set(out["variant"])
    with pytest.raises(ValueError, match="control base 'nothing'"):
        extension.run("batch_from_rows", {"B": [1], "N": [8]}, rounds=1, control_base="nothing")


@pytest.mark.parametrize("rounds, calls", [(1, 1), (5, 3)])
def test_run_keeps_every_sample_of_every_case(extension, rounds, calls):
    grid = {"B": [1, 4], "N": [2, 8, 16]}
    out = extension.run("batch_from_rows", grid, rounds=rounds, warmup_rounds=1, calls_per_round=calls, threads=1)
    variants = len(extension.techniques()["batch_from_rows"]["variants"]) + 1
    assert len(out["ns"]) == 2 * 3 * variants * rounds * calls
    assert len(set(out["params"])) == 6 and "B=4;N=16" in out["params"]
    assert all(ns > 0 for ns in out["ns"])
    assert out["threads"] == 1


def test_the_thread_count_is_set_and_reported(extension):
    out = extension.run("mask_indexing", {"rows": [2], "cols": [10], "density": [0.5], "K": [1]}, threads=2, rounds=1)
    assert out["threads"] == 2
    torch.set_num_threads(1)


@pytest.mark.parametrize(
    "fastest_ns, harness_ns, target, expected",
    [
        (100.0, 30.0, 100, 32),  # 3000 ns wanted: 30 calls, rounded up to a power of two
        (2999.0, 30.0, 100, 2),
        (3000.0, 30.0, 100, 1),  # long enough on its own
        (5000.0, 30.0, 100, 1),
        (1.0, 30.0, 100, 4096),  # at most kMaxBatch
        (100.0, 30.0, 1, 1),  # batching off
    ],
)
def test_the_batch_is_the_power_of_two_that_makes_a_sample_long_enough(
    extension, fastest_ns, harness_ns, target, expected
):
    assert extension.batch_size(fastest_ns, harness_ns, target) == expected


def test_a_batched_sample_holds_batch_calls_and_the_empty_call_stays_single(extension):
    calls = collections.Counter()
    variants = [counting(n, calls) for n in ("a", "b")]
    # a Python callable takes about a microsecond: far below a target of 10 000 empty calls
    samples = extension._time_python_variants(variants, warmup_rounds=1, rounds=3, calls_per_round=2, batch_target=1e4)
    batch = {v: set(b for v2, b in zip(samples["variant"], samples["batch"]) if v2 == v) for v in ("a", "b")}
    (k,) = batch["a"]
    assert k > 1 and batch["b"] == {k}  # one batch size per case
    assert set(b for v, b in zip(samples["variant"], samples["batch"]) if v == extension.harness_empty_variant()) == {1}
    # the check, 9 calibration calls, then every warm-up and timed sample holds k calls
    assert calls["a"] == 1 + 9 + (1 + 3) * 2 * k


def test_the_runner_records_the_batch_per_sample(extension):
    out = extension.run(
        "batch_from_rows", {"B": [1], "N": [8]}, rounds=2, control_base="flat_from_blob", batch_target=100
    )
    batches = dict(zip(out["variant"], out["batch"]))
    assert batches[extension.harness_empty_variant()] == 1 and batches["floor_memcpy"] > 1
    assert len(set(b for v, b in zip(out["variant"], out["batch"]) if v != extension.harness_empty_variant())) == 1
    plain = extension.run("batch_from_rows", {"B": [1], "N": [8]}, rounds=2)
    assert set(plain["batch"]) == {1}  # batch_target 0: one call per sample
