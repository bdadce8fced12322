rule run_technique:
    """Time every variant of one technique on one libtorch and device: one CSV row per
    sample, and a JSON beside it with the run's provenance and status."""
    input:
        runner="results/build/{version}/bench_runner",
    output:
        samples="results/raw/{version}/{device}/{technique}.csv",
        provenance="results/raw/{version}/{device}/{technique}.json",
    log:
        "results/logs/run/{version}/{device}/{technique}.log",
    conda:
        "../envs/pipeline.yaml"
    # A timing rule: runs alone on the machine (see 'Timing isolation' in common.smk).
    threads: TIMING_THREADS
    params:
        grid=grid_args,
        threads=config["threads"],
    script:
        "../scripts/run_technique.py"


rule run_python_front:
    """Claim 3 as written in Python, on the installed torch (front=python), with the same
    inputs as the C++ technique (taken from the pybind11 module)."""
    input:
        module="results/build/python/libtorch_bench_ext.so",
    output:
        samples="results/raw/installed/{device}/mask_indexing.python.csv",
        provenance="results/raw/installed/{device}/mask_indexing.python.json",
    log:
        "results/logs/run/installed/{device}/mask_indexing.python.log",
    conda:
        "../envs/pipeline.yaml"
    # A timing rule: runs alone on the machine (see 'Timing isolation' in common.smk).
    threads: TIMING_THREADS
    params:
        spec=TECHNIQUE_SPECS["mask_indexing"],
        threads=config["threads"],
    script:
        "../scripts/run_python_front.py"
