"""Adaptive sampling (libtorch_bench.sampling) with a synthetic runner whose variants have known
ratios: a cell whose comparisons are clear stops at the first look, one whose difference sits
exactly on the band's edge runs to its last look; processes already taken are not taken again
after an interruption; a process that crashes fails its run, and the others are measured."""

import json

import numpy as np
import pandas as pd
import pytest

from libtorch_bench import registry
from libtorch_bench.samples import SAMPLE_COLUMNS
from libtorch_bench.sampling import Run, Sampler
from synthetic_results import SETTINGS

# Claim 2's variants with clearly separated medians (ns); the controls where they should be.
MEDIANS = {
    "floor_memcpy": 1000,
    "flat_from_blob": 3000,
    "prealloc_row_copy": 5000,
    "rows_from_blob_cat": 20000,
    "rows_from_blob_stack": 25000,
    "rows_from_blob_vstack": 30000,
    "harness_empty": 30,
    "control_same": 3000,
    "control_twice": 6000,
    "control_plus20": 3600,
}
CLEAR, ON_THE_EDGE = "B=1;N=8", "B=16;N=8"  # on the edge: control_plus20 is exactly 1.1x the base
SAMPLING = {"looks": [10, 20, 40], "processes_per_look": 5, "probe_drift": 0.25}
SPEC = {"warmup_rounds": 0, "max_rounds": 40, "budget_seconds": 100.0, "calls_per_round": 1}


def synthetic_launcher(launched, crash_on=None):
    """Writes what a runner process would: every variant of every case asked for, in rounds."""

    def launch(cmd, log, env=None):
        job = json.loads(cmd[1])
        launched.append(job)
        if crash_on is not None and job["process"] == crash_on:
            return -6, "abort"
        rng = np.random.default_rng(job["process"])
        rows = []
        for case in job["cases"]:
            for r in range(job["rounds"]):
                for variant, median in MEDIANS.items():
                    if case == ON_THE_EDGE and variant == "control_plus20":
                        median = 3300
                    ns = median * rng.lognormal(0, 0.01)
                    rows.append(
                        [
                            "batch_from_rows",
                            variant,
                            case,
                            "9.9.9",
                            "cpu",
                            "cpp",
                            1,
                            job["first_round"] + r,
                            0,
                            "",
                            "",
                            int(ns),
                            job["process"],
                            1,
                        ]
                    )
        pd.DataFrame(rows, columns=SAMPLE_COLUMNS).to_csv(job["out"], index=False)
        return 0, ""

    return launch


def make_run(tmp_path, cases, version="9.9.9"):
    def command(cases, rounds, first_round, process, out):
        return [
            "synthetic",
            json.dumps({"cases": cases, "rounds": rounds, "first_round": first_round, "process": process, "out": out}),
        ]

    return Run(
        version,
        "cpu",
        "batch_from_rows",
        "cpp",
        str(tmp_path / f"{version}.csv"),
        str(tmp_path / f"{version}.json"),
        list(cases),
        SPEC,
        command,
        {"libtorch": "9.9.9"},
    )


def sampler(tmp_path, runs, launched, crash_on=None):
    return Sampler(
        runs,
        registry.load(),
        {**SETTINGS, "n_resamples": 300},
        SAMPLING,
        tmp_path / "work",
        open(tmp_path / "log", "w"),
        launcher=synthetic_launcher(launched, crash_on),
    )


def test_a_clear_cell_stops_at_the_first_look_and_an_edge_case_runs_to_budget(tmp_path):
    launched = []
    run = make_run(tmp_path, [CLEAR, ON_THE_EDGE])
    s = sampler(tmp_path, [run], launched)
    schedules = s.sample()
    assert schedules[run.key] == [10, 20, 40]
    clear, edge = run.cells[CLEAR], run.cells[ON_THE_EDGE]
    assert (clear.stop, clear.look, clear.rounds, clear.processes) == ("decided", 0, 10, 5)
    assert (edge.stop, edge.look, edge.rounds, edge.processes) == ("budget", 2, 40, 15)
    # after the first look only the undecided cell is sampled
    assert all(job["cases"] == [ON_THE_EDGE] for job in launched[5:])
    s.write(schedules, "hash", 1, 0.0, tmp_path / "probe.csv")
    written = pd.read_csv(run.samples_out)
    assert written.groupby("params")["round"].max().to_dict() == {CLEAR: 9, ON_THE_EDGE: 39}
    record = json.loads((tmp_path / "9.9.9.json").read_text())
    assert record["sampling"]["cells"][CLEAR]["stop"] == "decided" and record["sampling"]["looks"] == [10, 20, 40]


