"""Task 1 ("Keras Basics") bookkeeping: picking the winners, Tables 3-5.

The report trains every grid run (:data:`idl.models.keras_basics.GRID`) on
Fashion-MNIST with 10 % of the training images held out for validation, picks the
three best runs and trains those again on CIFAR-10. This module holds the pieces
around the training itself, all pure or atomic (the 90/10 split is in :mod:`idl.basics_data`):

* :func:`rank_runs`, :func:`write_ranking`, :func:`read_ranking`: the winners, kept in a
  small JSON file so the CIFAR-10 stage depends on the choice, not on all 10 runs;
* :func:`table3`, :func:`table4`, :func:`table5`: ``(header, rows)`` for the results page
  with our numbers beside the report's (``report_numbers.BASICS``).

Ranking by validation loss is the default because it is the report's choice as far as
the numbers tell: the report's Table 3 ranked by loss gives exactly its three winners
(SGD, 3/5 conv layers, 2/0 dropout), ranked by accuracy it would give three Adam runs.
All runs, MLPs included, are ranked unless ``arch`` says otherwise: the report calls
the winners "the three best-performing architectures" and finds they are all CNNs, so
the MLPs were in the running.

Metrics dicts map a run name to ``{"val_loss", "val_accuracy", "test_loss",
"test_accuracy", ...}`` (fractions, not %); any may be missing.
"""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from idl.errors import DataError
from idl.io import write_json
from idl.models.keras_basics import GRID
from idl.report_numbers import BASICS

log = logging.getLogger(__name__)

MISSING = "–"
RANK_METRICS = ("val_accuracy", "val_loss")


# ------------------------------------------------------------------------ split

# ---------------------------------------------------------------------- ranking

def _arch_of(name: str) -> str:
    run = GRID.get(name)
    return run["arch"] if run else name.split("_", 1)[0]


def _sort_value(value: float, by: str) -> float:
    """Smaller is better; a NaN (diverged run) ranks last."""
    value = float(value)
    if math.isnan(value):
        return math.inf
    return value if by == "val_loss" else -value


def rank_runs(
    metrics: Mapping[str, Mapping],
    by: str = "val_loss",
    top: int = 3,
    arch: str | None = None,
) -> list[str]:
    """The ``top`` best run names, best first: lowest val loss or highest val accuracy.

    Ties are broken by run name so the choice is reproducible. ``arch="cnn"`` (or
    ``"mlp"``) ranks only those runs; the default ranks all. Raises ``ValueError`` if a
    run lacks the metric or fewer than ``top`` runs are left to choose from.
    """
    if by not in RANK_METRICS:
        raise ValueError(f"by must be one of {RANK_METRICS}, got {by!r}")
    if arch not in (None, "cnn", "mlp"):
        raise ValueError(f"arch must be None, 'cnn' or 'mlp', got {arch!r}")
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top!r}")
    names = [n for n in metrics if arch is None or _arch_of(n) == arch]
    lacking = sorted(n for n in names if (metrics[n] or {}).get(by) is None)
    if lacking:
        raise ValueError(f"cannot rank by {by}: no {by} for run(s) {', '.join(lacking)}")
    if len(names) < top:
        raise ValueError(f"cannot pick the best {top} of {len(names)} run(s) ({', '.join(sorted(names)) or 'none'})")
    ranked = sorted(names, key=lambda n: (_sort_value(metrics[n][by], by), n))
    return ranked[:top]


def write_ranking(path: str | Path, ranking: Sequence[str], metrics: Mapping[str, Mapping], by: str) -> None:
    """Write the winners (rank order, the metric used, each run's value) as JSON, atomically."""
    if by not in RANK_METRICS:
        raise ValueError(f"by must be one of {RANK_METRICS}, got {by!r}")
    rows = []
    for i, name in enumerate(ranking, start=1):
        value = (metrics.get(name) or {}).get(by)
        rows.append({"rank": i, "run": name, by: None if value is None else float(value)})
    write_json(path, {"by": by, "ranking": rows})


