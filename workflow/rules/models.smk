rule export_torchscript:
    """Claim 1: one model scripted by one libtorch's runner, saved as TorchScript with
    the native module's seeded weights (MODEL.pt), and its sizes (MODEL.json)."""
    input:
        runner="results/build/{version}/bench_runner",
    output:
        torchscript="results/models/{version}/{model}.pt",
        sizes="results/models/{version}/{model}.json",
    log:
        "results/logs/models/{version}/{model}.torchscript.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    params:
        grid=model_grid,
    script:
        "../scripts/export_torchscript.py"


rule export_python_models:
    """Claim 1, installed torch: the same model and weights exported from Python, as
    torch.jit.script (MODEL.python.pt) and an AOTInductor package (MODEL.aoti.pt2)."""
    input:
        torchscript="results/models/installed/{model}.pt",
        sizes="results/models/installed/{model}.json",
    output:
        python_export="results/models/installed/{model}.python.pt",
        aoti_package="results/models/installed/{model}.aoti.pt2",
    log:
        "results/logs/models/installed/{model}.python.log",
    conda:
        "../envs/pipeline.yaml"
    # Compiles (inductor runs a C++ compiler): a build, never beside a timing job.
    threads: BUILD_THREADS
    params:
        sizes=lambda wc: model_sizes(wc.model),
        threads=config["threads"],
        max_batch=MODEL_INFERENCE["max_batch"],
        # The packages run on the CPU only: a CUDA-only run skips the (minute-long) compile.
        compile_aoti="cpu" in DEVICES,
    script:
        "../scripts/export_python_models.py"
