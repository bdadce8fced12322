"""Adaptive sampling of the grid techniques' cells (rule run_techniques, one device): every
run (technique x libtorch version x front) is sampled in fresh processes, interleaved across
runs, and each cell keeps taking rounds until every comparison that involves it is decided or
its budget is spent.

The schedule is fixed in advance (a group-sequential design): a cell is looked at when its
rounds reach each entry of `sampling.looks` (up to the technique's max_rounds); each look's
new rounds are taken in `sampling.processes_per_look` processes, one process of every run
after the other, so what changes on the machine during the run lands on every run alike.
At each look the cell's comparisons (libtorch_bench.comparisons, the report's own code) are
computed at the level 1 - (1 - confidence) / looks; a cell whose comparisons are all decided
(holds, reversed, equivalent) stops ('decided'), one that reaches max_rounds or whose samples
add up to budget_seconds stops ('budget'). Splitting the error rate over the looks
(Bonferroni) keeps the stopping rule valid under repeated looks.

Every process writes its samples to a chunk file that appears whole or not at all, under
results/raw/.sampling/{device}/{fingerprint}/: a run killed mid-way is resumed from its
chunks (processes already taken are not taken again), and the chunks of a configuration or
binary that changed are not reused. A machine-state probe (bench_runner machine-probe) is
timed before every process.
"""

import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .atomic import write_json_atomic, write_text_atomic
from .comparisons import case_matches, compare_case
from .provenance import collect
from .runner import DEVICE_UNAVAILABLE, check_samples, record_without_samples, unavailable_reason, without_fault_flags
from .samples import SAMPLE_COLUMNS
from .stats import DECIDED, rounds_per_process

PROBE_COLUMNS = ["time", "look", "process", "before", "memory_ns", "compute_ns"]


@dataclass
class Run:
    """One run to sample: where its files go, its cells, and how to start one of its processes."""

    version: str
    device: str
    technique: str
    front: str
    samples_out: str
    provenance_out: str
    cases: list
    spec: dict  # warmup_rounds, max_rounds, budget_seconds, calls_per_round
    command: object  # (cases, rounds, first_round, process, out) -> argv
    info: dict  # what the provenance says about the build (runner info, or the Python front's torch)
    status: str = "ok"
    reason: str = ""
    cells: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)  # added to the environment of its processes

    @property
    def key(self):
        return f"{self.version}/{self.device}/{self.technique}" + ("" if self.front == "cpp" else f".{self.front}")


@dataclass
class Cell:
    rounds: int = 0
    processes: int = 0
    seconds: float = 0.0  # the cell's samples added up: what its budget counts
    stop: str | None = None  # decided | budget
    look: int | None = None  # the look it stopped at (0-based)


def schedule_of(run, looks):
    """The rounds at which this run's cells are looked at: the configured looks below
    max_rounds, then max_rounds."""
    cap = int(run.spec["max_rounds"])
    return [r for r in looks if r < cap] + [cap]


