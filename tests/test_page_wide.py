"""The page's lines stay lines on a wide run (every release, 23 versions x 2 devices)."""

import pandas as pd

from libtorch_bench.page import platform_names
from libtorch_bench.page.trust import drift

VERSIONS = ["1.8.1", "1.9.1", "1.10.2", "2.2.2", "2.13.0", "2.15.0"]


def runs_of(versions, devices):
    rows = [{"libtorch": v, "version": v, "device": d} for v in versions for d in devices]
    return pd.DataFrame(rows + [{"libtorch": "2.13.0", "version": "installed", "device": d} for d in devices])


def test_a_wide_run_names_each_version_once_in_release_order():
    text = platform_names(runs_of(VERSIONS, ["cuda", "cpu"]))
    assert text == "libtorch 1.8.1, 1.9.1, 1.10.2, 2.2.2, 2.13.0, 2.13.0 (installed) and 2.15.0, each on cpu and cuda"
    # A small run keeps naming each platform.
    assert platform_names(runs_of(["1.8.1"], ["cpu"])) == "1.8.1 on cpu, 2.13.0 (installed) on cpu"


def test_the_drift_warning_names_a_few_runs_and_counts_the_rest():
    table = pd.DataFrame(
        {
            "before": [f"{v}/cpu/batch_from_rows" for v in VERSIONS],
            "cells": ["B=1;N=8"] * len(VERSIONS),
            "flagged": [True] * len(VERSIONS),
            "memory_change": [0.5] * len(VERSIONS),
            "compute_change": [0.1] * len(VERSIONS),
        }
    )
    warning, _ = drift(table, 0.25)
    assert warning.count("B=1;N=8") == 4 and "and 2 more (drift.csv lists them all)" in warning


def test_a_release_measured_as_a_wheel_and_as_the_installed_torch_is_told_apart():
    from libtorch_bench.findings import and_list, short_labels

    on = [("2.12.1", "2.12.1", "cpu", "cpp"), ("2.13.0", "2.13.0", "cpu", "cpp"), ("2.13.0", "installed", "cpu", "cpp")]
    assert and_list(short_labels(on)) == "2.12.1, 2.13.0 and 2.13.0 (installed)"
    assert short_labels([("2.13.0", "installed", "cpu", "python")]) == ["2.13.0 python"]
