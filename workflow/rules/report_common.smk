# Helpers of the report rules (workflow/rules/report.smk): paths of the report's outputs
# and of the raw results each report job reads.

REPORT_DIR = "results/report"
COMPARISONS = "workflow/resources/comparisons.yaml"
CELL_FIGURE_NAMES = [
    "claim1_latency",
    "claim1_distribution",
    "claim2_time",
    "claim3_time",
]
ACROSS_FIGURE_NAMES = [
    f"claim{claim}_{kind}" for claim in (1, 2, 3) for kind in ("trend", "mechanism")
]
CLAIM_CATEGORY = {
    "1": "Claim 1: TorchScript vs C++ API",
    "2": "Claim 2: one from_blob vs per-row tensors",
    "3": "Claim 3: mask indexing vs reused indices",
}


def report_settings():
    return config["report"]


def raw_provenance():
    return [p.removesuffix(".csv") + ".json" for p in all_benchmark_outputs()]


def cell_raw_samples(wildcards):
    prefix = f"results/raw/{wildcards.version}/{wildcards.device}/"
    return [p for p in all_benchmark_outputs() if p.startswith(prefix)]


def cell_figure(name):
    return f"{REPORT_DIR}/figures/{{version}}/{{device}}/{name}.png"


def all_cell_figures(wildcards=None):
    return {
        f"{name}_{version}_{device}": f"{REPORT_DIR}/figures/{version}/{device}/{name}.png"
        for name in CELL_FIGURE_NAMES
        for version in VERSIONS
        for device in DEVICES
    }


def across_figures(wildcards=None):
    return {name: f"{REPORT_DIR}/figures/{name}.png" for name in ACROSS_FIGURE_NAMES}


def claim_titles():
    import yaml

    with open(COMPARISONS) as f:
        claims = yaml.safe_load(f)["claims"]
    return {str(k): v["title"] for k, v in claims.items()}


def all_report_outputs():
    return [
        f"{REPORT_DIR}/index.html",
        f"{REPORT_DIR}/claims.csv",
        "results/libtorch-claims-report.zip",
    ]
