rule build_runner:
    """The C++ benchmark runner for one libtorch, with that version's ABI and C++ standard."""
    input:
        manifest="results/libtorch/{version}.json",
        cmakelists="csrc/CMakeLists.txt",
        sources=csrc_sources(),
    output:
        runner="results/build/{version}/bench_runner",
    log:
        "results/logs/build/{version}.log",
    conda:
        "../envs/pipeline.yaml"
    # Builds run side by side, never beside a timing job (see common.smk).
    threads: BUILD_THREADS
    params:
        build_dir=lambda wc: f"results/build/{wc.version}/cmake",
        source_dir=lambda wc, input: Path(input.cmakelists).parent,
    script:
        "../scripts/build_runner.py"


rule build_extension:
    """The pybind11 module over the same C++ code, against the pipeline's installed torch."""
    input:
        manifest="results/libtorch/installed.json",
        cmakelists="csrc/CMakeLists.txt",
        sources=csrc_sources(),
    output:
        module="results/build/python/libtorch_bench_ext.so",
    log:
        "results/logs/build/python_extension.log",
    conda:
        "../envs/pipeline.yaml"
    # Builds run side by side, never beside a timing job (see common.smk).
    threads: BUILD_THREADS
    params:
        build_dir="results/build/python/cmake",
        source_dir=lambda wc, input: Path(input.cmakelists).parent,
    script:
        "../scripts/build_extension.py"
