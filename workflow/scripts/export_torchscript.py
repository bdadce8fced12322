"""Rule export_torchscript (claim 1): the runner of one libtorch scripts one model in C++
(torch::jit::Module::define over the native module's seeded weights) and saves it: MODEL.pt,
the TorchScript file users load with torch::jit::load, and MODEL.json, the sizes it was made
with. Files appear whole or not at all. A runner that does not start (e.g. a recorded build
failure) leaves marker files instead, so the failure reaches run_models and its provenance
rather than stopping here."""

import shlex
import subprocess
import tempfile
from pathlib import Path

from libtorch_bench.atomic import replace_atomically, write_json_atomic, write_text_atomic
from libtorch_bench.rule_script import rule_main
from libtorch_bench.runner import failed, run_logged

NOT_BUILT_MARKER = "not built"


def export(runner, grid, torchscript_out, sizes_out, log):
    out_dir = Path(torchscript_out).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    info = subprocess.run([str(runner), "info"], capture_output=True, text=True)
    if info.returncode != 0:
        reason = info.stderr.strip()
        print(f"{runner} does not start ({reason}): writing markers", file=log)
        write_text_atomic(torchscript_out, f"{NOT_BUILT_MARKER}: {reason}\n")
        write_json_atomic(sizes_out, {"status": NOT_BUILT_MARKER, "runner": str(runner), "reason": reason})
        return
    model = Path(torchscript_out).stem
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=f".{model}.") as tmp:
        cmd = [str(runner), "export-models", "--dir", tmp] + shlex.split(grid)
        done = run_logged(cmd, log)
        if done.returncode != 0:
            raise failed(f"exporting {model}", cmd, done)
        for made, final in ((Path(tmp) / f"{model}.pt", torchscript_out), (Path(tmp) / f"{model}.json", sizes_out)):
            if not made.is_file():
                raise RuntimeError(f"the runner did not write {made.name}")
            replace_atomically(made, final)


def main(snakemake, log):
    export(snakemake.input.runner, snakemake.params.grid, snakemake.output.torchscript, snakemake.output.sizes, log)


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main)  # noqa: F821 -- injected by Snakemake's script directive
