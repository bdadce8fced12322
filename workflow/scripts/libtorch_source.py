"""Where each configured libtorch version comes from: the wheel table, a local path, or
the torch installed beside the pipeline. Imported at parse time by the Snakefile (to
refuse unknown versions before any job runs) and by the provisioning script."""

import csv
from dataclasses import dataclass
from pathlib import Path

INSTALLED = "installed"


class UnknownVersionError(ValueError):
    pass


@dataclass(frozen=True)
class Wheel:
    version: str
    python_version: str
    platform: str
    filename: str
    sha256: str
    size_bytes: int


def read_wheel_table(path):
    """The checked-in table of PyPI wheels, keyed by torch version."""
    with open(path, newline="") as f:
        rows = csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t")
        return {
            r["version"]: Wheel(
                version=r["version"],
                python_version=r["python_version"],
                platform=r["platform"],
                filename=r["filename"],
                sha256=r["sha256"].lower(),
                size_bytes=int(r["size_bytes"]),
            )
            for r in rows
        }


def source_kind(version, wheels, local):
    """'installed', 'local' or 'wheel'; an UnknownVersionError names the fix otherwise."""
    if version == INSTALLED:
        return INSTALLED
    if version in local:
        return "local"
    if version in wheels:
        return "wheel"
    raise UnknownVersionError(
        f"libtorch version {version!r} is not known. Known versions: "
        f"{', '.join(sorted(wheels))} and {INSTALLED!r} (the torch installed with the pipeline). "
        "To add one: append its PyPI wheel (filename and sha256 from https://pypi.org/simple/torch/) "
        "to workflow/resources/torch_wheels.tsv, or point config key "
        f"libtorch.local[{version!r}] at an unpacked libtorch folder or a torch wheel file."
    )


def check_versions(versions, wheels, local):
    """Fail on the first unknown version, before any job runs."""
    for version in versions:
        source_kind(version, wheels, local)
    for version, path in local.items():
        if not Path(path).expanduser().exists():
            raise UnknownVersionError(
                f"libtorch.local[{version!r}] points at {path!r}, which does not exist. "
                "Give the path of an unpacked libtorch folder (with lib/ and include/) or of a torch wheel."
            )
