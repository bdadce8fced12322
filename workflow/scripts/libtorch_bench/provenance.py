"""Where and how a result was measured: machine, versions, commit, configuration."""

import datetime
import hashlib
import json
import os
import platform
import socket
import subprocess

from . import format as fmt


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def gpus():
    """The GPUs nvidia-smi lists ('name, driver, memory' each), or '' where there is none."""
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return "; ".join(line.strip() for line in done.stdout.splitlines() if line.strip()) if done.returncode == 0 else ""


def git_commit(cwd="."):
    """The commit, with '-dirty' when tracked files differ from it. A copy without .git (a
    tarball sent to a cluster) names its commit in $LIBTORCH_BENCH_COMMIT, else 'unknown'."""
    if os.environ.get("LIBTORCH_BENCH_COMMIT"):
        return os.environ["LIBTORCH_BENCH_COMMIT"]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


# Variables that change what libtorch computes or how fast: thread pools, device selection,
# TF32 and math-library modes, allocator and JIT settings.
TUNING_PREFIXES = ("OMP_", "MKL_", "KMP_", "CUDA_", "CUBLAS_", "CUDNN_", "NVIDIA_TF32", "PYTORCH_", "TORCH_")
# Where things are installed, and what to compile for, do not change a run: not recorded,
# so two machines' images do not read as two settings.
NOT_TUNING = ("CUDA_VERSION", "TORCH_CUDA_ARCH_LIST")
NOT_TUNING_SUFFIXES = ("_HOME", "_PATH", "_ROOT", "_DIR")


def tuning_environment():
    """The set variables that may change the numbers, so a run made with them says so."""
    return {
        k: v
        for k, v in sorted(os.environ.items())
        if k.startswith(TUNING_PREFIXES) and k not in NOT_TUNING and not k.endswith(NOT_TUNING_SUFFIXES)
    }


def machine():
    return {
        "host": socket.gethostname(),
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "gpu": gpus(),
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def config_hash(config):
    """Identifies the whole configuration a result was measured under. Computed inside the
    job, not passed as a rule parameter: as a parameter, any config edit (a report threshold)
    would re-run every measurement."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def thread_warnings(threads):
    """Asking for more intra-op threads than the machine has cores measures oversubscription."""
    cores = os.cpu_count() or 1
    if threads > cores:
        return [f"threads ({threads}) exceed this machine's cores ({cores}): samples include oversubscription"]
    return []


def collect(config_hash, threads, **extra):
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "config_hash": config_hash,
        "threads": threads,
        "warnings": thread_warnings(threads),
        "environment": tuning_environment(),
        **machine(),
        **extra,
    }


# What must be the same for results to be compared side by side.
PROVENANCE_KEYS = {
    "host": "machines",
    "cpu_model": "CPU models",
    "gpu": "GPUs",
    "git_commit": "commits",
    "config_hash": "configurations",
    "environment": "settings of tuning variables (OMP_*, CUDA_*, ...)",
    "allocator": "allocator settings (harness.malloc)",
}


def mixed_provenance(runs):
    """One sentence per provenance key on which the measured runs differ: results from other
    machines, commits or configurations are flagged, never mixed silently."""
    measured = runs[runs.status == "ok"]
    notes = []
    for key, what in PROVENANCE_KEYS.items():
        if key not in measured:  # a runs table from before the key was recorded (gpu, environment)
            continue
        values = measured[key].astype(object).fillna("").astype(str)  # pandas 3 keeps a missing value missing
        distinct = sorted(set(values) - {""})
        if len(distinct) > 1:
            groups = "; ".join(
                f"{value}: "
                + fmt.first_few(
                    (
                        f"{r.version}/{r.device}/{r.technique}" + ("" if r.front == "cpp" else f" ({r.front})")
                        for r in measured[values == value].itertuples()
                    ),
                    "runs.csv",
                )
                for value in distinct
            )
            notes.append(f"These results come from {len(distinct)} different {what} ({groups}).")
    return notes


# ---- two runs side by side (make compare, make stability) ----------------------------------

# The machine first: across machines absolute times differ, so a reader is told before anything.
MACHINE_KEYS = {"host": "machine (host)", "cpu_model": "CPU", "cores": "cores", "gpu": "GPU"}
RUN_KEYS = {
    "git_commit": "commit",
    "config_hash": "configuration hash",
    "threads": "threads",
    "environment": "tuning variables",
    "allocator": "allocator settings",
    "compiler": "compiler",
    "os": "OS",
    "python": "Python",
}


def recorded_values(runs, key):
    """The distinct values of a runs.csv column over the measured runs ('' and unset left out)."""
    if key not in runs:
        return []
    measured = runs[runs.status == "ok"] if "status" in runs else runs
    return sorted(set(measured[key].fillna("").astype(str).str.strip()) - {"", "nan"})


def provenance_differences(first, second):
    """[{'what', 'first', 'second', 'machine'}] for each runs.csv key whose values differ between
    two runs tables (read as text), the machine's keys first; and per config version key, the
    libtorch it stood for where that differs (`installed` on two environments)."""
    out = []
    for keys, machine in ((MACHINE_KEYS, True), (RUN_KEYS, False)):
        for key, what in keys.items():
            a, b = recorded_values(first, key), recorded_values(second, key)
            if a != b and (a or b):
                out.append({"what": what, "first": a, "second": b, "machine": machine})
    if not all({"version", "libtorch"} <= set(r.columns) for r in (first, second)):
        return out
    libtorch = [r.groupby("version")["libtorch"].first() for r in (first, second)]
    for version in sorted(set(libtorch[0].index) & set(libtorch[1].index)):
        if libtorch[0][version] != libtorch[1][version]:
            out.append(
                {
                    "what": f"libtorch of {version}",
                    "first": [libtorch[0][version]],
                    "second": [libtorch[1][version]],
                    "machine": False,
                }
            )
    return out
