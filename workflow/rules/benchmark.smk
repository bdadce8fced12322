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
    # Every core: no other job (a build, another timing) may share the machine with a timing.
    threads: workflow.cores
    params:
        grid=grid_args,
        threads=config["threads"],
        config_hash=config_hash(),
    script:
        "../scripts/run_technique.py"
