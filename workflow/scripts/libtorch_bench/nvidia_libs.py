"""The nvidia-* wheels that a CUDA build of libtorch needs just to load, on any machine: the
2.x PyPI wheels' libtorch_cpu.so needs the CUDA runtime and CUPTI (libcudart.so.11/12/13,
libcupti.so.11/12/13; 2.0 and 2.2-2.10 as well as 2.1.2 and 2.5.1). They are unpacked
where the torch libraries' RPATH ($ORIGIN/../../nvidia/<package>/lib) looks, as pip would lay
them out: <cache>/libtorch/<version>/nvidia/<package>/lib beside .../<version>/torch/lib."""

import shutil
import subprocess
import sys

from .wheel_cache import UNPACK_MARKER, ensure_unpacked

# What the runner links; the CUDA libraries (libtorch_cuda.so, cuDNN, cuBLAS, ...) it loads
# only for a CUDA device, so their absence costs the CUDA cells, not the build.
CPU_LIBRARIES = ("libc10.so", "libtorch_cpu.so")


def provision_nvidia_wheels(wheels, version_dir, wheel_dir, index_url, keep_wheels=False, log=sys.stderr):
    """Download, verify and unpack each wheel's lib/ once; returns the pins, for the manifest."""
    shared = {w.folder for w in wheels if sum(v.folder == w.folder for v in wheels) > 1}
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


def unresolved_libraries(lib_dir):
    """Sonames that the CPU libraries need and the dynamic loader cannot find, as ldd sees them."""
    if shutil.which("ldd") is None:
        return []
    missing = set()
    for name in CPU_LIBRARIES:
        out = subprocess.run(["ldd", str(lib_dir / name)], capture_output=True, text=True).stdout
        missing.update(line.split("=>")[0].strip() for line in out.splitlines() if "not found" in line)
    return sorted(missing)
