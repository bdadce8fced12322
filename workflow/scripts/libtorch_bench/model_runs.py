"""Claim 1 as data for the sampler (libtorch_bench.sampling): on one libtorch and device, which
variants exist (the runner's executor probe), and one sampler run per scenario, each with its
cells (one per model), its schedule and how its processes are started. The sampler then plans,
launches, chunks, resumes and stops them as it does claims 2-3.

Scenarios (the runner's model_inference technique, csrc/techniques/model_inference.cpp):
  steady  the base shape after warmup_rounds untimed calls; every variant and the A/A control
          (native under a second name) interleaved in rounds; a look's rounds split over
          steady_processes processes
  shapes  after warm-up at the base shape, shape_count new batch sizes in an order each process
          draws, then every size again; one process per variant (with every model in it), one
          pass over the shapes per process: a round is a process
  cold    the first cold_calls calls after loading; one fresh process per model and variant:
          a round is a process
A scenario's looks are in rounds, so for shapes and cold in processes.

A variant the libtorch or device lacks is not run and is recorded in the provenance as
"not available: <why>" (the runner's own words); one left out of the config as
"not run: not in techniques.model_inference.variants"."""

import json
import shlex
import subprocess

from .registry import matches
from .runner import DEVICE_UNAVAILABLE, RunError, run_command, unavailable_reason
from .samples import canonical_params
from .sampling import Run

TECHNIQUE = "model_inference"
PYTHON_EXPORT_VARIANTS = ("torchscript_python_export", "aotinductor")
CONTROL = "control_same"  # native again under another name: the A/A control of steady state
SCENARIOS = {
    "steady": "base shape after warmup_rounds untimed calls; variants interleaved in rounds, order drawn per round",
    "shapes": "after warm-up at the base shape: shape_count new batch sizes, each shape_repeats times, then every "
    "size seen again in another order; the order drawn per process; one process per variant, a round per process",
    "cold": "the first cold_calls calls after loading; one fresh process per model and variant, a round per process",
}
# How each scenario's processes are started (the sampler's Run.split).
SPLIT = {"steady": "together", "shapes": "variant", "cold": "case_and_variant"}


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


def merge_statuses(by_model, configured):
    """One status per variant: ok where every model has it, else the first reason."""
    merged = {}
    for name in next(iter(by_model.values()))["variants"]:
        if name not in configured:
            merged[name] = "not run: not in techniques.model_inference.variants"
            continue
        reasons = [s["variants"][name] for s in by_model.values() if s["variants"][name] != "ok"]
        merged[name] = reasons[0] if reasons else "ok"
    merged[CONTROL] = "ok (the A/A control: native under a second name, steady state only)"
    return merged


def compared_in(scenario, variants, registry):
    """The variants some comparison of the scenario names (slow or fast, globs included): a
    variant none compares there (AOTInductor's cold start) is not launched for it."""
    names = set()
    for comparison in registry.comparisons_of(registry.claim_of(TECHNIQUE).id):
        if scenario not in (comparison.get("where") or {}).get("scenario", [scenario]):
            continue
        for spec in (comparison["slow"], comparison["fast"]):
            patterns = spec["fastest_of"] if isinstance(spec, dict) else [spec]
            names |= {v for v in variants for pattern in patterns if matches(pattern, v)}
    return [v for v in variants if v in names]


def case_of(model, scenario, sizes):
    """The cell's case as the runner writes it in the CSV's params."""
    return canonical_params({"model": model, "scenario": scenario, **sizes})


def scenario_spec(spec, scenario):
    """The sampler's schedule of one scenario: looks (rounds; processes where a round is one),
    the cell's budget, and how a look's rounds are taken."""
    looks = [int(r) for r in spec["looks"][scenario]]
    return {
        "looks": looks,
        "max_rounds": looks[-1],
        "budget_seconds": float(spec["budget_seconds"][scenario]),
        "warmup_rounds": int(spec["warmup_rounds"]),
        "calls_per_round": int(spec["calls_per_round"]) if scenario == "steady" else 1,
        "processes_per_look": int(spec["steady_processes"]) if scenario == "steady" else 1,
        "round_per_process": scenario != "steady",
    }


