"""One run of a stage at a time, whichever engine starts it; no temporary outlives a run."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from idl import locks
from pipeline import Project

ROOT = Path(__file__).resolve().parents[1]

HOLDER = """
import sys, time
from idl.locks import hold
with hold(sys.argv[1:]):
    print("held", flush=True)
    time.sleep(600)
"""

# A stand-in stage: writes its output atomically, slowly, so a test can stop it part-way.
SLOW_STAGE = """
import os, time
from pathlib import Path
from idl.io import atomic_dir
from idl.stage import run

def add_arguments(ap):
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--state", type=Path, required=True)

def main(args, p):
    with atomic_dir(args.out) as tmp:
        (tmp / "part.txt").write_text("half")
        print("writing", flush=True)
        time.sleep(float(os.environ.get("SLOW_STAGE_SECONDS", "600")))
        (tmp / "done.txt").write_text(str(p["seed"]))

if __name__ == "__main__":
    run(main, ("seed",), add_arguments, "slow stage", ("out", "state"))
"""


def _start(code: str, *args, cwd=None) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", code, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    assert first.strip() in ("held", "writing"), (first, proc.stderr.read() if proc.poll() is not None else "")
    return proc


def _leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*") if ".tmp" in p.name or p.suffix == ".lock")


def test_a_held_output_refuses_a_second_run_naming_the_first(tmp_path):
    out = tmp_path / "results" / "model"
    holder = _start(HOLDER, out)
    try:
        with pytest.raises(locks.Busy) as err:
            with locks.hold([tmp_path / "other", out]):
                pass
        msg = str(err.value)
        assert str(out) in msg and f"pid {holder.pid}" in msg and "wait for that run" in msg
        assert not (tmp_path / ".other.lock").exists()  # what it had taken is given back
    finally:
        holder.kill()
        holder.wait()
    with locks.hold([tmp_path / "new" / "deep" / "out"]):
        assert (tmp_path / "new" / "deep").is_dir()
    assert not (tmp_path / "new").exists(), "folders made only for the lock are removed again"
    # kill -9 leaves the lock file but no lock: the next run takes it, and removes it after
    with locks.hold([out]):
        assert locks.lock_path(out).exists()
    assert not locks.lock_path(out).exists()


def _slow_stage(tmp_path):
    script = tmp_path / "slow_stage.py"
    script.write_text(SLOW_STAGE)
    params = tmp_path / "params.yaml"
    params.write_text((ROOT / "params.yaml").read_text())
    return [sys.executable, str(script), "--params", str(params), "--out", str(tmp_path / "out"),
            "--state", str(tmp_path / "state")]


def _env(seconds=600):
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), "SLOW_STAGE_SECONDS": str(seconds)}


def _default_sigint():
    # a shell running commands in the background ignores SIGINT in them, and Python then keeps ignoring it
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_stage_leaves_no_temporary_and_no_lock(tmp_path, sig):
    proc = subprocess.Popen(_slow_stage(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(), preexec_fn=_default_sigint)
    assert proc.stdout.readline().strip() == "writing"
    assert _leftovers(tmp_path)  # the half-written output and the locks
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig
    assert "rerun the same command" in err and "please report" not in err
    assert _leftovers(tmp_path) == [] and not (tmp_path / "out").exists()


def test_a_second_sigterm_does_not_cut_the_clean_up_short(tmp_path):
    # Slurm sends a job step SIGTERM twice, milliseconds apart, at its time limit
    proc = subprocess.Popen(_slow_stage(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGTERM)
    while proc.poll() is None:  # more, all through the clean-up
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.001)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "stopped by SIGTERM" in err and "rerun the same command" in err
    assert _leftovers(tmp_path) == [] and not (tmp_path / "out").exists()


def test_a_killed_stage_is_swept_by_the_next_run_and_a_second_run_is_refused(tmp_path):
    cmd = _slow_stage(tmp_path)
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    assert first.stdout.readline().strip() == "writing"
    second = subprocess.run(cmd, capture_output=True, text=True, env=_env(0), timeout=60)
    assert second.returncode == 1
    assert "is being made by another run of this stage" in second.stderr and f"pid {first.pid}" in second.stderr
    assert "please report" not in second.stderr
    first.kill()
    first.wait()
    stale = [p for p in _leftovers(tmp_path) if ".tmp" in p]
    assert stale, "kill -9 leaves the half-written output behind"
    third = subprocess.run(cmd, capture_output=True, text=True, env=_env(0), timeout=60)
    assert third.returncode == 0, third.stderr
    assert (tmp_path / "out" / "done.txt").exists()
    assert _leftovers(tmp_path) == []


@pytest.fixture(scope="module")
def split_made(tmp_path_factory):
    """A demo project with one clock model, its data and split made by Snakemake."""
    project = Project(tmp_path_factory.mktemp("locks"), clock_models=["final_nc12"],
                      tweak_demo={"clock": {"train": {"epochs": 4}}})
    project.snakemake("results/clock/split")
    return project


def test_dvc_refuses_a_stage_snakemake_is_running(split_made):
    project = split_made
    state = project.path / "state" / "clock" / "final_nc12"
    from pipeline import BIN, env

    cmd = [str(BIN / "snakemake"), "results/clock/models/final_nc12/model.keras", "--cores", "1"]
    snake = subprocess.Popen(cmd, cwd=project.path, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    try:
        deadline = time.time() + 120
        while not locks.lock_path(state).exists():
            assert snake.poll() is None and time.time() < deadline, snake.stdout.read()
            time.sleep(0.2)
        dvc = project.run("dvc", "repro", "--single-item", "clock_train_final_nc12", check=False)
        said = dvc.stdout + dvc.stderr
        assert dvc.returncode != 0
        assert "is being made by another run of this stage" in said and "by snakemake" in said, said
        assert "please report" not in said
        out, _ = snake.communicate(timeout=600)
    finally:
        if snake.poll() is None:
            snake.kill()
    assert snake.returncode == 0, out
    # Snakemake's own run finished, wrote its model and recorded it in DVC despite the attempt
    assert (project.path / "results/clock/models/final_nc12/model.keras").exists()
    assert "clock_train_final_nc12" not in project.dvc_status()
    assert _leftovers(project.path / "results") == [] and _leftovers(project.path / "state") == []


def test_both_engines_refuse_a_stage_whose_output_is_held(split_made):
    project = split_made
    raw = project.path / "resources" / "raw" / "tinyhero"
    holder = _start(HOLDER, raw, cwd=project.path)
    try:
        snake = project.snakemake("resources/raw/tinyhero", check=False)
        dvc = project.run("dvc", "repro", "--single-item", "generate_data_tinyhero", check=False)
        for proc in (snake, dvc):
            said = proc.stdout + proc.stderr
            assert proc.returncode != 0
            assert f"pid {holder.pid}" in said and "resources/raw/tinyhero" in said, said
        assert not raw.exists()
    finally:
        holder.kill()
        holder.wait()
    project.snakemake("resources/raw/tinyhero")
    assert (raw / "SOURCE.json").exists() and not locks.lock_path(raw).exists()


POOL = """
import multiprocessing
from idl.stage import _signals_raise

def square(x):
    return x * x

with _signals_raise():  # as in every stage; the clock generator renders with a process pool
    for _ in range(60):  # the races below show in a few % of rounds
        pool = multiprocessing.Pool(2)
        try:
            assert sum(pool.imap_unordered(square, range(100))) == 328350
        finally:
            pool.terminate()  # SIGTERM to workers that inherited the stage's handler, some just forked
            pool.join()
print("done", flush=True)
"""


def test_pool_workers_stopped_by_sigterm_die_quietly_instead_of_deadlocking():
    proc = subprocess.run([sys.executable, "-c", POOL], capture_output=True, text=True, timeout=120, env=_env())
    assert proc.returncode == 0 and proc.stdout.strip() == "done", proc.stderr
    assert "Terminated" not in proc.stderr  # a worker raising inside the pool's queue lock hangs the pool
