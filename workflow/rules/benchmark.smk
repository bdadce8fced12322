rule run_techniques:
    """Every claim on one device: every technique on every libtorch version (claim 1's
    scenarios, claims 2-3's grids) and claim 3's Python front, sampled adaptively in fresh
    processes interleaved across runs, each cell until its comparisons are decided or its
    budget is spent (libtorch_bench/sampling.py). One CSV of samples and one provenance
    JSON per run; the machine-state probe's readings.
    """
    input:
        runners=expand("results/build/{version}/bench_runner", version=VERSIONS),
        models=model_files(),
        module=(
            "results/build/python/libtorch_bench_ext.so"
            if python_front_enabled()
            else []
        ),
        comparisons=COMPARISONS,
    output:
        samples=technique_outputs("{device}", "csv"),
        provenance=technique_outputs("{device}", "json"),
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
        models={m: model_sizes(m) for m in MODELS} if claim1_enabled() else {},
        model_spec=MODEL_INFERENCE,
        sampling=config["sampling"],
        harness=config["harness"],
        settings=lambda wc: config["report"],
        python_front=python_front_enabled(),
        threads=config["threads"],
    script:
        "../scripts/run_techniques.py"
