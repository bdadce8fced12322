"""Bad input, faults and interrupted runs: each gives a clear error naming cause and fix,
and nothing already measured is lost."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import SNAKEMAKE, copy_workflow, read_json
from libtorch_bench.atomic import write_json_atomic, write_text_atomic

pytestmark = pytest.mark.slow


def snakemake(workdir, *args, env=None, config="config/test.yaml", timeout=900):
    return subprocess.run(
        SNAKEMAKE + ["--cores", "2", *args, "--configfile", config],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def write_config(workdir, name, cfg):
    (workdir / "config" / name).write_text(yaml.safe_dump(cfg))
    return f"config/{name}"


@pytest.fixture
def workdir(tmp_path):
    return copy_workflow(tmp_path)


def small_config(**overrides):
    cfg = yaml.safe_load((Path(__file__).parent.parent / "config" / "test.yaml").read_text())
    cfg["devices"] = ["cpu"]
    cfg["techniques"]["mask_indexing"]["python_front"] = {"enabled": False}
    cfg["techniques"]["model_inference"]["enabled"] = False  # claim 1 has tests of its own; keep these quick
    for key, value in overrides.items():
        cfg[key] = value
    return cfg


# -- configuration: refused before any job runs -------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("libtorch: [unclosed", "not valid JSON or YAML"),  # not YAML (Snakemake's own message)
        ("threads: many\n", "threads"),  # wrong type
        ("libtorch:\n  verions: ['1.8.1']\n", "verions"),  # unknown key
        ("libtorch:\n  versions: []\n", "versions"),  # empty version list
        ("libtorch:\n  versions: ['1.8.1; touch pwned']\n", "1.8.1; touch pwned"),  # shell metacharacters
        ("devices: ['cuda && touch pwned']\n", "devices"),
        ("techniques:\n  batch_from_rows:\n    B: [-4]\n", "B"),  # negative size
        ("libtorch:\n  versions: ['7.7.7']\n", "Known versions: 1.8.1, 1.9.1, 1.10.2"),  # unknown version, fix named
        ("techniques:\n  batch_from_rows:\n    max_rounds: 10\n", "techniques.batch_from_rows.max_rounds=10 is below"),
        ("techniques:\n  mask_indexing:\n    budget_seconds: 0\n", "budget_seconds"),  # a budget of nothing
        ("report:\n  holds_above: 1.0\n  reversed_below: 1.0\n", "report.reversed_below=1.0 must be below"),  # no band
        ("sampling:\n  looks: [50, 25]\n", "sampling.looks must ascend"),
        ("report:\n  spike_rate_of_interest: 1.5\n", "spike_rate_of_interest"),  # a rate is in (0, 1)
        ("report:\n  spike_rate_of_interest: 0\n", "spike_rate_of_interest"),
        ("techniques:\n  model_inference:\n    looks: {cold: [8, 5]}\n", "model_inference.looks.cold must ascend"),
        ("techniques:\n  model_inference:\n    budget_seconds: {cold: 0}\n", "budget_seconds"),
        ("harness:\n  batch_target: 0\n", "batch_target"),
    ],
)
def test_bad_config_is_refused_before_any_job(workdir, text, expected):
    (workdir / "config" / "bad.yaml").write_text(text)
    done = snakemake(workdir, config="config/bad.yaml")
    assert done.returncode != 0
    assert expected in done.stdout + done.stderr
    assert not (workdir / "results").exists()  # nothing ran
    assert not (workdir / "pwned").exists()


def test_more_threads_than_cores_warns_and_is_recorded(workdir):
    """Also: a variable that may change the numbers (here TF32 off) is recorded with the run;
    an unrelated one is not."""
    threads = (os.cpu_count() or 1) + 2
    cfg = small_config(threads=threads)
    cfg["libtorch"] = {"versions": ["installed"]}
    cfg["techniques"]["batch_from_rows"].update(B=[1], N=[8])
    cfg["techniques"]["mask_indexing"]["enabled"] = False
    done = snakemake(
        workdir,
        config=write_config(workdir, "threads.yaml", cfg),
        env={"NVIDIA_TF32_OVERRIDE": "0", "UNRELATED_SETTING": "1", "CUDA_HOME": "/usr/local/cuda"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"threads={threads} exceeds" in done.stderr
    prov = read_json(workdir / "results/raw/installed/cpu/batch_from_rows.json")
    assert prov["threads"] == threads and "exceed" in prov["warnings"][0]
    assert prov["environment"]["NVIDIA_TF32_OVERRIDE"] == "0"
    assert "UNRELATED_SETTING" not in prov["environment"] and "CUDA_HOME" not in prov["environment"]


def test_too_few_cold_processes_for_a_verdict_warns(workdir):
    cfg = small_config()
    cfg["techniques"]["model_inference"].update(enabled=True, looks={"steady": [6], "shapes": [2], "cold": [2]})
    cfg["report"] = {"min_rounds": 3}
    done = snakemake(workdir, "-n", config=write_config(workdir, "few.yaml", cfg))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "looks.cold=[2] ends below report.min_rounds=3" in done.stdout + done.stderr
    cfg["techniques"]["model_inference"]["looks"]["cold"] = [3]
    done = snakemake(workdir, "-n", config=write_config(workdir, "enough.yaml", cfg))
    assert done.returncode == 0 and "below report.min_rounds" not in done.stdout + done.stderr


# -- provisioning and build failures: recorded per version, the others measured ------------


def broken_libtorch(tmp_path):
    """The installed torch's libraries with a header that cannot compile: a compiler error
    for this version only."""
    import torch

    real = Path(torch.__file__).parent
    root = tmp_path / "broken-libtorch"
    (root / "include").mkdir(parents=True)
    (root / "lib").symlink_to(real / "lib")
    for entry in (real / "include").iterdir():
        if entry.name != "ATen":
            (root / "include" / entry.name).symlink_to(entry)
    aten = root / "include" / "ATen"
    aten.mkdir()
    for entry in (real / "include" / "ATen").iterdir():
        if entry.name != "ATen.h":
            (aten / entry.name).symlink_to(entry)
    (aten / "ATen.h").write_text('#error "injected compiler error for the reliability test"\n')
    return root


def test_a_version_that_fails_to_provision_or_build_does_not_stop_the_others(workdir, tmp_path):
    cfg = small_config()
    cfg["libtorch"] = {
        "versions": ["installed", "broken", "1.10.2"],
        "local": {"broken": str(broken_libtorch(tmp_path))},
        "cache_dir": str(tmp_path / "empty-cache"),  # 1.10.2 must be downloaded...
        "index_url": "http://127.0.0.1:9/simple",  # ...from a registry that is unreachable
    }
    done = snakemake(workdir, config=write_config(workdir, "failing.yaml", cfg))
    out = done.stdout + done.stderr
    assert done.returncode != 0  # the run does not look clean...
    assert "run(s) failed" in out and "make retry-failed" in out
    for technique in ("batch_from_rows", "mask_indexing"):  # ...but the healthy version was measured
        assert read_json(workdir / f"results/raw/installed/cpu/{technique}.json")["status"] == "ok"
        assert len(pd.read_csv(workdir / f"results/raw/installed/cpu/{technique}.csv")) > 0
        built = read_json(workdir / f"results/raw/broken/cpu/{technique}.json")
        assert built["status"] == "failed"
        assert "build failed" in built["reason"] and "injected compiler error" in built["reason"]
        fetched = read_json(workdir / f"results/raw/1.10.2/cpu/{technique}.json")
        assert fetched["status"] == "failed"
        assert "could not be provisioned" in fetched["reason"] and "libtorch.local" in fetched["reason"]
        assert pd.read_csv(workdir / f"results/raw/broken/cpu/{technique}.csv").empty
    assert "injected compiler error" in (workdir / "results/logs/build/broken.log").read_text()
    targets = (workdir / "results/failed_targets.txt").read_text().split()
    assert targets == ["results/build/broken/bench_runner", "results/libtorch/1.10.2.json"]


# -- runs that crash or are killed ---------------------------------------------------------


def one_run_config(workdir):
    cfg = small_config()
    cfg["libtorch"] = {"versions": ["installed"]}
    cfg["techniques"]["batch_from_rows"].update(B=[1, 16], N=[8, 64])
    return write_config(workdir, "run.yaml", cfg)


def chunks(workdir, run):
    """The chunk files (one per finished process) of one run, e.g. installed/cpu/batch_from_rows."""
    return sorted(Path(workdir, "results/raw/.sampling/cpu").glob(f"*/{run}/*.csv"))


def test_a_crashing_runner_fails_its_run_and_the_others_are_measured(workdir):
    config = one_run_config(workdir)
    done = snakemake(workdir, config=config, env={"LIBTORCH_BENCH_FAULT": "batch_from_rows:abort:20"})
    out = done.stdout + done.stderr
    assert done.returncode != 0 and "run(s) failed" in out  # the run does not look clean...
    raw = workdir / "results/raw/installed/cpu"
    record = read_json(raw / "batch_from_rows.json")
    # ...the runner's abort() (SIGABRT: exit -6) is named, with the process it happened in
    assert record["status"] == "failed" and "failed (exit -6)" in record["reason"]
    assert pd.read_csv(raw / "batch_from_rows.csv").empty  # no half-written samples in the results
    assert len(pd.read_csv(raw / "mask_indexing.csv")) > 0  # the other technique was measured and kept
    before = (raw / "mask_indexing.csv").read_bytes()
    targets = (workdir / "results/failed_targets.txt").read_text().split()
    assert targets == ["results/raw/installed/cpu/batch_from_rows.csv"]
    again = snakemake(workdir, "--forcerun", *targets, config=config)  # what `make retry-failed` does
    assert again.returncode == 0, again.stderr[-3000:]
    # the healthy run's processes were taken from their chunks, not again: the same samples
    assert (raw / "mask_indexing.csv").read_bytes() == before
    assert read_json(raw / "batch_from_rows.json")["status"] == "ok"
    assert len(pd.read_csv(raw / "batch_from_rows.csv")) > 0
    assert not Path(workdir, "results/raw/.sampling/cpu").exists()  # cleaned once everything ran


def test_a_run_killed_mid_sampling_resumes_from_its_finished_processes(workdir):
    config = one_run_config(workdir)
    proc = subprocess.Popen(
        SNAKEMAKE + ["--cores", "2", "results/raw/installed/cpu/batch_from_rows.csv", "--configfile", config],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "LIBTORCH_BENCH_FAULT": "mask_indexing:hang:10"},
        start_new_session=True,
    )
    deadline = time.time() + 600
    while not (
        chunks(workdir, "installed/cpu/batch_from_rows")
        and list(Path(workdir, "results/raw/.sampling/cpu").glob("*/installed/cpu/mask_indexing/.*.partial"))
    ):
        assert proc.poll() is None, "snakemake ended before the runner started"
        assert time.time() < deadline, "no process finished in time"
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)  # snakemake and the runner, mid-process
    proc.wait()
    taken = {p.name: p.read_bytes() for p in chunks(workdir, "installed/cpu/batch_from_rows")}
    assert not (workdir / "results/raw/installed/cpu/batch_from_rows.csv").exists()
    # A killed Snakemake leaves its lock behind; the documented recovery is --unlock.
    assert snakemake(workdir, "--unlock", config=config).returncode == 0
    plan = snakemake(workdir, "--dry-run", config=config)
    out = plan.stdout + plan.stderr
    assert plan.returncode == 0, out[-3000:]
    assert "build_runner" not in out and "provision_libtorch" not in out  # nothing built is redone
    assert "run_techniques" in out
    done = snakemake(workdir, config=config)
    assert done.returncode == 0, done.stderr[-3000:]
    samples = pd.read_csv(workdir / "results/raw/installed/cpu/batch_from_rows.csv")
    # No half-written row (shape and event are claim 1's columns, empty here).
    assert not samples.drop(columns=["shape", "event"]).isna().any().any()
    for name, data in taken.items():  # every sample of a finished process was kept, not retaken
        first = pd.read_csv(pd.io.common.BytesIO(data))
        kept = samples[samples.process == first.process.iloc[0]]
        assert kept[first.columns].reset_index(drop=True).equals(first), name


# -- atomic writes ---------------------------------------------------------------------------


def test_a_failed_write_keeps_the_previous_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "x.json"
    write_json_atomic(path, {"old": 1})
    from libtorch_bench import atomic

    def crash(*_):
        raise KeyboardInterrupt  # the process stopped between writing and renaming

    monkeypatch.setattr(atomic, "replace_atomically", crash)
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(path, '{"new": ')
    assert read_json(path) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temporary left behind
