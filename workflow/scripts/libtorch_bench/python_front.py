"""Claim 3 as the blog writes it in Python (`x[mask]`, `torch.masked_select`, indexing with
precomputed indices, `index_select`) on the installed torch, timed with torch.utils.benchmark:
one process of the Python front, started by the sampling driver (libtorch_bench.sampling)
like a runner process: `python -m libtorch_bench.python_front --module EXT --case ... --out F`.
The inputs are the C++ technique's own (from the pybind11 module), and every Python variant
must equal the C++ reference before it is timed.

Each sample is one `Timer.timeit(k)` call covering K applications k times (k = 1, or for a
case whose fastest call is short beside the timer's own cost, the batch the C++ harness would
take: its `batch_size`, from the empty statement's time and --batch-target), taken in
interleaved rounds whose order rotates, as the C++ harness does; the controls' samples are the
base's, stretched as a whole (see STRETCH). As a check on that per-call
timing, `blocked_autorange` (which amortises the timer over many calls) can be run once per
variant and case (--cross-check); both medians go into the provenance JSON. The allocator
thresholds (--malloc-*) are set first, as the runner sets them."""

import argparse
import ctypes
import importlib
import json
import sys
from pathlib import Path

import pandas as pd
import torch
import torch.utils.benchmark as benchmark

from .runner import DEVICE_UNAVAILABLE
from .samples import SAMPLE_COLUMNS, canonical_params, parse_params

TECHNIQUE = "mask_indexing"
# Each statement does what the C++ variant of the same name does, K times per sample.
STATEMENTS = {
    "mask_index": "for _ in range(K): out = x[..., mask]",
    "masked_select": "for _ in range(K): out = torch.masked_select(x, mask)",
    "indices_index": "idx = mask.nonzero().reshape(-1)\nfor _ in range(K): out = x[..., idx]",
    "indices_index_select": "idx = mask.nonzero().reshape(-1)\nfor _ in range(K): out = x.index_select(-1, idx)",
    "floor_copy": "for _ in range(K): out = gathered.clone()",
    "harness_empty": "pass",
}


class PythonFrontError(RuntimeError):
    pass


def load_extension(module_path):
    sys.path.insert(0, str(Path(module_path).parent))
    return importlib.import_module(Path(module_path).name.split(".")[0])


def case_globals(ext, params, device):
    outputs, inputs = ext.variant_outputs(TECHNIQUE, params, "cpu")
    x, mask = inputs["x"].to(device), inputs["mask"].to(device)
    env = {"torch": torch, "x": x, "mask": mask, "K": int(params["K"]), "gathered": x[..., mask].contiguous()}
    reference = outputs["mask_index"]
    for name, stmt in STATEMENTS.items():
        if name == "harness_empty":
            continue
        scope = dict(env)
        exec(stmt, scope)  # the statement itself, once, to compare its result
        got = scope["out"].cpu().reshape(-1)
        if not torch.equal(got, reference.reshape(-1)):
            raise PythonFrontError(
                f"python variant {name} differs from the C++ reference for {canonical_params(params)}"
            )
    return env


# The stretched controls over the base (as the C++ harness adds them): the base's batch, timed
# by timeit as the base's own samples are, then a busy wait of this many times as long.
STRETCH = {"control_twice": 1.0, "control_plus20": 0.2}


def statements(base, device):
    """The variants' statements, and the controls over `base`: the same statement under three
    more names (control_twice and control_plus20 are stretched when timed, see time_case)."""
    sync = "\ntorch.cuda.synchronize()" if device.startswith("cuda") else ""
    out = {name: stmt + (sync if name != "harness_empty" else "") for name, stmt in STATEMENTS.items()}
    if base:
        out.update({name: out[base] for name in ("control_same", *STRETCH)})
    return out


def calibrate_batch(ext, timers, target):
    """The case's calls per sample, as the C++ harness chooses them (its batch_size), from the
    fastest variant's and the empty statement's time per timeit(1)."""
    if target <= 1:
        return 1

    def median_ns(name):
        return sorted(timers[name].timeit(1).times[0] for _ in range(9))[4] * 1e9

    fastest = min(median_ns(n) for n in timers if n != "harness_empty")
    return ext.batch_size(fastest, median_ns("harness_empty"), target)


