"""Provenance: results from other machines, commits, GPUs or settings are flagged, never mixed
silently."""

import pandas as pd

from libtorch_bench.provenance import mixed_provenance


def test_results_from_other_machines_or_commits_are_flagged_not_mixed_silently():
    base = {"status": "ok", "front": "cpp", "host": "a", "cpu_model": "X", "git_commit": "c1", "config_hash": "h1"}
    runs = pd.DataFrame(
        [
            {**base, "version": "1.8.1", "device": "cpu", "technique": "batch_from_rows"},
            {**base, "version": "installed", "device": "cpu", "technique": "batch_from_rows"},
            {
                **base,
                "version": "installed",
                "device": "cuda",
                "technique": "batch_from_rows",
                "status": "not run",
                "host": "",
                "git_commit": "c9",
            },  # a run with no samples cannot mix anything
        ]
    )
    assert mixed_provenance(runs) == []
    runs.loc[1, "git_commit"] = "c2"
    runs.loc[1, "host"] = "b"
    notes = mixed_provenance(runs)
    assert len(notes) == 2
    assert "2 different machines" in notes[0] and "installed/cpu/batch_from_rows" in notes[0]
    assert "2 different commits" in notes[1] and "c1: 1.8.1/cpu/batch_from_rows" in notes[1]
    # Two GPUs in one table are two machines' results, even where host names agree ("vm").
    runs.loc[1, ["git_commit", "host"]] = ["c1", "a"]
    runs["gpu"] = ["NVIDIA H200, 580.159.04, 143771 MiB", "NVIDIA H100 80GB HBM3, 580.159.04, 81559 MiB", ""]
    notes = mixed_provenance(runs)
    assert len(notes) == 1 and "2 different GPUs" in notes[0] and "H100" in notes[0]
    # One run made with TF32 off, one with nothing set: flagged too.
    runs["gpu"] = ""
    runs["environment"] = ["NVIDIA_TF32_OVERRIDE=0", "none", ""]
    notes = mixed_provenance(runs)
    assert len(notes) == 1 and "tuning variables" in notes[0] and "NVIDIA_TF32_OVERRIDE=0: 1.8.1" in notes[0]


def test_a_wide_run_names_a_few_runs_per_commit_and_counts_the_rest():
    base = {"status": "ok", "front": "cpp", "host": "a", "cpu_model": "X", "config_hash": "h1", "device": "cpu"}
    versions = ["1.8.1", "1.9.1", "1.10.2", "1.11.0", "1.12.1", "1.13.1", "2.0.1"]
    runs = pd.DataFrame(
        [{**base, "version": v, "technique": "batch_from_rows", "git_commit": "c1"} for v in versions]
        + [{**base, "version": "1.8.1", "technique": "mask_indexing", "git_commit": "c2"}]
    )
    (note,) = mixed_provenance(runs)
    assert "c1: 1.8.1/cpu/batch_from_rows, 1.9.1/cpu/batch_from_rows" in note
    assert "and 3 more (runs.csv lists them all)" in note and "1.13.1/cpu" not in note
    assert "c2: 1.8.1/cpu/mask_indexing" in note
