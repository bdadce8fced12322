"""One tabled wheel into the cache: download exactly that file, check its sha256, unpack
one folder of it once. Used for the torch wheel and for the nvidia-* wheels it needs; each
wheel entry (libtorch_source.Wheel, NvidiaWheel) says what it is for and how to fix a failure."""

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from .atomic import write_json_atomic

UNPACK_MARKER = ".unpacked.json"


class ProvisionError(RuntimeError):
    pass


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
            f"sha256 mismatch for {wheel.filename} ({wheel.purpose}): expected {wheel.sha256}, "
            f"got {actual}. The file was removed; the next run downloads it again. If it keeps "
            f"happening, your index or proxy serves a different file: {wheel.mismatch_fix}"
        )


def download_wheel(wheel, dest_dir, index_url, log=sys.stderr):
    """Fetch exactly the tabled wheel with pip (no dependencies, no install); a file of that
    name already in dest_dir is taken as is (verify_wheel checks it)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / wheel.filename
    if target.exists():
        return target
    partial = dest_dir / f".{wheel.filename}.download"
    shutil.rmtree(partial, ignore_errors=True)
    python = ["--python-version", wheel.python_version] if wheel.python_version else []
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--no-cache-dir",
        *python,
        "--platform",
        wheel.platform,
        "--implementation",
        "cp",
        "--index-url",
        index_url,
        "-d",
        str(partial),
        wheel.requirement,
    ]
    # Local find-links (a machine-wide wheel folder) could hand pip another build of the
    # same version; only the index is asked.
    env = {**os.environ, "PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull}
    print("+", " ".join(cmd), file=log, flush=True)
    done = subprocess.run(cmd, env=env, stdout=log, stderr=log)
    fetched = partial / wheel.filename
    if done.returncode != 0 or not fetched.exists():
        shutil.rmtree(partial, ignore_errors=True)
        if shutil.disk_usage(dest_dir).free < wheel.size_bytes:  # pip's own message is in the log
            raise disk_error(OSError(errno.ENOSPC, f"{wheel.filename} needs {wheel.size_bytes / 1e6:.0f} MB"), dest_dir)
        raise ProvisionError(
            f"could not download {wheel.filename} for {wheel.purpose} from {index_url} "
            f"(pip exit code {done.returncode}; see the log). Offline fix: {wheel.offline_fix(dest_dir)}"
        )
    os.replace(fetched, target)
    shutil.rmtree(partial, ignore_errors=True)
    return target


def unpacked_ok(dest, sha256=None, marker=UNPACK_MARKER):
    """True when an earlier unpack (of the wheel with this sha256, if given) finished and
    every file it wrote still has its size."""
    marker = dest / marker
    if not marker.exists():
        return False
    try:
        recorded = json.loads(marker.read_text())
        files = recorded["files"]
    except (ValueError, KeyError):
        return False
    if sha256 is not None and recorded.get("sha256") != sha256:
        return False
    for name, size in files.items():
        path = dest / name
        if not path.is_file() or path.stat().st_size != size:
            return False
    return True


def unpack_wheel(wheel_path, dest, sha256, folder="torch", wanted=("lib/", "include/", "share/"), marker=UNPACK_MARKER):
    """Extract the `wanted` subfolders of the wheel's `folder` into dest; the marker is
    written last, so a crash (or a full disk) leaves a folder that unpacked_ok() rejects and
    the next run redoes. A marker other than UNPACK_MARKER means dest is shared with other
    wheels (the CUDA 13 nvidia-* wheels all keep their lib/ in nvidia/cu13): the files are
    merged into it instead of replacing it, and each wheel keeps its own marker."""
    shared = marker != UNPACK_MARKER
    partial = dest.with_name(f"{dest.name}.{sha256[:12]}.partial" if shared else dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    if not shared:
        shutil.rmtree(dest, ignore_errors=True)
    try:
        _extract(wheel_path, dest, sha256, folder, wanted, marker, shared, partial)
    except OSError as err:
        shutil.rmtree(partial, ignore_errors=True)
        (dest / marker).unlink(missing_ok=True)
        raise disk_error(err, dest) from err


def disk_error(err, where):
    """A full disk named as such, with the folder and the fixes; other errors as they are."""
    if err.errno != errno.ENOSPC:
        return err
    return ProvisionError(
        f"the disk holding {where} is full ({err.strerror}); nothing half-unpacked is kept. Free space "
        "there (`make clean-cache` keeps only the configured versions' libtorch), or point "
        "libtorch.cache_dir (or $LIBTORCH_BENCH_CACHE) at a larger disk. Each release needs about 2 GB, "
        "5-7 GB with its CUDA stack (libtorch.cuda_stack)."
    )


def _extract(wheel_path, dest, sha256, folder, wanted, marker, shared, partial):
    prefix = folder.rstrip("/") + "/"
    files = {}
    with zipfile.ZipFile(wheel_path) as z:
        for info in z.infolist():
            name = info.filename[len(prefix) :]
            if info.is_dir() or not info.filename.startswith(prefix) or not name.startswith(wanted):
                continue
            z.extract(info, partial)
            files[name] = info.file_size
    if not files:
        raise ProvisionError(f"{wheel_path} has no {', '.join(prefix + w for w in wanted)}: is it the right wheel?")
    for name in files:  # zip extraction drops the executable bit that shared objects keep
        if name.startswith("lib/"):
            (partial / folder / name).chmod(0o755)
    if shared:
        for name in files:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial / folder / name, dest / name)
    else:
        (partial / folder).rename(dest)
    shutil.rmtree(partial, ignore_errors=True)
    write_json_atomic(dest / marker, {"sha256": sha256, "files": files})


def ensure_unpacked(
    wheel,
    dest,
    wheel_dir,
    index_url,
    keep_wheel=False,
    log=sys.stderr,
    folder="torch",
    wanted=("lib/", "include/", "share/"),
    marker=UNPACK_MARKER,
):
    """The tabled wheel's `wanted` subfolders of `folder` in dest: downloaded, verified and
    unpacked unless an unpack of this very wheel is already there."""
    if unpacked_ok(dest, wheel.sha256, marker):
        return
    path = download_wheel(wheel, wheel_dir, index_url, log)
    verify_wheel(path, wheel)
    print(f"unpacking {folder}/ of {path} into {dest}", file=log, flush=True)
    unpack_wheel(path, dest, wheel.sha256, folder=folder, wanted=wanted, marker=marker)
    if not keep_wheel:
        path.unlink(missing_ok=True)
