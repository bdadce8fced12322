"""A synthetic results/raw tree with known answers, in the runner's CSV and JSON format.

Used by the report tests (and handy for developing the report without a build):
- claim 2: the blog's slow path is 5x its fast path (clear win), cat ~ vstack.
- claim 3: mask_index vs indices_index: clear win growing with K; indices_index vs
  indices_index_select: the same distribution (no difference); masked_select is 3x
  *faster* than indices_index_select here (a reversed comparison, on purpose).
- claim 1: native is stable; torchscript_default has spikes (~40x) at new shapes and a slow
  second call after loading; torchscript_no_profiling has neither; aotinductor only on the
  'installed' version.
- claims 2 and 3 carry the controls (control_same, control_twice, control_plus20 over the
  claim's `controls` variant), each paired with its base's sample of the same round: A/A reads
  equivalent, 2x and 1.2x hold at their ratio, except on purpose that claim 2's control_twice
  is 1.6x on 1.8.1 (it reads wrong there) and claim 3's A/A swings +-50% between rounds in
  NOISY_CASE (it stays undecided there).
- cuda cells are 'not run' with a reason and header-only CSVs.
- a wide run (`versions`: more releases, each named by its own version) can put a step in claim
  2's trend (`blog_step`): from that release on one from_blob is 1.6x faster and the per-row
  path is not, so the blog's pair's ratio rises from 5x to 8x there and stays.
"""

import itertools
import json
from pathlib import Path

import numpy as np

from libtorch_bench.samples import SAMPLE_COLUMNS as COLUMNS

VERSIONS = {"1.8.1": "1.8.1", "installed": "2.13.0"}  # config key -> libtorch; any other key is its own version
STEP_FASTER = 1.6  # blog_step: one from_blob gets this much faster
NOT_RUN_REASON = "no CUDA device: CUDA libraries of this libtorch cannot be loaded"
# The parameter grids (small by default; a timing check may set the default config's grids).
BATCH_GRID = {"B": [1, 16, 256], "N": [8, 512]}
MASK_GRID = {"rows": [4], "cols": [1000, 100000], "density": [0.01, 0.5], "K": [1, 100]}


def _canonical(params):
    return ";".join(f"{k}={params[k]}" for k in sorted(params))


def _noise(rng, size, sigma=0.05):
    return rng.lognormal(0.0, sigma, size)


def _write(raw, version, device, technique, rows, status="ok", reason="", front="cpp"):
    folder = raw / version / device
    folder.mkdir(parents=True, exist_ok=True)
    stem = technique if front == "cpp" else f"{technique}.{front}"
    lines = [",".join(COLUMNS)] + [",".join(str(r[c]) for c in COLUMNS) for r in rows]
    (folder / f"{stem}.csv").write_text("\n".join(lines) + "\n")
    record = {
        "status": status,
        "reason": reason,
        "samples": len(rows),
        "technique": technique,
        "device": device,
        "threads": 1,
        "date": "2026-01-01T00:00:00+00:00",
        "git_commit": "0" * 40,
        "config_hash": "synthetic",
        "host": "synthetic",
        "cpu_model": "Synthetic CPU",
        "cores": 2,
        "os": "Linux",
        "python": "3.11",
        "runner": {
            "libtorch": VERSIONS.get(version, version),
            "compiler": "GCC 12.2.0",
            "cxx11_abi": 1,
            "cplusplus": 201703,
            "cuda_available": False,
        },
    }
    (folder / f"{stem}.json").write_text(json.dumps(record, indent=2))


def _row(technique, variant, params, version, device, rnd, call, ns, shape="", event="", front="cpp"):
    return {
        "technique": technique,
        "variant": variant,
        "params": params,
        "libtorch": VERSIONS.get(version, version),
        "device": device,
        "front": front,
        "threads": 1,
        "round": rnd,
        "call": call,
        "shape": shape,
        "event": event,
        "ns": max(1, int(round(ns))),
        "process": rnd,  # every round its own process
        "batch": 1,
    }


