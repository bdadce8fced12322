"""Claim 1 (model_inference): the native torch::nn models and their TorchScript twins compute
the same thing, every variant either runs or says why not, and every row carries its input
shape, the executor's event and (cold start) its process. Through the pybind11 module on the
installed torch, with tiny models; the pipeline's own run is checked at the end (slow)."""

import pandas as pd
import pytest
import torch

from conftest import read_json
from libtorch_bench import model_export, model_runs, model_zoo

RTOL, ATOL = 1e-4, 1e-5
MODELS = {
    "mlp": {"batch": 4, "features": 16, "hidden": 32, "depth": 2},
    "cnn": {"batch": 2, "channels": 4, "image": 16},
    "attention": {"batch": 3, "seq": 8, "dim": 16, "heads": 2, "layers": 2},
}
VARIANTS = [
    "native",
    "torchscript_default",
    "torchscript_no_optimize",
    "torchscript_no_profiling",
    "torchscript_fusion_on",
    "torchscript_low_bailout",
    "torchscript_frozen",
    "torchscript_python_export",
    "aotinductor",
]
# The A/A control (native under a second name) is listed after native and runs wherever it does.
LISTED = ["native", "control_same", *VARIANTS[1:]]
NOT_AVAILABLE = "not available: "


def params(model, scenario="steady", **extra):
    return {"model": model, "scenario": scenario, **MODELS[model], **extra}


def grid(model, scenario, **extra):
    return {k: [str(v)] for k, v in params(model, scenario, **extra).items()}


@pytest.fixture(scope="module")
def exports(extension, tmp_path_factory):
    """Each model scripted in C++ and saved (MODEL.pt), scripted again from Python with the
    weights copied (MODEL.python.pt); the mlp also as an AOTInductor package, the others with
    the marker a CUDA-only run writes instead (they would take ~10 s each to compile)."""
    folder = tmp_path_factory.mktemp("models")
    with open(folder / "export.log", "w") as log:
        for model, sizes in MODELS.items():
            extension.export_torchscript(str(folder), {"model": model, **sizes})
            model_export.export_one(
                model,
                sizes,
                folder / f"{model}.pt",
                folder / f"{model}.python.pt",
                folder / f"{model}.aoti.pt2",
                8,
                log,
                compile_aoti=model == "mlp",
            )
    return folder


def test_the_technique_lists_every_variant_native_first(extension):
    info = extension.techniques()["model_inference"]
    assert info["claim"] == "1"
    assert info["variants"] == LISTED
    assert info["params"] == ["model", "scenario"]


