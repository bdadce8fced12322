"""Claim 1 on one libtorch and device (rule run_models): run the runner's model_inference
technique once per scenario group, in fresh processes, and gather one tidy CSV (the other
techniques' columns; round, call, shape, event and process as the runner writes them) plus
its provenance.

Processes, per enabled model:
  steady   `steady_processes` processes, every variant and the A/A control (native under a
           second name) interleaved; the rounds are split over them, numbered on across them
  shapes   one process per variant: warm-up at the base shape, then the batch-size sequence
  cold     `processes` fresh processes per variant: the first `cold_calls` calls after
           loading; the process index is the CSV's round
Cold processes run variant after variant and model after model, process index outermost,
so drift on the machine spreads over all variants.

A variant the libtorch or device lacks is not run and is recorded in the provenance as
"not available: <why>" (the runner's own words); one left out of the config as
"not run: not in techniques.model_inference.variants". An absent device gives a header-only
CSV and status 'not run', as for the other techniques."""

import json
import os
import re
import shlex
import subprocess
import tempfile
import time
from math import ceil
from pathlib import Path

import pandas as pd

from .atomic import replace_atomically, write_json_atomic
from .provenance import collect
from .runner import (
    DEVICE_UNAVAILABLE,
    RunError,
    check_samples,
    failed,
    record_without_samples,
    run_logged,
    runner_info,
    unavailable_reason,
)

TECHNIQUE = "model_inference"
PYTHON_EXPORT_VARIANTS = ("torchscript_python_export", "aotinductor")
BUDGET_STOP = re.compile(r"^model_inference: (\S+) (\S+) (\S+) stopped after (\d+) calls")
SCENARIOS = {
    "cold": "the first cold_calls calls after loading, one fresh process per round",
    "steady": "base shape after warmup_rounds untimed calls; variants interleaved, order rotating",
    "shapes": "after warm-up at the base shape: shape_count new batch sizes, each shape_repeats times, "
    "then every size seen again in another order; one process per variant",
}


def variant_status(runner, device, threads, model, model_dir, bailout_depth, log):
    """(exit code, the runner's JSON or its stderr). At the runs' thread count: whether a fuser
    fuses at all can depend on it (1.9 fuses on the CPU only with one thread)."""
    cmd = [
        str(runner),
        "model-variants",
        "--device",
        device,
        "--threads",
        str(threads),
        "--model",
        model,
        "--model-dir",
        str(model_dir),
        "--bailout-depth",
        str(bailout_depth),
    ]
    print("+", shlex.join(cmd), file=log, flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True)
    print(done.stderr, file=log, end="", flush=True)
    if done.returncode != 0:
        return done.returncode, done.stderr.strip()
    return 0, json.loads(done.stdout)


CONTROL = "control_same"  # native again under another name: the A/A control of steady state


def plan_jobs(models, variants, processes, steady_processes=1):
    jobs = []
    for process in range(steady_processes):
        for model in models:
            jobs.append(
                {"model": model, "scenario": "steady", "variants": variants[model] + [CONTROL], "process": process}
            )
    for model in models:
        jobs += [{"model": model, "scenario": "shapes", "variants": [v]} for v in variants[model]]
    for process in range(processes):
        for model in models:
            jobs += [{"model": model, "scenario": "cold", "variants": [v], "process": process} for v in variants[model]]
    return jobs


def job_command(runner, device, threads, job, sizes, model_dir, spec, out):
    grid = {
        "model": job["model"],
        "scenario": job["scenario"],
        **sizes,
        "variants": "+".join(job["variants"]),
        "model_dir": str(model_dir),
        "bailout_depth": spec["bailout_depth"],
        "budget_seconds": spec["budget_seconds"][job["scenario"]],
    }
    rounds, timing = spec["rounds"], []
    if job["scenario"] == "cold":
        grid.update(process=job["process"], calls=spec["cold_calls"])
    if job["scenario"] == "shapes":
        grid.update(shape_count=spec["shape_count"], shape_repeats=spec["shape_repeats"])
    if job["scenario"] == "steady":  # the rounds and the budget split over the steady processes
        processes = spec["steady_processes"]
        rounds = ceil(spec["rounds"] / processes)
        grid["budget_seconds"] = spec["budget_seconds"]["steady"] / processes
        timing = ["--process", str(job["process"]), "--first-round", str(job["process"] * rounds)]
    cmd = [
        str(runner),
        "run",
        "--technique",
        TECHNIQUE,
        "--device",
        device,
        "--threads",
        str(threads),
        "--warmup",
        str(spec["warmup_rounds"]),
        "--rounds",
        str(rounds),
        "--calls",
        str(spec["calls_per_round"]),
        *timing,
    ]
    for key, value in grid.items():
        cmd += ["--grid", f"{key}={value}"]
    return cmd + ["--out", str(out)]


