"""Configure and build one target of csrc/ (the runner or the pybind11 module) against one
libtorch (from its manifest), then copy the artifact into place. Compiler output goes to the
rule's log."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pybind11

from .failures import first_error_line, write_failed_runner
from .libstdcxx_check import OVERRIDE, compiler_of, mismatch


class BuildError(RuntimeError):
    pass


class ToolchainError(BuildError):
    """The build worked but its result would crash: the message is the whole reason."""


def cmake_configure_args(manifest, source_dir, build_dir, target):
    args = [
        "cmake",
        "-S",
        str(source_dir),
        "-B",
        str(build_dir),
        "-DCMAKE_BUILD_TYPE=Release",
        f"-DTORCH_ROOT={manifest['root']}",
        f"-DTORCH_CXX11_ABI={int(manifest['cxx11_abi'])}",
        f"-DTORCH_CXX_STANDARD={manifest['cxx_standard']}",
        f"-DBUILD_RUNNER={'ON' if target == 'bench_runner' else 'OFF'}",
        f"-DBUILD_PYTHON_MODULE={'ON' if target == 'libtorch_bench_ext' else 'OFF'}",
    ]
    if target == "libtorch_bench_ext":
        args += [f"-DPython_EXECUTABLE={sys.executable}", f"-Dpybind11_DIR={pybind11.get_cmake_dir()}"]
    if shutil.which("ccache"):  # rebuilding the same sources for another rule or test is then cheap
        args.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
    return args


def built_artifact(build_dir, target):
    if target == "bench_runner":
        return Path(build_dir) / "bench_runner"
    found = sorted(Path(build_dir).glob("libtorch_bench_ext*.so"))
    if not found:
        raise BuildError(f"the build finished but no libtorch_bench_ext*.so is in {build_dir}")
    return found[0]


def compiler_env(source_dir):
    """The build's environment: ccache keys on paths relative to the checkout (CCACHE_BASEDIR), so
    a fresh clone, a test's copy of the workflow or a cluster's copy reuses what another compiled
    (a caller's own CCACHE_BASEDIR wins)."""
    return {"CCACHE_BASEDIR": str(Path(source_dir).resolve().parent), **os.environ}


def build(manifest, source_dir, build_dir, target, output, jobs, log):
    env = compiler_env(source_dir)
    for cmd in (
        cmake_configure_args(manifest, source_dir, build_dir, target),
        ["cmake", "--build", str(build_dir), "--target", target, "--parallel", str(jobs)],
    ):
        print("+", " ".join(cmd), file=log, flush=True)
        if subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env).returncode != 0:
            raise BuildError(
                f"building {target} against libtorch {manifest['version']} ({manifest['root']}) failed; "
                f"the compiler's messages are in {log.name}"
            )
    if target == "bench_runner":
        problem = mismatch(built_artifact(build_dir, target), compiler_of(build_dir))
        if problem and not os.environ.get(OVERRIDE):
            raise ToolchainError(problem)
        if problem:
            print(f"WARNING ({OVERRIDE} is set): {problem}", file=log, flush=True)
    output = Path(output)
    tmp = output.with_name(output.name + ".tmp")
    shutil.copy2(built_artifact(build_dir, target), tmp)
    tmp.replace(output)


def build_or_record(manifest_path, source_dir, build_dir, target, output, jobs, log):
    """Build `target` against the manifest's libtorch. A runner that cannot be built (or whose
    libtorch could not be provisioned) is replaced by a stub that says why whenever it runs, so
    that version's cells read 'failed' with the reason; the Python module has no stand-in."""
    manifest = json.loads(Path(manifest_path).read_text())
    if manifest.get("status") == "failed":
        reason = f"libtorch {manifest['requested']} could not be provisioned: {manifest['reason']}"
    else:
        try:
            build(manifest, source_dir, build_dir, target, output, jobs, log)
            return
        except BuildError as err:
            print(f"ERROR: {err}", file=log, flush=True)
            detail = str(err) if isinstance(err, ToolchainError) else first_error_line(log.name)
            reason = f"build failed: {detail} (full log: {log.name})"
    if target != "bench_runner":
        raise BuildError(reason)
    print(f"recording the failure in {output}: {reason}", file=log)
    write_failed_runner(output, reason)