def fingerprint(runs, sampling, settings):
    """What the chunks depend on: the runs' commands and builds, and the sampling settings."""
    parts = [json.dumps([sampling, settings], sort_keys=True, default=str)]
    for run in runs:
        # Without injected faults: a rerun after a test's fault resumes the chunks it left.
        cmd = without_fault_flags(run.command(["CASE"], 1, 0, 0, "OUT"))
        parts.append(json.dumps([run.key, run.cases, run.spec, cmd], default=str))
        for arg in cmd[:1]:
            path = Path(arg)
            if path.is_file():
                stat = path.stat()
                parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def launch(cmd, log, env=None):
    """Start one process; (exit code, stderr)."""
    print("+", " ".join(cmd), file=log, flush=True)
    done = subprocess.run(cmd, stdout=log, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    print(done.stderr, file=log, end="", flush=True)
    return done.returncode, done.stderr


class Sampler:
    def __init__(self, runs, registry, settings, sampling, workdir, log, launcher=launch, probe=None):
        self.runs = [r for r in runs if r.status == "ok"]
        self.all_runs = runs
        self.registry = registry
        self.settings = settings
        self.sampling = sampling
        self.log = log
        self.launcher = launcher
        self.probe = probe
        self.probes = []
        self.workdir = Path(workdir)
        self.chunkdir = self.workdir / fingerprint(runs, sampling, settings)
        if self.workdir.exists():  # chunks of another configuration or build are not resumed
            for old in self.workdir.iterdir():
                if old != self.chunkdir:
                    shutil.rmtree(old, ignore_errors=True)
        for run in runs:
            run.cells = {case: Cell() for case in run.cases}

    # ---- one process ---------------------------------------------------------------------------
    def chunk_path(self, run, look, process):
        return self.chunkdir / run.key / f"{look:02d}-{process:03d}.csv"

    def take_process(self, run, look, process, rounds):
        pending = [c for c, cell in run.cells.items() if cell.stop is None]
        first_round = run.cells[pending[0]].rounds
        chunk = self.chunk_path(run, look, process)
        if not chunk.exists():
            if self.probe:
                self.probes.append(
                    {"time": time.time(), "look": look, "process": process, "before": run.key, **self.probe()}
                )
            chunk.parent.mkdir(parents=True, exist_ok=True)
            partial = chunk.with_name(f".{chunk.name}.partial")
            code, stderr = self.launcher(
                run.command(pending, rounds, first_round, process, str(partial)), self.log, run.env
            )
            if code == DEVICE_UNAVAILABLE:
                partial.unlink(missing_ok=True)
                run.status, run.reason = "not run", unavailable_reason(stderr)
                return
            if code != 0:
                partial.unlink(missing_ok=True)
                run.status = "failed"
                run.reason = (
                    f"process {process} of {run.technique} with libtorch {run.info.get('libtorch')} on "
                    f"{run.device} failed (exit {code}): {stderr.strip()[-1500:]}"
                )
                return
            check_samples(partial, run.technique, run.device, run.info)
            side = Path(f"{partial}.json")  # what a process adds to the provenance (the Python front's cross-check)
            if side.exists():
                side.replace(chunk.with_suffix(".json"))
            partial.replace(chunk)  # whole or not at all
        for case in pending:
            run.cells[case].rounds += rounds
            run.cells[case].processes += 1

    # ---- one look ------------------------------------------------------------------------------
    def samples_of(self, run):
        chunks = sorted((self.chunkdir / run.key).glob("*.csv"))
        if not chunks:
            return pd.DataFrame(columns=SAMPLE_COLUMNS)
        return pd.concat(
            [pd.read_csv(c, keep_default_na=False, dtype={"params": str}) for c in chunks], ignore_index=True
        )

    def decided(self, run, case, case_samples, looks):
        """Whether every comparison that involves the cell is decided."""
        claim = self.registry.claim_of(run.technique)
        key = (run.version, run.device, run.info.get("libtorch", ""), run.front, case)
        for comparison in self.registry.comparisons_of(claim.id):
            if not case_matches(comparison.get("where"), case):
                continue
            rows = compare_case(comparison, case_samples, key, self.settings, claim.floor, looks)
            if any(r["verdict"] not in DECIDED + ("not run",) for r in rows):
                return False
        return True

    def look(self, run, look, schedule):
        samples = self.samples_of(run)
        for case, cell in run.cells.items():
            if cell.stop is not None:
                continue
            case_samples = samples[samples.params == case]
            cell.seconds = float(case_samples["ns"].sum()) / 1e9
            if self.decided(run, case, case_samples, len(schedule)):
                cell.stop, cell.look = "decided", look
            elif look == len(schedule) - 1 or cell.seconds >= float(run.spec["budget_seconds"]):
                cell.stop, cell.look = "budget", look
            print(
                f"{run.key} {case}: look {look + 1}, {cell.rounds} rounds in {cell.processes} processes, "
                f"{cell.seconds:.2f} s -> {cell.stop or 'continue'}",
                file=self.log,
                flush=True,
            )

    # ---- the whole schedule --------------------------------------------------------------------
    def sample(self):
        looks = [int(r) for r in self.sampling["looks"]]
        per_look = int(self.sampling["processes_per_look"])
        schedules = {run.key: schedule_of(run, looks) for run in self.runs}
        process_rounds = {key: rounds_per_process(s, per_look) for key, s in schedules.items()}
        for look in range(max((len(s) for s in schedules.values()), default=0)):
            active = [
                r for r in self.runs if look < len(schedules[r.key]) and any(c.stop is None for c in r.cells.values())
            ]
            for p in range(per_look):
                for run in active:
                    if run.status == "ok":
                        self.take_process(run, look, look * per_look + p, process_rounds[run.key][look])
            for run in active:
                if run.status == "ok":
                    self.look(run, look, schedules[run.key])
        return schedules

    def write(self, schedules, cfg_hash, threads, started, probe_out):
        for run in self.all_runs:
            record = {
                "technique": run.technique,
                "front": run.front,
                "device": run.device,
                "threads": threads,
                "runner": run.info,
                "libtorch": run.info.get("libtorch", ""),
                "wall_seconds": round(time.monotonic() - started, 3),
            }
            samples = self.samples_of(run) if run.status == "ok" else pd.DataFrame()
            if run.status != "ok" or samples.empty:
                # a failed run keeps what it measured in its chunks until it is redone
                record_without_samples(
                    run.samples_out,
                    run.provenance_out,
                    cfg_hash,
                    run.status if run.status != "ok" else "failed",
                    run.reason or "no samples were taken",
                    **record,
                )
                continue
            side = [json.loads(p.read_text()) for p in sorted((self.chunkdir / run.key).glob("*.json"))]
            if side:
                record["timer_cross_check"] = [item for items in side for item in items]
            record["sampling"] = {
                "looks": schedules[run.key],
                "processes_per_look": int(self.sampling["processes_per_look"]),
                "cells": {case: vars(cell) for case, cell in run.cells.items()},
            }
            write_text_atomic(run.samples_out, samples[SAMPLE_COLUMNS].to_csv(index=False))
            write_json_atomic(
                run.provenance_out, collect(cfg_hash, status="ok", reason="", samples=len(samples), **record)
            )
        probes = pd.DataFrame(self.probes, columns=PROBE_COLUMNS)
        write_text_atomic(probe_out, probes.to_csv(index=False) if len(probes) else ",".join(PROBE_COLUMNS) + "\n")

    def clean(self):
        shutil.rmtree(self.workdir, ignore_errors=True)