def merge_statuses(by_model, configured):
    """One status per variant: ok where every model has it, else the first reason."""
    merged = {}
    for name in next(iter(by_model.values()))["variants"]:
        if name == CONTROL:
            merged[name] = "ok (the A/A control: native under a second name, steady state only)"
            continue
        if name not in configured:
            merged[name] = "not run: not in techniques.model_inference.variants"
            continue
        reasons = [s["variants"][name] for s in by_model.values() if s["variants"][name] != "ok"]
        merged[name] = reasons[0] if reasons else "ok"
    return merged


def run(runner, version, device, threads, spec, models, model_dir, samples_out, provenance_out, cfg_hash, log):
    info = runner_info(runner)
    base = {"technique": TECHNIQUE, "device": device, "threads": threads, "runner": info}
    if "not_built" in info:
        print(f"FAILED: {info['not_built']}", file=log)
        record_without_samples(samples_out, provenance_out, cfg_hash, "failed", info["not_built"], **base)
        return
    started = time.monotonic()
    load_before = os.getloadavg()

    by_model = {}
    for model in models:
        code, answer = variant_status(runner, device, threads, model, model_dir, spec["bailout_depth"], log)
        if code == DEVICE_UNAVAILABLE:
            record_without_samples(samples_out, provenance_out, cfg_hash, "not run", unavailable_reason(answer), **base)
            return
        if code != 0:
            raise RunError(f"{runner} model-variants failed (exit {code}): {answer[-2000:]}")
        by_model[model] = answer
    configured = list(spec["variants"])
    variants = {m: [v for v in configured if by_model[m]["variants"][v] == "ok"] for m in models}
    statuses = merge_statuses(by_model, configured)
    if version == "installed" and device == "cpu":
        for name in PYTHON_EXPORT_VARIANTS:
            if name in configured and statuses[name] != "ok":
                raise RunError(f"{name} should run on the installed torch's CPU but: {statuses[name]}")

    jobs = plan_jobs(models, variants, spec["processes"], spec["steady_processes"])
    truncated = []
    out_dir = Path(samples_out).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".model_inference.") as tmp:
        parts = []
        for index, job in enumerate(jobs):
            part = Path(tmp) / f"{index:05d}.csv"
            cmd = job_command(runner, device, threads, job, models[job["model"]], model_dir, spec, part)
            done = run_logged(cmd, log)
            if done.returncode != 0:
                raise failed(f"{TECHNIQUE} on {device} with libtorch {info['libtorch']}", cmd, done)
            for line in done.stderr.splitlines():
                stop = BUDGET_STOP.match(line)
                if stop:
                    model, scenario, variant, calls = stop.groups()
                    truncated.append(
                        {
                            "model": model,
                            "scenario": scenario,
                            "variant": variant,
                            "process": job.get("process", 0),
                            "calls": int(calls),
                        }
                    )
            parts.append(part)
        combined = Path(tmp) / "combined.csv"
        frame = pd.concat([pd.read_csv(p, keep_default_na=False, dtype=str) for p in parts], ignore_index=True)
        frame.to_csv(combined, index=False)
        count = check_samples(combined, TECHNIQUE, device, info)
        replace_atomically(combined, samples_out)

    record = dict(base)
    record.update(
        {
            "wall_seconds": round(time.monotonic() - started, 3),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "processes_started": len(jobs),
            "command_example": shlex.join(
                job_command(runner, device, threads, jobs[0], models[jobs[0]["model"]], model_dir, spec, "OUT")
            )
            if jobs
            else "",
            "models": models,
            "scenarios": SCENARIOS,
            "variants": statuses,
            "variant_settings": next(iter(by_model.values()))["settings"],
            "settings": {
                k: spec[k]
                for k in (
                    "processes",
                    "cold_calls",
                    "warmup_rounds",
                    "rounds",
                    "calls_per_round",
                    "shape_count",
                    "shape_repeats",
                    "bailout_depth",
                    "budget_seconds",
                )
            },
            "truncated_by_budget": truncated,
        }
    )
    write_json_atomic(provenance_out, collect(cfg_hash, status="ok", reason="", samples=count, **record))