def test_a_tight_budget_stops_a_cell_at_the_next_look(tmp_path):
    launched = []
    run = make_run(tmp_path, [ON_THE_EDGE])
    run.spec = {**SPEC, "budget_seconds": 1e-4}
    sampler(tmp_path, [run], launched).sample()
    assert (run.cells[ON_THE_EDGE].stop, run.cells[ON_THE_EDGE].look) == ("budget", 0)


def test_processes_taken_before_an_interruption_are_not_taken_again(tmp_path):
    first = []
    sampler(tmp_path, [make_run(tmp_path, [ON_THE_EDGE])], first).sample()  # chunks stay: not cleaned
    again = []
    run = make_run(tmp_path, [ON_THE_EDGE])
    sampler(tmp_path, [run], again).sample()
    assert len(first) == 15 and again == []
    assert run.cells[ON_THE_EDGE].stop == "budget"


def test_a_crashing_process_fails_its_run_and_the_other_runs_go_on(tmp_path):
    launched = []
    healthy, crashing = make_run(tmp_path, [CLEAR], "1.0.0"), make_run(tmp_path, [CLEAR], "2.0.0")
    s = sampler(tmp_path, [healthy, crashing], launched, crash_on=None)

    def crash_second_run(cmd, log, env=None):
        job = json.loads(cmd[1])
        if "2.0.0.csv" in job["out"] or "2.0.0" in job["out"]:
            return -6, "abort"
        return synthetic_launcher([])(cmd, log, env)

    s.launcher = crash_second_run
    schedules = s.sample()
    s.write(schedules, "hash", 1, 0.0, tmp_path / "probe.csv")
    assert healthy.status == "ok" and healthy.cells[CLEAR].stop == "decided"
    assert crashing.status == "failed" and "exit -6" in crashing.reason
    assert json.loads((tmp_path / "2.0.0.json").read_text())["status"] == "failed"
    assert pd.read_csv(tmp_path / "2.0.0.csv").empty and not pd.read_csv(tmp_path / "1.0.0.csv").empty


@pytest.mark.parametrize("looks, cap, expected", [([25, 50, 100], 60, [25, 50, 60]), ([25, 50], 25, [25])])
def test_the_schedule_ends_at_max_rounds(looks, cap, expected):
    from libtorch_bench.sampling import schedule_of

    run = Run("v", "cpu", "t", "cpp", "", "", [], {"max_rounds": cap}, None, {})
    assert schedule_of(run, looks) == expected


def test_a_device_reason_drops_the_warnings_a_libtorch_prints_before_it():
    from libtorch_bench.runner import unavailable_reason

    stderr = "[W interface.cpp:47] Warning: Loading nvfuser library failed\nnot run: no CUDA device\n"
    assert unavailable_reason(stderr) == "no CUDA device"
    assert unavailable_reason("odd failure") == "odd failure"


# ---- claim 1: a round is a fresh process, each variant in a process of its own ----------------

FIRST_CALL = {"native": 1e6, "torchscript_default": 3e6}  # the first call after loading, ns
COLD_CLEAR = "model=mlp;scenario=cold"
COLD_EDGE = "model=cnn;scenario=cold"  # TorchScript's first call exactly 1.1x native's: undecidable
COLD_SPEC = {"looks": [5, 10], "max_rounds": 10, "round_per_process": True, "budget_seconds": 100.0}


def cold_launcher(launched, stop_after=None):
    """Writes what a cold-start runner process writes: one variant's first calls after loading."""

    def launch(cmd, log, env=None):
        if stop_after is not None and len(launched) == stop_after:
            raise KeyboardInterrupt  # the job is killed here
        job = json.loads(cmd[1])
        launched.append(job)
        (case,), variant = job["cases"], job["variant"]
        rng = np.random.default_rng([job["process"], len(variant)])
        first = FIRST_CALL[variant] * (1.1 / 3 if case == COLD_EDGE and variant != "native" else 1)
        rows = [
            ["model_inference", variant, case, "9.9.9", "cpu", "cpp", 1, job["first_round"], call, "8x4", "",
             int((first if call == 0 else 1e5) * rng.lognormal(0, 0.01)), job["process"], 1]
            for call in range(4)
        ]  # fmt: skip
        pd.DataFrame(rows, columns=SAMPLE_COLUMNS).to_csv(job["out"], index=False)
        return 0, ""

    return launch


