"""What each engine costs when nothing changed, on the full demo DAG (every model: 98 stages).

Why: a user runs `snakemake -n` or `dvc status` to see what is out of date, and every Snakemake
run ends by recording its outputs in DVC. Those should take seconds, not minutes. Goals (issue
15): a no-op `snakemake -n` <= 1.5 s, `dvc status` <= 1.5 s, recording a finished run <= 10 s.

    python benchmarks/bench_bookkeeping.py --project DIR   # a finished demo run in DIR (built there first
                                                           # if DIR does not exist: the demo, minutes)
    python benchmarks/bench_bookkeeping.py                 # the same in a temporary folder

Each figure is set beside the same engine's floor, measured in the same run: the command on a
one-stage pipeline (Snakemake's and DVC's own start-up), so the ratio is what our DAG adds.
Recording is timed after touching every output, as a fresh Snakemake run leaves them (DVC must
hash them again).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
GOALS = {"snakemake -n": 1.5, "dvc status": 1.5, "record": 10.0}


def _env(**extra) -> dict:
    env = dict(os.environ, DVC_NO_ANALYTICS="1", **extra)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def timed(cmd: list[str], cwd: Path, repeat: int, check_out=None) -> float:
    """Median wall time of ``cmd`` over ``repeat`` runs (after one warm-up run)."""
    times = []
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{proc.stderr[-3000:]}")
        if check_out is not None:
            check_out(proc.stdout + proc.stderr)
        if i:
            times.append(elapsed)
    return statistics.median(times)


def build_demo(where: Path, **env) -> float:
    """A copy of the project with ``profile: demo`` (so the run is recorded in DVC) and every model of
    ``params.yaml`` (the full DAG, not the demo's one model of each kind), run by Snakemake as
    ``./run demo`` runs it, with ``env`` added to the environment; returns the run's wall seconds."""
    where.mkdir(parents=True)
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        (where / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, where / f)
    # A round trip keeps params.yaml's comments and layout, as users have it: DVC parses the file
    # once per stage.
    from ruamel.yaml import YAML

    rt = YAML()
    rt.width = 4096  # keep its lines as they are
    params = rt.load(where / "params.yaml")
    params["profile"] = "demo"
    params["profiles"]["demo"]["clock"].pop("models")  # the demo's nulls: every model stays
    params["profiles"]["demo"]["basics"].pop("runs")
    rt.dump(params, where / "params.yaml")
    # the demo's DAG is not the paper's (generated data, fewer held-out scores): dvc.yaml follows it
    subprocess.run([sys.executable, "-m", "idl.dvcgen"], cwd=where, check=True, capture_output=True,
                   env=_env(PYTHONPATH=str(where / "src")))
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "-c", "user.name=bench", "-c",
                "user.email=bench@example.invalid", "commit", "-qm", "bench"]):
        subprocess.run(cmd, cwd=where, check=True, env=_env())
    n = str(os.cpu_count() or 2)
    print(f"building the demo in {where} (minutes)...", flush=True)
    t0 = time.perf_counter()
    subprocess.run(["snakemake", "--cores", n, "--resources", f"gpu={n}", "--set-threads", "clock_train=1",
                    "basics_train=1", "basics_cifar=1", "gen_train=1"], cwd=where, env=_env(**env), check=True,
                   capture_output=True)
    return time.perf_counter() - t0


def floor_project(where: Path) -> Path:
    """One stage, one input, one output: what each engine costs before our DAG adds anything."""
    where.mkdir(parents=True)
    (where / "in.txt").write_text("x\n")
    (where / "Snakefile").write_text('rule one:\n    input: "in.txt"\n    output: "out.txt"\n'
                                     '    shell: "cp {input} {output}"\n')
    (where / "dvc.yaml").write_text("stages:\n  one:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n"
                                    "    outs: [out.txt]\n")
    for cmd in (["git", "init", "-q"], ["dvc", "init", "-q"], ["dvc", "repro", "-q"]):
        subprocess.run(cmd, cwd=where, check=True, env=_env(), capture_output=True)
    subprocess.run(["snakemake", "--cores", "1", "--touch"], cwd=where, check=True, env=_env(), capture_output=True)
    return where


def _nothing_to_do(out: str) -> None:
    if "Nothing to be done" not in out:
        raise SystemExit("the project is not finished: `snakemake -n` has jobs to run")


def _clean(out: str) -> None:
    if json.loads(out.strip().splitlines()[-1] or "{}"):
        raise SystemExit("`dvc status` is not clean: record the run first (./run record)")


def record_time(project: Path, repeat: int) -> tuple[float, int]:
    from idl.workflow import dvc_stage_outputs

    outputs = [project / p for paths in dvc_stage_outputs(project / "dvc.yaml").values() for p in paths]
    code = "import sys; from idl.workflow import record_in_dvc; sys.exit(0 if record_in_dvc('params.yaml') else 1)"
    files = [f for p in outputs for f in ([p] if p.is_file() else [q for q in p.rglob("*") if q.is_file()])]
    before = {f: f.stat() for f in files}
    times = []
    try:
        for _ in range(repeat):
            now = time.time()
            for f in files:  # a fresh run leaves new files: DVC hashes them again
                os.utime(f, (now, now))
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", code], cwd=project, env=_env(), capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                raise SystemExit(f"recording failed:\n{proc.stderr[-3000:]}")
    finally:  # the project as it was, so that --project DIR can be measured again
        for f, st in before.items():
            os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
        subprocess.run([sys.executable, "-c", code], cwd=project, env=_env(), capture_output=True)
    return statistics.median(times), len(outputs)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", type=Path, help="a finished demo run recorded in DVC (built there if missing)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per command (median reported)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        project = (args.project or Path(tmp) / "demo").resolve()
        if not project.exists():
            build_demo(project)
        floor = floor_project(Path(tmp) / "floor")
        stages = len(yaml.safe_load((project / "dvc.yaml").read_text())["stages"])
        rows = []
        for name, cmd, check in (("snakemake -n", ["snakemake", "-n"], _nothing_to_do),
                                 ("dvc status", ["dvc", "status", "--json"], _clean)):
            ours = timed(cmd, project, args.repeat, check)
            base = timed(cmd, floor, args.repeat)
            rows.append((name, ours, base))
        rec, n_out = record_time(project, args.repeat)
        base_rec = timed(["dvc", "commit", "--force", "--quiet", "--no-relink"], floor, args.repeat)
        rows.append(("record", rec, base_rec))

    print(f"\n{stages} stages, {n_out} outputs; median of {args.repeat} runs; {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'command':<14} {'ours s':>8} {'floor s':>8} {'ratio':>6} {'goal s':>7}  met")
    for name, ours, base in rows:
        goal = GOALS[name]
        print(f"{name:<14} {ours:8.2f} {base:8.2f} {ours / base:6.1f} {goal:7.1f}  {'yes' if ours <= goal else 'NO'}")


if __name__ == "__main__":
    main()
