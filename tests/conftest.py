"""Shared fixtures: the pipeline's helper modules on sys.path, the pybind11 module built
from csrc/ against the installed torch, one end-to-end pipeline run on the test config, and
the page of the synthetic results."""

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "workflow" / "scripts"
sys.path.insert(0, str(SCRIPTS))

from libtorch_bench.build import build  # noqa: E402
from libtorch_bench.provision import describe_libtorch, installed_torch_root  # noqa: E402

SNAKEMAKE = [sys.executable, "-m", "snakemake"]


@pytest.fixture(scope="session")
def extension():
    """libtorch_bench_ext built into build/tests (reused between sessions; CMake rebuilds what changed)."""
    root, _ = installed_torch_root()
    manifest = describe_libtorch(root)
    build_dir = REPO / "build" / "tests" / "ext"
    out_dir = REPO / "build" / "tests"
    out_dir.mkdir(parents=True, exist_ok=True)
    module = out_dir / "libtorch_bench_ext.so"
    with open(out_dir / "build.log", "w") as log:
        build(manifest, REPO / "csrc", build_dir, "libtorch_bench_ext", module, 2, log)
    sys.path.insert(0, str(out_dir))
    import torch  # noqa: F401 -- the module's libraries come with torch

    return importlib.import_module("libtorch_bench_ext")


def copy_workflow(dest):
    """The tracked parts of the workflow, so a test run never touches the repo's results/."""
    for name in ("Snakefile", "workflow", "csrc", "config", "deps"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def snakemake_env(workdir):
    """The environment for a pipeline run in a copy of the workflow: ccache keys on paths
    relative to the copy, so every copy (the local run, the SLURM run, the next session)
    reuses the objects compiled once."""
    return {**os.environ, "CCACHE_BASEDIR": str(Path(workdir).resolve())}


def run_snakemake(workdir, *args, timeout=1500):
    return subprocess.run(
        SNAKEMAKE + ["--cores", "2", *args, "--configfile", "config/test.yaml"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=snakemake_env(workdir),
    )


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory):
    """The test config through the whole pipeline, once per session."""
    workdir = copy_workflow(tmp_path_factory.mktemp("pipeline"))
    done = run_snakemake(workdir)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    return workdir


@pytest.fixture(scope="session")
def synthetic_report(tmp_path_factory):
    """index.html of the synthetic results (tests/synthetic_results.py), built once per session
    for the page's tests."""
    from synthetic_results import build_report, write_results

    root = tmp_path_factory.mktemp("report")
    write_results(root, rounds=8, calls=10, processes=4)
    return build_report(root, REPO)


def read_json(path):
    return json.loads(Path(path).read_text())


def job_stamps(workdir):
    """Every job's start/end stamp (workflow/scripts/libtorch_bench/job_clock.py) under results/logs."""
    return [read_json(p) for p in sorted(Path(workdir, "results", "logs").rglob("*.times.json"))]


def overlapping(stamps_a, stamps_b):
    """Pairs of distinct jobs, one from each list, whose [started, finished] intervals overlap."""
    return [
        (a, b)
        for a in stamps_a
        for b in stamps_b
        if a is not b and a["started"] < b["finished"] and b["started"] < a["finished"]
    ]