CONTROL_RATIOS = {"control_same": 1.0, "control_twice": 2.0, "control_plus20": 1.2}
WRONG_TWICE = ("batch_from_rows", "1.8.1")  # control_twice at 1.6x: off 2 beyond its tolerance
NOISY_CASE = ("mask_indexing", _canonical({"rows": 4, "cols": 1000, "density": 0.01, "K": 1}))


def control_rows(technique, base_ns, params, version, rnd, rng, front="cpp"):
    """The controls of one round, each its base variant's sample of that round times its ratio
    (and a little noise of its own, from `rng`, so the other variants' samples stay as they were)."""
    ratios = dict(CONTROL_RATIOS)
    if (technique, version) == WRONG_TWICE:
        ratios["control_twice"] = 1.6
    if (technique, params) == NOISY_CASE:  # +-50% by turns: an interval far wider than the band
        ratios["control_same"] = float(np.exp(0.5 * (-1) ** rnd))
    return [
        _row(technique, v, params, version, "cpu", rnd, 0, base_ns * ratio * _noise(rng, 1, 0.01)[0], front=front)
        for v, ratio in ratios.items()
    ]


def batch_rows(version, rng, rounds, control_rng, stepped=False):
    speed = 1.0 if version == "1.8.1" else 0.7
    rows = []
    for B, N in itertools.product(BATCH_GRID["B"], BATCH_GRID["N"]):
        params = _canonical({"B": B, "N": N})
        floor = 30 + 0.08 * B * N
        base = {
            "flat_from_blob": 250 * speed + 1.2 * floor,
            "prealloc_row_copy": 200 * speed + 20 * B + floor,
            "floor_memcpy": floor,
            "harness_empty": 20,
        }
        base["rows_from_blob_vstack"] = 5 * base["flat_from_blob"]
        base["rows_from_blob_cat"] = 4.8 * base["flat_from_blob"]
        base["rows_from_blob_stack"] = 5.2 * base["flat_from_blob"]
        if stepped:  # one from_blob got faster, the per-row paths did not
            base["flat_from_blob"] /= STEP_FASTER
        for r in range(rounds):
            ns = {v: t * _noise(rng, 1)[0] for v, t in base.items()}
            rows += [_row("batch_from_rows", v, params, version, "cpu", r, 0, t) for v, t in ns.items()]
            rows += control_rows("batch_from_rows", ns["flat_from_blob"], params, version, r, control_rng)
    return rows


def mask_rows(version, rng, rounds, control_rng, front="cpp"):
    rows = []
    for rows_, cols, density, K in itertools.product(*(MASK_GRID[k] for k in ("rows", "cols", "density", "K"))):
        params = _canonical({"rows": rows_, "cols": cols, "density": density, "K": K})
        select = 200 + 0.002 * cols * density * rows_
        convert = 300 + 0.01 * cols
        base = {"indices_index_select": K * select + convert, "floor_copy": K * 0.6 * select, "harness_empty": 20}
        base["indices_index"] = base["indices_index_select"]  # no difference, same distribution
        base["mask_index"] = K * (select + convert)  # pays the conversion every time
        base["masked_select"] = base["indices_index_select"] / 3  # reversed on purpose
        for r in range(rounds):
            ns = {v: t * _noise(rng, 1, 0.08)[0] for v, t in base.items()}
            rows += [_row("mask_indexing", v, params, version, "cpu", r, 0, t, front=front) for v, t in ns.items()]
            base_ns = ns["indices_index_select"]
            rows += control_rows("mask_indexing", base_ns, params, version, r, control_rng, front)
    return rows


