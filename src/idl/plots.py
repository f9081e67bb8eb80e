"""Figures shared by all tasks: learning curves like the report's Figures 1-3.

Figures are drawn on a bare ``matplotlib.figure.Figure`` (Agg canvas, no pyplot
global state) and written atomically, so a failed plot never leaves a half PNG.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from idl.io import atomic_path

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


def _epochs(df: pd.DataFrame):
    """1-based epoch numbers (Keras logs count from 0; the report from 1)."""
    return df["epoch"] + 1 if "epoch" in df else pd.RangeIndex(1, len(df) + 1)


def _save(fig: Figure, path: str | Path) -> None:
    FigureCanvasAgg(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=150, bbox_inches="tight")


def phase_starts(history_df: pd.DataFrame, column: str = "max_rotation_deg") -> list[tuple[int, float]]:
    """``(1-based epoch, value)`` wherever ``column`` takes a new value (a curriculum's phases);
    empty when the history has no such column."""
    if column not in history_df or history_df.empty:
        return []
    values = history_df[column].to_numpy()
    epochs = list(_epochs(history_df))
    return [(int(epochs[i]), float(v)) for i, v in enumerate(values) if i == 0 or v != values[i - 1]]


def learning_curves(history_df: pd.DataFrame, path: str | Path, title: str,
                    metrics: Sequence[str] = ("loss", "accuracy")) -> None:
    """Training vs validation curve per epoch, one panel per metric, saved as PNG.

    Metrics missing from the history are skipped with a log message; a history
    without any of them raises ``ValueError``. A history with a ``max_rotation_deg``
    column (a rotation curriculum) gets a dashed line where each phase starts, labelled
    with its rotation.
    """
    present = [m for m in metrics if m in history_df or f"val_{m}" in history_df]
    for m in set(metrics) - set(present):
        log.info("learning curves %s: no column %r in the history, panel left out", path, m)
    if not present:
        raise ValueError(f"history has none of the metrics {list(metrics)}; columns: {list(history_df.columns)}")
    fig = Figure(figsize=(4.5 * len(present), 3.5))
    axes = fig.subplots(1, len(present), squeeze=False)[0]
    x = _epochs(history_df)
    phases = phase_starts(history_df)
    for ax, m in zip(axes, present):
        if m in history_df:
            ax.plot(x, history_df[m], label="training")
        if f"val_{m}" in history_df:
            ax.plot(x, history_df[f"val_{m}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(m)
        ax.grid(alpha=0.3)
        for i, (epoch, rotation) in enumerate(phases):
            if i:
                ax.axvline(epoch - 0.5, color="0.5", linestyle="--", linewidth=0.8)
            ax.annotate(f"\u2264{rotation:g}\u00b0", (epoch - 0.5, 0.03), xycoords=("data", "axes fraction"),
                        xytext=(1, 0), textcoords="offset points", ha="left", va="bottom", rotation=90,
                        fontsize=7, color="0.3", bbox={"fc": "white", "ec": "none", "alpha": 0.7, "pad": 0.5})
        ax.legend()
    fig.suptitle(title + ("\n(dashed: curriculum phases, the dial turned at most as marked)"
                          if len(phases) > 1 else ""))
    _save(fig, path)


def compare_curves(histories: Mapping[str, pd.DataFrame], path: str | Path, title: str,
                   metric: str = "val_accuracy") -> None:
    """One metric of several runs on one axis (the report's Figure 3), saved as PNG."""
    usable = {k: df for k, df in histories.items() if metric in df}
    if not usable:
        raise ValueError(f"none of the histories has a column {metric!r}")
    fig = Figure(figsize=(6.5, 4))
    ax = fig.subplots()
    for label, df in usable.items():
        ax.plot(_epochs(df), df[metric], label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    ax.set_title(title)
    _save(fig, path)


def image_rows(rows: Mapping[str, "np.ndarray"], path: str | Path, title: str | None = None,
               cell: float = 1.1, captions: Mapping[str, Sequence[str]] | None = None) -> None:
    """Rows of images, each row labelled on its left (originals over reconstructions, samples,
    interpolation strips, the clock generator's styles), saved as PNG; ``captions`` puts a line of
    text over each image of a row. Images are float in [0, 1] or uint8, (n, h, w, c) or (n, h, w)
    for grey; grey is shown on a fixed black-to-white scale, and nearest-neighbour display keeps
    32x32 pixels honest."""
    import numpy as np

    rows = {label: list(images) for label, images in rows.items()}
    captions = captions or {}
    if not rows or any(len(images) == 0 for images in rows.values()):
        raise ValueError(f"image_rows {path}: every row needs at least one image")
    n_cols = max(len(images) for images in rows.values())
    fig = Figure(figsize=(cell * n_cols + 0.6, cell * len(rows) + (0.4 if title else 0.1)
                          + (0.2 * len(rows) if captions else 0)))
    axes = fig.subplots(len(rows), n_cols, squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(images):
                ax.set_axis_off()
                continue
            image = np.asarray(images[c])
            top = 255 if image.dtype == np.uint8 else 1.0
            if image.dtype != np.uint8:
                image = np.clip(image, 0.0, 1.0)
            grey = image.ndim == 2 or image.shape[-1] == 1
            ax.imshow(image.squeeze(), interpolation="nearest",
                      **({"cmap": "gray", "vmin": 0, "vmax": top} if grey else {}))
            for side in ax.spines.values():
                side.set_visible(False)
            if c < len(captions.get(label, ())):
                ax.set_title(captions[label][c], fontsize=7)
        axes[r, 0].set_ylabel(label, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path)