def model_command(runner, device, threads, spec, scenario, model_dir, variants, harness):
    """argv of one runner process of a scenario: the sampler gives the open cells (cases), the
    rounds and, for per-variant processes, the variant."""

    def command(cases, rounds, first_round, process, out, variant=None):
        extra = {
            "model_dir": str(model_dir),
            "bailout_depth": spec["bailout_depth"],
            "budget_seconds": spec["process_budget_seconds"][scenario],
        }
        if scenario == "cold":
            extra["calls"] = spec["cold_calls"]
        if scenario == "shapes":
            extra.update(shape_count=spec["shape_count"], shape_repeats=spec["shape_repeats"])
        calls, warmup = (spec["calls_per_round"] if scenario == "steady" else 1), spec["warmup_rounds"]
        # claim 1 keeps single calls: no --batch-target
        cmd = run_command(runner, TECHNIQUE, device, threads, warmup, rounds, calls, process, first_round, harness)
        for case in cases:
            names = [variant] if variant else variants[case]
            cmd += [
                "--case",
                case + ";" + ";".join(f"{k}={v}" for k, v in {**extra, "variants": "+".join(names)}.items()),
            ]
        return cmd + ["--out", out]

    return command


def plan(version, device, runner, info, threads, spec, models, model_dir, harness, registry, log):
    """The scenarios of claim 1 on one platform as sampler runs (sharing one CSV), or one run
    that records why nothing is run (device unavailable, runner not built)."""
    stem = f"results/raw/{version}/{device}/{TECHNIQUE}"

    def run(scenario, cases, command=None, variants=None, extra=None):
        return Run(
            version,
            device,
            TECHNIQUE,
            "cpp",
            f"{stem}.csv",
            f"{stem}.json",
            cases,
            scenario_spec(spec, scenario),
            command,
            info,
            scenario=scenario,
            split=SPLIT[scenario],
            variants=variants or {},
            extra=extra or {},
        )

    if "not_built" in info:
        failed = run("steady", [])
        failed.status, failed.reason = "failed", info["not_built"]
        return [failed]
    by_model = {}
    for model in models:
        code, answer = variant_status(runner, device, threads, model, model_dir, spec["bailout_depth"], log)
        if code == DEVICE_UNAVAILABLE:
            absent = run("steady", [])
            absent.status, absent.reason = "not run", unavailable_reason(answer)
            return [absent]
        if code != 0:
            raise RunError(f"{runner} model-variants failed (exit {code}): {answer[-2000:]}")
        by_model[model] = answer
    configured = list(spec["variants"])
    available = {m: [v for v in configured if by_model[m]["variants"][v] == "ok"] for m in models}
    statuses = merge_statuses(by_model, configured)
    if version == "installed" and device == "cpu":
        for name in PYTHON_EXPORT_VARIANTS:
            if name in configured and statuses[name] != "ok":
                raise RunError(f"{name} should run on the installed torch's CPU but: {statuses[name]}")
    extra = {
        "models": models,
        "scenarios": SCENARIOS,
        "variants": statuses,
        "variant_settings": next(iter(by_model.values()))["settings"],
        "settings": {k: spec[k] for k in SETTINGS if k in spec},
    }
    runs = []
    for scenario in ("steady", "shapes", "cold"):
        cases = {case_of(m, scenario, sizes): m for m, sizes in models.items()}
        variants = {
            case: compared_in(scenario, available[m] + ([CONTROL] if scenario == "steady" else []), registry)
            for case, m in cases.items()
        }
        command = model_command(runner, device, threads, spec, scenario, model_dir, variants, harness)
        split = variants if SPLIT[scenario] != "together" else {}
        runs.append(run(scenario, list(cases), command, split, extra))
    return runs


SETTINGS = (
    "looks",
    "steady_processes",
    "cold_calls",
    "warmup_rounds",
    "calls_per_round",
    "shape_count",
    "shape_repeats",
    "bailout_depth",
    "budget_seconds",
    "process_budget_seconds",
)
