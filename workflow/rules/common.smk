import hashlib
import json
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))
from libtorch_bench import registry  # noqa: E402
from libtorch_bench.failures import failed_runs, retry_targets  # noqa: E402
from libtorch_bench.libtorch_source import (
    UnknownVersionError,
    check_versions,
    read_wheel_table,
)  # noqa: E402

validate(config, schema="../schemas/config.schema.yaml", set_default=True)

# The claim registry: which technique answers which claim, its grid axes, figures, ...
COMPARISONS = "workflow/resources/comparisons.yaml"
REGISTRY = registry.load(COMPARISONS)

WHEEL_TABLE = "workflow/resources/torch_wheels.tsv"
# nvidia-* wheels of the CUDA builds: those their CPU libraries need to load, and the CUDA stack
# libtorch.cuda_stack fetches (see libtorch_bench/provision.py, cuda_stack.py)
NVIDIA_WHEEL_TABLE = "workflow/resources/nvidia_wheels.tsv"
VERSIONS = config["libtorch"]["versions"]
DEVICES = config["devices"]


def timing_defaults():
    """The schema's defaults of a grid technique's timing keys (for techniques the config omits)."""
    import yaml

    schema = yaml.safe_load(
        Path(workflow.basedir, "workflow/schemas/config.schema.yaml").read_text()
    )
    return {k: v["default"] for k, v in schema["$defs"]["timing"]["properties"].items()}


def technique_specs():
    """Each registry technique's settings: the config's, else the registry's grid and the
    schema's timing defaults. A technique in the config that no claim names is refused.
    """
    unknown = set(config["techniques"]) - set(REGISTRY.techniques)
    if unknown:
        raise WorkflowError(
            f"config techniques {sorted(unknown)} are not measured by any claim in {COMPARISONS}; "
            f"known: {', '.join(REGISTRY.techniques)}"
        )
    specs = {}
    for claim in REGISTRY.claims.values():
        spec = {"enabled": True}
        if claim.is_grid:
            spec.update(timing_defaults(), **claim.grid)
        spec.update(config["techniques"].get(claim.technique, {}))
        missing = [axis for axis in claim.axes if axis not in spec]
        if missing:
            raise WorkflowError(
                f"techniques.{claim.technique} needs values for {missing} (config or the registry's grid)"
            )
        specs[claim.technique] = spec
    return specs


TECHNIQUE_SPECS = technique_specs()


def ascending(key, looks):
    if looks != sorted(set(looks)):
        raise WorkflowError(f"{key} must ascend without repeats (got {looks})")


def check_sampling():
    """What the schema cannot say: looks ascending and reachable, a band that is one."""
    looks = config["sampling"]["looks"]
    ascending("sampling.looks", looks)
    for scenario, scenario_looks in TECHNIQUE_SPECS["model_inference"]["looks"].items():
        ascending(f"techniques.model_inference.looks.{scenario}", scenario_looks)
    for name in REGISTRY.grid_techniques:
        spec = TECHNIQUE_SPECS[name]
        caps = {f"techniques.{name}.max_rounds": spec["max_rounds"]}
        if name == "mask_indexing":
            caps[f"techniques.{name}.python_front.max_rounds"] = spec["python_front"][
                "max_rounds"
            ]
        for key, cap in caps.items():
            if cap < looks[0]:
                raise WorkflowError(
                    f"{key}={cap} is below the first look (sampling.looks[0]={looks[0]}): a cell would "
                    f"stop before it is ever looked at; raise {key} or lower sampling.looks"
                )
    settings = config["report"]
    if settings["reversed_below"] >= settings["holds_above"]:
        raise WorkflowError(
            f"report.reversed_below={settings['reversed_below']} must be below report.holds_above="
            f"{settings['holds_above']}: together they are the band of differences too small to matter"
        )


check_sampling()
TECHNIQUES = [name for name, spec in TECHNIQUE_SPECS.items() if spec["enabled"]]
GRID_TECHNIQUES = [t for t in TECHNIQUES if t in REGISTRY.grid_techniques]
# Claim 1 (model_inference) has no grid: workflow/rules/models.smk runs it, model by model.
MODEL_INFERENCE = TECHNIQUE_SPECS["model_inference"]
MODELS = [name for name, spec in MODEL_INFERENCE["models"].items() if spec["enabled"]]
PYTHON_EXPORT_VARIANTS = {"torchscript_python_export", "aotinductor"}

if config["threads"] > (os.cpu_count() or 1):
    logger.warning(
        f"config threads={config['threads']} exceeds this machine's {os.cpu_count()} cores: "
        "timings will include oversubscription (each result's JSON records this warning)."
    )

# Each fresh process is one round of the cold-start comparisons (first_call, process_total).
if (
    MODEL_INFERENCE["enabled"]
    and MODEL_INFERENCE["looks"]["cold"][-1] < config["report"]["min_rounds"]
):
    logger.warning(
        f"techniques.model_inference.looks.cold={MODEL_INFERENCE['looks']['cold']} ends below "
        f"report.min_rounds={config['report']['min_rounds']}: claim 1's cold-start comparisons will "
        "read 'inconclusive' whatever their interval; take more cold processes to get a verdict."
    )

try:
    check_versions(VERSIONS, read_wheel_table(WHEEL_TABLE), config["libtorch"]["local"])
except UnknownVersionError as err:
    raise WorkflowError(str(err))


