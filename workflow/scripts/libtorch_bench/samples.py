"""Raw samples and run records: their columns, where a run's files live, and reading them.

A run's samples live at results/raw/{version}/{device}/{technique}[.{front}].csv (one row per
timed call) with a provenance JSON beside the CSV. {version} is the config's key (`1.8.1`,
`installed`); the CSV's `libtorch` column holds the real version. The C++ runner writes the
same columns (csrc/harness/csv.cpp; a test compares the two).
"""

import json
import re
from pathlib import Path

import pandas as pd

HARNESS_VARIANT = "harness_empty"  # the harness's own per-sample cost, not a technique variant
SAMPLE_COLUMNS = [
    "technique",
    "variant",
    "params",
    "libtorch",
    "device",
    "front",
    "threads",
    "round",
    "call",
    "shape",
    "event",
    "ns",
    "process",  # appended: which of the cell's processes took the sample
    "batch",  # appended: back-to-back calls in the sample (ns is per call: the sample / batch)
]
STRING_COLUMNS = ["technique", "variant", "params", "libtorch", "device", "front", "shape", "event"]


def own_variants(table):
    """Rows of the technique's own variants: not the harness's empty call, not a control."""
    return (table["variant"] != HARNESS_VARIANT) & ~table["variant"].str.startswith("control_")


def header_line():
    return ",".join(SAMPLE_COLUMNS) + "\n"


def run_of(path):
    """(version key, device key, technique, front) from
    results/raw/{version}/{device}/{technique}[.{front}].csv; the front defaults to cpp."""
    path = Path(path)
    technique, _, front = path.stem.partition(".")
    return path.parent.parent.name, path.parent.name, technique, front or "cpp"


def read_samples(paths):
    """Every sample of the given CSVs in one long table, with the config's version key added
    as `version`. Header-only CSVs (runs that were not run) contribute nothing."""
    frames = []
    for path in paths:
        version, device, _, _ = run_of(path)
        df = pd.read_csv(path, keep_default_na=False, dtype={c: str for c in STRING_COLUMNS})
        if "process" not in df and "round" in df:  # written before processes were recorded:
            df["process"] = df["round"]  # every round is its own process (the paired round bootstrap)
        if "batch" not in df:  # written before batches: one call per sample
            df["batch"] = 1
        missing = set(SAMPLE_COLUMNS) - set(df.columns)
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        if df.empty:
            continue
        df.insert(0, "version", version)
        df["device"] = device  # the directory names the device the config asked for
        frames.append(df)
    if not frames:
        empty = pd.DataFrame(columns=["version"] + SAMPLE_COLUMNS)
        return empty.astype(
            {
                "round": "int64",
                "call": "int64",
                "threads": "int64",
                "ns": "float64",
                "process": "int64",
                "batch": "int64",
            }
        )
    out = pd.concat(frames, ignore_index=True)
    for column in ("round", "call", "threads", "process", "batch"):
        out[column] = pd.to_numeric(out[column]).astype("int64")
    out["ns"] = pd.to_numeric(out["ns"]).astype("float64")  # a batched sample's per-call mean has a fraction
    return out


def environment_text(record):
    """The tuning variables a run was made with, 'NAME=value; ...'; 'none' where none was set,
    '' where the run predates the record."""
    if "environment" not in record:
        return ""
    return "; ".join(f"{k}={v}" for k, v in record["environment"].items()) or "none"


def allocator_text(runner):
    """'mmap_threshold=33554432; trim_threshold=268435456' as the run set them ('...; refused: ...'
    where glibc would not), 'glibc defaults' where none was set, '' where the run predates it."""
    malloc = runner.get("malloc")
    if malloc is None:
        return ""
    text = (
        "; ".join(f"{k}={malloc[k]}" for k in ("mmap_threshold", "trim_threshold") if malloc.get(k)) or "glibc defaults"
    )
    return text + (f"; refused: {malloc['refused']}" if malloc.get("refused") else "")


