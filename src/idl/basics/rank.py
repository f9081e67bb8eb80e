"""Task 1's winners: the runs ranked by validation accuracy (or loss), the best three kept in a small
JSON file so the CIFAR-10 stages depend on the choice, not on all the runs.

Ranking by validation loss reproduces the report's own three winners (SGD, 3/5 conv layers,
2/0 dropout); ranked by accuracy it would give three Adam runs. All runs, MLPs included, are ranked
unless ``arch`` says otherwise: the report calls the winners "the three best-performing
architectures" and finds they are all CNNs, so the MLPs were in the running.

Metrics dicts map a run name to ``{"val_loss", "val_accuracy", "test_loss", "test_accuracy", ...}``
(fractions, not %); any may be missing.
"""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Mapping, Sequence

from idl.errors import DataError
from idl.io import write_json

log = logging.getLogger(__name__)

RANK_METRICS = ("val_accuracy", "val_loss")


def _arch_of(name: str, metrics: Mapping | None) -> str:
    """A run's architecture, as its metrics.json records it (else the grid's naming, ``cnn_...``)."""
    return (metrics or {}).get("arch") or name.split("_", 1)[0]


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
    names = [n for n in metrics if arch is None or _arch_of(n, metrics[n]) == arch]
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


def rank(metrics_files, out_path, by: str) -> list[str]:
    metrics = {}
    for f in metrics_files:
        m = json.loads(Path(f).read_text())
        metrics[m["run"]] = m
    ranking = rank_runs(metrics, by=by, top=3)
    write_ranking(out_path, ranking, metrics, by)
    log.info("best three by %s: %s", by, ", ".join(ranking))
    return ranking


def ranked_run(ranking_path, rank_no: int, runs: dict) -> tuple[str, dict]:
    ranking = read_ranking(ranking_path)
    if not 1 <= rank_no <= len(ranking):
        raise DataError(f"{ranking_path}: has {len(ranking)} runs, rank {rank_no} asked for")
    name = ranking[rank_no - 1]
    if name not in runs:
        raise DataError(f"{ranking_path}: run {name!r} is not in basics.runs; rerun the ranking")
    return name, runs[name]