@pytest.mark.parametrize("model", list(MODELS))
def test_every_available_variant_computes_what_native_computes(extension, exports, model):
    status = extension.model_variants(model, "cpu", str(exports))["variants"]
    outputs, inputs = extension.variant_outputs("model_inference", params(model, model_dir=str(exports)))
    assert list(outputs)[0] == "native"
    assert set(outputs) == {v for v, s in status.items() if s == "ok"}
    x = inputs["x"]
    assert x.shape[0] == MODELS[model]["batch"]
    native = outputs["native"]
    assert native.shape == (MODELS[model]["batch"], model_zoo.CLASSES)
    assert native.abs().sum() > 0
    for name, out in outputs.items():
        torch.testing.assert_close(out, native, rtol=RTOL, atol=ATOL, msg=name)
    # An independent computation: the Python twin with the weights of the C++-saved file.
    twin = model_zoo.copy_weights(
        model_zoo.make_model(model, MODELS[model]), torch.jit.load(str(exports / f"{model}.pt"))
    )
    with torch.no_grad():
        torch.testing.assert_close(twin(x), native, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("model", list(MODELS))
def test_every_variant_runs_or_says_why_not(extension, exports, model):
    answer = extension.model_variants(model, "cpu", str(exports))
    status = answer["variants"]
    assert list(status) == LISTED and set(answer["settings"]) == set(LISTED)
    for name, text in status.items():
        assert text == "ok" or (text.startswith(NOT_AVAILABLE) and len(text) > len(NOT_AVAILABLE) + 10), (name, text)
    for name in (
        "native",
        "control_same",
        "torchscript_default",
        "torchscript_no_optimize",
        "torchscript_no_profiling",
        "torchscript_frozen",
        "torchscript_python_export",
    ):
        assert status[name] == "ok", (name, status[name])
    assert (status["aotinductor"] == "ok") == (model == "mlp")  # only the mlp's package was compiled
    if model != "mlp":  # the marker's reason, not a failed load
        assert "not compiled: no cpu device" in status["aotinductor"]
    if not torch._C._llvm_enabled():  # the PyPI wheels: NNC cannot fuse on the CPU
        assert "LLVM" in status["torchscript_fusion_on"] and "LLVM" in status["torchscript_low_bailout"]
    # Without exported files the Python-made variants say so instead of vanishing.
    bare = extension.model_variants(model, "cpu", "")["variants"]
    assert bare["torchscript_python_export"].startswith(NOT_AVAILABLE)
    assert bare["aotinductor"].startswith(NOT_AVAILABLE)
    # What is available runs.
    ok = [v for v, s in status.items() if s == "ok"]
    cols = extension.run(
        "model_inference", grid(model, "steady", model_dir=exports, variants="+".join(ok)), warmup_rounds=2, rounds=2
    )
    assert sorted(set(cols["variant"])) == sorted(ok)


def test_changing_shapes_rows_carry_each_shape_and_the_executor_event(extension):
    cols = extension.run(
        "model_inference",
        grid("attention", "shapes", variants="native+torchscript_default", shape_count=4, shape_repeats=2),
        warmup_rounds=2,
    )
    df = pd.DataFrame({k: cols[k] for k in ("variant", "params", "round", "call", "shape", "event", "ns")})
    assert (df["shape"] != "").all() and (df["ns"] > 0).all()
    assert set(df["params"]) == {"batch=3;dim=16;heads=2;layers=2;model=attention;scenario=shapes;seq=8"}
    for variant, rows in df.groupby("variant"):
        assert list(rows["call"]) == list(range(2 * 4 + 2 * 5)), variant  # 4 new sizes twice, then all 5 again
        batches = [int(s.split("x")[0]) for s in rows["shape"]]
        assert all(s.endswith("x8x16") for s in rows["shape"])
        assert len(set(batches[:8])) == 4 and 3 not in batches[:8]  # new sizes first, never the base one
        assert set(batches[8:]) == set(batches[:8]) | {3}
    assert set(df[df.variant == "native"]["event"]) == {""}


def test_cold_start_rows_are_numbered_by_process_and_call(extension):
    for variant in ("native", "torchscript_default"):
        cols = extension.run(
            "model_inference", grid("mlp", "cold", variants=variant, calls=6), process=3, first_round=7
        )
        assert cols["round"] == [7] * 6 and cols["process"] == [3] * 6 and cols["call"] == list(range(6))
        assert set(cols["shape"]) == {"4x16"}
        assert set(cols["params"]) == {"batch=4;depth=2;features=16;hidden=32;model=mlp;scenario=cold"}
    # The profiling executor's first call profiles, the second optimizes, then nothing happens.
    # (In this process the default variant's module is fresh, so its executor starts anew.)
    assert cols["event"][0] == "profiling"
    assert "optimized" in cols["event"][1]
    assert cols["event"][2:] == [""] * 4


def test_bad_parameters_are_rejected(extension):
    with pytest.raises(ValueError, match="scenario"):
        extension.run("model_inference", grid("mlp", "warm"))
    with pytest.raises(ValueError, match="one variant per process"):
        extension.run("model_inference", grid("mlp", "cold", variants="native+torchscript_default"))
    with pytest.raises(ValueError, match="needs parameter .features."):
        extension.run("model_inference", {"model": ["mlp"], "scenario": ["steady"], "batch": ["2"]})


def test_claim_1_reaches_the_sampler_as_data():
    spec = {
        "looks": {"steady": [30, 60], "shapes": [3, 5], "cold": [5, 8]},
        "steady_processes": 3,
        "budget_seconds": {"steady": 9, "shapes": 8, "cold": 7},
        "process_budget_seconds": {"steady": 3, "shapes": 4, "cold": 2},
        "warmup_rounds": 2,
        "calls_per_round": 1,
        "cold_calls": 20,
        "shape_count": 30,
        "shape_repeats": 2,
        "bailout_depth": 1,
    }
    steady, cold = model_runs.scenario_spec(spec, "steady"), model_runs.scenario_spec(spec, "cold")
    assert (steady["looks"], steady["processes_per_look"], steady["round_per_process"]) == ([30, 60], 3, False)
    assert (cold["looks"], cold["max_rounds"], cold["round_per_process"], cold["budget_seconds"]) == (
        [5, 8],
        8,
        True,
        7,
    )
    case = model_runs.case_of("mlp", "cold", MODELS["mlp"])
    assert case == "batch=4;depth=2;features=16;hidden=32;model=mlp;scenario=cold"
    variants = {case: ["native", "torchscript_default"]}
    harness = {"malloc": {"mmap_threshold": 1024, "trim_threshold": 0}}
    command = model_runs.model_command("runner", "cpu", 1, spec, "cold", "models", variants, harness)
    cmd = command([case], 1, 4, 4, "OUT", variant="torchscript_default")
    assert cmd[cmd.index("--first-round") + 1] == "4" and cmd[cmd.index("--rounds") + 1] == "1"
    assert "--malloc-mmap-threshold" in cmd and "--malloc-trim-threshold" not in cmd and "--batch-target" not in cmd
    (given,) = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--case"]
    assert given.startswith(case + ";") and "variants=torchscript_default" in given and "calls=20" in given
    # steady state: every variant of the case in one process, with the A/A control
    steady_case = model_runs.case_of("mlp", "steady", MODELS["mlp"])
    steady_variants = {steady_case: ["native", "torchscript_default", model_runs.CONTROL]}
    command = model_runs.model_command("runner", "cpu", 1, spec, "steady", "models", steady_variants, harness)
    (given,) = [a for a in command([steady_case], 10, 0, 0, "OUT") if a.startswith(steady_case)]
    assert "variants=native+torchscript_default+control_same" in given
    assert model_runs.SPLIT == {"steady": "together", "shapes": "variant", "cold": "case_and_variant"}


@pytest.mark.slow
@pytest.mark.parametrize("version", ["1.8.1", "installed"])
def test_the_pipeline_measures_claim_1_on_the_cpu(pipeline_run, version):
    import yaml

    spec = yaml.safe_load((pipeline_run / "config" / "test.yaml").read_text())["techniques"]["model_inference"]
    df = pd.read_csv(pipeline_run / f"results/raw/{version}/cpu/model_inference.csv", keep_default_na=False)
    prov = read_json(pipeline_run / f"results/raw/{version}/cpu/model_inference.json")
    assert prov["status"] == "ok" and prov["samples"] == len(df)
    # Every variant the runner knows is listed; those the config leaves out say so.
    configured = yaml.safe_load((pipeline_run / "config" / "config.yaml").read_text())["techniques"]
    configured = {*configured["model_inference"]["variants"], model_runs.CONTROL}
    assert sorted(prov["variants"]) == sorted(LISTED) and configured < set(LISTED)
    ran = {v for v, s in prov["variants"].items() if s.startswith("ok")}
    assert set(df["variant"]) == ran and "native" in ran and "torchscript_default" in ran
    for name, text in prov["variants"].items():
        if name in configured:
            assert text.startswith("ok") or text.startswith(NOT_AVAILABLE), (name, text)
        else:
            assert text == "not run: not in techniques.model_inference.variants", (name, text)
    if version == "installed":  # the Python exports that the config asks for run there
        assert {"torchscript_python_export", "aotinductor"} & configured <= ran
    else:
        assert prov["variants"]["aotinductor"].startswith(NOT_AVAILABLE)
    assert (df["shape"] != "").all()
    df["scenario"] = df["params"].str.extract(r"scenario=(\w+)")[0]
    df["model"] = df["params"].str.extract(r"model=(\w+)")[0]
    assert set(df["scenario"]) == {"cold", "steady", "shapes"} and set(df["model"]) == set(MODELS)
    cut = {(t["case"], t["variant"], t["process"]) for t in prov["truncated_by_budget"]}
    cells = prov["sampling"]["cells"]
    for (case, variant), rows in df[df.scenario == "cold"].groupby(["params", "variant"]):
        # a round is a fresh process: as many as the cell took, numbered on
        assert sorted(set(rows["round"])) == list(range(cells[case]["rounds"]))
        assert len(set(rows["round"])) >= spec["looks"]["cold"][0]
        for process, calls in rows.groupby("process")["call"]:
            if (case, variant, process) not in cut:
                assert list(calls) == list(range(spec["cold_calls"])), (case, variant, process)
    # changing shapes: each process a round, every variant of a process meeting its own order
    shapes = df[df.scenario == "shapes"]
    assert shapes.groupby(["params", "variant"])["process"].nunique().min() >= spec["looks"]["shapes"][0]
    default = df[(df.scenario == "cold") & (df.variant == "torchscript_default") & (df.call == 0)]
    assert (default["event"] == "profiling").all()
