"""Does a built program load the libstdc++ its compiler linked it against?

libtorch must share one C++ runtime with the program around it. A compiler with its own
libstdc++ (a custom GCC in /opt, say) links against that library, but at run time the
loader takes the system's: seen on an H200 machine, where such a runner aborted inside
libtorch ("free(): invalid pointer" in std::locale) and one built with /usr/bin/g++ ran."""

import os
import re
import subprocess
from pathlib import Path

OVERRIDE = "LIBTORCH_BENCH_ALLOW_LIBSTDCXX_MISMATCH"


def compiler_libstdcxx(compiler):
    """The libstdc++.so.6 the compiler links against, or None where it does not say."""
    done = subprocess.run([compiler, "-print-file-name=libstdc++.so.6"], capture_output=True, text=True)
    path = done.stdout.strip()
    return Path(path).resolve() if done.returncode == 0 and os.path.isabs(path) and Path(path).exists() else None


def loaded_libstdcxx(ldd_output):
    """The libstdc++.so.6 that `ldd` says the loader picks, or None."""
    match = re.search(r"^\s*libstdc\+\+\.so\.6\s*=>\s*(\S+)", ldd_output, re.MULTILINE)
    return Path(match.group(1)).resolve() if match and match.group(1) != "not" else None


def compiler_of(build_dir):
    """The C++ compiler CMake chose for a build folder (from its cache)."""
    cache = Path(build_dir) / "CMakeCache.txt"
    match = re.search(r"^CMAKE_CXX_COMPILER:\w+=(.+)$", cache.read_text(), re.MULTILINE)
    return match.group(1).strip() if match else None


def mismatch(program, compiler):
    """A sentence naming both libraries and the fix, or '' when they are the same file."""
    linked = compiler_libstdcxx(compiler)
    done = subprocess.run(["ldd", str(program)], capture_output=True, text=True)
    loaded = loaded_libstdcxx(done.stdout)
    if linked is None or loaded is None or linked == loaded:
        return ""
    return (
        f"{compiler} links against {linked}, but {program} loads {loaded} at run time; libtorch then "
        "crashes (free(): invalid pointer). Build with the compiler of the system's libstdc++ "
        f"(e.g. CXX=/usr/bin/g++; delete {Path(program).parent}/cmake first), or set {OVERRIDE}=1 to "
        "try anyway."
    )