def model_rows(version, rng, rounds, calls, processes):
    variants = ["native", "torchscript_default", "torchscript_no_profiling", "torchscript_low_bailout"]
    if version == "installed":
        variants.append("aotinductor")
    rows = []
    shapes_cycle = ["8x64", "16x64", "8x64", "32x64", "1x64", "16x64", "64x64", "8x64"]
    for model, base_ms in (("mlp", 0.2), ("cnn", 2.0)):
        base = base_ms * 1e6
        speed = {
            "native": 1.0,
            "torchscript_default": 1.05,
            "torchscript_no_profiling": 1.1,
            "torchscript_low_bailout": 1.05,
            "aotinductor": 0.8,
        }
        # steady: same shape every call
        params = _canonical({"model": model, "scenario": "steady"})
        for r in range(rounds):
            for v in variants:
                ns = base * speed[v] * _noise(rng, calls)
                if v == "torchscript_default":  # rare spikes, ~40x
                    ns[rng.random(calls) < 0.01] *= 40
                for c in range(calls):
                    rows.append(_row("model_inference", v, params, version, "cpu", r, c, ns[c], shape="8x64"))
        # shapes: the shape changes between calls
        params = _canonical({"model": model, "scenario": "shapes"})
        for v in variants:
            respecializations = 0
            for r in range(rounds):
                seen = set()  # each round is a fresh process that meets the shapes anew
                for c in range(calls):
                    # mostly the base shape; every third call another, a new one the first time
                    shape = shapes_cycle[c % len(shapes_cycle)] if c % 3 == 0 else "8x64"
                    scale = int(shape.split("x")[0]) / 8
                    ns = base * speed[v] * (0.5 + 0.5 * scale) * _noise(rng, 1)[0]
                    event = ""
                    if v.startswith("torchscript") and shape not in seen:
                        if v == "torchscript_default":
                            ns *= 40
                            event = "optimized"
                            respecializations += 1
                        elif v == "torchscript_low_bailout":
                            ns *= 3
                            event = "fallback"
                    seen.add(shape)
                    rows.append(_row("model_inference", v, params, version, "cpu", r, c, ns, shape=shape, event=event))
        # cold: a fresh process per round, calls after loading
        params = _canonical({"model": model, "scenario": "cold"})
        for p in range(processes):
            for v in variants:
                for c in range(8):
                    ns = base * speed[v] * _noise(rng, 1)[0]
                    event = ""
                    if c == 0:
                        ns *= 3
                    if v == "torchscript_default" and c == 1:
                        ns *= 30
                        event = "optimized"
                    rows.append(_row("model_inference", v, params, version, "cpu", p, c, ns, shape="8x64", event=event))
    return rows


def write_results(
    root,
    *,
    seed=7,
    rounds=20,
    calls=20,
    processes=10,
    with_model=True,
    python_front=True,
    versions=tuple(VERSIONS),
    blog_step=None,
):
    """Write results/raw under `root`; returns the list of CSV paths (the pipeline's inputs).
    `versions`: the config's version keys, in release order; `blog_step`: the first of them whose
    one from_blob is STEP_FASTER faster (None: no step)."""
    rng = np.random.default_rng(seed)
    control_rng = np.random.default_rng([seed, 21])  # apart, so the controls change no other sample
    raw = Path(root) / "results" / "raw"
    techniques = ["batch_from_rows", "mask_indexing"] + (["model_inference"] if with_model else [])
    stepped = set(versions[list(versions).index(blog_step) :]) if blog_step else set()
    for version in versions:
        rows = batch_rows(version, rng, rounds, control_rng, version in stepped)
        _write(raw, version, "cpu", "batch_from_rows", rows)
        _write(raw, version, "cpu", "mask_indexing", mask_rows(version, rng, rounds, control_rng))
        if with_model:
            _write(raw, version, "cpu", "model_inference", model_rows(version, rng, rounds, calls, processes))
        for technique in techniques:
            _write(raw, version, "cuda", technique, [], status="not run", reason=NOT_RUN_REASON)
    if python_front and "installed" in versions:
        _write(
            raw,
            "installed",
            "cpu",
            "mask_indexing",
            mask_rows("installed", rng, rounds, control_rng, "python"),
            front="python",
        )
        _write(raw, "installed", "cuda", "mask_indexing", [], status="not run", reason=NOT_RUN_REASON, front="python")
    # The machine-state probes run_techniques writes beside the samples: none taken here.
    probe = Path(root) / "results" / "probe"
    probe.mkdir(parents=True, exist_ok=True)
    for device in ("cpu", "cuda"):
        (probe / f"{device}.csv").write_text("time,look,process,before,memory_ns,compute_ns\n")
    return sorted(str(p) for p in raw.rglob("*.csv"))


