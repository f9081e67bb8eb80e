"""Snakemake's record of each job: its ``benchmark:`` file (wall time, peak memory), and DVC runs.

Every rule writes ``logs/benchmarks/<rule>/<stage>.tsv``, ``<stage>`` being the job's DVC stage
name (the rule and its wildcard values joined by ``_``; ``idl.dvcgen`` checks that each job's file
is there). DVC runs the same commands without Snakemake, so a stage it runs gets no record; worse,
Snakemake would take the older record left by its own last run of the stage for one of the
stage's outputs (it counts a benchmark file's age as an output's) and redo what DVC just did. So
when a stage starts under DVC, which names the stage in ``DVC_STAGE``, it removes that record.

Not a code dependency of any stage (``idl.workflow.NOT_DEPENDENCIES``): nothing here changes what
a stage writes.
"""
from __future__ import annotations

import os
from pathlib import Path

BENCHMARK_DIR = "logs/benchmarks"


def benchmark_file(rule: str, stage: str) -> str:
    """Where Snakemake records the job of ``rule`` that is DVC's stage ``stage``."""
    return f"{BENCHMARK_DIR}/{rule}/{stage}.tsv"


def forget_stale_benchmark(environ=os.environ, root: str | os.PathLike = ".") -> list[Path]:
    """Under DVC, remove Snakemake's record of the stage now running (it timed an older run);
    return what was removed. Elsewhere (Snakemake, a script run by hand) do nothing."""
    stage = environ.get("DVC_STAGE", "").rpartition(":")[2]  # "dvc.yaml:name" for a stage of another file
    if not stage or "/" in stage:
        return []
    removed = []
    for path in Path(root, BENCHMARK_DIR).glob(f"*/{stage}.tsv"):
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed
