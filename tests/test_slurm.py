"""The test config submitted through workflow/profiles/slurm to a real single-node SLURM,
started here: Debian's slurm-wlm and munge (installed if missing), /etc/slurm/slurm.conf
written (an existing one is backed up and restored), munged, slurmctld and slurmd started,
and every daemon started here stopped by its pid file afterwards, also on failure. The run
must yield what the local run (conftest.pipeline_run) yields, every build and timing job
must have run inside SLURM with what the profile asks for, and no timing job may have
shared the node. Needs root; without it the tests are skipped, saying so."""

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import SNAKEMAKE, copy_workflow, job_stamps, overlapping, read_json, snakemake_env

pytestmark = [pytest.mark.slow, pytest.mark.slurm]

PACKAGES = ["slurm-wlm", "munge"]
SLURM_CONF = Path("/etc/slurm/slurm.conf")
GRES_CONF = Path("/etc/slurm/gres.conf")
SBIN_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
# One node with a declared (not real) GPU, so that CUDA runs are scheduled as on a GPU
# cluster; they then record "not run" as they do locally. `config_overrides` makes slurmd
# take the node's size from here rather than from the hardware.
NODE_CPUS = 8  # two 4-core builds side by side
NODE_MEMORY_MB = 16000
BUILD_CPUS = 4  # the profile's set-threads for builds
# The SLURM run is killed (SIGKILL: a hung snakemake ignores SIGTERM) after this long, so
# that a hang fails the tests rather than stalling them; how long it took is no test's business.
RUN_LIMIT_S = 285
# Test-only settings (see shared notes on SLURM here): no slurmdbd, so job states come
# from squeue; a first status check after 5 s rather than 40 s; no account to look up.
SLURM_TEST_ARGS = [
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "5",
    "--slurm-no-account",
]
# One SLURM test at a time on a machine: it owns /etc/slurm/slurm.conf while it runs.
LOCK = Path("/run/lock/libtorch-bench-slurm-test.lock")


def which(command):
    return shutil.which(command, path=SBIN_PATH)


def ensure_slurm_installed():
    if os.geteuid() != 0:
        pytest.skip("needs root: installs slurm-wlm and munge, writes /etc/slurm/slurm.conf, starts SLURM daemons")
    if all(which(c) for c in ("munged", "slurmctld", "slurmd", "sbatch")):
        return
    # As root this must work (CI): a failure here is an error, not a skip.
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *PACKAGES], check=True, env=env)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{what} did not happen within {seconds} s")


def munge_works():
    encoded = subprocess.run(["munge", "-n"], capture_output=True)
    return (
        encoded.returncode == 0
        and subprocess.run(["unmunge"], input=encoded.stdout, capture_output=True).returncode == 0
    )


