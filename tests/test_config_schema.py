"""The config schema accepts the shipped configs and rejects what a typo would produce."""

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

REPO = Path(__file__).resolve().parent.parent
SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")


def load(name):
    return yaml.safe_load((REPO / "config" / name).read_text())


@pytest.mark.parametrize("name", ["config.yaml", "test.yaml"])
def test_shipped_configs_are_valid(name):
    validate(load(name), SCHEMA)


def test_defaults_fill_missing_keys():
    cfg = {}
    validate(cfg, SCHEMA, set_default=True)
    assert cfg["libtorch"]["versions"] == ["1.8.1", "installed"]
    assert cfg["libtorch"]["cuda_stack"] == "auto"  # the CUDA stack only where it can serve
    assert cfg["devices"] == ["cpu", "cuda"]
    assert cfg["threads"] == 1
    assert cfg["techniques"]["batch_from_rows"]["max_rounds"] >= cfg["sampling"]["looks"][0]
    assert cfg["techniques"]["batch_from_rows"]["calls_per_round"] == 3
    assert cfg["techniques"]["mask_indexing"]["density"] == [0.01, 0.5, 0.99]


def mutate(path, value):
    cfg = copy.deepcopy(load("config.yaml"))
    node = cfg
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return cfg


@pytest.mark.parametrize(
    "path, value",
    [
        (("libtorch", "verions"), ["1.8.1"]),  # unknown key (typo)
        (("threads",), "one"),  # wrong type
        (("threads",), 0),
        (("libtorch", "versions"), []),  # empty version list
        (("libtorch", "versions"), ["1.8.1; touch x"]),  # shell metacharacters
        (("libtorch", "cuda_stack"), "sometimes"),  # not auto, always or never
        (("devices",), ["cuda; rm -rf /"]),
        (("devices",), ["tpu"]),
        (("techniques", "batch_from_rows", "B"), [0, 16]),  # zero size
        (("techniques", "mask_indexing", "density"), [-0.5]),
        (("techniques", "mask_indexing", "rounds"), 0),
        (("techniques", "unknown_technique"), {}),
        (("report", "spike_rate_of_interest"), 0),  # outside (0, 1)
        (("report", "spike_rate_of_interest"), 1),
        (("techniques", "model_inference", "looks", "cold"), [1]),  # a look of one process
        (("techniques", "model_inference", "processes"), 3),  # replaced by looks.cold
        (("harness", "batch_target"), 0.5),
        (("harness", "malloc", "mmap_threshold"), -1),
    ],
)
def test_bad_configs_are_rejected(path, value):
    with pytest.raises(WorkflowError):
        validate(mutate(path, value), SCHEMA)
