"""Timing isolation on one machine, proven from the jobs' own start/end stamps
(workflow/scripts/libtorch_bench/job_clock.py) of the end-to-end run on config/test.yaml with --cores 2
(conftest.run_snakemake; on this 2-core machine that is `--cores all`): no two timing jobs
overlapped, no build overlapped a timing job, and builds still overlapped each other.
The convention that makes this hold is in workflow/rules/common.smk ("Timing isolation")."""

from pathlib import Path

import pytest

from conftest import job_stamps, overlapping

pytestmark = pytest.mark.slow

CORES = 2  # what conftest.run_snakemake gives the pipeline


def one(stamp):
    wildcards = ",".join(f"{k}={v}" for k, v in sorted(stamp["wildcards"].items()))
    return f"{stamp['rule']}[{wildcards}] {stamp['started']:.2f}-{stamp['finished']:.2f}"


def describe(pairs):
    return "\n".join(f"{one(a)}  overlaps  {one(b)}" for a, b in pairs)


@pytest.fixture(scope="module")
def stamps(pipeline_run):
    found = job_stamps(pipeline_run)
    return {kind: [s for s in found if s["kind"] == kind] for kind in ("timing", "build")}


def test_every_timing_job_and_build_left_a_stamp(pipeline_run, stamps):
    # Timing jobs: one per device, every claim in it (its probe readings); each build leaves one
    # artifact.
    probes = list(Path(pipeline_run, "results", "probe").glob("*.csv"))
    assert len(stamps["timing"]) == len(probes) > 0
    built = list(Path(pipeline_run, "results", "build").glob("*/bench_runner"))
    built += list(Path(pipeline_run, "results", "build").glob("python/libtorch_bench_ext*.so"))
    compiled = [s for s in stamps["build"] if s["rule"] in ("build_runner", "build_extension")]
    assert len(compiled) == len(built) >= 3
    assert all(s["status"] == "ok" and s["finished"] > s["started"] for s in stamps["timing"] + stamps["build"])


def test_timing_jobs_claim_every_core(stamps):
    # `threads: TIMING_THREADS` is what keeps everything else off the machine.
    assert {s["rule"]: s["threads"] for s in stamps["timing"]} == {s["rule"]: CORES for s in stamps["timing"]}


def test_no_two_timing_jobs_overlap(stamps):
    pairs = overlapping(stamps["timing"], stamps["timing"])
    assert not pairs, describe(pairs)


def test_no_build_runs_beside_a_timing_job(stamps):
    pairs = overlapping(stamps["build"], stamps["timing"])
    assert not pairs, describe(pairs)


def test_builds_still_run_side_by_side(stamps):
    assert all(s["threads"] <= CORES // 2 for s in stamps["build"])
    assert overlapping(stamps["build"], stamps["build"]), "\n".join(one(s) for s in stamps["build"])
