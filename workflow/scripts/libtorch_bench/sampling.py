"""Adaptive sampling of every cell of every claim (rule run_techniques, one device): every run
(technique x libtorch version x front, and for claim 1 x scenario) is sampled in fresh
processes, interleaved across runs, and each cell keeps taking rounds until every comparison
that involves it is decided or its budget is spent.

The schedule is fixed in advance (a group-sequential design): a cell is looked at when its
rounds reach each entry of its run's looks (`sampling.looks`, or the run's own: claim 1's
scenarios have theirs), up to the run's max_rounds; each look's new rounds are taken in fresh
processes, one process of every run after the other, so what changes on the machine during
the run lands on every run alike. A run either splits a look's rounds over
`processes_per_look` processes, or takes one round per process (claim 1's cold start, where a
round *is* a fresh process, and its changing shapes, where a round is one pass over the
shapes in an order the process draws). A run may also start one process per variant (cold
start and changing shapes: each variant meets the process, or the shapes, fresh), in an order
drawn afresh for every process; what is particular to a run is data it gives the sampler.

At each look the cell's comparisons (libtorch_bench.comparisons, the report's own code) are
computed at the level 1 - (1 - confidence) / looks; a cell whose comparisons are all decided
(holds, reversed, equivalent) stops ('decided'), one that reaches max_rounds or whose samples
add up to budget_seconds stops ('budget'). Splitting the error rate over the looks
(Bonferroni) keeps the stopping rule valid under repeated looks.

Every process writes its samples to a chunk file that appears whole or not at all, under
results/raw/.sampling/{device}/{fingerprint}/: a run killed mid-way is resumed from its
chunks (processes already taken are not taken again), and the chunks of a configuration or
binary that changed are not reused. A machine-state probe (libtorch_bench.probe) is timed
before every process of a run (once before a look's processes of a per-variant run).
"""

import hashlib
import json
import os
import random
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from math import ceil
from pathlib import Path

import pandas as pd

from .atomic import write_json_atomic, write_text_atomic
from .comparisons import case_matches, compare_case
from .provenance import collect
from .runner import DEVICE_UNAVAILABLE, check_samples, record_without_samples, unavailable_reason, without_fault_flags
from .samples import SAMPLE_COLUMNS
from .stats import DECIDED

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
    # Claim 1: the scenario (its runs share the technique's CSV); and how a process of the run is
    # started: every open cell in one process (together), one process per variant with every
    # open cell that has it (variant: changing shapes), or one per cell and variant
    # (case_and_variant: a cold start is fresh for one model and variant)
    scenario: str = ""
    split: str = "together"
    variants: dict = field(default_factory=dict)  # case -> its variants, where a process runs one
    extra: dict = field(default_factory=dict)  # what its provenance adds (claim 1: variant statuses, ...)

    @property
    def key(self):
        base = f"{self.version}/{self.device}/{self.technique}" + ("" if self.front == "cpp" else f".{self.front}")
        return base + (f"@{self.scenario}" if self.scenario else "")


@dataclass
class Cell:
    rounds: int = 0
    processes: int = 0
    seconds: float = 0.0  # the cell's samples added up: what its budget counts
    stop: str | None = None  # decided | budget
    look: int | None = None  # the look it stopped at (0-based)
    looks: int = 1  # how many looks its run's schedule has (each interval's level is split over them)


@dataclass(frozen=True)
class Look:
    rounds: int  # a cell's rounds once the look's processes are taken
    processes: int  # processes the look adds
    rounds_each: int  # rounds each of them takes


def schedule_of(run, looks):
    """The rounds at which this run's cells are looked at: the looks (the run's own, else the
    sampling's) below max_rounds, then max_rounds."""
    looks = run.spec.get("looks") or looks
    cap = int(run.spec["max_rounds"])
    return [r for r in looks if r < cap] + [cap]


def look_plan(run, sampling):
    """Each look's processes and rounds: a look's new rounds split over processes_per_look
    processes, or one round per process where the run says a round is a process."""
    plan, taken = [], 0
    per_look = int(run.spec.get("processes_per_look") or sampling["processes_per_look"])
    for target in schedule_of(run, sampling["looks"]):
        new = target - taken
        processes, each = (new, 1) if run.spec.get("round_per_process") else (per_look, ceil(new / per_look))
        taken += processes * each
        plan.append(Look(taken, processes, each))
    return plan


def fingerprint(runs, sampling, settings):
    """What the chunks depend on: the runs' commands and builds, and the sampling settings."""
    parts = [json.dumps([sampling, settings], sort_keys=True, default=str)]
    for run in runs:
        if run.command is None:  # nothing to run (not built, device absent): nothing to resume
            continue
        # Without injected faults: a rerun after a test's fault resumes the chunks it left.
        cmd = without_fault_flags(run.command(run.cases[:1] or ["CASE"], 1, 0, 0, "OUT"))
        parts.append(json.dumps([run.key, run.cases, run.spec, run.split, run.variants, cmd], default=str))
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


