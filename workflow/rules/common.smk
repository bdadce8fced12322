import hashlib
import json
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))
from libtorch_source import (
    UnknownVersionError,
    check_versions,
    read_wheel_table,
)  # noqa: E402

validate(config, schema="../schemas/config.schema.yaml", set_default=True)

WHEEL_TABLE = "workflow/resources/torch_wheels.tsv"
VERSIONS = config["libtorch"]["versions"]
DEVICES = config["devices"]
TECHNIQUES = [name for name, spec in config["techniques"].items() if spec["enabled"]]
# Config order is not key order: the runner's grid axes must be the technique's parameters.
GRID_AXES = {
    "batch_from_rows": ["B", "N"],
    "mask_indexing": ["rows", "cols", "density", "K"],
}

try:
    check_versions(VERSIONS, read_wheel_table(WHEEL_TABLE), config["libtorch"]["local"])
except UnknownVersionError as err:
    raise WorkflowError(str(err))


wildcard_constraints:
    version="[A-Za-z0-9][A-Za-z0-9.+_-]*",
    device="cpu|cuda(:[0-9]+)?",
    technique="|".join(TECHNIQUES) or "none",


def csrc_sources():
    return sorted(str(p) for p in Path("csrc").rglob("*") if p.is_file())


def grid_args(wildcards):
    """The technique's parameter grid and timing as runner flags."""
    spec = config["techniques"][wildcards.technique]
    axes = [
        f"--grid {name}={','.join(str(v) for v in spec[name])}"
        for name in GRID_AXES[wildcards.technique]
    ]
    timing = f"--warmup {spec['warmup_rounds']} --rounds {spec['rounds']} --calls {spec['calls_per_round']}"
    return " ".join(axes + [timing])


def python_front_enabled():
    spec = config["techniques"]["mask_indexing"]
    return "installed" in VERSIONS and spec["enabled"] and spec["python_front"]["enabled"]


def all_benchmark_outputs():
    outputs = expand(
        "results/raw/{version}/{device}/{technique}.csv",
        version=VERSIONS,
        device=DEVICES,
        technique=TECHNIQUES,
    )
    if python_front_enabled():
        outputs += expand("results/raw/installed/{device}/mask_indexing.python.csv", device=DEVICES)
    return outputs


def config_hash():
    """Identifies the configuration a result was measured under (recorded in provenance)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
