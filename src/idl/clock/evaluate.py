"""Scoring a clock classifier the way the report does: class accuracy and CSE.

The common-sense error (CSE) compares the *exact* true time with the predicted
class read back as the centre of its interval, so even a perfect n_c = 12
classifier has a mean CSE of 15 minutes (the report's "lower bound").
"""
from __future__ import annotations

import numpy as np

from idl.clock.labels import class_to_minutes, cse_minutes, to_class, to_minutes
from idl.models.clock import prepare_images


def _minutes(labels: np.ndarray) -> np.ndarray:
    """``[hour, minute]`` rows, or minutes past 12:00 already, -> minutes."""
    labels = np.asarray(labels)
    return to_minutes(labels) if labels.ndim == 2 else labels.astype(np.int64)


def class_targets(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Sparse integer class ids (int32) for ``[hour, minute]`` labels (or minutes).

    Train with ``sparse_categorical_crossentropy``: it is the report's categorical
    cross-entropy computed from class ids instead of one-hot rows (same loss,
    n_classes times less target memory, which matters for n_c = 720).
    """
    return to_class(_minutes(labels), n_classes).astype(np.int32)


def evaluate_classifier(model, images: np.ndarray, labels: np.ndarray, n_classes: int,
                        batch_size: int = 256, progress: bool = False) -> tuple[dict, np.ndarray]:
    """Accuracy and CSE statistics of ``model`` on ``images``; also per-row predictions.

    Returns ``(metrics, predicted_minutes)`` where metrics has ``accuracy`` (class),
    ``cse_mean``, ``cse_median``, ``cse_p90`` (minutes) and ``n``.
    """
    true_min = _minutes(labels)
    if len(true_min) != len(images):
        raise ValueError(f"{len(images)} images but {len(true_min)} labels: they must match row for row")
    if len(true_min) == 0:
        raise ValueError("no images to evaluate")
    probs = np.asarray(model.predict(prepare_images(images), batch_size=batch_size, verbose=1 if progress else 0))
    if probs.ndim != 2 or probs.shape != (len(true_min), n_classes):
        raise ValueError(f"model output has shape {probs.shape}, expected ({len(true_min)}, {n_classes}): "
                         f"is this an n_c={n_classes} classifier?")
    pred_class = probs.argmax(axis=1)
    pred_min = class_to_minutes(pred_class, n_classes)
    cse = cse_minutes(true_min, pred_min)
    metrics = {
        "accuracy": float(np.mean(pred_class == to_class(true_min, n_classes))),
        "cse_mean": float(cse.mean()),
        "cse_median": float(np.median(cse)),
        "cse_p90": float(np.percentile(cse, 90)),
        "n": int(len(true_min)),
    }
    return metrics, pred_min