def truncated(samples):
    """Variants a process stopped early (the runner's per-process budget, claim 1): fewer calls
    than the most any variant of the same case took in the same process of the cell."""
    counts = samples.groupby(["params", "process", "variant"], sort=True).size().rename("calls").reset_index()
    most = counts.groupby(["params", "process"])["calls"].transform("max")
    short = counts[counts.calls < most]
    return [
        {"case": r.params, "process": int(r.process), "variant": r.variant, "calls": int(r.calls)}
        for r in short.itertuples(index=False)
    ]


class Progress:
    """Where the sampling is, for the console (the job's log keeps every detail): a line per look
    and, within a long look, at most one every `every` seconds. The time left is extrapolated from
    the processes taken against the most the open cells may still take, so it is an upper bound."""

    def __init__(self, stream, every=20.0, clock=time.monotonic):
        self.stream, self.every, self.clock = stream, every, clock
        self.started = self.last = clock()

    def line(self, text, force=False):
        if self.stream is None or not (force or self.clock() - self.last >= self.every):
            return
        self.last = self.clock()
        print(text, file=self.stream, flush=True)

    def report(self, runs, look, looks, taken, most, force=False):
        cells = [c for r in runs if r.status == "ok" for c in r.cells.values()]
        if not cells:  # nothing is measured here (a device that is absent): nothing to report
            return
        decided = sum(c.stop == "decided" for c in cells)
        stopped = sum(c.stop is not None for c in cells)
        elapsed = self.clock() - self.started
        left = elapsed * (most - taken) / taken if taken else float("nan")
        estimate = f", at most about {left / 60:.0f} min left" if left == left and taken < most else ""
        self.line(
            f"sampling: look {look + 1} of {looks}, {taken} processes taken; {decided} of {len(cells)} cells "
            f"decided, {stopped - decided} stopped on budget; {elapsed / 60:.1f} min{estimate}",
            force,
        )


