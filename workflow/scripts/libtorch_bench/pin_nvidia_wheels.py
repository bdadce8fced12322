"""Regenerate the pinned CUDA stack of every 2.x release of the wheel table from the package
index: workflow/resources/torch_requirements.tsv (the stack's Requires-Dist lines, as each
torch wheel and each stack package states them) and workflow/resources/nvidia_wheels.tsv (one
wheel per stack package: version, file, sha256, size, folder, and which library needs it).

    PYTHONPATH=workflow/scripts python -m libtorch_bench.pin_nvidia_wheels [--index-url URL]

Nothing is downloaded whole: METADATA and the file list are read from each wheel by range
requests (pypi_files.py). A requirement that pins no version (2.1.2's cuSPARSE asks for any
nvJitLink) takes the newest release that has a Linux x86_64 wheel, as pip would today."""

import argparse
import csv
import io
import sys
from pathlib import Path

import requests
from packaging.tags import compatible_tags, cpython_tags
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from .atomic import write_text_atomic
from .cuda_stack_requirements import META_PACKAGES, needed_by, walk_stack
from .libtorch_source import read_wheel_table
from .pypi_files import open_remote_wheel, project_files, requires_dist
from .samples import version_key

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
NVIDIA_COLUMNS = ("torch_version", "package", "version", "platform", "filename", "sha256", "size_bytes", "folder")
NVIDIA_HEADER = """\
# The nvidia-* wheels of each 2.x torch release's CUDA stack, pinned (regenerate with
# `PYTHONPATH=workflow/scripts python -m libtorch_bench.pin_nvidia_wheels`, which also writes
# torch_requirements.tsv, the Requires-Dist lines these pins answer). The PyPI wheels from 2.0
# on are CUDA builds that take CUDA from these wheels; torch finds them through its RPATH
# ($ORIGIN/../../nvidia/<package>/lib, or nvidia/cu13/lib for the CUDA 13 builds 2.11 and
# later). needed_by: `cpu` = libtorch_cpu.so needs it to load at all (the CUDA runtime and
# CUPTI, 12-15 MB per release), fetched on every run; `cuda` = only libtorch_cuda.so needs it
# (cuDNN, cuBLAS, NCCL, ...: 1.5-3 GB per release), fetched per libtorch.cuda_stack (see
# config/README.md). folder: where the wheel keeps its lib/, and where it is unpacked under
# <cache>/libtorch/<torch_version>/ (wheels sharing a folder, as the CUDA 13 ones do, are
# merged into it).
"""
REQUIREMENTS_HEADER = """\
# The CUDA stack's Requires-Dist lines of each 2.x torch release, verbatim with their markers:
# those of the torch wheel of torch_wheels.tsv (package torch) and those of each stack package
# it leads to on Linux x86_64 (nvidia-* and the cuda-toolkit meta-package), at the version
# nvidia_wheels.tsv pins. Written by libtorch_bench.pin_nvidia_wheels with nvidia_wheels.tsv;
# tests/test_provision.py checks that table against these lines.
"""


def linux_x86_64_platforms():
    """manylinux platforms newest first, up to glibc 2.28, the newest a torch wheel of the table
    needs (2.7 and later): a stack wheel that needs more would not load where torch does."""
    legacy = {17: "manylinux2014_x86_64", 12: "manylinux2010_x86_64", 5: "manylinux1_x86_64"}
    for minor in range(28, 4, -1):
        if minor in legacy:
            yield legacy[minor]  # the name the older wheels were published under
        yield f"manylinux_2_{minor}_x86_64"


class Index:
    """The index's files of each project, and what is read from each wheel, asked once."""

    def __init__(self, index_url, python_version):
        self.session = requests.Session()
        self.index_url = index_url
        self.files = {}
        self.wheels = {}
        platforms = list(linux_x86_64_platforms())
        python = tuple(int(p) for p in python_version.split("."))
        tags = [*cpython_tags(python, platforms=platforms), *compatible_tags(python, platforms=platforms)]
        self.rank = {tag: i for i, tag in enumerate(tags)}

    def candidates(self, package):
        """(version, rank, file entry, platform) of each Linux x86_64 wheel of the project."""
        if package not in self.files:
            found = []
            for entry in project_files(self.session, self.index_url, package):
                if not entry["filename"].endswith(".whl") or entry.get("yanked"):
                    continue
                _, version, _, tags = parse_wheel_filename(entry["filename"])
                ranked = sorted((self.rank[t], t.platform) for t in tags if t in self.rank)
                if ranked:
                    found.append((version, ranked[0][0], entry, ranked[0][1]))
            self.files[package] = found
        return self.files[package]

    def best_file(self, package, version):
        matching = [c for c in self.candidates(package) if c[0] == Version(version)]
        if not matching:
            raise LookupError(f"{package} {version} has no Linux x86_64 wheel on {self.index_url}")
        # Files of one version and platform re-uploaded under more tags (2.7.1's CUPTI): the first.
        _, _, entry, platform = min(matching, key=lambda c: (c[1], c[2].get("upload-time", ""), c[2]["filename"]))
        return entry, platform

    def pick(self, package, specifier):
        versions = [c[0] for c in self.candidates(package) if specifier.contains(c[0])]
        if not versions:
            raise LookupError(f"no Linux x86_64 wheel of {package}{specifier} on {self.index_url}")
        return str(max(versions))

    def wheel(self, entry):
        """(Requires-Dist lines, {file name: size}) read from the remote wheel."""
        if entry["filename"] not in self.wheels:
            with open_remote_wheel(self.session, entry) as z:
                self.wheels[entry["filename"]] = requires_dist(z), {i.filename: i.file_size for i in z.infolist()}
        return self.wheels[entry["filename"]]


