"""Rule export_python_models (claim 1, installed torch): the same model and weights exported
from Python as torch.jit.script and as an AOTInductor package (libtorch_bench.model_export)."""

import json
from pathlib import Path

import torch

from libtorch_bench.atomic import write_text_atomic
from libtorch_bench.model_export import export_one
from libtorch_bench.rule_script import rule_main


def main(snakemake, log):
    # Inductor's generated CPU kernels take their thread count from here.
    torch.set_num_threads(int(snakemake.params.threads))
    sizes_record = json.loads(Path(snakemake.input.sizes).read_text())
    if sizes_record.get("status") == "not built":  # export_torchscript's marker: the failure is recorded later
        for out in (snakemake.output.python_export, snakemake.output.aoti_package):
            write_text_atomic(out, "not built: the installed torch's runner\n")
        print("the runner was not built: markers written", file=log)
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", file=log, flush=True)
    export_one(
        snakemake.wildcards.model,
        dict(snakemake.params.sizes),
        snakemake.input.torchscript,
        snakemake.output.python_export,
        snakemake.output.aoti_package,
        int(snakemake.params.max_batch),
        log,
        bool(snakemake.params.compile_aoti),
    )


if __name__ == "__main__" and "snakemake" in globals():
    rule_main(snakemake, main, kind="build")  # noqa: F821 -- compiles: a build (see common.smk)
