"""The Slurm profile (profiles/slurm) on a real single-node Slurm cluster (tests/slurm_cluster.py).

Task 3 on one dataset (its data steps, then gen_split, gen_train, gen_evaluate and gen_summary) runs
through ``snakemake --profile profiles/slurm``, each job as one Slurm job, beside a local run of
the same targets in another copy; then the two copies' outputs are compared. A second run gives a
training job a one-minute time limit, which Slurm enforces with SIGTERM. The cluster tests skip,
with the reason, only where the cluster's Debian packages are not installed (.ci/run installs them).
"""
from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
import zipfile
from pathlib import Path

import psutil
import pytest

from pipeline import ROOT, Project, env
from slurm_cluster import SlurmUnavailable, check_available, slurm_cluster
from test_workflow import TINY

TARGET = "results/generative/summary/summary.json"
GEN = dict(gen_datasets=["tinyhero"], gen_models=["vae"])
TRAINING = {"clock_train", "basics_train", "basics_cifar", "gen_train"}
# the same threads in both runs: CPU training is deterministic for a seed and a thread count
ONE_THREAD = ["--set-threads", *(f"{rule}=1" for rule in sorted(TRAINING))]
# the second test's VAE: 0.3-0.7 s an epoch on one thread, far longer than the minute its job is given
EPOCHS = 1000
LONG = {**TINY, "generative": {**TINY["generative"], "models": {"vae": {"epochs": EPOCHS, "filters": 8}}}}
# what the task writes (model.keras is compared without its metadata.json, which holds the time)
OUTPUTS = ["resources", "results"]


def _files(root: Path) -> set[str]:
    found = set()
    for out in OUTPUTS:
        p = root / out
        found |= {str(f.relative_to(root)) for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()}
    return found


def _same(a: Path, b: Path) -> bool:
    if a.suffix == ".keras":  # a zip: the config and the weights must match, not the time it was saved
        with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
            names = set(za.namelist()) - {"metadata.json"}
            return names == set(zb.namelist()) - {"metadata.json"} and all(
                za.read(n) == zb.read(n) for n in names)
    return a.read_bytes() == b.read_bytes()


