"""The nvidia-* wheels of a CUDA build of libtorch, unpacked where the torch libraries' RPATH
($ORIGIN/../../nvidia/<package>/lib) looks, as pip would lay them out:
<cache>/libtorch/<version>/nvidia/<package>/lib beside .../<version>/torch/lib. The 2.x PyPI
wheels' libtorch_cpu.so needs the CUDA runtime and CUPTI (libcudart.so.11/12/13,
libcupti.so.11/12/13) just to load, on any machine; libtorch_cuda.so needs the rest of the
stack (cuDNN, cuBLAS, ...), fetched only where CUDA can run (cuda_stack.py)."""

import shutil
import subprocess
import sys

from .wheel_cache import UNPACK_MARKER, ensure_unpacked

# What the runner links; the CUDA libraries (libtorch_cuda.so, cuDNN, cuBLAS, ...) it loads
# only for a CUDA device, so their absence costs the CUDA cells, not the build.
CPU_LIBRARIES = ("libc10.so", "libtorch_cpu.so")


def provision_nvidia_wheels(wheels, version_dir, wheel_dir, index_url, keep_wheels=False, log=sys.stderr, release=None):
    """Download, verify and unpack each wheel's lib/ once; returns the pins, for the manifest.
    release: all the wheels of the version's table rows (default: `wheels`), so that a folder
    shared in the table keeps per-wheel markers whichever of its wheels are fetched."""
    release = wheels if release is None else release
    shared = {w.folder for w in release if sum(v.folder == w.folder for v in release) > 1}
    for wheel in wheels:
        # CUDA 13 wheels share one folder (nvidia/cu13/lib): each then merges its files in
        # and keeps its own marker, instead of replacing the folder the previous one filled.
        marker = f".unpacked-{wheel.package}.json" if wheel.folder in shared else UNPACK_MARKER
        ensure_unpacked(
            wheel,
            version_dir / wheel.folder,
            wheel_dir,
            index_url,
            keep_wheels,
            log,
            folder=wheel.folder,
            wanted=("lib/",),
            marker=marker,
        )
    return [wheel.requirement for wheel in wheels]


def unresolved_libraries(lib_dir, libraries=CPU_LIBRARIES):
    """Sonames that these libraries need and the dynamic loader cannot find, as ldd sees them."""
    if shutil.which("ldd") is None:
        return []
    missing = set()
    for name in libraries:
        out = subprocess.run(["ldd", str(lib_dir / name)], capture_output=True, text=True).stdout
        missing.update(line.split("=>")[0].strip() for line in out.splitlines() if "not found" in line)
    return sorted(missing)