class Sampler:
    def __init__(self, runs, registry, settings, sampling, workdir, log, launcher=launch, probe=None, progress=None):
        self.runs = [r for r in runs if r.status == "ok"]
        self.all_runs = runs
        self.registry = registry
        self.settings = settings
        self.sampling = sampling
        self.log = log
        self.launcher = launcher
        self.probe = probe
        self.probes = []
        self.progress = Progress(progress)
        self.workdir = Path(workdir)
        self.chunkdir = self.workdir / fingerprint(runs, sampling, settings)
        if self.workdir.exists():  # chunks of another configuration or build are not resumed
            for old in self.workdir.iterdir():
                if old != self.chunkdir:
                    shutil.rmtree(old, ignore_errors=True)
        for run in runs:
            run.cells = {case: Cell() for case in run.cases}

    # ---- one process ---------------------------------------------------------------------------
    def chunk_path(self, run, look, process, launch=None):
        name = f"{look:02d}-{process:03d}" + ("" if launch is None else f"-{launch:02d}")
        return self.chunkdir / run.key / f"{name}.csv"

    def launches(self, run, pending, process):
        """The OS processes one process of the run starts, as (cases, variant or None): see
        Run.split; per-variant ones in an order drawn for this process (drift lands on all alike)."""
        if run.split == "together":
            return [(pending, None)]
        if run.split == "variant":
            names = list(dict.fromkeys(v for case in pending for v in run.variants[case]))
            items = [([c for c in pending if v in run.variants[c]], v) for v in names]
        elif run.split == "case_and_variant":
            items = [([case], v) for case in pending for v in run.variants[case]]
        else:
            raise ValueError(f"run {run.key}: unknown split {run.split!r}")
        random.Random(process).shuffle(items)
        return items

    def take_process(self, run, look, process, rounds):
        pending = [c for c, cell in run.cells.items() if cell.stop is None]
        first_round = run.cells[pending[0]].rounds
        launches = self.launches(run, pending, process)
        split = run.split != "together"
        chunks = [self.chunk_path(run, look, process, i if split else None) for i in range(len(launches))]
        if self.probe and not all(c.exists() for c in chunks):
            self.probes.append(
                {"time": time.time(), "look": look, "process": process, "before": run.key, **self.probe()}
            )
        for (cases, variant), chunk in zip(launches, chunks, strict=True):
            if not chunk.exists() and not self.launch(run, cases, variant, rounds, first_round, process, chunk):
                return
        for case in pending:
            run.cells[case].rounds += rounds
            run.cells[case].processes += 1

    def launch(self, run, cases, variant, rounds, first_round, process, chunk):
        """Start one process and keep its samples in `chunk`; False (and the run's status set)
        when the device is unavailable or the process failed."""
        chunk.parent.mkdir(parents=True, exist_ok=True)
        partial = chunk.with_name(f".{chunk.name}.partial")
        cmd = run.command(
            cases, rounds, first_round, process, str(partial), **({"variant": variant} if variant else {})
        )
        code, stderr = self.launcher(cmd, self.log, run.env)
        if code == DEVICE_UNAVAILABLE:
            partial.unlink(missing_ok=True)
            run.status, run.reason = "not run", unavailable_reason(stderr)
            return False
        if code != 0:
            partial.unlink(missing_ok=True)
            run.status = "failed"
            run.reason = (
                f"process {process} of {run.technique} with libtorch {run.info.get('libtorch')} on "
                f"{run.device} failed (exit {code}): {stderr.strip()[-1500:]}"
            )
            return False
        check_samples(partial, run.technique, run.device, run.info)
        side = Path(f"{partial}.json")  # what a process adds to the provenance (the Python front's cross-check)
        if side.exists():
            side.replace(chunk.with_suffix(".json"))
        partial.replace(chunk)  # whole or not at all
        return True

    # ---- one look ------------------------------------------------------------------------------
    def samples_of(self, run):
        chunks = sorted((self.chunkdir / run.key).glob("*.csv"))
        if not chunks:
            return pd.DataFrame(columns=SAMPLE_COLUMNS)
        return pd.concat(
            [pd.read_csv(c, keep_default_na=False, dtype={"params": str}) for c in chunks], ignore_index=True
        ).astype({"ns": "float64", "batch": "int64"})

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
            cell.seconds = float((case_samples["ns"] * case_samples["batch"]).sum()) / 1e9  # ns is per call
            cell.looks = len(schedule)
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
        plans = {run.key: look_plan(run, self.sampling) for run in self.runs}
        looks = max((len(p) for p in plans.values()), default=0)
        taken = 0
        for look in range(looks):
            active = [
                r for r in self.runs if look < len(plans[r.key]) and any(c.stop is None for c in r.cells.values())
            ]
            started = {r.key: sum(step.processes for step in plans[r.key][:look]) for r in active}
            most = taken + sum(step.processes for r in active for step in plans[r.key][look:])
            for p in range(max((plans[r.key][look].processes for r in active), default=0)):
                for run in active:
                    step = plans[run.key][look]
                    if run.status == "ok" and p < step.processes:
                        self.take_process(run, look, started[run.key] + p, step.rounds_each)
                        taken += 1
                        self.progress.report(self.runs, look, looks, taken, most)
            for run in active:
                if run.status == "ok":
                    self.look(run, look, [step.rounds for step in plans[run.key]])
            open_later = sum(
                step.processes
                for r in active
                if any(c.stop is None for c in r.cells.values())
                for step in plans[r.key][look + 1 :]
            )
            self.progress.report(self.runs, look, looks, taken, taken + open_later, force=True)
        return {key: [step.rounds for step in plan] for key, plan in plans.items()}

    def write(self, schedules, cfg_hash, threads, started, probe_out):
        """Each CSV with its provenance: the runs that share it (claim 1's scenarios) together;
        a CSV one of whose runs failed or was not run records that, with no samples (a failed
        run keeps what it measured in its chunks until it is redone)."""
        by_output = {}
        for run in self.all_runs:
            by_output.setdefault(run.samples_out, []).append(run)
        for runs in by_output.values():
            first = runs[0]
            record = {
                "technique": first.technique,
                "front": first.front,
                "device": first.device,
                "threads": threads,
                "runner": first.info,
                "libtorch": first.info.get("libtorch", ""),
                "wall_seconds": round(time.monotonic() - started, 3),
                **first.extra,
            }
            missed = next((r for r in runs if r.status != "ok"), None)
            frames = [self.samples_of(r) for r in runs] if missed is None else []
            samples = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
            if missed is not None or samples.empty:
                record_without_samples(
                    first.samples_out,
                    first.provenance_out,
                    cfg_hash,
                    missed.status if missed else "failed",
                    (missed.reason if missed else "") or "no samples were taken",
                    **record,
                )
                continue
            chunks = [p for r in runs for p in sorted((self.chunkdir / r.key).glob("*.json"))]
            if chunks:
                record["timer_cross_check"] = [item for p in chunks for item in json.loads(p.read_text())]
            record["sampling"] = {
                "looks": schedules[first.key],
                "processes_per_look": int(first.spec.get("processes_per_look") or self.sampling["processes_per_look"]),
                "cells": {case: vars(cell) for r in runs for case, cell in r.cells.items()},
            }
            if len(runs) > 1:
                record["sampling"]["scenarios"] = {r.scenario: schedules[r.key] for r in runs}
            record["truncated_by_budget"] = truncated(samples)
            write_text_atomic(first.samples_out, samples[SAMPLE_COLUMNS].to_csv(index=False))
            write_json_atomic(
                first.provenance_out, collect(cfg_hash, status="ok", reason="", samples=len(samples), **record)
            )
        probes = pd.DataFrame(self.probes, columns=PROBE_COLUMNS)
        write_text_atomic(probe_out, probes.to_csv(index=False) if len(probes) else ",".join(PROBE_COLUMNS) + "\n")

    def clean(self):
        shutil.rmtree(self.workdir, ignore_errors=True)