def cold_run(tmp_path):
    def command(cases, rounds, first_round, process, out, variant=None):
        job = {"cases": cases, "variant": variant, "rounds": rounds, "first_round": first_round, "process": process}
        return ["synthetic", json.dumps({**job, "out": out})]

    variants = {case: ["native", "torchscript_default"] for case in (COLD_CLEAR, COLD_EDGE)}
    return Run(
        "9.9.9",
        "cpu",
        "model_inference",
        "cpp",
        str(tmp_path / "model_inference.csv"),
        str(tmp_path / "model_inference.json"),
        [COLD_CLEAR, COLD_EDGE],
        COLD_SPEC,
        command,
        {"libtorch": "9.9.9"},
        scenario="cold",
        split="case_and_variant",
        variants=variants,
    )


def test_a_cold_start_takes_a_fresh_process_per_model_and_variant_and_stops_when_decided(tmp_path):
    launched = []
    run = cold_run(tmp_path)
    s = sampler(tmp_path, [run], launched)
    s.launcher = cold_launcher(launched)
    schedules = s.sample()
    assert schedules[run.key] == [5, 10]
    clear, edge = run.cells[COLD_CLEAR], run.cells[COLD_EDGE]
    assert (clear.stop, clear.look, clear.rounds, clear.processes) == ("decided", 0, 5, 5)
    assert (edge.stop, edge.look, edge.rounds, edge.processes) == ("budget", 1, 10, 10)
    # look 1: every model and variant in a process of its own, one round each
    assert len(launched) == 5 * 4 + 5 * 2
    assert all(len(job["cases"]) == 1 and job["rounds"] == 1 for job in launched)
    assert {(j["cases"][0], j["variant"]) for j in launched[:4]} == {
        (c, v) for c in (COLD_CLEAR, COLD_EDGE) for v in ("native", "torchscript_default")
    }
    assert all(job["cases"] == [COLD_EDGE] for job in launched[20:])  # then only the undecided cell
    assert sorted({j["first_round"] for j in launched if j["cases"] == [COLD_EDGE]}) == list(range(10))
    s.write(schedules, "hash", 1, 0.0, tmp_path / "probe.csv")
    record = json.loads((tmp_path / "model_inference.json").read_text())
    assert record["sampling"]["cells"][COLD_CLEAR]["looks"] == 2 and record["truncated_by_budget"] == []


def test_a_cold_cell_killed_midway_redoes_only_the_processes_it_had_not_finished(tmp_path):
    first = []
    run = cold_run(tmp_path)
    s = sampler(tmp_path, [run], first)
    s.launcher = cold_launcher(first, stop_after=7)
    with pytest.raises(KeyboardInterrupt):
        s.sample()
    again = []
    run = cold_run(tmp_path)
    s = sampler(tmp_path, [run], again)
    s.launcher = cold_launcher(again)
    s.sample()
    assert len(first) == 7 and len(again) == 5 * 4 + 5 * 2 - 7
    done = {(j["process"], j["cases"][0], j["variant"]) for j in first}
    assert not done & {(j["process"], j["cases"][0], j["variant"]) for j in again}
    assert run.cells[COLD_CLEAR].stop == "decided"


def test_each_process_draws_its_own_order_of_launches(tmp_path):
    run = cold_run(tmp_path)
    s = sampler(tmp_path, [run], [])
    orders = {tuple(v for _, v in s.launches(run, [COLD_CLEAR], p)) for p in range(8)}
    assert len(orders) == 2  # both orders of the two variants occur


def test_a_variant_stopped_early_by_its_process_budget_is_listed():
    from libtorch_bench.sampling import truncated

    samples = pd.DataFrame({"params": ["c"] * 7, "process": [0] * 7, "variant": ["a"] * 4 + ["b"] * 3, "ns": [1] * 7})
    assert truncated(samples) == [{"case": "c", "process": 0, "variant": "b", "calls": 3}]
