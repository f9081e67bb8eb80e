"""One score card for every clock model, whatever it predicts.

Classifiers, regressors and the multi-head model all end in *predicted minutes
past 12:00*, so they are scored by one function from (true, predicted) minutes:
the report's common-sense error (CSE) and, for classifiers, class accuracy. The
result is plain Python numbers so it goes straight into ``metrics.json``; the
per-row view goes into ``predictions.csv`` so a reader can look up any mistake.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from idl.clock.labels import MINUTES_PER_DIAL, cse_minutes

HOURS = 12


def _check(true_minutes, pred_minutes, true_classes, pred_classes):
    """Arrays of matching length; classes both given or both None."""
    true_m = np.asarray(true_minutes, dtype=np.float64).reshape(-1)
    pred_m = np.asarray(pred_minutes, dtype=np.float64).reshape(-1)
    if len(true_m) != len(pred_m):
        raise ValueError(f"{len(true_m)} true times but {len(pred_m)} predictions: they must match row for row")
    if len(true_m) == 0:
        raise ValueError("no predictions to score")
    if not (np.all(np.isfinite(true_m)) and np.all(np.isfinite(pred_m))):
        raise ValueError("true or predicted minutes contain NaN or infinity: check the model's output")
    if (true_classes is None) != (pred_classes is None):
        raise ValueError("give both true_classes and pred_classes, or neither")
    if true_classes is None:
        return true_m, pred_m, None, None
    true_c = np.asarray(true_classes).reshape(-1)
    pred_c = np.asarray(pred_classes).reshape(-1)
    if len(true_c) != len(true_m) or len(pred_c) != len(true_m):
        raise ValueError(f"{len(true_m)} rows but {len(true_c)} true and {len(pred_c)} predicted classes")
    return true_m, pred_m, true_c, pred_c


def true_hours(true_minutes) -> np.ndarray:
    """Hour on the dial (0..11, 0 = twelve o'clock) of each true time."""
    m = np.asarray(true_minutes, dtype=np.float64) % MINUTES_PER_DIAL
    return np.floor(m / 60).astype(np.int64)


def score(true_minutes, pred_minutes, true_classes=None, pred_classes=None) -> dict:
    """Accuracy and CSE statistics of predicted times; JSON-ready plain numbers.

    Keys: ``n``; ``accuracy`` (fraction of rows whose predicted class is the true
    one, ``None`` when no classes are given, as for regression); ``cse_mean``,
    ``cse_median``, ``cse_p90`` (minutes); ``cse_by_hour``: 12 mean CSEs by the
    *true* hour 0..11, ``None`` for an hour with no rows.
    """
    true_m, pred_m, true_c, pred_c = _check(true_minutes, pred_minutes, true_classes, pred_classes)
    cse = cse_minutes(true_m, pred_m)
    hours = true_hours(true_m)
    by_hour = [float(cse[hours == h].mean()) if np.any(hours == h) else None for h in range(HOURS)]
    return {
        "n": int(len(cse)),
        "accuracy": None if true_c is None else float(np.mean(pred_c == true_c)),
        "cse_mean": float(cse.mean()),
        "cse_median": float(np.median(cse)),
        "cse_p90": float(np.percentile(cse, 90)),
        "cse_by_hour": by_hour,
    }


def format_time(minutes) -> list[str]:
    """Minutes past 12:00 -> "HH:MM" (hour 00..11), rounded to the nearest minute."""
    m = np.rint(np.asarray(minutes, dtype=np.float64).reshape(-1)).astype(np.int64) % MINUTES_PER_DIAL
    return [f"{v // 60:02d}:{v % 60:02d}" for v in m]


def _whole_if_integral(a: np.ndarray) -> np.ndarray:
    """Integers stay integers in the CSV (715, not 715.0); fractions are kept."""
    return a.astype(np.int64) if np.all(a == np.rint(a)) else a


def predictions_frame(true_minutes, pred_minutes, true_classes=None, pred_classes=None) -> pd.DataFrame:
    """One row per test image for ``predictions.csv``.

    Columns: ``row`` (index into the test split), ``true_time`` / ``pred_time``
    ("HH:MM"), ``true_minutes`` / ``pred_minutes`` (the exact numbers scored),
    ``cse`` (minutes) and, when classes are given, ``true_class``,
    ``pred_class``, ``correct``.
    """
    true_m, pred_m, true_c, pred_c = _check(true_minutes, pred_minutes, true_classes, pred_classes)
    frame = pd.DataFrame({
        "row": np.arange(len(true_m)),
        "true_time": format_time(true_m),
        "pred_time": format_time(pred_m),
        "true_minutes": _whole_if_integral(true_m),
        "pred_minutes": _whole_if_integral(pred_m),
        "cse": cse_minutes(true_m, pred_m),
    })
    if true_c is not None:
        frame["true_class"] = true_c
        frame["pred_class"] = pred_c
        frame["correct"] = pred_c == true_c
    return frame
