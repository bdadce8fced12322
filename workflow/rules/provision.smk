rule provision_libtorch:
    """Download, verify and unpack one libtorch (cached outside results/), or describe the
    installed one, into a manifest that the build reads."""
    input:
        table=WHEEL_TABLE,
        nvidia_table=NVIDIA_WHEEL_TABLE,
    output:
        manifest="results/libtorch/{version}.json",
    log:
        "results/logs/provision/{version}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        # A new setting re-provisions (fetching or not the CUDA stack, libtorch_bench/cuda_stack.py).
        cuda_stack=config["libtorch"]["cuda_stack"],
    script:
        "../scripts/provision_libtorch.py"