def read_ranking(path: str | Path) -> list[str]:
    """Run names from a :func:`write_ranking` file, best first; DataError naming the file if malformed."""
    path = Path(path)
    redo = "delete it and rerun the ranking step"
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: ranking file not found; run the ranking step first") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: ranking file is not readable JSON ({exc}); {redo}") from None
    rows = doc.get("ranking") if isinstance(doc, dict) else None
    if not isinstance(rows, list) or not rows:
        raise DataError(f"{path}: ranking file has no non-empty 'ranking' list; {redo}")
    names = []
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not isinstance(row.get("run"), str) or not row["run"]:
            raise DataError(f"{path}: ranking entry {i} has no run name ({row!r}); {redo}")
        if row.get("rank", i) != i:
            raise DataError(f"{path}: ranking entry {i} says rank {row.get('rank')!r}; {redo}")
        names.append(row["run"])
    if len(set(names)) != len(names):
        raise DataError(f"{path}: ranking lists a run twice ({names}); {redo}")
    return names


# ----------------------------------------------------------------------- tables

def _num(value) -> str:
    """Four decimals as in the report; as a string so the page does not round it to one."""
    if value is None:
        return MISSING
    return f"{float(value):.4f}"


def _get(metrics: Mapping | None, key: str) -> str:
    return _num(None if not metrics else metrics.get(key))


_OPT = {"adam": "Adam", "sgd": "SGD"}


def table3(metrics: Mapping[str, Mapping]) -> tuple[list[str], list[list]]:
    """Table 3: the 8 CNN runs on Fashion-MNIST (validation loss/accuracy), ours beside the report's."""
    header = ["optimizer", "conv layers", "dropout layers", "val loss (ours)", "val loss (report)",
              "val acc (ours)", "val acc (report)", "test acc (ours)"]
    rows = []
    for name, run in GRID.items():
        if run["arch"] != "cnn":
            continue
        m, ref = metrics.get(name), BASICS["table3"].get(name)
        rows.append([_OPT[run["optimizer"]], str(run["conv_layers"]), str(run["dropout_layers"]),
                     _get(m, "val_loss"), _get(ref, "val_loss"), _get(m, "val_accuracy"),
                     _get(ref, "val_accuracy"), _get(m, "test_accuracy")])
    return header, rows


def table4(metrics: Mapping[str, Mapping]) -> tuple[list[str], list[list]]:
    """Table 4: the 2 MLP runs on Fashion-MNIST, ours beside the report's."""
    header = ["optimizer", "val loss (ours)", "val loss (report)", "val acc (ours)", "val acc (report)",
              "test acc (ours)"]
    rows = []
    for name, run in GRID.items():
        if run["arch"] != "mlp":
            continue
        m, ref = metrics.get(name), BASICS["table4"].get(name)
        rows.append([_OPT[run["optimizer"]], _get(m, "val_loss"), _get(ref, "val_loss"),
                     _get(m, "val_accuracy"), _get(ref, "val_accuracy"), _get(m, "test_accuracy")])
    return header, rows


def table5(cifar_metrics: Mapping[int, Mapping], ranking: Sequence[str]) -> tuple[list[str], list[list]]:
    """Table 5: our winners on CIFAR-10, by rank (1 = best), beside the report's row for the same run.

    ``cifar_metrics`` is keyed by rank (int, or str as read back from JSON). The report's
    columns show "–" where the report did not pick that configuration.
    """
    header = ["rank", "run", "val loss (ours)", "val loss (report)", "val acc (ours)", "val acc (report)",
              "test acc (ours)"]
    rows = []
    for rank, name in enumerate(ranking, start=1):
        m = cifar_metrics.get(rank, cifar_metrics.get(str(rank)))
        ref = BASICS["table5"].get(name)
        rows.append([str(rank), name, _get(m, "val_loss"), _get(ref, "val_loss"), _get(m, "val_accuracy"),
                     _get(ref, "val_accuracy"), _get(m, "test_accuracy")])
    return header, rows
