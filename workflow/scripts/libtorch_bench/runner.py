"""Calling bench_runner (csrc/runner/main.cpp): what a build is, running it with its output
in the job's log, checking what it wrote, and recording a run that has no samples (a device
that is absent: 'not run' with the reason, with an empty, header-only CSV)."""

import json
import shlex
import subprocess

import pandas as pd

from .atomic import write_json_atomic, write_text_atomic
from .failures import FAILED_RUNNER_EXIT
from .provenance import collect
from .samples import SAMPLE_COLUMNS, header_line

DEVICE_UNAVAILABLE = 3  # bench_runner's exit code when the device cannot be used


def unavailable_reason(stderr):
    """The reason bench_runner gives for exit DEVICE_UNAVAILABLE: its "not run: ..." line, without
    the warnings a libtorch prints before it (2.0.1: "[W interface.cpp:47] ... nvfuser ...")."""
    text = stderr.strip()
    at = text.rfind("not run: ")
    return text[at + len("not run: ") :].strip() if at >= 0 else text


# Test-only fault injection: "TECHNIQUE:abort:N" or "TECHNIQUE:hang:N" makes that technique's
# runner abort() or hang after N samples.
FAULT_ENV = "LIBTORCH_BENCH_FAULT"
FAULT_FLAGS = ("--abort-after-samples", "--hang-after-samples")


class RunError(RuntimeError):
    pass


def fault_flags(spec, technique):
    if not spec:
        return []
    parts = spec.split(":")
    if len(parts) != 3 or parts[1] not in ("abort", "hang") or not parts[2].isdigit():
        raise RunError(f"{FAULT_ENV}={spec!r}: expected TECHNIQUE:abort:N or TECHNIQUE:hang:N")
    return [f"--{parts[1]}-after-samples", parts[2]] if parts[0] == technique else []


def without_fault_flags(cmd):
    """The command as it measures: an injected fault (tests) is not part of what it measures."""
    return [a for i, a in enumerate(cmd) if a not in FAULT_FLAGS and (i == 0 or cmd[i - 1] not in FAULT_FLAGS)]


def run_logged(cmd, log):
    """Run a command with its stdout in the log and its stderr kept (and copied to the log)."""
    print("+", shlex.join(cmd), file=log, flush=True)
    done = subprocess.run(cmd, stdout=log, stderr=subprocess.PIPE, text=True)
    print(done.stderr, file=log, end="", flush=True)
    return done


def failed(what, cmd, done):
    """The error for a command that exited non-zero: what failed, how, and its last words."""
    return RunError(f"{what} failed (exit {done.returncode}) in {shlex.join(cmd)}: {done.stderr.strip()[-2000:]}")


def run_command(runner, technique, device, threads, warmup, rounds, calls, process, first_round, harness):
    """The start of a `bench_runner run` command: which technique, where, how many rounds, and
    the allocator settings every process sets first; the caller adds the cases and --out."""
    return [
        str(runner),
        "run",
        "--technique",
        technique,
        "--device",
        device,
        "--threads",
        str(threads),
        "--warmup",
        str(warmup),
        "--rounds",
        str(rounds),
        "--calls",
        str(calls),
        "--process",
        str(process),
        "--first-round",
        str(first_round),
        *malloc_flags(harness),
    ]


def malloc_flags(harness):
    """The runner's --malloc-* flags of config `harness.malloc` (0: glibc's default, not passed)."""
    settings = (harness or {}).get("malloc", {})
    return [
        arg
        for key in ("mmap_threshold", "trim_threshold")
        if int(settings.get(key, 0)) > 0
        for arg in (f"--malloc-{key.replace('_', '-')}", str(int(settings[key])))
    ]


def runner_info(runner, harness=None):
    """What the runner is, and whether it honours the allocator settings (`malloc`)."""
    done = subprocess.run([str(runner), "info", *malloc_flags(harness)], capture_output=True, text=True)
    if done.returncode == FAILED_RUNNER_EXIT:  # no runner was built; the stub says why
        return {"libtorch": "", "not_built": done.stderr.strip().removeprefix("not built: ")}
    if done.returncode != 0:
        raise RunError(f"{runner} info failed (exit {done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)


def check_samples(path, technique, device, info):
    """Refuse output that is not what was asked for: a wrong version, device or technique."""
    df = pd.read_csv(path, keep_default_na=False)
    if list(df.columns) != SAMPLE_COLUMNS:
        raise RunError(f"{path}: columns {list(df.columns)} are not {SAMPLE_COLUMNS}")
    if df.empty:
        raise RunError(f"{path}: the runner wrote no samples")
    for column, expected in (("technique", technique), ("device", device), ("libtorch", info["libtorch"])):
        found = set(df[column].astype(str))
        if found != {expected}:
            raise RunError(f"{path}: column {column} holds {sorted(found)}, expected {expected!r}")
    return len(df)


def record_without_samples(samples_out, provenance_out, cfg_hash, status, reason, **record):
    """An empty (header-only) CSV and the reason, for a run that has no samples."""
    write_text_atomic(samples_out, header_line())
    write_json_atomic(provenance_out, collect(cfg_hash, status=status, reason=reason, samples=0, **record))
