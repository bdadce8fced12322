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
        probes=probe_outputs(),
    output:
        summary=f"{REPORT_DIR}/summary.csv",
        runs=f"{REPORT_DIR}/runs.csv",
        drift=f"{REPORT_DIR}/drift.csv",
    log:
        "results/logs/report/aggregate.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        spike_factor=lambda wc: report_settings()["spike_factor"],
        probe_drift=config["sampling"]["probe_drift"],
    script:
        "../scripts/aggregate_samples.py"


rule compare_variants:
    """The comparisons of workflow/resources/comparisons.yaml: ratio, bootstrap interval
    and verdict per claim, version, device, front and case."""
    input:
        samples=all_benchmark_outputs(),
        provenance=raw_provenance(),
        comparisons=COMPARISONS,
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
        "../scripts/compare_variants.py"


rule derive_mechanism:
    """Quantities that explain the verdicts: where spikes fall, cost per row, cost of one
    mask conversion."""
    input:
        samples=all_benchmark_outputs(),
        summary=f"{REPORT_DIR}/summary.csv",
        comparisons=COMPARISONS,
    output:
        mechanism=f"{REPORT_DIR}/mechanism.csv",
    log:
        "results/logs/report/mechanism.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        spike_factor=lambda wc: report_settings()["spike_factor"],
    script:
        "../scripts/derive_mechanism.py"


rule plot_platform:
    """The figures of one libtorch version on one device that the claim registry lists (a
    'not run' card where a claim's technique did not run there)."""
    input:
        samples=platform_raw_samples,
        summary=f"{REPORT_DIR}/summary.csv",
        runs=f"{REPORT_DIR}/runs.csv",
        comparisons=COMPARISONS,
    output:
        **{
            figure.name: report(
                f"{REPORT_DIR}/figures/{{version}}/{{device}}/{figure.name}.png",
                caption=f"../report/{figure.caption}.rst",
                category=REGISTRY.claims[figure.claim].category,
                subcategory="libtorch {version}, {device}",
                labels={
                    "figure": figure.label,
                    "version": "{version}",
                    "device": "{device}",
                },
            )
            for figure in PLATFORM_FIGURES
        },
    log:
        "results/logs/report/figures_{version}_{device}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        settings=lambda wc: report_settings(),
        # what the captions name (Snakemake's report renders them with these params)
        grid=caption_grid(),
    script:
        "../scripts/plot_platform.py"


rule plot_across_versions:
    """The registry's figures over every version and device: each claim's version trend and
    mechanism."""
    input:
        claims=f"{REPORT_DIR}/claims.csv",
        mechanism=f"{REPORT_DIR}/mechanism.csv",
        comparisons=COMPARISONS,
    output:
        **{
            figure.name: report(
                f"{REPORT_DIR}/figures/{figure.name}.png",
                caption=f"../report/{figure.caption}.rst",
                category=REGISTRY.claims[figure.claim].category,
                subcategory="across versions and devices",
                labels={
                    "figure": figure.label,
                    "version": "all",
                    "device": "all",
                },
            )
            for figure in ACROSS_FIGURES
        },
    log:
        "results/logs/report/figures_across.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        settings=lambda wc: report_settings(),
        grid=caption_grid(),
    script:
        "../scripts/plot_across_versions.py"


rule render_report:
    """The answer page: every claim's verdicts across versions and devices, figures with
    captions, mechanism, provenance; self-contained (opens offline, from inside a zip). A wide
    run's figures per release go to a page per release beside it.
    """
    input:
        unpack(all_platform_figures),
        unpack(across_figures),
        claims=f"{REPORT_DIR}/claims.csv",
        summary=f"{REPORT_DIR}/summary.csv",
        runs=f"{REPORT_DIR}/runs.csv",
        mechanism=f"{REPORT_DIR}/mechanism.csv",
        drift=f"{REPORT_DIR}/drift.csv",
        comparisons=COMPARISONS,
        template="workflow/report/page.html.jinja2",
        style="workflow/report/style.css",
        captions=figure_captions(),
    output:
        html=report(
            f"{REPORT_DIR}/index.html",
            caption="../report/index.rst",
            category="Verdicts",
            labels={"page": "index.html: the answer, claim by claim"},
        ),
        releases=release_pages(),
    log:
        "results/logs/report/render.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        config=lambda wc: config,
        platforms=[(version, device) for version in VERSIONS for device in DEVICES],
        caption_dir=lambda wc, input: os.path.dirname(input.captions[0]),
    script:
        "../scripts/render_report.py"


rule archive_report:
    """One zip that opens offline: the page (and a wide run's page per release), its tables and
    figures, every raw CSV with its provenance JSON, and the configuration the run used.
    """
    input:
        html=f"{REPORT_DIR}/index.html",
        releases=release_pages(),
        tables=expand(
            f"{REPORT_DIR}/{{name}}.csv",
            name=["claims", "summary", "runs", "mechanism", "drift"],
        ),
        samples=all_benchmark_outputs(),
        probes=probe_outputs(),
        provenance=raw_provenance(),
        figures=list(all_platform_figures().values()) + list(across_figures().values()),
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
