"""The machine's state during a run, from the probe timed before the processes of every run
(libtorch_bench.probe: a 16 MiB memory copy and a dependent compute chain):
each probe against the run's median, and the cells sampled right after a probe that drifted
by more than `sampling.probe_drift`."""

import pandas as pd

from .sampling import PROBE_COLUMNS

DRIFT_COLUMNS = [
    "device",
    "look",
    "process",
    "before",
    "memory_ns",
    "compute_ns",
    "memory_change",
    "compute_change",
    "flagged",
    "cells",
]


def drift_table(probe_paths, samples, threshold):
    """One row per probe: its change against the device's median probe (a fraction), whether
    it drifted beyond the threshold, and the cases of the process it preceded."""
    frames = []
    for path in probe_paths:
        probes = pd.read_csv(path)
        if probes.empty:
            continue
        device = str(path).rsplit("/", 1)[-1].removesuffix(".csv")
        probes = probes[PROBE_COLUMNS].assign(device=device)
        for kind in ("memory", "compute"):
            probes[f"{kind}_change"] = probes[f"{kind}_ns"] / probes[f"{kind}_ns"].median() - 1.0
        probes["flagged"] = (probes[["memory_change", "compute_change"]].abs() > threshold).any(axis=1)
        probes["cells"] = [cells_of(samples, device, row.before, row.process) for row in probes.itertuples()]
        frames.append(probes)
    if not frames:
        return pd.DataFrame(columns=DRIFT_COLUMNS)
    return pd.concat(frames, ignore_index=True)[DRIFT_COLUMNS]


def cells_of(samples, device, run_key, process):
    """The cases one process of a run sampled ('B=16;N=64|B=256;N=64')."""
    version, _, rest = run_key.split("/", 2)
    technique, _, front = rest.partition(".")
    sel = samples[
        (samples.version == version)
        & (samples.device == device)
        & (samples.technique == technique)
        & (samples.front == (front or "cpp"))
        & (samples.process == process)
    ]
    return "|".join(sorted(sel["params"].unique()))
