"""Failures that are results: a libtorch that cannot be provisioned or built is recorded,
not fatal, so every other version is still measured and the report can say why a run is
empty. The chain carries the reason: a failed manifest -> a runner stub that exits with
FAILED_RUNNER_EXIT and prints the reason -> runs recorded as status 'failed'."""

import os
import shlex
from pathlib import Path

FAILED_RUNNER_EXIT = 5
STUB_MARKER = "# libtorch-bench: this runner was not built"


def write_failed_runner(path, reason):
    """An executable in the runner's place that explains, whenever it is run, why there is no runner."""
    path = Path(path)
    text = "\n".join(
        [
            "#!/bin/sh",
            STUB_MARKER,
            f"echo {shlex.quote('not built: ' + reason)} >&2",
            f"exit {FAILED_RUNNER_EXIT}",
            "",
        ]
    )
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.chmod(0o755)
    os.replace(tmp, path)


def is_failed_runner(path):
    try:
        with open(path, "rb") as f:
            return STUB_MARKER.encode() in f.read(256)
    except OSError:
        return False


def first_error_line(log_path, limit=300):
    """The compiler's first 'error' line: what a reader needs to see on the page."""
    try:
        for line in Path(log_path).read_text(errors="replace").splitlines():
            if "error" in line.lower():
                return line.strip()[:limit]
    except OSError:
        pass
    return "no error line found"


def failed_runs(raw_dir, version="*"):
    """(provenance path, reason) of every run recorded as failed (of one version, if given)."""
    import json

    failed = []
    for path in sorted(Path(raw_dir).glob(f"{version}/*/*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if record.get("status") == "failed":
            failed.append((str(path), record.get("reason", "")))
    return failed


def retry_targets(results_dir, versions):
    """The recorded failures to redo: failed manifests, runner stubs, and runs whose runner
    crashed (their sampling resumes from the processes that had finished)."""
    import json

    targets = []
    for version in versions:
        manifest = Path(results_dir) / "libtorch" / f"{version}.json"
        runner = Path(results_dir) / "build" / version / "bench_runner"
        try:
            if json.loads(manifest.read_text()).get("status") == "failed":
                targets.append(str(manifest))
                continue
        except (OSError, ValueError):
            pass
        if is_failed_runner(runner):
            targets.append(str(runner))
            continue
        targets += [
            str(Path(record).with_suffix(".csv")) for record, _ in failed_runs(Path(results_dir) / "raw", version)
        ]
    return targets