def time_case(ext, env, stmts, rounds, warmup_rounds, first_round, cross_check_seconds, batch_target=0):
    """(variant, round, ns, batch) rows of one case, in interleaved rounds whose order rotates
    (ns per call: timeit's time per run); and, where asked, blocked_autorange's median per
    variant as a check on the per-call timing."""
    threads = torch.get_num_threads()
    timers = {name: benchmark.Timer(stmt=stmt, globals=env, num_threads=threads) for name, stmt in stmts.items()}
    names = list(timers)
    batch = calibrate_batch(ext, {n: t for n, t in timers.items() if n not in STRETCH}, batch_target)
    rows = []
    for rnd in range(-warmup_rounds, rounds):
        for name in (names[i] for i in ext.round_order(first_round + rnd + warmup_rounds, len(names))):
            calls = 1 if name == "harness_empty" else batch  # the empty statement: the cost per sample
            ns = timers[name].timeit(calls).times[0] * 1e9
            if name in STRETCH:  # the batch, then a busy wait as long times the extra, both counted
                ns += ext.busy_wait_ns(round(STRETCH[name] * ns * calls)) / calls
            if rnd >= 0:  # whole ns for one call, a batch's per-call mean with its fraction (as the runner)
                rows.append((name, first_round + rnd, round(ns, 3 if calls > 1 else None), calls))
    autorange = {}
    if cross_check_seconds > 0:
        autorange = {n: timers[n].blocked_autorange(min_run_time=cross_check_seconds).median * 1e9 for n in names}
    return rows, autorange


def run_process(args):
    """One process of the Python front: every case given, `rounds` rounds each; the samples
    into args.out (and, with --cross-check, blocked_autorange's medians into args.out + .json)."""
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("not run: no CUDA device (installed torch sees none)", file=sys.stderr)
        return DEVICE_UNAVAILABLE
    set_malloc(args.malloc_mmap_threshold, args.malloc_trim_threshold)
    torch.set_num_threads(args.threads)
    ext = load_extension(args.module)
    frames, cross_check = [], []
    for case in args.case:
        params = parse_params(case)
        env = case_globals(ext, params, args.device)
        stmts = statements(args.control_base, args.device)
        rows, autorange = time_case(
            ext, env, stmts, args.rounds, args.warmup, args.first_round, args.cross_check, args.batch_target
        )
        df = pd.DataFrame(rows, columns=["variant", "round", "ns", "batch"])
        frames.append(df.assign(params=case))
        cross_check += [
            {
                "params": case,
                "variant": name,
                "timeit_median_ns": float(df.loc[df.variant == name, "ns"].median()),
                "blocked_autorange_median_ns": median,
            }
            for name, median in autorange.items()
        ]
    samples = pd.concat(frames, ignore_index=True).assign(
        technique=TECHNIQUE,
        libtorch=torch.__version__.split("+")[0],
        device=args.device,
        front="python",
        threads=torch.get_num_threads(),
        call=0,
        shape="",
        event="",
        process=args.process,
    )
    Path(args.out).write_text(samples[SAMPLE_COLUMNS].to_csv(index=False))
    if cross_check:
        Path(args.out + ".json").write_text(json.dumps(cross_check, indent=1))
    return 0


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>


def set_malloc(mmap_threshold, trim_threshold):
    """The allocator thresholds the runner sets (csrc/harness/allocator.h), where glibc has them."""
    try:
        libc = ctypes.CDLL(None)
        for option, value in ((M_MMAP_THRESHOLD, mmap_threshold), (M_TRIM_THRESHOLD, trim_threshold)):
            if value > 0:
                libc.mallopt(option, value)
    except (OSError, AttributeError):  # not glibc: the runner's `info` already says it is not honoured
        pass


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="One process of claim 3's Python front (see the module docstring).")
    parser.add_argument("--module", required=True, help="the pybind11 module libtorch_bench_ext*.so")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--first-round", type=int, default=0)
    parser.add_argument("--process", type=int, default=0)
    parser.add_argument("--control-base", default="")
    parser.add_argument("--case", action="append", required=True, help="a case as B=1;N=8 (repeatable)")
    parser.add_argument("--cross-check", type=float, default=0.0, help="blocked_autorange seconds per variant")
    parser.add_argument("--batch-target", type=float, default=0.0, help="see config harness.batch_target")
    parser.add_argument("--malloc-mmap-threshold", type=int, default=0)
    parser.add_argument("--malloc-trim-threshold", type=int, default=0)
    parser.add_argument("--out", required=True)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run_process(parse_args()))
