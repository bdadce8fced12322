"""Where the page's numbers were measured: machine, commit, each run, the configuration."""

import datetime
import os
from pathlib import Path

import yaml

RUN_COLUMNS = [
    "version",
    "libtorch",
    "device",
    "technique",
    "front",
    "status",
    "reason",
    "samples",
    "date",
    "git_commit",
    "compiler",
    "cxx11_abi",
    "threads",
    "wall_seconds",
]


def recorded(run, column, unset=("",)):
    """A text column of runs.csv, '' where unset (an empty field reads back as NaN; older tables
    lack gpu and environment)."""
    value = getattr(run, column, "")
    return value.strip() if isinstance(value, str) and value.strip() not in unset else ""


def provenance(runs, config, report_dir, commit):
    first = next(runs.itertuples(index=False), None)
    machine = None
    if first is not None:
        machine = {
            "host": first.host,
            "cpu": first.cpu_model,
            "cores": first.cores,
            "os": first.os,
            "python": first.python,
            "gpu": recorded(first, "gpu"),
            "environment": recorded(first, "environment", unset=("", "none")),
            "allocator": recorded(first, "allocator"),
        }
    runs_rows = [
        {
            "fields": [getattr(r, c) for c in RUN_COLUMNS],
            "links": [{"href": os.path.relpath(p, report_dir), "name": Path(p).name} for p in (r.csv, r.json)],
        }
        for r in runs.sort_values(["version", "device", "technique", "front"]).itertuples(index=False)
    ]
    return {
        "machine": machine,
        "commit": commit,
        "built": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "columns": RUN_COLUMNS,
        "runs": runs_rows,
        "config": yaml.safe_dump(config, sort_keys=False),
    }
