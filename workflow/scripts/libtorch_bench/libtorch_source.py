"""Where each configured libtorch version comes from: the wheel table, a local path, or
the torch installed beside the pipeline; and which nvidia-* wheels make up a tabled version's
CUDA stack. Imported at parse time by the Snakefile (to refuse unknown versions before
any job runs) and by the provisioning script."""

import csv
from dataclasses import dataclass
from pathlib import Path

from .samples import version_key

INSTALLED = "installed"


class UnknownVersionError(ValueError):
    pass


class PinnedWheel:
    """A wheel pinned by a table, as wheel_cache.py fetches and checks it. Subclasses say what
    it is for (purpose) and how to fix a failed download (offline_fix) or hash check (mismatch_fix)."""

    @property
    def requirement(self):
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class Wheel(PinnedWheel):
    version: str
    python_version: str
    platform: str
    filename: str
    sha256: str
    size_bytes: int
    package = "torch"

    @property
    def purpose(self):
        return f"libtorch {self.version}"

    def offline_fix(self, wheel_dir):
        return (
            f"put that wheel or an unpacked libtorch folder on disk and set libtorch.local['{self.version}'] "
            "to its path."
        )

    mismatch_fix = "point libtorch.local at a wheel you trust, or correct workflow/resources/torch_wheels.tsv."


@dataclass(frozen=True)
class NvidiaWheel(PinnedWheel):
    """An nvidia-* wheel of a torch version's CUDA stack: one its libtorch_cpu.so needs at load
    time (needed_by 'cpu', always fetched) or one only libtorch_cuda.so needs ('cuda', fetched
    per libtorch.cuda_stack)."""

    torch_version: str
    package: str
    version: str
    platform: str
    filename: str
    sha256: str
    size_bytes: int
    folder: str  # e.g. nvidia/cuda_runtime: inside the wheel, and under <cache>/libtorch/<version>/
    needed_by: str = "cpu"
    python_version = ""  # py3-none wheels: any Python 3 takes them

    @property
    def purpose(self):
        return f"{self.package} {self.version}, which libtorch {self.torch_version} needs"

    @property
    def cpu_only_fix(self):
        """A CUDA-only wheel need not stop the release: without it only its CUDA cells go."""
        if self.needed_by != "cuda":
            return ""
        return f" Or set libtorch.cuda_stack: never to measure libtorch {self.torch_version} on the CPU only."

    def offline_fix(self, wheel_dir):
        return (
            f"on a machine that reaches PyPI run `pip download --no-deps --only-binary=:all: "
            f"--platform {self.platform} {self.requirement}` and copy {self.filename} into {wheel_dir}/."
            + self.cpu_only_fix
        )

    @property
    def mismatch_fix(self):
        return (
            "copy the right file into libtorch.cache_dir's wheels/ folder, or correct "
            "workflow/resources/nvidia_wheels.tsv." + self.cpu_only_fix
        )


def read_table_rows(path):
    """The rows of a checked-in TSV table; lines starting with # are comments."""
    with open(path, newline="") as f:
        lines = (line for line in f if not line.startswith("#"))
        return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))  # requirements hold quotes


def read_wheel_table(path):
    """The checked-in table of PyPI wheels, keyed by torch version."""
    return {
        r["version"]: Wheel(
            version=r["version"],
            python_version=r["python_version"],
            platform=r["platform"],
            filename=r["filename"],
            sha256=r["sha256"].lower(),
            size_bytes=int(r["size_bytes"]),
        )
        for r in read_table_rows(path)
    }


def read_nvidia_table(path):
    """torch version -> the nvidia-* wheels of its CUDA stack (versions not listed need none)."""
    needed = {}
    for r in read_table_rows(path):
        wheel = NvidiaWheel(**{**r, "sha256": r["sha256"].lower(), "size_bytes": int(r["size_bytes"])})
        needed.setdefault(wheel.torch_version, []).append(wheel)
    return needed


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
        f"{', '.join(sorted(wheels, key=version_key))} and {INSTALLED!r} (the torch installed with the pipeline). "
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