def lib_folder(filename, files):
    """The folder holding the wheel's lib/ (nvidia/cublas, nvidia/cu13, ...), its lib/ bytes."""
    folders = {name.split("/lib/")[0] for name in files if "/lib/" in name and not name.endswith("/")}
    if len(folders) != 1:
        raise ValueError(f"{filename}: expected one <folder>/lib/ with the libraries, found {sorted(folders)}")
    folder = folders.pop()
    return folder, sum(size for name, size in files.items() if name.startswith(folder + "/lib/"))


def pin_release(index, torch_wheel):
    """(nvidia_wheels.tsv rows, torch_requirements.tsv rows, {needed_by: unpacked lib/ bytes}) of one release."""
    torch_entry = next(e for _, _, e, _ in index.candidates("torch") if e["filename"] == torch_wheel.filename)
    if torch_entry["hashes"].get("sha256") != torch_wheel.sha256:
        raise ValueError(f"{torch_wheel.filename}: the index's sha256 differs from torch_wheels.tsv")

    def requirements_of(package, version):
        entry = torch_entry if package == "torch" else index.best_file(package, version)[0]
        return index.wheel(entry)[0]

    versions, lines = walk_stack(torch_wheel.version, torch_wheel.python_version, requirements_of, index.pick)
    rows, unpacked = [], {"cpu": 0, "cuda": 0}
    for package, version in versions.items():
        if package in META_PACKAGES:
            continue
        entry, platform = index.best_file(package, version)
        folder, lib_bytes = lib_folder(entry["filename"], index.wheel(entry)[1])
        unpacked[needed_by(package)] += lib_bytes
        rows.append(
            {
                "torch_version": torch_wheel.version,
                "package": package,
                "version": version,
                "platform": platform,
                "filename": entry["filename"],
                "sha256": entry["hashes"]["sha256"],
                "size_bytes": entry["size"],
                "folder": folder,
                "needed_by": needed_by(package),
            }
        )
    rows.sort(key=lambda r: (r["needed_by"] != "cpu", r["package"]))
    requirement_rows = [
        {"torch_version": torch_wheel.version, "package": p, "version": v, "requirement": line} for p, v, line in lines
    ]
    return rows, requirement_rows, unpacked


def tsv(header, rows, columns):
    out = io.StringIO()
    out.write(header)
    writer = csv.DictWriter(out, columns, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, quotechar=None)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-url", default="https://pypi.org/simple")
    parser.add_argument("--resources", type=Path, default=RESOURCES, help="where the tables are (read and written)")
    args = parser.parse_args(argv)
    torch_wheels = read_wheel_table(args.resources / "torch_wheels.tsv")
    releases = sorted((v for v in torch_wheels if Version(v).major >= 2), key=version_key)  # 1.x bundle CUDA
    wheel_rows, requirement_rows = [], []
    indexes = {}
    print("release\twheels\tdownload MB\tlib/ unpacked MB (each: needed_by cpu + cuda)", file=sys.stderr)
    for version in releases:
        wheel = torch_wheels[version]
        index = indexes.setdefault(wheel.python_version, Index(args.index_url, wheel.python_version))
        rows, requirements, unpacked = pin_release(index, wheel)
        wheel_rows += rows
        requirement_rows += requirements
        summary = [
            " + ".join(str(n) for n in counts)
            for counts in (
                [sum(r["needed_by"] == k for r in rows) for k in ("cpu", "cuda")],
                [round(sum(r["size_bytes"] for r in rows if r["needed_by"] == k) / 1e6) for k in ("cpu", "cuda")],
                [round(unpacked[k] / 1e6) for k in ("cpu", "cuda")],
            )
        ]
        print(version, *summary, sep="\t", file=sys.stderr)
    write_text_atomic(
        args.resources / "nvidia_wheels.tsv", tsv(NVIDIA_HEADER, wheel_rows, (*NVIDIA_COLUMNS, "needed_by"))
    )
    write_text_atomic(
        args.resources / "torch_requirements.tsv",
        tsv(REQUIREMENTS_HEADER, requirement_rows, ("torch_version", "package", "version", "requirement")),
    )


if __name__ == "__main__":
    main()