wildcard_constraints:
    version="[A-Za-z0-9][A-Za-z0-9.+_-]*",
    device="cpu|cuda(:[0-9]+)?",
    technique="|".join(GRID_TECHNIQUES) or "none",
    model="|".join(MODELS) or "none",


# ---- Timing isolation: a convention every timing rule follows -------------------------
# A timing rule is any rule whose job measures wall time (run_techniques, ...). Each one
#   1. declares `threads: TIMING_THREADS`. Locally that is every core Snakemake was given
#      (`--cores N|all`), so the scheduler runs a timing job alone: no other timing job,
#      no build and no provisioning beside it;
#   2. runs its script's main() through `rule_main(snakemake, main, kind="timing")`
#      (libtorch_bench/rule_script.py). The stamp (start/end, epoch seconds) lands beside
#      the job's first log file as `<log stem>.times.json`; tests/test_isolation.py checks
#      from the stamps that no two timing jobs, and no timing job and build, overlapped;
#   3. gets an entry in workflow/profiles/slurm/config.yaml `set-resources` (copy
#      run_techniques': a whole node, a GPU for CUDA runs), since on SLURM the cluster,
#      not this scheduler, keeps jobs apart.
# A build declares `threads: BUILD_THREADS` and stamps itself with kind "build": at most
# half the cores (and at most 4: csrc/ has few translation units), so builds run side by
# side with each other, yet never beside a timing job.
# Without --cores (SLURM submission) both are 1: the profile's cpus_per_task and
# --exclusive decide what a job gets; inside the job Snakemake runs with every core it has.
_CORES = workflow.resource_settings.cores or 1
TIMING_THREADS = _CORES
BUILD_THREADS = max(1, min(4, _CORES // 2))


# Light rules run on the submitting host under a cluster executor (SLURM): provisioning
# only downloads and unpacks (compute nodes often have no internet); exporting a small
# model, aggregating, plotting and the report take seconds, and queueing each of them
# would cost more than running it. Add new light rules here; builds and timing rules
# never belong here.
localrules:
    all,
    provision_libtorch,
    export_torchscript,
    aggregate_samples,
    compare_variants,
    derive_mechanism,
    plot_platform,
    plot_across_versions,
    render_report,
    archive_report,


def csrc_sources():
    return sorted(str(p) for p in Path("csrc").rglob("*") if p.is_file())


def model_sizes(model):
    """A model's sizes from the config, in the order the runner records them."""
    return {k: v for k, v in MODEL_INFERENCE["models"][model].items() if k != "enabled"}


def model_grid(wildcards):
    sizes = model_sizes(wildcards.model)
    return " ".join(
        [f"--grid model={wildcards.model}"]
        + [f"--grid {k}={v}" for k, v in sizes.items()]
    )


def claim1_enabled():
    return MODEL_INFERENCE["enabled"] and bool(MODELS)


def model_files():
    """What claim 1's runs need besides the runners: each model's TorchScript file per
    version, and for the installed torch its Python export and AOTInductor package if
    asked for."""
    if not claim1_enabled():
        return []
    files = expand(
        "results/models/{version}/{model}.pt", version=VERSIONS, model=MODELS
    )
    if "installed" in VERSIONS and PYTHON_EXPORT_VARIANTS & set(
        MODEL_INFERENCE["variants"]
    ):
        files += expand(
            "results/models/installed/{model}.{kind}",
            model=MODELS,
            kind=["python.pt", "aoti.pt2"],
        )
    return files


def python_front_enabled():
    spec = TECHNIQUE_SPECS["mask_indexing"]
    return (
        "installed" in VERSIONS and spec["enabled"] and spec["python_front"]["enabled"]
    )


def technique_outputs(device, suffix):
    """What run_techniques writes for one device: every run's CSV (or JSON), claim 1's
    and the Python front's included."""
    outputs = expand(
        "results/raw/{version}/{device}/{technique}.{suffix}",
        version=VERSIONS,
        device=device,
        technique=GRID_TECHNIQUES + (["model_inference"] if claim1_enabled() else []),
        suffix=suffix,
    )
    if python_front_enabled():
        outputs.append(f"results/raw/installed/{device}/mask_indexing.python.{suffix}")
    return outputs


def probe_outputs():
    return expand("results/probe/{device}.csv", device=DEVICES) if TECHNIQUES else []


def all_benchmark_outputs():
    outputs = expand(
        "results/raw/{version}/{device}/{technique}.csv",
        version=VERSIONS,
        device=DEVICES,
        technique=TECHNIQUES,
    )
    if python_front_enabled():
        outputs += expand(
            "results/raw/installed/{device}/mask_indexing.python.csv", device=DEVICES
        )
    return outputs


def fail_on_recorded_failures():
    """After a run: runs that failed (a version not provisioned or not built) are in the
    results with their reason, so the others were measured; still, the run must not look
    clean. List them, write the retry targets and exit non-zero."""
    failed = failed_runs("results/raw")
    if not failed:
        return
    targets = retry_targets("results", VERSIONS)
    Path("results/failed_targets.txt").write_text("\n".join(targets) + "\n")
    lines = [f"  {path}: {reason}" for path, reason in failed]
    raise WorkflowError(
        f"{len(failed)} run(s) failed and are recorded as such (everything else was measured):\n"
        + "\n".join(lines)
        + "\nFix the cause, then redo them with: make retry-failed "
        "(snakemake --cores all --forcerun $(cat results/failed_targets.txt))"
    )