if __name__ == "__main__":
    import sys

    print("\n".join(write_results(sys.argv[1] if len(sys.argv) > 1 else ".")))


SETTINGS = {
    "confidence_level": 0.95,
    "n_resamples": 300,
    "seed": 20211023,
    "method": "percentile",
    "holds_above": 1.1,
    "reversed_below": 0.9091,
    "spike_factor": 10,
    "spike_rate_of_interest": 0.01,
    "min_rounds": 3,
    "figure_dpi": 60,
}


def build_report(root, repo, settings=SETTINGS):
    """Every report step on root/results/raw without Snakemake (the same functions the rules
    call); returns the path of index.html. The scripts must be importable (tests/conftest.py)."""
    from libtorch_bench import page, registry
    from libtorch_bench.comparisons import compare_all
    from libtorch_bench.figures import across_figures, platform_figures
    from libtorch_bench.machine import drift_table
    from libtorch_bench.mechanism import derive
    from libtorch_bench.samples import read_runs, read_samples, read_table
    from libtorch_bench.summary import summarize

    root, repo = Path(root), Path(repo)
    raw = sorted(str(p) for p in (root / "results" / "raw").rglob("*.csv"))
    out = root / "results" / "report"
    (out / "figures").mkdir(parents=True, exist_ok=True)
    samples = read_samples(raw)
    runs = read_runs([p[:-4] + ".json" for p in raw])
    summarize(samples, settings["spike_factor"]).to_csv(out / "summary.csv", index=False)
    runs.to_csv(out / "runs.csv", index=False)
    reg = registry.load(repo / "workflow" / "resources" / "comparisons.yaml")
    compare_all(samples, runs, reg, settings, set(runs["technique"])).to_csv(out / "claims.csv", index=False)
    derive(reg, samples, read_table(out / "summary.csv"), settings["spike_factor"]).to_csv(
        out / "mechanism.csv", index=False
    )
    inputs = {}
    platforms = sorted(set(runs[["version", "device"]].itertuples(index=False, name=None)))
    for version, device in platforms:
        paths = {f.name: str(out / "figures" / version / device / f"{f.name}.png") for f in reg.figures("platform")}
        Path(next(iter(paths.values()))).parent.mkdir(parents=True, exist_ok=True)
        platform_figures(
            reg,
            [p for p in raw if f"/{version}/{device}/" in p],
            out / "summary.csv",
            out / "runs.csv",
            version,
            device,
            paths,
            settings,
        )
        inputs.update({f"{name}_{version}_{device}": path for name, path in paths.items()})
    across = {f.name: str(out / "figures" / f"{f.name}.png") for f in reg.figures("across")}
    across_figures(reg, out / "claims.csv", out / "mechanism.csv", across, settings)
    inputs.update(across)
    drift_table([], samples, 0.25).to_csv(out / "drift.csv", index=False)
    config = {"report": settings, "sampling": {"looks": [25, 50], "processes_per_look": 5, "probe_drift": 0.25}}
    tables = [out / "claims.csv", out / "summary.csv"]
    pages = page.render_all(
        reg,
        read_table(out / "claims.csv"),
        read_table(out / "runs.csv"),
        read_table(out / "mechanism.csv"),
        read_table(out / "drift.csv"),
        inputs,
        platforms,
        repo / "workflow" / "report",
        config,
        str(out),
        tables,
    )
    for name, html in pages.items():  # index.html and, for a wide run, a page per release
        (out / name).write_text(html, encoding="utf-8")
    return out / "index.html"
