"""Sharing results through DVC remote storage, and DVC's queued experiments (docs/sharing.md).

One pipeline run is shared by every test here: Task 2's chain for one clock model and Task 3's for
the VAE on one dataset, made by Snakemake, with ``dvc.lock`` committed as a user would. From it:
a push to an SSH remote (a real OpenSSH server on 127.0.0.1, started and stopped here) and a pull
into a fresh clone; a partial pull of the trained model alone; two queued experiments run at once.
The full DAG's round trip through a folder remote is in test_workflow.py, on its whole-DAG run.
"""
from __future__ import annotations

import json
import re
import sys
import time

import pytest
import yaml

from pipeline import Project, output_files
from ssh_server import SshUnavailable, ssh_server
from test_workflow import GEN, GEN_MODELS, RUNS, TINY

TARGETS = ["results/clock/models/final_nc12/metrics.json", "results/generative/summary/summary.json"]
STAGES = ["clock_evaluate_final_nc12", "gen_summary"]  # the DVC stages of TARGETS


def dvc_status(project: Project, *stages: str) -> dict:
    """`dvc status` of these stages and every stage they are made from."""
    return json.loads(project.run("dvc", "status", "--json", "--with-deps", *stages).stdout or "{}")


def upstream(stage: str, project: Project) -> list[str]:
    """The stage and every stage it is made from, as DVC sees them (dvc.lock)."""
    lock = yaml.safe_load((project.path / "dvc.lock").read_text())["stages"]
    makers = {out["path"]: name for name, s in lock.items() for out in s.get("outs", [])}
    todo, seen = [stage], []
    while todo:
        s = todo.pop()
        if s in seen:
            continue
        seen.append(s)
        todo += [makers[d["path"]] for d in lock[s].get("deps", []) if d["path"] in makers]
    return seen


def sharing(project: Project, *args: str, check=True):
    """What `./run pull` and `./run retime` run (./run would first make the clone its own .venv)."""
    return project.run(sys.executable, "-m", "idl.sharing", *args, check=check)


@pytest.mark.parametrize("model, history", [
    ("multihead", "docs/results/clock_paper_scale/multihead_history.csv"),
    ("multihead_angle_upright", "docs/results/clock_paper_scale_cpu/run8_history.csv"),  # its recipe, paper scale
])
def test_the_declared_learning_curves_are_columns_the_training_writes(model, history):
    """idl.dvcgen names each history's curves from the recipe; real histories of these recipes hold them."""
    from idl.dvcgen import Job, learning_curves
    from idl.params import read_yaml, resolve
    from pipeline import ROOT

    job = Job("clock_train", {"model": model}, (), (), "")
    curves = learning_curves(job, resolve(read_yaml(ROOT / "params.yaml")))
    header = (ROOT / history).read_text().splitlines()[0].split(",")
    # (these histories predate val_cse, the validation CSE each epoch: tests/test_clock_augment.py trains one)
    assert set(curves) - {"val_cse"} <= set(header)
    assert {"hour_accuracy", "val_hour_accuracy", "val_minute_loss", "val_cse"} <= set(curves)
    plots = yaml.safe_load((ROOT / "dvc.yaml").read_text())["plots"]
    declared = [p for p in plots if isinstance(p, dict) and f"/{model}/history.csv" in next(iter(p))]
    assert [next(iter(p.values()))["y"] for p in declared] == [curves]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    project = Project(tmp_path_factory.mktemp("first"), tweak_demo=TINY, clock_models=["final_nc12"],
                      basics_runs=RUNS, gen_datasets=GEN, gen_models=GEN_MODELS)
    project.snakemake(*TARGETS)
    assert dvc_status(project, *STAGES) == {}  # the run was recorded in dvc.lock
    project.run("git", "add", "dvc.lock")
    project.run("git", "commit", "-qm", "results of the clock and VAE chains")
    return project


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    try:
        with ssh_server(tmp_path_factory.mktemp("sshd")) as s:
            yield s
    except SshUnavailable as e:
        pytest.skip(str(e))