def stop_by_pid_file(pid_file, name, seconds=15):
    """SIGTERM the daemon named in pid_file (only if that pid is still `name`), SIGKILL it
    if it has not exited after `seconds`."""
    try:
        pid = int(Path(pid_file).read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return
    if name.encode() not in cmdline:
        return  # the pid was reused by something else
    os.kill(pid, signal.SIGTERM)
    try:
        wait_for(lambda: not Path(f"/proc/{pid}").exists(), seconds, f"{name} ({pid}) exiting")
    except TimeoutError:
        os.kill(pid, signal.SIGKILL)


class SingleNodeSlurm:
    def __init__(self, state_dir):
        self.state = Path(state_dir)
        self.hostname = socket.gethostname().split(".")[0]
        self.munge_dir = None  # set when munged is ours
        self.backups = {}

    def slurm_conf(self):
        s = self.state
        return "\n".join(
            [
                "ClusterName=libtorchbench",
                f"SlurmctldHost={self.hostname}(127.0.0.1)",
                f"SlurmctldPort={free_port()}",
                f"SlurmdPort={free_port()}",
                "AuthType=auth/munge",
                "SlurmUser=root",
                f"StateSaveLocation={s}/state",
                f"SlurmdSpoolDir={s}/spool",
                f"SlurmctldPidFile={s}/slurmctld.pid",
                f"SlurmdPidFile={s}/slurmd.pid",
                f"SlurmctldLogFile={s}/slurmctld.log",
                f"SlurmdLogFile={s}/slurmd.log",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_Core_Memory",
                "AccountingStorageType=accounting_storage/none",
                "JobAcctGatherType=jobacct_gather/none",
                "MpiDefault=none",
                "ReturnToService=2",
                # Finished jobs stay visible to squeue/scontrol for the checks below.
                "MinJobAge=900",
                "SlurmdParameters=config_overrides",
                "GresTypes=gpu",
                f"NodeName=localhost NodeAddr=127.0.0.1 CPUs={NODE_CPUS} RealMemory={NODE_MEMORY_MB} "
                "Gres=gpu:1 State=UNKNOWN",
                "PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
                "PartitionName=gpu Nodes=localhost MaxTime=INFINITE State=UP",
                "",
            ]
        )

    def start(self):
        for sub in ("state", "spool"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        if not munge_works():
            self.start_munged()
        for conf in (SLURM_CONF, GRES_CONF):
            if conf.exists():
                backup = conf.with_name(conf.name + ".libtorch-bench-backup")
                shutil.move(conf, backup)
                self.backups[conf] = backup
        SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SLURM_CONF.write_text(self.slurm_conf())
        GRES_CONF.write_text("NodeName=localhost Name=gpu Count=1 File=/dev/null\n")
        subprocess.run([which("slurmctld")], check=True)
        subprocess.run([which("slurmd"), "-N", "localhost"], check=True)
        try:
            wait_for(lambda: self.node_states() == {"idle"}, 30, "the node becoming idle")
        except TimeoutError as err:
            raise RuntimeError(f"{err}\n{self.logs()}") from err

    def start_munged(self):
        # munged runs as munge and checks its directories' ownership: a private folder.
        Path("/run/munge").mkdir(mode=0o755, exist_ok=True)
        shutil.chown("/run/munge", "munge", "munge")
        self.munge_dir = Path(tempfile.mkdtemp(prefix="libtorch-bench-munge-"))
        shutil.chown(self.munge_dir, "munge", "munge")
        d = self.munge_dir
        subprocess.run(
            [
                "runuser",
                "-u",
                "munge",
                "--",
                which("munged"),
                f"--pid-file={d}/munged.pid",
                f"--log-file={d}/munged.log",
                f"--seed-file={d}/munged.seed",
            ],
            check=True,
        )
        wait_for(munge_works, 10, "munged answering")

    def node_states(self):
        """The node's state in each partition, e.g. {"idle"}."""
        done = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True)
        return set(done.stdout.split())

    def jobs(self):
        """Every job slurmctld still knows about: JobId -> its `scontrol show job` fields."""
        done = subprocess.run(["scontrol", "-o", "show", "job"], capture_output=True, text=True, check=True)
        jobs = {}
        for line in done.stdout.splitlines():
            fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
            if "JobId" in fields:
                jobs[fields["JobId"]] = fields
        return jobs

    def logs(self):
        return "\n".join(f"--- {p}\n" + p.read_text()[-3000:] for p in sorted(self.state.glob("*.log")))

    def stop(self):
        if (self.state / "slurmctld.pid").exists():  # cancel what a failed run left behind
            ids = subprocess.run(
                ["squeue", "-h", "-o", "%i"], capture_output=True, text=True, timeout=30
            ).stdout.split()
            if ids:
                subprocess.run(["scancel", *ids], capture_output=True, timeout=30)
        stop_by_pid_file(self.state / "slurmd.pid", "slurmd")
        stop_by_pid_file(self.state / "slurmctld.pid", "slurmctld")
        if self.munge_dir is not None:
            stop_by_pid_file(self.munge_dir / "munged.pid", "munged")
            shutil.rmtree(self.munge_dir, ignore_errors=True)
        for conf in (SLURM_CONF, GRES_CONF):
            conf.unlink(missing_ok=True)
            if conf in self.backups:
                shutil.move(self.backups[conf], conf)


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    ensure_slurm_installed()
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cluster = SingleNodeSlurm(tmp_path_factory.mktemp("slurm"))
        try:
            cluster.start()
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture(scope="module")
def slurm_run(pipeline_run, slurm_cluster, tmp_path_factory):
    """The test config through the SLURM profile: (workdir, seconds, SLURM's job records).
    After the local run (pipeline_run), whose compiled objects (ccache) and AOTInductor
    kernels the SLURM jobs reuse: the SLURM run measures the submission, not compilers."""
    workdir = copy_workflow(tmp_path_factory.mktemp("slurm_pipeline"))
    cmd = [
        "timeout",
        "-s",
        "KILL",
        str(RUN_LIMIT_S),
        *SNAKEMAKE,
        "--profile",
        "workflow/profiles/slurm",
        *SLURM_TEST_ARGS,
        "--configfile",
        "config/test.yaml",
    ]
    started = time.monotonic()
    done = subprocess.run(
        cmd, cwd=workdir, env=snakemake_env(workdir), capture_output=True, text=True, timeout=RUN_LIMIT_S + 60
    )
    seconds = time.monotonic() - started
    print(f"SLURM end-to-end run: {seconds:.0f} s")
    (workdir / "snakemake.out").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        job_logs = "\n".join(
            f"--- {p}\n" + p.read_text()[-2000:] for p in sorted(workdir.glob(".snakemake/slurm_logs/**/*.log"))
        )
        pytest.fail(
            f"exit {done.returncode} after {seconds:.0f} s (137: killed at the limit)\n"
            + (done.stdout + done.stderr)[-6000:]
            + job_logs
            + slurm_cluster.logs()
        )
    return workdir, seconds, slurm_cluster.jobs()


def result_files(workdir):
    """Every file under results/, except the CMake build trees (incidental to a build)."""
    root = Path(workdir, "results")
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and "cmake" not in p.relative_to(root).parts[:3]
    }


