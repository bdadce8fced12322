"""When a job ran: a small JSON stamp (start and end, epoch seconds) beside the job's log,
so that a run can show afterwards which jobs overlapped. Timing rules and builds use it
(the convention is in workflow/rules/common.smk); tests/test_isolation.py reads it."""

import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path

from .atomic import write_json_atomic

KINDS = ("timing", "build")


def stamp_path(log_path):
    """results/logs/run/1.8.1/cpu/mask_indexing.log -> .../mask_indexing.times.json"""
    log_path = Path(log_path)
    return log_path.with_name(log_path.stem + ".times.json")


@contextmanager
def job_clock(snakemake, kind):
    """Stamp the job's start and end (also when it fails) next to its first log file."""
    if kind not in KINDS:
        raise ValueError(f"job kind {kind!r} is not one of {KINDS}")
    started = time.time()
    status = "failed"
    try:
        yield
        status = "ok"
    finally:
        write_json_atomic(
            stamp_path(snakemake.log[0]),
            {
                "rule": snakemake.rule,
                "kind": kind,
                "wildcards": dict(snakemake.wildcards.items()),
                "threads": snakemake.threads,
                "started": started,
                "finished": time.time(),
                "status": status,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                # Set when the job ran inside a SLURM allocation (workflow/profiles/slurm).
                "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
            },
        )
