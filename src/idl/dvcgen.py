"""Generate dvc.yaml from the Snakemake DAG, so the pipeline is written down only once.

    python -m idl.dvcgen            # write dvc.yaml
    python -m idl.dvcgen --check    # exit 1 if the committed dvc.yaml is stale

Each Snakemake job becomes one DVC stage with the same command (``--params params.yaml``),
its inputs as deps (data and the code it imports), the parameter keys it tracks as
params, its outputs as outs; outputs named ``metrics`` become DVC metrics, training
histories and figures become DVC plots.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from pathlib import Path

import yaml

HEADER = (
    "# GENERATED from the Snakemake DAG by `python -m idl.dvcgen`: do not edit by hand.\n"
    "# A test fails when this file is stale. Run `dvc repro` for the same pipeline as `snakemake`.\n"
)


def snakemake_jobs(root: Path, cores: int = 4):
    """The jobs of the whole DAG (forceall), in topological order, built with the config in params.yaml."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (
        ConfigSettings,
        DAGSettings,
        OutputSettings,
        Quietness,
        ResourceSettings,
    )

    cwd = os.getcwd()
    os.chdir(root)
    try:
        with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
            wf_api = api.workflow(
                resource_settings=ResourceSettings(cores=cores, resources={"gpu": 1}),
                config_settings=ConfigSettings(),
                snakefile=Path("Snakefile"),
            )
            dag_api = wf_api.dag(DAGSettings(forceall=True))
            wf = dag_api.workflow_api._workflow
            wf.dag_settings = dag_api.dag_settings
            wf._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True)
            wf._build_dag()
            # levels of the topological order, each sorted by name, so the file is deterministic
            return [j for level in wf.dag.toposorted() for j in sorted(level, key=_stage_name)]
    finally:
        os.chdir(cwd)


def _stage_name(job) -> str:
    parts = [job.rule.name] + [str(v) for v in job.wildcards_dict.values()]
    return "_".join(parts)


def _plain(paths) -> list[str]:
    return [str(p) for p in paths]


def stages_from_jobs(jobs) -> tuple[dict, list, list]:
    stages: dict[str, dict] = {}
    metrics: list[str] = []
    plots: list = []
    for job in jobs:
        if job.rule.name == "all" or not job.rule.shellcmd:
            continue
        tracked = job.params.get("tracked") if hasattr(job.params, "get") else None
        if tracked is None:
            raise ValueError(f"rule {job.rule.name} has no params.tracked: every stage must declare its parameters")
        named_out = dict(job.output.items())
        metric_paths = [str(named_out["metrics"])] if "metrics" in named_out else []
        outs = [p for p in _plain(job.output) if p not in metric_paths]
        # the per-stage parameter files under .snakemake/ are Snakemake's trigger; DVC tracks params itself
        deps = [d for d in dict.fromkeys(_plain(job.input)) if not d.startswith(".snakemake/")]
        stage = {"cmd": job.shellcmd.strip()}
        stage["deps"] = deps
        stage["params"] = list(tracked)
        if outs:
            stage["outs"] = outs
        if metric_paths:
            stage["metrics"] = [{p: {"cache": False}} for p in metric_paths]
            metrics += metric_paths
        for p in outs:
            if p.endswith("history.csv"):
                plots.append({p: {"x": "epoch", "y": ["loss", "val_loss"]}})
            elif p.endswith(".png"):
                plots.append(p)
        stages[_stage_name(job)] = stage
    return stages, metrics, plots


def render(root: Path) -> str:
    jobs = snakemake_jobs(root)
    stages, metrics, plots = stages_from_jobs(jobs)
    doc = {"stages": stages, "metrics": metrics, "plots": plots}
    return HEADER + yaml.safe_dump(doc, sort_keys=False, width=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=Path("."))
    ap.add_argument("--check", action="store_true", help="exit 1 if dvc.yaml differs from the DAG")
    args = ap.parse_args(argv)
    root = args.root.resolve()
    with contextlib.redirect_stdout(io.StringIO()):
        text = render(root)
    target = root / "dvc.yaml"
    if args.check:
        current = target.read_text() if target.exists() else ""
        if current != text:
            print("dvc.yaml is stale: run `python -m idl.dvcgen` and commit it", file=sys.stderr)
            return 1
        print("dvc.yaml is up to date")
        return 0
    from idl.io import write_text

    write_text(target, text)
    print(f"wrote {target} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
