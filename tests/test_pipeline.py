"""The pipeline end to end on config/test.yaml: libtorch 1.8.1 and the installed torch
provisioned, both runners built, every technique measured, CUDA recorded as not run."""

import re

import pandas as pd
import pytest
import torch
import yaml

from conftest import read_json, run_snakemake

pytestmark = pytest.mark.slow

COLUMNS = "technique,variant,params,libtorch,device,front,threads,round,call,shape,event,ns,process,batch".split(",")
EXPECTED_VERSION = {"1.8.1": "1.8.1", "installed": torch.__version__.split("+")[0]}
TECHNIQUES = ("batch_from_rows", "mask_indexing")


@pytest.mark.parametrize("version", ["1.8.1", "installed"])
@pytest.mark.parametrize("technique", TECHNIQUES)
def test_cpu_samples_name_their_version(pipeline_run, version, technique):
    df = pd.read_csv(pipeline_run / f"results/raw/{version}/cpu/{technique}.csv", keep_default_na=False)
    assert list(df.columns) == COLUMNS
    assert set(df["libtorch"].astype(str)) == {EXPECTED_VERSION[version]}
    assert set(df["technique"]) == {technique} and set(df["device"]) == {"cpu"}
    assert set(df["front"]) == {"cpp"} and set(df["threads"]) == {1}
    assert (df["ns"] > 0).all()
    prov = read_json(pipeline_run / f"results/raw/{version}/cpu/{technique}.json")
    assert prov["status"] == "ok" and prov["samples"] == len(df)
    # every cell was sampled in several processes and says where and why it stopped
    cells = prov["sampling"]["cells"]
    assert set(cells) == set(df["params"]) and all(c["stop"] in ("decided", "budget") for c in cells.values())
    for case, cell in cells.items():
        rows = df[df.params == case]
        assert rows["process"].nunique() == cell["processes"] >= 3 and rows["round"].nunique() == cell["rounds"]
    # sub-microsecond calls are timed in batches (claims 2-3); claim 1 times single calls
    assert (df["batch"] >= 1).all()
    if technique == "model_inference":
        assert set(df["batch"]) == {1}
    elif technique == "batch_from_rows":
        assert df.loc[df.variant == "floor_memcpy", "batch"].max() > 1  # ~30 ns: batched
        assert set(df.loc[df.variant == "harness_empty", "batch"]) == {1}  # the cost per sample
    assert prov["runner"]["malloc"]["refused"] == ""  # the allocator settings were honoured
    assert prov["runner"]["libtorch"] == EXPECTED_VERSION[version]
    for key in ("cpu_model", "cores", "git_commit", "config_hash", "date", "host", "compiler"):
        assert key in prov or key in prov["runner"], key


def test_runners_were_built_with_each_versions_abi_and_standard(pipeline_run):
    old = read_json(pipeline_run / "results/build/../libtorch/1.8.1.json")
    assert (old["cxx11_abi"], old["cxx_standard"]) == (False, 14)
    new = read_json(pipeline_run / "results/libtorch/installed.json")
    assert (new["cxx11_abi"], new["cxx_standard"]) == (torch._C._GLIBCXX_USE_CXX11_ABI, 17)
    assert read_json(pipeline_run / "results/raw/1.8.1/cpu/mask_indexing.json")["runner"]["cplusplus"] == 201402


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("version", ["1.8.1", "installed"])
def test_cuda_runs_are_recorded_as_not_run_with_a_reason(pipeline_run, version):
    for technique in TECHNIQUES:
        prov = read_json(pipeline_run / f"results/raw/{version}/cuda/{technique}.json")
        assert prov["status"] == "not run"
        assert prov["reason"]  # e.g. "no CUDA device"
        df = pd.read_csv(pipeline_run / f"results/raw/{version}/cuda/{technique}.csv")
        assert list(df.columns) == COLUMNS and df.empty


def test_second_run_has_nothing_to_do(pipeline_run):
    done = run_snakemake(pipeline_run)
    assert done.returncode == 0
    assert "Nothing to be done" in done.stdout + done.stderr


def jobs_planned(workdir):
    done = run_snakemake(workdir, "--dry-run", "--quiet", "rules")
    assert done.returncode == 0, done.stderr
    return set(re.findall(r"^(\w+)\s+\d+", done.stdout + done.stderr, flags=re.M))


def test_changing_a_size_reruns_measurements_but_no_build(pipeline_run):
    path = pipeline_run / "config" / "test.yaml"
    original = path.read_text()
    cfg = yaml.safe_load(original)
    cfg["techniques"]["batch_from_rows"]["N"] = [8, 32]
    try:
        path.write_text(yaml.safe_dump(cfg))
        planned = jobs_planned(pipeline_run)
    finally:
        path.write_text(original)
    assert "run_techniques" in planned
    assert not planned & {"build_runner", "build_extension", "provision_libtorch"}


def test_python_front_times_the_blogs_python_forms(pipeline_run):
    df = pd.read_csv(pipeline_run / "results/raw/installed/cpu/mask_indexing.python.csv", keep_default_na=False)
    assert list(df.columns) == COLUMNS
    assert set(df["front"]) == {"python"} and set(df["technique"]) == {"mask_indexing"}
    assert set(df["libtorch"].astype(str)) == {EXPECTED_VERSION["installed"]}
    assert set(df["variant"]) == {
        "mask_index",
        "masked_select",
        "indices_index",
        "indices_index_select",
        "floor_copy",
        "harness_empty",
        "control_same",
        "control_twice",
        "control_plus20",
    }
    cpp = pd.read_csv(pipeline_run / "results/raw/installed/cpu/mask_indexing.csv")
    assert set(df["params"]) == set(cpp["params"])  # the same cases as the C++ front
    prov = read_json(pipeline_run / "results/raw/installed/cpu/mask_indexing.python.json")
    assert prov["status"] == "ok" and prov["samples"] == len(df)
    checked = {(r["params"], r["variant"]) for r in prov["timer_cross_check"]}
    assert checked == set(zip(df["params"], df["variant"]))
    assert all(r["blocked_autorange_median_ns"] > 0 for r in prov["timer_cross_check"])
