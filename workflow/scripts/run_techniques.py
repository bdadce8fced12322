"""Rule run_techniques: every claim on one device, every technique on every libtorch version
(claim 1's scenarios, claims 2-3's grids and claim 3's Python front), sampled adaptively in
processes interleaved across runs (libtorch_bench.sampling)."""

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

from libtorch_bench import model_runs, registry
from libtorch_bench.probe import machine_probe
from libtorch_bench.provenance import config_hash
from libtorch_bench.rule_script import rule_main
from libtorch_bench.runner import FAULT_ENV, fault_flags, malloc_flags, run_command, runner_info
from libtorch_bench.samples import canonical_params
from libtorch_bench.sampling import Run, Sampler

SCRIPTS = str(Path(__file__).resolve().parent)


def cases_of(claim, spec):
    """The grid's cases as the runner names them (B=16;N=64)."""
    grid = itertools.product(*(spec[a] for a in claim.axes))
    return [canonical_params(dict(zip(claim.axes, values, strict=True))) for values in grid]


def runner_command(runner, technique, device, threads, spec, control_base, harness):
    def command(cases, rounds, first_round, process, out):
        calls, warmup = spec["calls_per_round"], spec["warmup_rounds"]
        cmd = run_command(runner, technique, device, threads, warmup, rounds, calls, process, first_round, harness)
        cmd += ["--control-base", control_base] if control_base else []
        cmd += ["--batch-target", f"{harness['batch_target']:g}"]
        cmd += [arg for case in cases for arg in ("--case", case)]
        return cmd + fault_flags(os.environ.get(FAULT_ENV, ""), technique) + ["--out", out]

    return command


def python_front_command(module, device, threads, spec, control_base, cross_check_seconds, harness):
    def command(cases, rounds, first_round, process, out):
        cmd = [
            sys.executable,
            "-m",
            "libtorch_bench.python_front",
            "--module",
            str(module),
            "--device",
            device,
            "--threads",
            str(threads),
            "--warmup",
            str(spec["warmup_rounds"]),
            "--rounds",
            str(rounds),
            "--first-round",
            str(first_round),
            "--process",
            str(process),
            "--control-base",
            control_base,
            "--batch-target",
            f"{harness['batch_target']:g}",
            *malloc_flags(harness),
        ]
        cmd += ["--cross-check", str(cross_check_seconds)] if process == 0 else []
        return cmd + [arg for case in cases for arg in ("--case", case)] + ["--out", out]

    return command


def installed_torch():
    done = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True, check=True
    )
    full = done.stdout.strip()
    return {"libtorch": full.split("+")[0], "torch": full}


def plan_runs(snakemake, reg, log):
    device, threads, harness = snakemake.wildcards.device, snakemake.params.threads, snakemake.params.harness
    runs, malloc = [], None
    for version, runner in zip(snakemake.params.versions, snakemake.input.runners, strict=True):
        info = runner_info(runner, harness)
        if version == "installed":  # the Python front runs in this torch's process: its libc too
            malloc = info.get("malloc")
        if snakemake.params.models:  # claim 1: its scenarios, as data for the sampler
            spec = snakemake.params.model_spec
            models = snakemake.params.models
            model_dir = f"results/models/{version}"
            runs += model_runs.plan(version, device, runner, info, threads, spec, models, model_dir, harness, reg, log)
        for technique in snakemake.params.techniques:
            claim, spec = reg.claim_of(technique), snakemake.params.specs[technique]
            run = Run(
                version,
                device,
                technique,
                "cpp",
                f"results/raw/{version}/{device}/{technique}.csv",
                f"results/raw/{version}/{device}/{technique}.json",
                cases_of(claim, spec),
                spec,
                runner_command(runner, technique, device, threads, spec, claim.controls, harness),
                info,
            )
            if "not_built" in info:
                run.status, run.reason = "failed", info["not_built"]
            runs.append(run)
    if snakemake.params.python_front:
        technique = "mask_indexing"
        claim, spec = reg.claim_of(technique), snakemake.params.specs[technique]
        front = spec["python_front"]
        command = python_front_command(
            snakemake.input.module, device, threads, spec, claim.controls, front["autorange_seconds"], harness
        )
        stem = f"results/raw/installed/{device}/{technique}.python"
        runs.append(
            Run(
                "installed",
                device,
                technique,
                "python",
                f"{stem}.csv",
                f"{stem}.json",
                cases_of(claim, spec),
                {**spec, "max_rounds": front["max_rounds"]},
                command,
                {**installed_torch(), **({"malloc": malloc} if malloc else {})},
                env={"PYTHONPATH": SCRIPTS},
            )
        )
    return runs


def main(snakemake, log):
    started = time.monotonic()
    reg = registry.load(snakemake.input.comparisons)
    runs = plan_runs(snakemake, reg, log)
    sampler = Sampler(
        runs,
        reg,
        snakemake.params.settings,
        snakemake.params.sampling,
        f"results/raw/.sampling/{snakemake.wildcards.device}",
        log,
        probe=machine_probe,
        progress=sys.__stderr__,  # the console: rule_main sends sys.stderr to the log
    )
    schedules = sampler.sample()
    sampler.write(schedules, config_hash(snakemake.config), snakemake.params.threads, started, snakemake.output.probe)
    if all(run.status in ("ok", "not run") for run in runs):
        sampler.clean()  # else the chunks stay: a retry takes only the processes that are missing


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main, kind="timing")  # noqa: F821 -- see "Timing isolation" in common.smk