class Background:
    """A local Snakemake run of ``targets`` in ``project``, started at once at the lowest priority:
    it fills the time the Slurm run spends waiting for its status checks and leaves the CPUs to the
    Slurm jobs (the plugin checks at growing intervals, so a job slowed by a few seconds is seen
    20 s later)."""

    def __init__(self, project: Project, *targets: str):
        self.project = project
        self.log = project.path / "background-run.log"
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                ["nice", "-n", "19", "snakemake", *targets, "--cores", "2", "--resources", "gpu=2",
                 *ONE_THREAD],
                cwd=project.path, env=env(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def wait(self) -> Project:
        assert self.proc.wait(timeout=900) == 0, self.log.read_text()[-4000:]
        return self.project

    def stop(self) -> None:
        _stop(self.proc)


def _stop(proc: subprocess.Popen, only: str = "") -> None:
    """Stop a local Snakemake run: SIGTERM to its jobs' processes (those whose command line holds
    ``only``), as a scheduler would; Snakemake, sent SIGTERM, would wait for its jobs to finish.
    Whatever is left after two minutes is killed."""
    if proc.poll() is not None:
        return
    children = []
    for child in psutil.Process(proc.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if only in " ".join(child.cmdline()):
                children.append(child)
                child.terminate()
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        for child in children:
            with contextlib.suppress(psutil.Error):
                child.kill()
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def background(tmp_path_factory):
    """Both tests' local runs, started before the cluster: the reference run of the first test, and
    the data the second test's training reads (its VAE would train for EPOCHS epochs instead of 1)."""
    try:
        check_available()  # no cluster, no local runs
    except SlurmUnavailable as e:
        pytest.skip(str(e))
    runs = {
        "reference": Background(Project(tmp_path_factory.mktemp("local"), tweak_demo=TINY, **GEN), TARGET),
        "long_training": Background(Project(tmp_path_factory.mktemp("timeout"), tweak_demo=LONG, **GEN),
                                    "results/generative/tinyhero/split"),
    }
    yield runs
    for run in runs.values():
        run.stop()


@pytest.fixture(scope="module")
def cluster():
    try:
        with slurm_cluster() as c:
            yield c
    except SlurmUnavailable as e:
        pytest.skip(str(e))


@pytest.mark.slow
def test_task3_runs_as_slurm_jobs_with_a_gpu_for_training_and_matches_a_local_run(
        background, cluster, tmp_path, monkeypatch):
    project = Project(tmp_path, tweak_demo=TINY, **GEN)
    planned = project.snakemake_planned(TARGET)  # e.g. "gen_train[tinyhero,vae]"
    assert {"gen_split[tinyhero]", "gen_train[tinyhero,vae]", "gen_evaluate[tinyhero,vae]",
            "gen_summary"} < planned
    # partition and account come from the user, here through the profile's variables
    monkeypatch.setenv("SLURM_CONF", str(cluster.conf))
    monkeypatch.setenv("IDL_SLURM_PARTITION", cluster.partition)
    monkeypatch.setenv("IDL_SLURM_ACCOUNT", cluster.account)
    start = time.monotonic()
    proc = project.run("snakemake", "--profile", "profiles/slurm", TARGET,
                       # the plugin's first status check 1 s after a submission (the profile: 20 s);
                       # it adds 10 s to the wait after each check that finds no job finished
                       "--slurm-init-seconds-before-status-checks", "1", *ONE_THREAD, check=False)
    took = time.monotonic() - start
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{log[-6000:]}\n{cluster.log_tails()}"
    print(f"Slurm run: {took:.0f} s")

    # -- every job ran as a Slurm job --------------------------------------------------------------
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    submitted = dict(re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", log))
    assert len(submitted) == len(planned), log[-4000:]
    jobs = [j for j in cluster.sacct("JobID", "JobName", "State", "Partition", "Account", "Comment",
                                     "ReqTRES", "AllocTRES", "Timelimit", "ReqMem")
            if j["JobName"] == run_id]
    assert {j["JobID"] for j in jobs} == set(submitted.values())
    expected = {"rule_" + p.replace("[", "_wildcards_").replace(",", "_").rstrip("]") for p in planned}
    assert {j["Comment"] for j in jobs} == expected  # the plugin names the rule and wildcards there
    for j in jobs:
        assert j["State"] == "COMPLETED", j
        assert (j["Partition"], j["Account"]) == (cluster.partition, cluster.account), j
    steps = {s["JobID"] for s in cluster.sacct("JobID", "JobName", all_steps=True)}
    slurm_logs = project.path / ".snakemake" / "slurm_logs"
    for j in jobs:
        # the rule's command ran in a job step (srun) of that job, and its output is the job's log
        assert f"{j['JobID']}.0" in steps, j
        rule = re.match(r"rule_(\w+?)(_wildcards_|$)", j["Comment"]).group(1)
        job_log = next(slurm_logs.glob(f"rule_{rule}/**/{j['JobID']}.log"))
        assert f"rule {rule}:" in job_log.read_text()

    # -- training asked for one GPU (and got it); everything else for none ---------------------
    for j in jobs:
        training = j["Comment"].split("_wildcards_")[0][len("rule_"):] in TRAINING
        assert ("gres/gpu=1" in j["ReqTRES"] and "gres/gpu=1" in j["AllocTRES"]) == training, j
        assert ("gres/gpu" in j["ReqTRES"]) == training, j
        # training: gen_train's own resources (rules/generative.smk: 90 minutes, 4000 MB); the rest:
        # the profile's default-resources, 2 hours and 4 GB
        want = ("01:30:00", "4000M") if training else ("02:00:00", "4000M")
        assert (j["Timelimit"], j["ReqMem"]) == want, j

    # -- the same outputs as a local run --------------------------------------------------------------
    local = background["reference"].wait()
    ours, theirs = _files(project.path), _files(local.path)
    assert ours == theirs and "results/generative/tinyhero/vae/scores.json" in ours
    assert [f for f in sorted(ours) if not _same(project.path / f, local.path / f)] == []
    for f in ("results/generative/tinyhero/vae/scores.json", TARGET):
        assert json.loads((project.path / f).read_text()) == json.loads((local.path / f).read_text())

    # -- and afterwards nothing to do, for either engine ----------------------------------------------
    assert project.snakemake_planned(TARGET) == set()
    status = project.run("dvc", "status", "--json", "gen_summary", "--with-deps").stdout
    assert json.loads(status or "{}") == {}


def test_profile_has_no_global_gpu_cap_and_takes_partition_and_account_from_the_user(monkeypatch):
    """What Snakemake makes of the profile, beside profiles/default (which it loads too)."""
    from snakemake.cli import parse_args
    from snakemake.profiles import ProfileConfigFileParser

    def profile() -> dict:
        with open(ROOT / "profiles" / "slurm" / "config.yaml") as f:
            return dict(ProfileConfigFileParser().parse(f))

    for var in ("IDL_SLURM_PARTITION", "IDL_SLURM_ACCOUNT", "IDL_SLURM_GPU_PARTITION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(ROOT)
    _, args = parse_args(["--profile", "profiles/slurm"])
    assert args.executor == "slurm"
    # whatever cap on `gpu` profiles/default (or --resources) sets for local runs: scoped local,
    # Snakemake counts it within each Slurm job, not across them
    assert args.set_resource_scopes == {"gpu": "local"}
    # nothing of a particular cluster is written in the profile
    text = json.dumps(profile())
    assert "slurm_partition" not in text and "slurm_account" not in text
    # run time and memory are the rules' own (their `resources:`), not the profile's
    assert "set-resources" not in profile()
    monkeypatch.setenv("IDL_SLURM_PARTITION", "cpus")
    monkeypatch.setenv("IDL_SLURM_ACCOUNT", "proj")
    assert {"slurm_partition=cpus", "slurm_account=proj"} <= set(profile()["default-resources"])
    assert {f"{r}:slurm_partition=cpus" for r in TRAINING} <= set(profile()["set-resources"])
    monkeypatch.setenv("IDL_SLURM_GPU_PARTITION", "gpus")
    assert {f"{r}:slurm_partition=gpus" for r in TRAINING} <= set(profile()["set-resources"])
    assert "slurm_partition=cpus" in profile()["default-resources"]


def _leftovers(folder: Path) -> list[str]:
    """What a training stage left in its output folder, but for the lock files of its outputs
    (.NAME.lock: reused by the next run, whose own end removes them)."""
    return sorted(f.name for f in folder.iterdir() if not re.fullmatch(r"\.[\w.]+\.lock", f.name)) \
        if folder.exists() else []


def _epochs(history_csv: Path) -> list[int]:
    return [int(line.split(",")[0]) for line in history_csv.read_text().splitlines()[1:] if line]


@pytest.mark.slow
def test_training_past_its_slurm_time_limit_stops_cleanly_and_resumes(background, cluster, monkeypatch):
    """Slurm ends a job at its time limit with SIGTERM (then SIGKILL after KillWait); the training
    stage ends through its clean-up path, leaves no partial output, and a rerun resumes."""
    project = background["long_training"].wait()  # its inputs, made locally
    target = "results/generative/tinyhero/vae/model.keras"
    model_dir = project.path / "results/generative/tinyhero/vae"
    state = project.path / "state/generative/tinyhero/vae"
    train_log = project.path / "logs/generative/train_tinyhero_vae.log"
    monkeypatch.setenv("SLURM_CONF", str(cluster.conf))
    monkeypatch.setenv("IDL_SLURM_PARTITION", cluster.partition)
    monkeypatch.setenv("IDL_SLURM_ACCOUNT", cluster.account)

    # a one-minute limit (sbatch -t 1): Slurm's own timer stops the job 60-90 s after it starts
    start = time.monotonic()
    proc = project.run("snakemake", "--profile", "profiles/slurm", target,
                       "--slurm-init-seconds-before-status-checks", "1", *ONE_THREAD,
                       "--set-resources", "gen_train:runtime=1", check=False)
    print(f"run with a time limit: {time.monotonic() - start:.0f} s")
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, log[-4000:]
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    (job,) = [j for j in cluster.sacct("JobID", "JobName", "State", "Timelimit", "Elapsed")
              if j["JobName"] == run_id]
    print(f"Slurm job: {job}")
    assert (job["State"], job["Timelimit"]) == ("TIMEOUT", "00:01:00"), job
    # the stage got SIGTERM and took its clean-up path: nothing of its outputs is left, neither
    # the files nor their temporaries (Snakemake itself removes declared outputs only)
    text = train_log.read_text()
    assert "training interrupted" in text, text[-2000:]
    # Slurm sends the step SIGTERM twice, ms apart: the second must not cut the clean-up short
    assert "stopped by SIGTERM" in text.strip().splitlines()[-1], text[-2000:]
    assert _leftovers(model_dir) == []
    done = _epochs(state / "history.csv")  # the finished epochs, kept for resuming
    assert done == list(range(len(done))) and 0 < len(done) < EPOCHS and (state / "backup").is_dir()

    # the same target again (locally: the resume state is the stage's, whoever runs it) carries on
    # after the saved epochs; once it has trained a few more, its stage is stopped with SIGTERM as a
    # scheduler would (Snakemake itself, sent SIGTERM, waits for its running jobs to finish)
    with open(project.path / "rerun.log", "w") as out:
        rerun = subprocess.Popen(["snakemake", target, "--cores", "2", "--resources", "gpu=2", *ONE_THREAD],
                                 cwd=project.path, env=env(), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while len(_epochs(state / "history.csv")) < len(done) + 3 and rerun.poll() is None:
            assert time.monotonic() < deadline, train_log.read_text()[-2000:]
            time.sleep(0.5)
    finally:
        _stop(rerun, only="scripts/gen_train.py")
    assert rerun.returncode != 0 and "stopped by SIGTERM" in train_log.read_text()
    text = train_log.read_text()
    assert "resuming from training state" in text and "discarding" not in text, text[-2000:]
    epochs = _epochs(state / "history.csv")
    print(f"rerun: resumed after {len(done)} of {EPOCHS} epochs, stopped after {max(epochs) + 1}")
    # the first run's epochs, then the rerun's from where it stopped (the epoch cut short is redone)
    assert epochs[:len(done)] == done and epochs[len(done)] in (len(done) - 1, len(done))
    assert epochs[len(done) + 1:] == list(range(epochs[len(done)] + 1, max(epochs) + 1))
    assert _leftovers(model_dir) == []