def test_slurm_run_yields_the_files_of_the_local_run(slurm_run, pipeline_run):
    workdir, _, _ = slurm_run
    assert result_files(workdir) == result_files(pipeline_run)


def test_slurm_samples_match_the_local_samples_except_timings(slurm_run, pipeline_run):
    workdir, _, _ = slurm_run
    csvs = sorted(Path(pipeline_run, "results", "raw").rglob("*.csv"))
    assert csvs
    for local_csv in csvs:
        rel = local_csv.relative_to(pipeline_run)
        local = pd.read_csv(local_csv, keep_default_na=False)
        remote = pd.read_csv(workdir / rel, keep_default_na=False)
        assert list(remote.columns) == list(local.columns), rel
        assert remote.empty == local.empty, rel  # how many rounds a cell took may differ: it stops when decided
        for column in ("technique", "variant", "params", "libtorch", "device", "front", "threads"):
            assert set(remote[column].astype(str)) == set(local[column].astype(str)), (rel, column)
    for local_json in Path(pipeline_run, "results", "raw").rglob("*.json"):
        rel = local_json.relative_to(pipeline_run)
        local, remote = read_json(local_json), read_json(workdir / rel)
        assert remote["status"] == local["status"], rel


def test_builds_and_timing_jobs_ran_in_slurm_as_the_profile_asks(slurm_run):
    workdir, _, jobs = slurm_run
    stamps = job_stamps(workdir)
    assert {s["kind"] for s in stamps} == {"build", "timing"}
    for stamp in stamps:
        assert stamp["slurm_job_id"] in jobs, f"{stamp['rule']} {stamp['wildcards']} ran outside SLURM"
        job = jobs[stamp["slurm_job_id"]]
        assert job["JobState"] == "COMPLETED", job
        if stamp["kind"] == "build":
            assert int(job["NumCPUs"]) == BUILD_CPUS, job
            continue
        # A timing job has the whole node; a CUDA run also a GPU, in the GPU partition.
        assert job["OverSubscribe"] == "NO" and int(job["NumCPUs"]) == NODE_CPUS, job
        if stamp["wildcards"]["device"].startswith("cuda"):
            assert job["Partition"] == "gpu" and "gpu:1" in job.get("TresPerJob", ""), job
        else:
            assert job["Partition"] == "main" and "gpu" not in job.get("TresPerJob", ""), job


def test_light_rules_ran_on_the_submitting_host(slurm_run):
    workdir, _, _ = slurm_run
    log = (workdir / "snakemake.out").read_text()
    assert "localrule provision_libtorch:" in log
    assert "\nrule provision_libtorch:" not in log


def test_no_timing_job_shared_the_node(slurm_run):
    workdir, _, _ = slurm_run
    stamps = job_stamps(workdir)
    timing = [s for s in stamps if s["kind"] == "timing"]
    assert timing and not overlapping(timing, stamps)
