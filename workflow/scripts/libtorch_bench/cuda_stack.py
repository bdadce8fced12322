"""Whether provisioning fetches a release's whole CUDA stack (libtorch.cuda_stack): 1.5-3 GB
of nvidia-* wheels per release that only libtorch_cuda.so needs, worth it only where CUDA runs.

Provisioning runs where Snakemake was started (a localrule: on a cluster, the login node), so
`auto` asks that host for a GPU; a cluster whose GPU nodes the login node does not resemble
sets `always`."""

import ctypes
import shutil
import subprocess

MODES = ("auto", "always", "never")


def node_has_gpu():
    """nvidia-smi lists a GPU, or the driver library loads (nvidia-smi may be off the PATH)."""
    if shutil.which("nvidia-smi"):
        try:
            if subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=60).returncode == 0:
                return True
        except (OSError, subprocess.TimeoutExpired):
            pass
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


def wants_cuda(devices):
    return any(device.split(":")[0] == "cuda" for device in devices)


def fetch_cuda_stack(mode, devices, has_gpu=node_has_gpu):
    """(fetch, why): `always` and `never` say so; `auto` fetches when a CUDA device is configured
    and this node has a GPU (asked only then)."""
    if mode not in MODES:
        raise ValueError(f"libtorch.cuda_stack is {mode!r}; use one of {', '.join(MODES)}")
    if mode != "auto":
        return mode == "always", f"libtorch.cuda_stack is {mode}"
    if not wants_cuda(devices):
        return False, "no CUDA device is configured (libtorch.cuda_stack: auto)"
    if not has_gpu():
        return False, (
            "this node has no GPU: neither `nvidia-smi -L` nor libcuda.so.1 answers (libtorch.cuda_stack: auto; "
            "set it to always where the jobs run on GPU nodes that the provisioning host does not resemble)"
        )
    return True, "a CUDA device is configured and this node has a GPU (libtorch.cuda_stack: auto)"
