"""Clock label conversions and the report's "common-sense" error.

Course labels are ``[hour, minute]`` with hour in 0..11. Everything inside the
project works in *minutes past 12:00* (0..719); the other encodings are derived
from that one number so there is exactly one place where time wraps around.
"""
from __future__ import annotations

import numpy as np

MINUTES_PER_DIAL = 720  # 12 hours


def to_minutes(labels: np.ndarray) -> np.ndarray:
    """``[hour, minute]`` rows -> minutes past 12:00 (int64, 0..719)."""
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.shape[1] != 2:
        raise ValueError(f"labels must have shape (N, 2) [hour, minute], got {labels.shape}")
    return (labels[:, 0].astype(np.int64) % 12) * 60 + labels[:, 1].astype(np.int64)


def from_minutes(minutes: np.ndarray) -> np.ndarray:
    """Minutes past 12:00 -> ``[hour, minute]`` rows (rounded to whole minutes)."""
    m = np.rint(np.asarray(minutes, dtype=np.float64)).astype(np.int64) % MINUTES_PER_DIAL
    return np.stack([m // 60, m % 60], axis=1)


def check_n_classes(n_classes: int) -> None:
    if n_classes < 1 or MINUTES_PER_DIAL % n_classes:
        raise ValueError(f"n_classes must divide 720 (got {n_classes}); e.g. 12, 24, 48, 720")


def to_class(minutes: np.ndarray, n_classes: int) -> np.ndarray:
    """Class id = floor(minutes * n_c / 720), as in the report."""
    check_n_classes(n_classes)
    m = np.asarray(minutes, dtype=np.int64) % MINUTES_PER_DIAL
    return (m * n_classes) // MINUTES_PER_DIAL


def class_to_minutes(class_ids: np.ndarray, n_classes: int) -> np.ndarray:
    """A class read back as the centre of its interval (class 0 of 24 -> 00:15)."""
    check_n_classes(n_classes)
    width = MINUTES_PER_DIAL / n_classes
    return (np.asarray(class_ids, dtype=np.float64) + 0.5) * width


def to_angle(minutes: np.ndarray, period: float = MINUTES_PER_DIAL) -> np.ndarray:
    """(sin, cos) of the hand angle, clockwise from 12: no jump between 719 and 0."""
    theta = 2.0 * np.pi * (np.asarray(minutes, dtype=np.float64) % period) / period
    return np.stack([np.sin(theta), np.cos(theta)], axis=-1)


def from_angle(sin_cos: np.ndarray, period: float = MINUTES_PER_DIAL) -> np.ndarray:
    """Inverse of :func:`to_angle`; any scale of the (sin, cos) vector is accepted."""
    sc = np.asarray(sin_cos, dtype=np.float64)
    theta = np.arctan2(sc[..., 0], sc[..., 1])
    return (theta / (2.0 * np.pi) * period) % period


def cse_minutes(true_minutes: np.ndarray, pred_minutes: np.ndarray) -> np.ndarray:
    """Common-sense error: the shorter way round the dial, in minutes (vectorised).

    ``cse_minutes(715, 5) == 10``: 11:55 and 00:05 are ten minutes apart.
    """
    d = np.abs(np.asarray(true_minutes, dtype=np.float64) - np.asarray(pred_minutes, dtype=np.float64))
    d = d % MINUTES_PER_DIAL
    return np.minimum(d, MINUTES_PER_DIAL - d)
