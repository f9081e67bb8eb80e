"""Generate dvc.yaml from the Snakemake DAG, so the pipeline is written down only once.

    python -m idl.dvcgen            # write dvc.yaml
    python -m idl.dvcgen --check    # exit 1 if the committed dvc.yaml is stale

Each Snakemake job of a forced dry run becomes one DVC stage with the same command
(``--params params.yaml``), its inputs as deps (data and the code it imports), the parameter
keys its script declares as params, its outputs as outs; ``metrics.json`` and
``summary.json`` outputs become DVC metrics, training histories and figures DVC plots.
Only Snakemake's public API is used (see docs/engines.md).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

HEADER = (
    "# GENERATED from the Snakemake DAG by `python -m idl.dvcgen`: do not edit by hand.\n"
    "# A test fails when this file is stale. Run `dvc repro` for the same pipeline as `snakemake`.\n"
)


@dataclass(frozen=True)
class Job:
    """What Snakemake says of one job of a dry run: the public record its loggers receive."""

    rule: str
    wildcards: dict
    input: tuple
    output: tuple
    shellcmd: str
    benchmark: str | None = None  # Snakemake's record of the job: not an output DVC knows (idl.records)

    @property
    def name(self) -> str:
        return "_".join([self.rule] + [str(v) for v in self.wildcards.values()])


class _JobCollector(logging.Handler):
    """A logging handler that keeps the job records of a dry run (LogEvent.JOB_INFO)."""

    def __init__(self):
        super().__init__()
        self.jobs: list[Job] = []

    def emit(self, record):
        from snakemake_interface_logger_plugins.common import LogEvent

        if getattr(record, "event", None) == LogEvent.JOB_INFO:
            self.jobs.append(Job(record.rule_name, dict(record.wildcards or {}), tuple(record.input),
                                 tuple(record.output), (record.shellcmd or "").strip(),
                                 getattr(record, "benchmark", None)))


def snakemake_jobs(root: Path, cores: int = 4) -> list[Job]:
    """Every job of the whole DAG (a forced dry run with params.yaml), in a deterministic topological order.

    Only Snakemake's public API is used: the dry run itself, and the job records it logs for
    logger plugins (rule, wildcards, input, output, shell command).
    """
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, Quietness, ResourceSettings

    collector = _JobCollector()
    log = logging.getLogger("snakemake")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with SnakemakeApi(OutputSettings(dryrun=True, printshellcmds=True, quiet={Quietness.ALL})) as api:
            wf_api = api.workflow(
                resource_settings=ResourceSettings(cores=cores, resources={"gpu": 1}),
                config_settings=ConfigSettings(),
                snakefile=Path("Snakefile"),
            )
            dag_api = wf_api.dag(DAGSettings(forceall=True))
            log.addHandler(collector)
            try:
                dag_api.execute_workflow(executor="dryrun")
            finally:
                log.removeHandler(collector)
    finally:
        os.chdir(cwd)
    return toposorted(collector.jobs)


def toposorted(jobs: list[Job]) -> list[Job]:
    """Levels of the DAG (a job comes after every job whose output it reads), each sorted by name."""
    maker = {out: job.name for job in jobs for out in job.output}
    needs = {job.name: {maker[i] for i in job.input if i in maker} for job in jobs}
    by_name = {job.name: job for job in jobs}
    if len(by_name) != len(jobs):
        raise ValueError("two jobs of the DAG would have the same DVC stage name")
    order: list[Job] = []
    done: set[str] = set()
    while len(done) < len(by_name):
        level = sorted(n for n, deps in needs.items() if n not in done and deps <= done)
        if not level:
            raise ValueError("the DAG has a cycle")
        order += [by_name[n] for n in level]
        done.update(level)
    return order


def _annotated(path: str) -> bool:
    return path.endswith(")") and " (" in path


def _script(shellcmd: str) -> str:
    """The stage script a command runs (``python scripts/NAME.py ...`` -> NAME)."""
    parts = shellcmd.split()
    if len(parts) < 2 or parts[0] != "python" or not parts[1].startswith("scripts/"):
        raise ValueError(f"a stage command must run `python scripts/NAME.py`: {shellcmd!r}")
    return Path(parts[1]).stem


def check_benchmark(job: Job) -> None:
    """Every job keeps Snakemake's record of its wall time and memory, named after its DVC stage, so
    that a DVC run of the stage finds and removes the stale one (idl.records). Benchmark files are
    never DVC outputs: DVC runs the command itself and makes none."""
    from idl.records import benchmark_file

    want = benchmark_file(job.rule, job.name)
    if job.benchmark != want:
        raise ValueError(f"rule {job.rule}: its benchmark must be {want!r} (`benchmark: job_benchmark(...)` "
                         f"in rules/, wildcards in the order of its output), not {job.benchmark!r}")


#: What a generative model's history holds besides its total loss (idl.models.generative's trackers).
GENERATIVE_CURVES = {
    "cae": ["loss", "val_loss"],
    "vae": ["loss", "reconstruction_loss", "kl_loss", "val_loss", "val_reconstruction_loss", "val_kl_loss"],
    "gan": ["loss", "d_loss", "g_loss"],  # no held-out loss (idl.generative.train)
}


def learning_curves(job: Job, resolved) -> list[str]:
    """The columns of a training stage's ``history.csv`` that `dvc plots` draws against the epoch:
    the accuracies the model logs (Task 1, the clock classifiers and the hour head of the multi-head
    readers) and its losses, per head, on training and validation data; the clock models also their
    mean common-sense error on the validation clocks (``val_cse``, minutes)."""
    if job.rule in ("basics_train", "basics_cifar"):
        return ["accuracy", "val_accuracy", "loss", "val_loss"]
    if job.rule == "gen_train":
        return GENERATIVE_CURVES[resolved["generative"]["models"][job.wildcards["gen"]]["kind"]]
    if job.rule == "clock_train":
        from idl.clock.recipes import Recipe, compile_kwargs

        kw = compile_kwargs(Recipe.from_params(resolved["clock"]["models"][job.wildcards["model"]]))
        if isinstance(kw["loss"], str):  # one head: Keras names its logs after the loss and metrics alone
            train = [*(kw["metrics"] or []), "loss"]
        else:
            train = [f"{head}_{m}" for head, names in kw["metrics"].items() for m in names]
            train += ["loss", *(f"{head}_loss" for head in kw["loss"])]
        return train + [f"val_{c}" for c in train] + ["val_cse"]
    raise ValueError(f"rule {job.rule} writes a history.csv, but idl.dvcgen does not know its columns")


def stages_from_jobs(jobs, config) -> tuple[dict, list, list]:
    from idl.params import resolve
    from idl.workflow import stage_param_keys

    resolved = resolve(config)

    stages: dict[str, dict] = {}
    metrics: list[str] = []
    plots: list = []
    for job in jobs:
        if job.rule == "all" or not job.shellcmd:
            continue
        check_benchmark(job)
        odd = [p for p in job.input + job.output if _annotated(p)]
        if odd:
            raise ValueError(f"rule {job.rule}: DVC has no counterpart for {odd} (temp, pipe or storage files)")
        # a metric is a stage's metrics.json or summary.json; DVC shows them with `dvc metrics show`
        metric_paths = [p for p in job.output if Path(p).name in ("metrics.json", "summary.json")]
        outs = [p for p in job.output if p not in metric_paths]
        # the parameter stamps under .snakemake/ are Snakemake's trigger; DVC tracks params itself
        deps = [d for d in dict.fromkeys(job.input) if not d.startswith(".snakemake/")]
        stage = {"cmd": job.shellcmd}
        stage["deps"] = deps
        stage["params"] = stage_param_keys(config, _script(job.shellcmd), job.wildcards)
        if outs:
            stage["outs"] = outs
        if metric_paths:
            # in DVC's cache like every output (results/ is not in git): `dvc push` shares them, a
            # fresh clone's `dvc pull` gets them, and `dvc exp show` reads each experiment's
            stage["metrics"] = metric_paths
            metrics += metric_paths
        for p in outs:
            if p.endswith("history.csv"):
                plots.append({p: {"x": "epoch", "y": learning_curves(job, resolved)}})
            elif p.endswith(".png"):
                plots.append(p)
        stages[job.name] = stage
    return stages, metrics, plots


def render(root: Path) -> str:
    from idl.dagshape import SHAPE_LINE, dag_shape
    from idl.params import read_yaml, resolve

    jobs = snakemake_jobs(root)
    raw = read_yaml(root / "params.yaml")
    stages, metrics, plots = stages_from_jobs(jobs, raw)
    doc = {"stages": stages, "metrics": metrics, "plots": plots}
    # what decides which stages there are: a stage DVC runs under other such parameters stops (idl.dagshape)
    shape = f"{SHAPE_LINE}{dag_shape(resolve(raw))}\n"
    return HEADER + shape + yaml.safe_dump(doc, sort_keys=False, width=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=Path("."))
    ap.add_argument("--check", action="store_true", help="exit 1 if dvc.yaml differs from the DAG")
    args = ap.parse_args(argv)
    root = args.root.resolve()
    chatter = io.StringIO()  # Snakemake's own report of the dry run: shown only if it fails
    try:
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
            text = render(root)
    except Exception:
        sys.stderr.write(chatter.getvalue())
        raise
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
