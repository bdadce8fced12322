# The report: raw samples -> summary and run table -> comparisons with intervals and
# verdicts, mechanism table -> figures -> one self-contained index.html -> an archive.
# `snakemake --report results/report.zip` wraps the same outputs in Snakemake's report.


include: "report_common.smk"


rule aggregate_samples:
    """Every raw CSV into one summary row per technique, variant, parameters, version,
    device and front, and one row per run with its status and provenance."""
    input:
        samples=all_benchmark_outputs(),
        provenance=raw_provenance(),
    output:
        summary=f"{REPORT_DIR}/summary.csv",
        runs=f"{REPORT_DIR}/runs.csv",
    log:
        "results/logs/report/aggregate.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        spike_factor=lambda wc: report_settings()["spike_factor"],
    script:
        "../scripts/aggregate.py"


rule compare_variants:
    """The comparisons of workflow/resources/comparisons.yaml: ratio, bootstrap interval
    and verdict per claim, version, device, front and case."""
    input:
        samples=all_benchmark_outputs(),
        provenance=raw_provenance(),
        comparisons="workflow/resources/comparisons.yaml",
    output:
        claims=report(
            f"{REPORT_DIR}/claims.csv",
            caption="../report/claims.rst",
            category="Verdicts",
            labels={"table": "claims.csv: every comparison, case, version and device"},
        ),
    log:
        "results/logs/report/compare.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        settings=lambda wc: report_settings(),
        techniques=TECHNIQUES,
    script:
        "../scripts/claim_stats.py"


rule derive_mechanism:
    """Quantities that explain the verdicts: where spikes fall, cost per row, cost of one
    mask conversion."""
    input:
        samples=all_benchmark_outputs(),
        summary=f"{REPORT_DIR}/summary.csv",
    output:
        mechanism=f"{REPORT_DIR}/mechanism.csv",
    log:
        "results/logs/report/mechanism.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        spike_factor=lambda wc: report_settings()["spike_factor"],
    script:
        "../scripts/mechanism.py"


rule plot_cell:
    """The figures of one libtorch version on one device (a 'not run' card where nothing
    ran there)."""
    input:
        samples=cell_raw_samples,
        summary=f"{REPORT_DIR}/summary.csv",
        runs=f"{REPORT_DIR}/runs.csv",
    output:
        claim1_latency=report(
            cell_figure("claim1_latency"),
            caption="../report/claim1_latency.rst",
            category=CLAIM_CATEGORY["1"],
            subcategory="libtorch {version}, {device}",
            labels={
                "figure": "latency per call",
                "version": "{version}",
                "device": "{device}",
            },
        ),
        claim1_distribution=report(
            cell_figure("claim1_distribution"),
            caption="../report/claim1_distribution.rst",
            category=CLAIM_CATEGORY["1"],
            subcategory="libtorch {version}, {device}",
            labels={
                "figure": "latency distribution",
                "version": "{version}",
                "device": "{device}",
            },
        ),
        claim2_time=report(
            cell_figure("claim2_time"),
            caption="../report/claim2_time.rst",
            category=CLAIM_CATEGORY["2"],
            subcategory="libtorch {version}, {device}",
            labels={
                "figure": "time vs B and N",
                "version": "{version}",
                "device": "{device}",
            },
        ),
        claim3_time=report(
            cell_figure("claim3_time"),
            caption="../report/claim3_time.rst",
            category=CLAIM_CATEGORY["3"],
            subcategory="libtorch {version}, {device}",
            labels={
                "figure": "time vs size and density",
                "version": "{version}",
                "device": "{device}",
            },
        ),
    log:
        "results/logs/report/figures_{version}_{device}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        kind="cell",
        settings=lambda wc: report_settings(),
    script:
        "../scripts/figures.py"


rule plot_across_versions:
    """One trend figure per claim (ratio with interval against the libtorch version) and
    one mechanism figure per claim."""
    input:
        claims=f"{REPORT_DIR}/claims.csv",
        mechanism=f"{REPORT_DIR}/mechanism.csv",
    output:
        **{
            name: report(
                path,
                caption=f"../report/{name}.rst",
                category=CLAIM_CATEGORY[name[5]],
                subcategory="across versions and devices",
                labels={
                    "figure": name.split("_", 1)[1],
                    "version": "all",
                    "device": "all",
                },
            )
            for name, path in across_figures().items()
        },
    log:
        "results/logs/report/figures_across.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        kind="across",
        settings=lambda wc: report_settings(),
        titles=claim_titles(),
    script:
        "../scripts/figures.py"


rule render_report:
    """The answer page: every claim's verdicts across versions and devices, figures with
    captions, mechanism, provenance; self-contained (opens offline, from inside a zip).
    """
    input:
        unpack(all_cell_figures),
        unpack(across_figures),
        claims=f"{REPORT_DIR}/claims.csv",
        summary=f"{REPORT_DIR}/summary.csv",
        runs=f"{REPORT_DIR}/runs.csv",
        mechanism=f"{REPORT_DIR}/mechanism.csv",
        comparisons="workflow/resources/comparisons.yaml",
        captions=expand(
            "workflow/report/{name}.rst", name=CELL_FIGURE_NAMES + ACROSS_FIGURE_NAMES
        ),
    output:
        html=report(
            f"{REPORT_DIR}/index.html",
            caption="../report/index.rst",
            category="Verdicts",
            labels={"page": "index.html: the answer, claim by claim"},
        ),
    log:
        "results/logs/report/render.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        settings=lambda wc: report_settings(),
        config=lambda wc: config,
        cells=[(version, device) for version in VERSIONS for device in DEVICES],
        caption_dir=lambda wc, input: os.path.dirname(input.captions[0]),
    script:
        "../scripts/render_report.py"


rule archive_report:
    """One zip that opens offline: the page, its tables and figures, every raw CSV with its
    provenance JSON, and the configuration the run used."""
    input:
        html=f"{REPORT_DIR}/index.html",
        tables=expand(
            f"{REPORT_DIR}/{{name}}.csv",
            name=["claims", "summary", "runs", "mechanism"],
        ),
        samples=all_benchmark_outputs(),
        provenance=raw_provenance(),
        figures=list(all_cell_figures().values()) + list(across_figures().values()),
    output:
        archive=report(
            "results/libtorch-claims-report.zip",
            caption="../report/archive.rst",
            category="Data",
            labels={"file": "everything, for offline reading"},
        ),
    log:
        "results/logs/report/archive.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        config=lambda wc: config,
        config_files=["config/config.yaml", "config/README.md"],
    script:
        "../scripts/archive_report.py"
