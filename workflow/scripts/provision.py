"""Provision one libtorch: download and verify its wheel, unpack lib/include/share once into
the cache, and describe it (version, C++ ABI, C++ standard, CUDA) in a manifest JSON that
the build rule reads."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from atomic_write import write_json_atomic
from libtorch_source import INSTALLED, read_wheel_table, source_kind

UNPACK_MARKER = ".unpacked.json"
WANTED_PREFIXES = ("torch/lib/", "torch/include/", "torch/share/")


class ProvisionError(RuntimeError):
    pass


def cache_root(configured=""):
    """The configured folder, else $LIBTORCH_BENCH_CACHE, else the user's cache directory."""
    if configured:
        return Path(configured).expanduser()
    if os.environ.get("LIBTORCH_BENCH_CACHE"):
        return Path(os.environ["LIBTORCH_BENCH_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "libtorch-bench"


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_wheel(path, wheel):
    """Refuse a wheel whose hash differs from the table, removing the bad file."""
    actual = sha256_of(path)
    if actual != wheel.sha256:
        Path(path).unlink(missing_ok=True)
        raise ProvisionError(
            f"sha256 mismatch for {wheel.filename} (libtorch {wheel.version}): expected {wheel.sha256}, "
            f"got {actual}. The file was removed; the next run downloads it again. If it keeps "
            "happening, your index or proxy serves a different file: point libtorch.local at a "
            "wheel you trust, or correct workflow/resources/torch_wheels.tsv."
        )


def download_wheel(wheel, dest_dir, index_url, log=sys.stderr):
    """Fetch exactly the tabled wheel with pip (no dependencies, no install)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / wheel.filename
    if target.exists():
        return target
    partial = dest_dir / f".{wheel.filename}.download"
    shutil.rmtree(partial, ignore_errors=True)
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--no-cache-dir", "--python-version", wheel.python_version, "--platform", wheel.platform,
        "--implementation", "cp", "--index-url", index_url, "-d", str(partial),
        f"torch=={wheel.version}",
    ]
    # Local find-links (a machine-wide wheel folder) could hand pip another build of the
    # same version; only the index is asked.
    env = {**os.environ, "PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull}
    print("+", " ".join(cmd), file=log, flush=True)
    done = subprocess.run(cmd, env=env, stdout=log, stderr=log)
    fetched = partial / wheel.filename
    if done.returncode != 0 or not fetched.exists():
        shutil.rmtree(partial, ignore_errors=True)
        raise ProvisionError(
            f"could not download {wheel.filename} for libtorch {wheel.version} from {index_url} "
            f"(pip exit code {done.returncode}; see the log). Offline fix: put that wheel or an "
            f"unpacked libtorch folder on disk and set libtorch.local['{wheel.version}'] to its path."
        )
    os.replace(fetched, target)
    shutil.rmtree(partial, ignore_errors=True)
    return target


def unpacked_ok(dest):
    """True when an earlier unpack finished and every file it wrote still has its size."""
    marker = dest / UNPACK_MARKER
    if not marker.exists():
        return False
    try:
        files = json.loads(marker.read_text())["files"]
    except (ValueError, KeyError):
        return False
    for name, size in files.items():
        path = dest / name
        if not path.is_file() or path.stat().st_size != size:
            return False
    return True


def unpack_wheel(wheel_path, dest, sha256):
    """Extract torch/{lib,include,share} into dest; the marker is written last, so a crash
    leaves a folder that unpacked_ok() rejects and the next run redoes."""
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(dest, ignore_errors=True)
    files = {}
    with zipfile.ZipFile(wheel_path) as z:
        for info in z.infolist():
            if info.is_dir() or not info.filename.startswith(WANTED_PREFIXES):
                continue
            name = info.filename[len("torch/"):]
            z.extract(info, partial)
            files[name] = info.file_size
    for name in files:  # zip extraction drops the executable bit that shared objects keep
        source = partial / "torch" / name
        if name.startswith("lib/"):
            source.chmod(0o755)
    (partial / "torch").rename(dest)
    shutil.rmtree(partial, ignore_errors=True)
    write_json_atomic(dest / UNPACK_MARKER, {"sha256": sha256, "files": files})


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
        "cxx_standard": 17 if int(version.split(".")[0]) >= 2 else 14,
        "has_cuda_libs": (lib / "libtorch_cuda.so").exists(),
    }


def installed_torch_root():
    import torch  # the pipeline's own torch; imported only when asked for

    return Path(torch.__file__).parent, torch.__version__


def provision(version, cfg, wheels, log=sys.stderr):
    """Return the manifest for one configured version, provisioning it if needed."""
    local = cfg.get("local", {})
    kind = source_kind(version, wheels, local)
    extra = {"requested": version, "source": kind}
    if kind == INSTALLED:
        root, full = installed_torch_root()
        extra["python_torch_version"] = full
    else:
        root = None
        path = Path(local[version]).expanduser() if kind == "local" else None
        if path is not None and path.is_dir():
            root = path
        else:
            wheel = wheels.get(version)
            cache = cache_root(cfg.get("cache_dir", ""))
            dest = cache / "libtorch" / version
            if not unpacked_ok(dest):
                if path is not None:  # a local wheel file
                    wheel_path = path
                    digest = sha256_of(path)
                    if wheel is not None and digest != wheel.sha256:
                        raise ProvisionError(
                            f"{path} does not match the sha256 of {wheel.filename} in the wheel table "
                            f"(got {digest}). Use the wheel named in workflow/resources/torch_wheels.tsv."
                        )
                else:
                    wheel_path = download_wheel(wheel, cache / "wheels", cfg["index_url"], log)
                    verify_wheel(wheel_path, wheel)
                    digest = wheel.sha256
                print(f"unpacking {wheel_path} into {dest}", file=log, flush=True)
                unpack_wheel(wheel_path, dest, digest)
                if path is None and not cfg.get("keep_wheels", False):
                    Path(wheel_path).unlink(missing_ok=True)
            root = dest
            extra["sha256"] = json.loads((dest / UNPACK_MARKER).read_text())["sha256"]
    manifest = {**describe_libtorch(root), **extra}
    if kind != INSTALLED and manifest["version"] != version.split("+")[0] and kind == "wheel":
        raise ProvisionError(f"libtorch {version}: its headers say {manifest['version']}; the cache is wrong, delete {root}")
    return manifest


def main(snakemake):
    cfg = snakemake.config["libtorch"]
    version = snakemake.wildcards.version
    with open(snakemake.log[0], "w") as log:
        try:
            manifest = {**provision(version, cfg, read_wheel_table(snakemake.input.table), log), "status": "ok"}
        except (ProvisionError, OSError, subprocess.SubprocessError) as err:
            # Recorded, not fatal: the other versions go on and the report names the cause.
            print(f"ERROR: {err}", file=log)
            manifest = {"requested": version, "status": "failed", "reason": str(err)}
        print(json.dumps(manifest, indent=2), file=log)
    write_json_atomic(snakemake.output.manifest, manifest)


if __name__ == "__main__" and "snakemake" in globals():
    main(snakemake)  # noqa: F821 -- injected by Snakemake's script directive