def read_runs(paths):
    """One row per (version, device, technique, front) run: status, reason, real libtorch
    version and the provenance recorded beside the CSV."""
    rows = []
    for path in paths:
        version, device, technique, front = run_of(path)
        record = json.loads(Path(path).read_text())
        runner = record.get("runner") or {}
        rows.append(
            {
                "version": version,
                "device": device,
                "technique": technique,
                "front": front,
                "status": record.get("status", "unknown"),
                "reason": record.get("reason", "") or "",
                "libtorch": str(
                    runner.get("libtorch") or record.get("libtorch") or record.get("torch", "").split("+")[0] or ""
                ),
                "samples": record.get("samples", 0),
                "date": record.get("date", ""),
                "git_commit": record.get("git_commit", ""),
                "config_hash": record.get("config_hash", ""),
                "host": record.get("host", ""),
                "cpu_model": record.get("cpu_model", ""),
                "cores": record.get("cores", ""),
                "os": record.get("os", ""),
                "python": record.get("python", ""),
                "threads": record.get("threads", ""),
                "compiler": runner.get("compiler", ""),
                "cxx11_abi": runner.get("cxx11_abi", ""),
                "cplusplus": runner.get("cplusplus", ""),
                "cuda_available": runner.get("cuda_available", ""),
                "wall_seconds": record.get("wall_seconds", ""),
                "command": record.get("command", ""),
                "csv": str(Path(path).with_suffix(".csv")),
                "json": str(path),
                "gpu": record.get("gpu", ""),
                "environment": environment_text(record),
                "allocator": allocator_text(runner),
            }
        )
    columns = [
        "version",
        "device",
        "technique",
        "front",
        "status",
        "reason",
        "libtorch",
        "samples",
        "date",
        "git_commit",
        "config_hash",
        "host",
        "cpu_model",
        "cores",
        "os",
        "python",
        "threads",
        "compiler",
        "cxx11_abi",
        "cplusplus",
        "cuda_available",
        "wall_seconds",
        "command",
        "csv",
        "json",
        "gpu",
        "environment",
        "allocator",  # appended: the malloc thresholds the run set, and any glibc refused
    ]
    runs = pd.DataFrame(rows, columns=columns)
    # A run that does not name its libtorch (e.g. the Python front) has its version's.
    known = runs[runs.libtorch != ""].groupby("version")["libtorch"].first()
    runs["libtorch"] = runs["libtorch"].where(runs.libtorch != "", runs.version.map(known)).fillna(runs.version)
    return runs


def canonical_params(params):
    """{'N': 64, 'B': 16} -> 'B=16;N=64': the C++ Params::canonical() form (names sorted)."""
    return ";".join(f"{k}={params[k]}" for k in sorted(params))


def parse_params(params):
    """`B=16;N=64` -> {'B': 16, 'N': 64}; numbers become int or float, the rest stays text."""
    out = {}
    if not params:
        return out
    for item in params.split(";"):
        key, _, value = item.partition("=")
        out[key] = _number(value)
    return out


def _number(text):
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def readable_case(case):
    """'batch=8;depth=3;model=mlp;scenario=steady' -> 'mlp, steady (batch 8, depth 3)'; other cases
    'B=16, N=64'."""
    params = parse_params(case)
    head = [str(params.pop(k)) for k in ("model", "scenario") if k in params]
    sizes = ", ".join(f"{k} {v}" if head else f"{k}={v}" for k, v in params.items())
    if head:
        return ", ".join(head) + (f" ({sizes})" if sizes else "")
    return sizes


def params_table(params_series):
    """The distinct params strings of a column as a table with one column per parameter."""
    unique = pd.unique(params_series)
    table = pd.DataFrame([parse_params(p) for p in unique], index=unique)
    table.index.name = "params"
    return table


def version_key(libtorch):
    """Sort key for real libtorch versions ('1.8.1', '2.13.0+cpu', 'unknown')."""
    numbers = re.findall(r"\d+", str(libtorch).split("+")[0])
    return tuple(int(n) for n in numbers[:3]) or (float("inf"),)


TEXT_COLUMNS = [
    "technique",
    "variant",
    "params",
    "version",
    "libtorch",
    "device",
    "front",
    "claim",
    "comparison",
    "metric",
    "case",
    "slow_variant",
    "fast_variant",
    "verdict",
    "reason",
    "quantity",
    "unit",
    "status",
    "resampled",
    "question",
    "allocator",
]


def read_table(path):
    """A CSV written by the report's own jobs, with its text columns kept as text."""
    header = pd.read_csv(path, nrows=0).columns
    dtypes = {c: str for c in TEXT_COLUMNS if c in header}
    table = pd.read_csv(
        path, dtype=dtypes, keep_default_na=False, na_values={c: [""] for c in header if c not in dtypes}
    )
    return table
