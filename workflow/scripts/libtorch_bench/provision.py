"""Provision one libtorch: download and verify its wheel, unpack lib/include/share once into
the cache (with the nvidia-* wheels its CPU libraries need, and its whole CUDA stack where
libtorch.cuda_stack says so: see nvidia_libs.py, cuda_stack.py), and describe it (version, C++
ABI, C++ standard, CUDA) in a manifest JSON that the build rule reads.

Cache layout, as pip lays out site-packages so that torch's RPATH resolves:
  <cache>/libtorch/<version>/torch/{lib,include,share}   the manifest's root
  <cache>/libtorch/<version>/nvidia/<package>/lib        only for versions in nvidia_wheels.tsv
(make clean-cache removes a release's folder, its CUDA stack with it: cache.py)
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from .cuda_stack import fetch_cuda_stack
from .libtorch_source import INSTALLED, read_nvidia_table, read_wheel_table, source_kind
from .nvidia_libs import provision_nvidia_wheels, unresolved_libraries
from .wheel_cache import UNPACK_MARKER, ProvisionError, ensure_unpacked, sha256_of, unpack_wheel, unpacked_ok

FLAT_LAYOUT = ("lib", "include", "share", UNPACK_MARKER)  # the marker last: it vouches for the rest


def cache_root(configured=""):
    """The configured folder, else $LIBTORCH_BENCH_CACHE, else the user's cache directory."""
    if configured:
        return Path(configured).expanduser()
    if os.environ.get("LIBTORCH_BENCH_CACHE"):
        return Path(os.environ["LIBTORCH_BENCH_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "libtorch-bench"


def move_flat_layout(version_dir, log=sys.stderr):
    """Caches written before the nvidia wheels held torch's lib/, include/, share/ directly in
    <version>/; the RPATH $ORIGIN/../../nvidia/... needs them one level down, in <version>/torch/.
    Renaming keeps those caches (no new download); a move cut short resumes on the next run."""
    for name in FLAT_LAYOUT:
        if (version_dir / name).exists():
            print(f"moving {version_dir / name} into {version_dir / 'torch'}/", file=log, flush=True)
            (version_dir / "torch").mkdir(exist_ok=True)
            os.replace(version_dir / name, version_dir / "torch" / name)


VERSION_HEADERS = ("include/torch/csrc/api/include/torch/version.h", "include/torch/headeronly/version.h")


def header_version(root):
    # 2.x moved the macros to headeronly/version.h, which the old path includes.
    text = "".join((root / h).read_text() for h in VERSION_HEADERS if (root / h).exists())
    parts = [re.search(rf"#define TORCH_VERSION_{p}\s+(\d+)", text) for p in ("MAJOR", "MINOR", "PATCH")]
    if not all(parts):
        raise ProvisionError(f"{root}: torch/version.h has no TORCH_VERSION_MAJOR/MINOR/PATCH")
    return ".".join(m.group(1) for m in parts)


ERROR_CTOR = "_ZN3c105ErrorC2ENS_14SourceLocation"  # c10::Error(SourceLocation, std::string)


def uses_cxx11_abi(libc10):
    """Read the ABI off how libc10 mangles std::string in c10::Error's constructor:
    'Ss' is the old ABI, 'NSt7__cxx1112basic_string' the C++11 one."""
    out = subprocess.run(["nm", "-D", "--defined-only", str(libc10)], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        symbol = line.split()[-1]
        if symbol.startswith(ERROR_CTOR + "ESs"):
            return False
        if symbol.startswith(ERROR_CTOR + "ENSt7__cxx11"):
            return True
    raise ProvisionError(f"cannot tell the C++ ABI of {libc10}: c10::Error's constructor is not exported")


def cxx_standard(version):
    """The C++ standard to build with: 14 for 1.x, 17 for 2.0-2.13, 20 from 2.14 on (its
    ATen.h stops with "C++20 or later compatible compiler is required to use ATen")."""
    major, minor = (int(p) for p in version.split(".")[:2])
    return 20 if (major, minor) >= (2, 14) else 17 if major >= 2 else 14


def describe_libtorch(root):
    """What the build needs to know about an unpacked libtorch."""
    root = Path(root).resolve()
    lib = root / "lib"
    libc10 = lib / "libc10.so"
    if not libc10.exists() or not (root / "include/torch/csrc/api/include/torch/version.h").exists():
        raise ProvisionError(
            f"{root} is not a libtorch folder: it needs lib/libc10.so and include/torch/csrc/api/include. "
            "Point libtorch.local at the folder that holds lib/ and include/ (a wheel's torch/ folder)."
        )
    version = header_version(root)
    return {
        "root": str(root),
        "version": version,
        "cxx11_abi": uses_cxx11_abi(libc10),
        "cxx_standard": cxx_standard(version),
        "has_cuda_libs": (lib / "libtorch_cuda.so").exists(),
    }


def installed_torch_root():
    import torch  # the pipeline's own torch; imported only when asked for

    return Path(torch.__file__).parent, torch.__version__


def provision_wheel(version, cfg, wheel, local_wheel, nvidia_wheels, log, release=None):
    """Unpack the torch wheel (the tabled one, downloaded, or a local file) once into
    <cache>/libtorch/<version>/torch and the nvidia-* wheels it needs beside it (release: all
    the version's nvidia-* rows, of which nvidia_wheels are those fetched)."""
    cache = cache_root(cfg.get("cache_dir", ""))
    version_dir = cache / "libtorch" / version
    dest = version_dir / "torch"
    move_flat_layout(version_dir, log)
    if not unpacked_ok(dest):  # any unpack that finished counts, also one from a local wheel
        if local_wheel is None:
            ensure_unpacked(wheel, dest, cache / "wheels", cfg["index_url"], cfg.get("keep_wheels", False), log)
        else:
            digest = sha256_of(local_wheel)
            if wheel is not None and digest != wheel.sha256:
                raise ProvisionError(
                    f"{local_wheel} does not match the sha256 of {wheel.filename} in the wheel table "
                    f"(got {digest}). Use the wheel named in workflow/resources/torch_wheels.tsv."
                )
            print(f"unpacking {local_wheel} into {dest}", file=log, flush=True)
            unpack_wheel(local_wheel, dest, digest)
    pins = provision_nvidia_wheels(
        nvidia_wheels, version_dir, cache / "wheels", cfg.get("index_url"), cfg.get("keep_wheels", False), log, release
    )
    return dest, json.loads((dest / UNPACK_MARKER).read_text())["sha256"], pins


def nvidia_wheels_to_fetch(rows, cfg, devices, log):
    """The rows libtorch_cpu.so needs, and the rest of the CUDA stack where libtorch.cuda_stack
    says so; with the decision for the manifest (None for a release without CUDA-only rows)."""
    if not any(w.needed_by == "cuda" for w in rows):
        return rows, None
    fetch, why = fetch_cuda_stack(cfg.get("cuda_stack", "auto"), devices)
    print(f"CUDA stack {'fetched' if fetch else 'not fetched'}: {why}", file=log, flush=True)
    return [w for w in rows if fetch or w.needed_by == "cpu"], {"fetched": fetch, "why": why}


def check_libraries_resolve(version, lib, cuda):
    """Fail, naming them, on libraries the loader cannot find: those of libc10.so and
    libtorch_cpu.so always, those of libtorch_cuda.so once its CUDA stack was fetched."""
    missing = unresolved_libraries(lib)
    if missing:
        raise ProvisionError(
            f"libtorch {version}: libc10.so/libtorch_cpu.so in {lib} need {', '.join(missing)}, "
            "which the dynamic loader cannot find. A CUDA build of torch takes them from nvidia-* "
            "wheels beside it: add the wheels that provide them to workflow/resources/nvidia_wheels.tsv "
            "(`PYTHONPATH=workflow/scripts python -m libtorch_bench.pin_nvidia_wheels` pins those the torch "
            "wheel's Requires-Dist names), or point libtorch.local at a folder whose libraries resolve."
        )
    missing = unresolved_libraries(lib, ("libtorch_cuda.so",)) if cuda and (lib / "libtorch_cuda.so").exists() else []
    if missing:
        raise ProvisionError(
            f"libtorch {version}: libtorch_cuda.so in {lib} needs {', '.join(missing)}, which the dynamic "
            "loader cannot find though the CUDA stack of workflow/resources/nvidia_wheels.tsv was fetched. "
            "Regenerate the table (`PYTHONPATH=workflow/scripts python -m libtorch_bench.pin_nvidia_wheels`) "
            "so that it holds the wheel that provides them, or set libtorch.cuda_stack: never to measure "
            "this release on the CPU only."
        )


def provision(version, cfg, wheels, log=sys.stderr, nvidia=None, devices=()):
    """Return the manifest for one configured version, provisioning it if needed.
    nvidia: torch version -> the nvidia-* wheels of its CUDA stack (read_nvidia_table);
    devices: the configured devices (whether the whole stack is wanted, see cuda_stack.py)."""
    local = cfg.get("local", {})
    kind = source_kind(version, wheels, local)
    extra = {"requested": version, "source": kind}
    if kind == INSTALLED:
        root, full = installed_torch_root()
        extra["python_torch_version"] = full
    else:
        path = Path(local[version]).expanduser() if kind == "local" else None
        stack = None
        if path is not None and path.is_dir():
            root = path
        else:
            rows = (nvidia or {}).get(version, [])
            fetched, stack = nvidia_wheels_to_fetch(rows, cfg, devices, log)
            root, extra["sha256"], extra["nvidia_wheels"] = provision_wheel(
                version, cfg, wheels.get(version), path, fetched, log, release=rows
            )
            if stack is not None:
                extra["cuda_stack"] = stack
        check_libraries_resolve(version, Path(root) / "lib", stack is not None and stack["fetched"])
    manifest = {**describe_libtorch(root), **extra}
    if kind != INSTALLED and manifest["version"] != version.split("+")[0] and kind == "wheel":
        raise ProvisionError(
            f"libtorch {version}: its headers say {manifest['version']}; the cache is wrong, delete {root}"
        )
    return manifest


def manifest_for(version, cfg, table, nvidia_table, log, devices=()):
    """The manifest of one configured version; a failure is recorded in it, not raised, so the
    other versions go on and the report names the cause."""
    try:
        wheels = read_wheel_table(table)
        nvidia = read_nvidia_table(nvidia_table)
        manifest = {**provision(version, cfg, wheels, log, nvidia, devices), "status": "ok"}
    except (ProvisionError, OSError, subprocess.SubprocessError) as err:
        print(f"ERROR: {err}", file=log)
        manifest = {"requested": version, "status": "failed", "reason": str(err)}
    print(json.dumps(manifest, indent=2), file=log)
    return manifest
