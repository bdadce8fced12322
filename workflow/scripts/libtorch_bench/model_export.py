"""Claim 1, installed torch only (rule export_python_models): the same models exported the
ways Python users do, from the weights the C++ runner saved in MODEL.pt (so every variant
computes with identical numbers):

  MODEL.python.pt   torch.jit.script of the Python twin (model_zoo.py), torch.jit.save
  MODEL.aoti.pt2    torch.export with a dynamic batch dimension, then
                    torch._inductor.aoti_compile_and_package: the path PyTorch's docs now
                    recommend for C++ inference instead of TorchScript

Each output is checked against the C++-saved TorchScript module (rtol/atol as in C++) at
several batch sizes before it is moved into place; files appear whole or not at all."""

import json
import os
import tempfile
import time
from pathlib import Path

import torch

from . import model_zoo
from .atomic import write_text_atomic

RTOL, ATOL = 1e-4, 1e-5  # on the CPU: csrc/techniques/model_variants.cpp, tolerance()


class ExportError(RuntimeError):
    pass


def check_close(name, expected, got):
    if expected.shape != got.shape or not torch.allclose(got, expected, rtol=RTOL, atol=ATOL):
        diff = (got - expected).abs().max().item() if expected.shape == got.shape else "shape"
        raise ExportError(f"{name}: output differs from the C++-saved TorchScript module (max diff {diff})")


def sample_inputs(model, sizes, max_batch):
    gen = torch.Generator().manual_seed(0)
    return [
        torch.randn(model_zoo.input_shape(model, sizes, b), generator=gen)
        for b in sorted({1, sizes["batch"], max_batch})
    ]


def load_twin(model, sizes, torchscript_path, max_batch):
    """The C++-saved TorchScript module, the Python twin with its weights, sample inputs and
    the TorchScript module's outputs for them."""
    reference = torch.jit.load(str(torchscript_path)).eval()
    sizes_file = Path(torchscript_path).with_suffix(".json")
    recorded = json.loads(sizes_file.read_text())["sizes"]
    wanted = ";".join(f"{k}={sizes[k]}" for k in model_zoo.SIZE_KEYS[model])
    if recorded != wanted:
        raise ExportError(f"{sizes_file} records {recorded}, the configuration asks for {wanted}")
    module = model_zoo.copy_weights(model_zoo.make_model(model, sizes), reference)
    inputs = sample_inputs(model, sizes, max_batch)
    with torch.no_grad():
        expected = [reference(x) for x in inputs]
        for x, e in zip(inputs, expected):
            check_close(f"{model} (Python twin)", e, module(x))
    return module, inputs, expected


def export_scripted(model, module, inputs, expected, out):
    """torch.jit.script + torch.jit.save, checked after loading it back."""
    scripted = torch.jit.script(module)
    with tempfile.TemporaryDirectory(dir=Path(out).parent) as tmp:
        tmp_pt = Path(tmp) / "scripted.pt"
        torch.jit.save(scripted, str(tmp_pt))
        loaded = torch.jit.load(str(tmp_pt)).eval()
        with torch.no_grad():
            for x, e in zip(inputs, expected):
                check_close(f"{model} (torch.jit.script)", e, loaded(x))
        os.replace(tmp_pt, out)


def export_aoti(model, module, inputs, expected, out, max_batch):
    """torch.export with a dynamic batch dimension (1..max_batch), then AOTInductor."""
    batch = torch.export.Dim("batch", min=1, max=max_batch)
    with torch.no_grad():
        program = torch.export.export(module, (inputs[-1],), dynamic_shapes=({0: batch},))
    with tempfile.TemporaryDirectory(dir=Path(out).parent) as tmp:
        path = torch._inductor.aoti_compile_and_package(program, package_path=str(Path(tmp) / "model.pt2"))
        compiled = torch._inductor.aoti_load_package(path)
        with torch.no_grad():
            for x, e in zip(inputs, expected):
                check_close(f"{model} (AOTInductor)", e, compiled(x))
        os.replace(path, out)


def export_one(model, sizes, torchscript_path, python_out, aoti_out, max_batch, log, compile_aoti=True):
    """Writes python_out and aoti_out (a marker where compile_aoti is off: no CPU device is
    configured, and the packages run on the CPU only); returns the seconds each took."""
    module, inputs, expected = load_twin(model, sizes, torchscript_path, max_batch)
    seconds = {}
    started = time.monotonic()
    export_scripted(model, module, inputs, expected, python_out)
    seconds["script_seconds"] = round(time.monotonic() - started, 3)
    if compile_aoti:
        started = time.monotonic()
        export_aoti(model, module, inputs, expected, aoti_out, max_batch)
        seconds["aoti_seconds"] = round(time.monotonic() - started, 3)
    else:
        write_text_atomic(aoti_out, "not compiled: no cpu device in this run's config\n")
    print(f"{model}: {sizes}: {seconds}", file=log, flush=True)
    return seconds
