"""Claim 3 as the blog writes it in Python (`x[mask]`, `torch.masked_select`, indexing with
precomputed indices, `index_select`) on the installed torch, timed with torch.utils.benchmark:
one process of the Python front, started by the sampling driver (libtorch_bench.sampling)
like a runner process: `python -m libtorch_bench.python_front --module EXT --case ... --out F`.
The inputs are the C++ technique's own (from the pybind11 module), and every Python variant
must equal the C++ reference before it is timed.

Each sample is one `Timer.timeit(1)` call covering K applications, taken in interleaved
rounds whose order rotates, as the C++ harness does. As a check on that per-call timing,
`blocked_autorange` (which amortises the timer over many calls) can be run once per variant
and case (--cross-check); both medians go into the provenance JSON."""

import argparse
import importlib
import json
import sys
import time
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


def stretched(stmt, extra):
    """The statement, then a busy wait of `extra` times its own duration (as the C++ harness does)."""
    return (
        f"t0 = perf_counter_ns()\n{stmt}\nwait = (perf_counter_ns() - t0) * {extra}\n"
        "t0 = perf_counter_ns()\nwhile perf_counter_ns() - t0 < wait: pass"
    )


def statements(base, device):
    """The variants' statements, and the controls over `base` as the C++ harness adds them: the
    same statement, and it stretched to 2x and 1.2x its own time."""
    sync = "\ntorch.cuda.synchronize()" if device.startswith("cuda") else ""
    out = {name: stmt + (sync if name != "harness_empty" else "") for name, stmt in STATEMENTS.items()}
    if base:
        out["control_same"] = out[base]
        out["control_twice"] = stretched(out[base], 1.0)
        out["control_plus20"] = stretched(out[base], 0.2)
    return out


def time_case(ext, env, stmts, rounds, warmup_rounds, first_round, cross_check_seconds):
    """(variant, round, ns) rows of one case, in interleaved rounds whose order rotates; and,
    where asked, blocked_autorange's median per variant as a check on the per-call timing."""
    threads = torch.get_num_threads()
    timers = {name: benchmark.Timer(stmt=stmt, globals=env, num_threads=threads) for name, stmt in stmts.items()}
    names = list(timers)
    rows = []
    for rnd in range(-warmup_rounds, rounds):
        for name in (names[i] for i in ext.round_order(first_round + rnd + warmup_rounds, len(names))):
            seconds = timers[name].timeit(1).times[0]
            if rnd >= 0:
                rows.append((name, first_round + rnd, round(seconds * 1e9)))
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
    torch.set_num_threads(args.threads)
    ext = load_extension(args.module)
    frames, cross_check = [], []
    for case in args.case:
        params = parse_params(case)
        env = case_globals(ext, params, args.device)
        env["perf_counter_ns"] = time.perf_counter_ns
        stmts = statements(args.control_base, args.device)
        rows, autorange = time_case(ext, env, stmts, args.rounds, args.warmup, args.first_round, args.cross_check)
        df = pd.DataFrame(rows, columns=["variant", "round", "ns"])
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
    parser.add_argument("--out", required=True)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run_process(parse_args()))