@pytest.mark.slow
def test_push_to_an_ssh_server_and_a_fresh_clone_pulls_instead_of_retraining(made, server, tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    # the remote's address goes in the project (committed); the key in the user's own config
    made.run("dvc", "remote", "add", "--default", "shared", server.url(store))
    made.run("dvc", "remote", "modify", "--local", "shared", "keyfile", str(server.client_key))
    made.run("git", "add", ".dvc/config")
    made.run("git", "commit", "-qm", "the shared remote")
    assert "keyfile" not in (made.path / ".dvc/config").read_text()
    assert "keyfile" in (made.path / ".dvc/config.local").read_text()
    assert made.run("git", "status", "--porcelain", "--ignored", ".dvc").stdout.count("config.local") == 1
    assert "config.local" not in made.run("git", "ls-files", ".dvc").stdout  # ignored, never committed
    made.run("dvc", "push")
    assert any(store.rglob("*")), "nothing reached the server"

    clone = made.clone(tmp_path / "laptop")
    # without the user's key the pull fails, says so, and marks nothing for Snakemake
    failed = sharing(clone, "pull", check=False)
    assert failed.returncode != 0 and "dvc pull" in failed.stderr and "marking" not in failed.stderr
    clone.run("dvc", "remote", "modify", "--local", "shared", "keyfile", str(server.client_key))
    pulled = sharing(clone, "pull")
    assert "marking" in pulled.stderr, pulled.stderr
    # both engines have nothing to do, and the results are the first clone's, byte for byte
    assert clone.snakemake_planned(*TARGETS) == set()
    assert dvc_status(clone, *STAGES) == {}
    stages = sorted({s for t in STAGES for s in upstream(t, made)})
    ours, theirs = output_files(clone, stages), output_files(made, stages)
    assert set(ours) == set(theirs) and "results/clock/models/final_nc12/model.keras" in ours
    assert [f for f in sorted(ours) if ours[f] != theirs[f]] == []


@pytest.mark.slow
def test_pulling_only_the_trained_model_leaves_only_its_evaluation_to_run(made, tmp_path):
    store = tmp_path / "store"
    made.run("dvc", "remote", "add", "course", str(store))  # a plain folder (a cluster's shared disk)
    made.run("git", "commit", "-qam", "the course's remote")
    made.run("dvc", "push", "--remote", "course", "--with-deps", "clock_train_final_nc12")
    model = "results/clock/models/final_nc12/model.keras"
    # one file without a clone (docs/sharing.md), from the repository's committed remote
    made.run("dvc", "get", str(made.path), model, "--remote", "course", "-o", str(tmp_path / "got.keras"))
    assert (tmp_path / "got.keras").read_bytes() == (made.path / model).read_bytes()

    clone = made.clone(tmp_path / "student")
    # a stage that does not exist: DVC's error, and nothing marked
    bad = sharing(clone, "pull", "--remote", "course", "clock_train_no_such_model", check=False)
    assert bad.returncode != 0 and "clock_train_no_such_model" in bad.stdout + bad.stderr
    assert not (clone.path / "results").exists()

    sharing(clone, "pull", "--remote", "course", "clock_train_final_nc12")
    assert (clone.path / model).read_bytes() == (made.path / model).read_bytes()
    # Snakemake would evaluate the pulled model, not retrain it, and DVC agrees
    assert clone.snakemake_planned(TARGETS[0]) == {"clock_evaluate[final_nc12]"}
    assert set(dvc_status(clone, STAGES[0])) == {"clock_evaluate_final_nc12"}


def _queue_finished(project: Project, names, timeout=900) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        out = project.run("dvc", "queue", "status").stdout
        states = {m.group(1): m.group(2) for m in re.finditer(r"^\w+\s+(\S+)\s+.*?\s(\w+)\s*$", out, re.M)
                  if m.group(1) in names}
        if len(states) == len(names) and not {"Queued", "Running"} & set(states.values()):
            return states
        assert time.monotonic() < deadline, out
        time.sleep(5)


@pytest.mark.slow
def test_two_queued_experiments_run_at_once_and_one_is_brought_back(made):
    key = "profiles.demo.clock.train.epochs"  # the clock model's epochs in the demo (TINY: 1)
    for n in (2, 3):
        made.run("dvc", "exp", "run", "--queue", "--name", f"epochs{n}", "--set-param", f"{key}={n}", STAGES[0])
    made.run("dvc", "queue", "start", "--jobs", "2")
    try:
        states = _queue_finished(made, {"epochs2", "epochs3"})
    finally:
        made.run("dvc", "queue", "stop", check=False)  # the workers this test started
    logs = {n: made.run("dvc", "queue", "logs", n, check=False).stdout for n in ("epochs2", "epochs3")}
    assert states == {"epochs2": "Success", "epochs3": "Success"}, logs
    spans = []
    for log in logs.values():  # each retrained in its own copy, from scratch: no resume state there
        assert "Running stage 'clock_train_final_nc12'" in log and "resuming" not in log, log[-3000:]
        assert "Stage 'clock_split' didn't change" in log, log[-3000:]
        times = re.findall(r"^(\d\d:\d\d:\d\d) INFO", log, re.M)  # the stages' own log lines
        spans.append((times[0], times[-1]))
    (a0, a1), (b0, b1) = spans
    assert a0 < b1 and b0 < a1, f"the two experiments did not run at once: {spans}"

    # dvc exp show: each experiment's parameters, and its CSE, accuracy and the VAE's Fréchet distance
    shown = json.loads(made.run("dvc", "exp", "show", "--json").stdout)
    exps = {rev["name"]: rev["data"] for b in shown for e in (b.get("experiments") or []) for rev in e["revs"]}
    assert {"epochs2", "epochs3"} <= set(exps)
    for n in (2, 3):
        data = exps[f"epochs{n}"]
        assert data["params"]["params.yaml"]["data"]["profiles"]["demo"]["clock"]["train"]["epochs"] == n
        clock = data["metrics"]["results/clock/models/final_nc12/metrics.json"]["data"]
        assert clock["epochs"] == n and {"cse_mean", "accuracy"} <= set(clock)
        fd = data["metrics"]["results/generative/summary/summary.json"]["data"]["tinyhero/vae"]
        assert "samples_frechet" in fd

    # dvc plots diff: the two learning curves side by side, accuracy and the validation CSE as well as loss
    history = "results/clock/models/final_nc12/history.csv"
    plots = json.loads(made.run("dvc", "plots", "diff", "epochs2", "epochs3", "--json", "--targets",
                                history).stdout)["data"]
    (drawn,) = plots[f"dvc.yaml::{history}"]  # as dvc.yaml defines it (idl.dvcgen.learning_curves)
    assert set(drawn["revisions"]) == {row["rev"] for row in drawn["content"]["data"]["values"]} == {
        "epochs2", "epochs3"}
    curves = drawn["content"]["encoding"]["strokeDash"]["scale"]["domain"]
    assert set(curves) == {"accuracy", "val_accuracy", "loss", "val_loss", "val_cse"}

    # one brought back into the workspace: both engines agree it is up to date
    applied = made.run("dvc", "exp", "apply", "epochs3", check=False)
    if applied.returncode != 0:  # DVC checks out every stage of dvc.yaml, and this run made only two chains
        from idl.workflow import dvc_stage_outputs

        recorded = yaml.safe_load((made.path / "dvc.lock").read_text())["stages"]
        never_run = {p for s, paths in dvc_stage_outputs(made.path / "dvc.yaml").items() if s not in recorded
                     for p in paths}
        assert "Checkout failed for following targets:" in applied.stderr, applied.stderr[-3000:]
        failed = applied.stderr.split("Checkout failed for following targets:", 1)[1]
        assert set(re.findall(r"^(res\S+)$", failed, re.M)) <= never_run, applied.stderr[-3000:]
    sharing(made, "retime")
    assert len((made.path / history).read_text().splitlines()) == 1 + 3
    assert made.snakemake_planned(*TARGETS) == set()
    assert dvc_status(made, *STAGES) == {}
