# Helpers of the report rules (workflow/rules/report.smk): paths of the report's outputs
# and of the raw results each report job reads. The figures come from the claim registry.

from libtorch_bench.page.releases import page_names

REPORT_DIR = "results/report"
PLATFORM_FIGURES = REGISTRY.figures("platform")
ACROSS_FIGURES = REGISTRY.figures("across")


def report_settings():
    return config["report"]


def raw_provenance():
    return [p.removesuffix(".csv") + ".json" for p in all_benchmark_outputs()]


def platform_raw_samples(wildcards):
    prefix = f"results/raw/{wildcards.version}/{wildcards.device}/"
    return [p for p in all_benchmark_outputs() if p.startswith(prefix)]


def all_platform_figures(wildcards=None):
    return {
        f"{figure.name}_{version}_{device}": f"{REPORT_DIR}/figures/{version}/{device}/{figure.name}.png"
        for figure in PLATFORM_FIGURES
        for version in VERSIONS
        for device in DEVICES
    }


def across_figures(wildcards=None):
    return {f.name: f"{REPORT_DIR}/figures/{f.name}.png" for f in ACROSS_FIGURES}


def release_pages(wildcards=None):
    """A wide run's page per release, beside index.html (libtorch_bench/page/releases.py)."""
    platforms = [(version, device) for version in VERSIONS for device in DEVICES]
    return [f"{REPORT_DIR}/{name}" for name in page_names(platforms)]


def caption_grid():
    """Each grid technique's parameter values, for the captions ({{ snakemake.params.grid... }})."""
    return {
        c.technique: {axis: TECHNIQUE_SPECS[c.technique][axis] for axis in c.axes}
        for c in REGISTRY.claims.values()
        if c.is_grid
    }


def figure_captions():
    return sorted({f"workflow/report/{f.caption}.rst" for f in REGISTRY.figures()})


def all_report_outputs():
    return [
        f"{REPORT_DIR}/index.html",
        f"{REPORT_DIR}/claims.csv",
        "results/libtorch-claims-report.zip",
    ]
