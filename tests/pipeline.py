"""Helpers for tests that run the real pipeline in a throw-away copy of the project."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def project_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split("\n")
    return [f for f in out if f and (ROOT / f).is_file()]


def env() -> dict:
    e = dict(os.environ)
    e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"
    e.setdefault("GIT_AUTHOR_NAME", "test")
    e.setdefault("GIT_AUTHOR_EMAIL", "test@example.invalid")
    e.setdefault("GIT_COMMITTER_NAME", "test")
    e.setdefault("GIT_COMMITTER_EMAIL", "test@example.invalid")
    e["DVC_NO_ANALYTICS"] = "1"
    e["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return e


def named_config(config: Path) -> tuple[list[str], dict]:
    """The files that ``configs/X.yaml``'s header command gives to ``--configfile`` (params.yaml
    first), and the parameters they make, merged as Snakemake merges them and resolved."""
    from snakemake.utils import update_config

    from idl import params as P

    command = re.search(r"--configfile((?:\s+\S+\.yaml)+)", config.read_text())
    assert command, f"{config.name}'s header does not give the snakemake command that runs it"
    files = command.group(1).split()
    assert files[0] == "params.yaml" and f"configs/{config.name}" in files, files
    merged = P.read_yaml(ROOT / files[0])
    for name in files[1:]:
        update_config(merged, P.read_yaml(ROOT / name))
    return files, P.resolve(merged, str(config))


class Project:
    """A copy of the project in ``path``, with git and DVC initialised."""

    def __init__(self, path: Path, tweak_demo: dict | None = None, clock_models: list[str] | None = None,
                 clock_external: dict | None = None, basics_runs: list[str] | None = None,
                 gen_datasets: list[str] | None = None, gen_models: list[str] | None = None):
        self.path = path
        for f in project_files():
            dst = path / f
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, dst)
        params = self.params()
        params["profile"] = "demo"
        if tweak_demo:
            from idl.params import deep_merge

            params["profiles"]["demo"] = deep_merge(params["profiles"]["demo"], tweak_demo)
        demo = params["profiles"]["demo"]
        if clock_models is not None:  # fewer models: the DAG (and so dvc.yaml) shrinks with them
            params["clock"]["models"] = {m: params["clock"]["models"][m] for m in clock_models}
            demo.get("clock", {}).pop("models", None)  # these, not the demo's own choice
            # and the demo's held-out-style scores name only models that are left (none left: all)
            heldout = demo.get("clock", {}).get("heldout", {})
            if heldout.get("models"):
                heldout["models"] = [m for m in heldout["models"] if m in clock_models] or None
        if basics_runs is not None:
            params["basics"]["runs"] = {r: params["basics"]["runs"][r] for r in basics_runs}
            demo.get("basics", {}).pop("runs", None)
        if clock_external is not None:
            params["clock"]["external"] = clock_external
        if gen_datasets is not None:
            params["generative"]["datasets"] = gen_datasets
        if gen_models is not None:  # the recipes, and their demo overlays (partial recipes alone are invalid)
            params["generative"]["models"] = {m: params["generative"]["models"][m] for m in gen_models}
            overlay = demo.get("generative", {}).get("models", {})
            for m in set(overlay) - set(gen_models):
                del overlay[m]
        self.write_params(params)
        # the demo's DAG is not the paper's (generated data, fewer held-out scores), and these
        # arguments change it further: dvc.yaml is written for it, as a user does (./run dvcgen)
        self.run(sys.executable, "-m", "idl.dvcgen")
        self.run("git", "init", "-q")
        if not (path / ".dvc").is_dir():  # the project is a DVC repository already
            self.run("dvc", "init", "-q")
        self.run("git", "add", "-A")
        self.run("git", "commit", "-qm", "test project")

    def clone(self, dest: Path) -> "Project":
        """A `git clone` of this project: what a user starts from (no .snakemake/, no outputs)."""
        self.run("git", "clone", "-q", str(self.path), str(dest))
        other = object.__new__(Project)
        other.path = dest
        return other

    def run(self, *cmd, check=True, timeout=900) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            list(cmd), cwd=self.path, env=env(), capture_output=True, text=True, timeout=timeout
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} failed ({proc.returncode})\n--- stdout\n{proc.stdout[-4000:]}"
                f"\n--- stderr\n{proc.stderr[-8000:]}"
            )
        return proc

    def params(self) -> dict:
        return yaml.safe_load((self.path / "params.yaml").read_text())

    def write_params(self, params: dict) -> None:
        (self.path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    def snakemake(self, *args, check=True):
        # as `./run demo` runs it on a CPU: two one-thread training jobs at a time, not one job
        # waiting for the single "gpu"
        # (the options last: --set-threads would take targets that follow it for more of its values)
        return self.run("snakemake", *args, "--cores", "2", "--resources", "gpu=2", "--set-threads",
                        "clock_train=1", "basics_train=1", "basics_cifar=1", "gen_train=1", check=check)

    def snakemake_planned(self, *args) -> set[str]:
        """Jobs a dry run would execute, as 'rule' or 'rule[wildcard values]' (without 'all')."""
        out = self.snakemake("--dry-run", *args).stdout
        if "Nothing to be done" in out:
            return set()
        jobs = set()
        for block in re.split(r"\n(?=(?:local)?rule \w+:)", out):
            m = re.match(r"(?:local)?rule (\w+):", block.strip())
            if not m or m.group(1) == "all":
                continue
            wc = re.search(r"^\s+wildcards: (.*)$", block, re.M)
            values = ",".join(kv.split("=", 1)[1] for kv in wc.group(1).split(", ")) if wc else ""
            jobs.add(f"{m.group(1)}[{values}]" if values else m.group(1))
        return jobs

    def dvc_status(self) -> dict:
        return json.loads(self.run("dvc", "status", "--json").stdout or "{}")

    def dvc_repro(self, *args) -> set[str]:
        """Run `dvc repro`; return the stages that actually ran."""
        out = self.run("dvc", "repro", *args).stdout
        return set(re.findall(r"Running stage '([^']+)'", out))


def output_files(project: Project, stages=None) -> dict[str, bytes]:
    """Every file the DVC stages (all, or these) output, folders walked, with its bytes; Snakemake's
    folder markers (.snakemake_timestamp: not data, ignored by DVC) left out."""
    from idl.workflow import dvc_stage_outputs

    outputs = dvc_stage_outputs(project.path / "dvc.yaml")
    found = {}
    for stage in outputs if stages is None else stages:
        for out in outputs[stage]:
            p = project.path / out
            for f in [p] if p.is_file() else sorted(p.rglob("*")):
                if f.is_file() and f.name != ".snakemake_timestamp":
                    found[str(f.relative_to(project.path))] = f.read_bytes()
    return found
