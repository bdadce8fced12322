rule run_techniques:
    """Claims 2-3 on one device: every grid technique on every libtorch version, and claim 3's
    Python front, sampled adaptively in fresh processes interleaved across runs, each cell
    until its comparisons are decided or its budget is spent (libtorch_bench/sampling.py).
    One CSV of samples and one provenance JSON per run; the machine-state probe's readings.
    """
    input:
        runners=expand("results/build/{version}/bench_runner", version=VERSIONS),
        module=(
            "results/build/python/libtorch_bench_ext.so"
            if python_front_enabled()
            else []
        ),
        comparisons=COMPARISONS,
    output:
        samples=grid_outputs("{device}", "csv"),
        provenance=grid_outputs("{device}", "json"),
        probe="results/probe/{device}.csv",
    log:
        "results/logs/run/{device}/techniques.log",
    conda:
        "../envs/pipeline.yaml"
    # A timing rule: runs alone on the machine (see 'Timing isolation' in common.smk).
    threads: TIMING_THREADS
    params:
        versions=VERSIONS,
        techniques=GRID_TECHNIQUES,
        specs={t: TECHNIQUE_SPECS[t] for t in GRID_TECHNIQUES},
        sampling=config["sampling"],
        settings=lambda wc: config["report"],
        python_front=python_front_enabled(),
        threads=config["threads"],
    script:
        "../scripts/run_techniques.py"
