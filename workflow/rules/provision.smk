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
    script:
        "../scripts/provision_libtorch.py"
