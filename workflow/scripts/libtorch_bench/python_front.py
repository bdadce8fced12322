"""Claim 3 as the blog writes it in Python (rule run_python_front) (`x[mask]`, `torch.masked_select`, indexing with
precomputed indices, `index_select`) on the installed torch, timed with
torch.utils.benchmark. The inputs are the C++ technique's own (from the pybind11 module),
and every Python variant must equal the C++ reference before it is timed.

Each sample is one `Timer.timeit(1)` call covering K applications, taken in interleaved
rounds whose order rotates, as the C++ harness does. As a check on that per-call timing,
`blocked_autorange` (which amortises the timer over many calls) is run once per variant
and case; both medians go into the provenance JSON."""

import importlib
import itertools
import sys
import time
from pathlib import Path

import pandas as pd
import torch
import torch.utils.benchmark as benchmark

from . import registry
from .atomic import write_json_atomic, write_text_atomic
from .provenance import collect
from .samples import SAMPLE_COLUMNS, canonical_params, header_line

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


def time_case(ext, env, rounds, warmup_rounds, device, autorange_seconds):
    sync = "torch.cuda.synchronize()" if device.startswith("cuda") else ""
    timers = {
        name: benchmark.Timer(
            stmt=stmt + ("\n" + sync if sync else ""), globals=env, num_threads=torch.get_num_threads()
        )
        for name, stmt in STATEMENTS.items()
    }
    names = list(timers)
    rows = []
    for rnd in range(-warmup_rounds, rounds):
        for name in (names[i] for i in ext.round_order(rnd + warmup_rounds, len(names))):
            seconds = timers[name].timeit(1).times[0]
            if rnd >= 0:
                rows.append((name, rnd, round(seconds * 1e9)))
    autorange = {name: timers[name].blocked_autorange(min_run_time=autorange_seconds).median * 1e9 for name in names}
    return rows, autorange


def run(module_path, spec, device, threads, samples_out, provenance_out, cfg_hash):
    record = {
        "technique": TECHNIQUE,
        "front": "python",
        "device": device,
        "threads": threads,
        "torch": torch.__version__,
        "libtorch": torch.__version__.split("+")[0],
    }
    if device.startswith("cuda") and not torch.cuda.is_available():
        write_text_atomic(samples_out, header_line())
        write_json_atomic(
            provenance_out,
            collect(
                cfg_hash, status="not run", reason="no CUDA device (installed torch sees none)", samples=0, **record
            ),
        )
        return
    torch.set_num_threads(threads)
    started = time.monotonic()
    ext = load_extension(module_path)
    libtorch = torch.__version__.split("+")[0]
    frames, cross_check = [], []
    axes = registry.load().claim_of(TECHNIQUE).axes
    for values in itertools.product(*(spec[a] for a in axes)):
        params = dict(zip(axes, values))
        key = canonical_params(params)
        env = case_globals(ext, params, device)
        rows, autorange = time_case(
            ext,
            env,
            spec["python_front"]["rounds"],
            spec["warmup_rounds"],
            device,
            spec["python_front"]["autorange_seconds"],
        )
        df = pd.DataFrame(rows, columns=["variant", "round", "ns"])
        frames.append(df.assign(params=key))
        for name, median in autorange.items():
            ours = float(df.loc[df.variant == name, "ns"].median())
            cross_check.append(
                {
                    "params": key,
                    "variant": name,
                    "timeit_median_ns": ours,
                    "blocked_autorange_median_ns": median,
                    "ratio": ours / median,
                }
            )
    samples = pd.concat(frames, ignore_index=True).assign(
        technique=TECHNIQUE,
        libtorch=libtorch,
        device=device,
        front="python",
        threads=torch.get_num_threads(),
        call=0,
        shape="",
        event="",
    )[SAMPLE_COLUMNS]
    write_text_atomic(samples_out, samples.to_csv(index=False))
    write_json_atomic(
        provenance_out,
        collect(
            cfg_hash,
            status="ok",
            reason="",
            samples=len(samples),
            wall_seconds=round(time.monotonic() - started, 3),
            timer_cross_check=cross_check,
            **record,
        ),
    )
