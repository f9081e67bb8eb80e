"""Figures of the clock data and of the models' mistakes.

A contact sheet shows what the model is given; the prediction grid, the CSE
histograms and the error-by-hour plot show where a model goes wrong.
"""
from __future__ import annotations

import math
import os

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure  # a bare Figure renders with Agg, no pyplot state

from idl.clock.labels import cse_minutes
from idl.clock.scoring import HOURS, format_time
from idl.io import atomic_path

WRONG_MINUTES = 30  # a prediction further off than this is drawn in red


def _image_grid(n_images: int, n: int, seed: int, cell: tuple[float, float], title: str | None):
    """A figure of up to ``n`` random images (sorted by row), 8 per row: (fig, [(axes, row), ...])."""
    if n_images == 0:
        raise ValueError("no images to show")
    n = min(n, n_images)
    rows = np.sort(np.random.default_rng(seed).choice(n_images, size=n, replace=False))
    cols = min(n, 8)
    nrows = math.ceil(n / cols)
    fig = Figure(figsize=(cell[0] * cols, cell[1] * nrows + (0.4 if title else 0)), dpi=100)
    axes = fig.subplots(nrows, cols, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    return fig, list(zip(axes.ravel(), rows))


def _save(fig: Figure, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")


def contact_sheet(images: np.ndarray, labels: np.ndarray, path: str | os.PathLike, n: int = 24,
                  seed: int = 0, title: str | None = None) -> None:
    """Write a PNG grid of ``n`` random images (sorted by row) titled with their "HH:MM" labels."""
    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    fig, cells = _image_grid(len(images), n, seed, (1.6, 1.75), title)
    for ax, row in cells:
        ax.imshow(images[row], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        hour, minute = (int(v) for v in labels[row])
        ax.set_title(f"{hour:02d}:{minute:02d}", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)


def prediction_grid(images: np.ndarray, true_minutes, pred_minutes, path: str | os.PathLike, n: int = 24,
                    seed: int = 0, title: str | None = None) -> None:
    """PNG grid of ``n`` random test images titled "true HH:MM / pred HH:MM".

    A prediction more than 30 minutes off (CSE > 30) gets a red title and frame,
    so the mistakes stand out at a glance.
    """
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    true_m = np.asarray(true_minutes, dtype=np.float64).reshape(-1)
    pred_m = np.asarray(pred_minutes, dtype=np.float64).reshape(-1)
    if not len(images) == len(true_m) == len(pred_m):
        raise ValueError(f"{len(images)} images, {len(true_m)} true and {len(pred_m)} predicted times: "
                         "they must match row for row")
    fig, cells = _image_grid(len(images), n, seed, (1.7, 2.3), title)  # room for two title lines
    cse = cse_minutes(true_m, pred_m)
    rows = np.array([row for _, row in cells])
    for ax, row in cells:
        wrong = bool(cse[row] > WRONG_MINUTES)
        color = "red" if wrong else "black"
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
        ax.imshow(images[row], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        for spine in ax.spines.values():
            spine.set_visible(wrong)
            spine.set_color(color)
            spine.set_linewidth(2.5)
        t, p = format_time([true_m[row], pred_m[row]])
        ax.set_title(f"true {t}\npred {p}", fontsize=8, color=color)
    n_wrong = int(np.sum(cse[rows] > WRONG_MINUTES))
    fig.suptitle((f"{title}\n" if title else "") + f"red: more than {WRONG_MINUTES} min off ({n_wrong} of {len(rows)} shown)",
                 fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def error_histograms(errors: dict[str, np.ndarray], path: str | os.PathLike, title: str | None = None) -> None:
    """Small multiples: one CSE histogram per model, log-scaled counts, shared axes.

    One panel per model (not overlaid) stays readable from 1 to 20 models; the
    log scale shows the rare hours-off mistakes next to the many small errors.
    Each panel notes the model's mean and median CSE.
    """
    if not errors:
        raise ValueError("no models to plot")
    errs = {name: np.asarray(e, dtype=np.float64).reshape(-1) for name, e in errors.items()}
    for name, e in errs.items():
        if e.size == 0:
            raise ValueError(f"model {name!r} has no errors to plot")
    bins = np.arange(0, 360 + 10, 10)  # CSE is 0..360 minutes
    k = len(errs)
    cols = min(k, 4)
    nrows = math.ceil(k / cols)
    fig = Figure(figsize=(3.2 * cols, 2.4 * nrows + (0.4 if title else 0)), dpi=100)
    axes = fig.subplots(nrows, cols, squeeze=False, sharex=True, sharey=True)
    for ax in axes.ravel()[k:]:
        ax.set_axis_off()
    for ax, (name, e) in zip(axes.ravel(), errs.items()):
        ax.hist(e, bins=bins, color="tab:blue")
        ax.set_yscale("log")
        ax.set_title(name, fontsize=9)
        ax.text(0.97, 0.95, f"mean {e.mean():.1f}\nmedian {np.median(e):.1f}", transform=ax.transAxes,
                ha="right", va="top", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("CSE (minutes)")
    for ax in axes[:, 0]:
        ax.set_ylabel("images")
    axes[0, 0].set_xlim(0, 360)
    axes[0, 0].set_xticks([0, 60, 120, 180, 240, 300, 360])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)


def error_by_hour(by_hour: dict[str, list], path: str | os.PathLike, title: str | None = None) -> None:
    """Mean CSE per true hour (0 = twelve o'clock .. 11), one line per model.

    ``by_hour`` values are :func:`idl.clock.scoring.score`'s ``cse_by_hour``
    lists; an hour without rows (``None``) leaves a gap in that model's line.
    """
    if not by_hour:
        raise ValueError("no models to plot")
    fig = Figure(figsize=(7.5, 4), dpi=100)
    ax = fig.subplots()
    colors = colormaps["tab10" if len(by_hour) <= 10 else "tab20"].colors
    for k, (name, values) in enumerate(by_hour.items()):
        if len(values) != HOURS:
            raise ValueError(f"model {name!r}: cse_by_hour must have {HOURS} values (hours 0..11), got {len(values)}")
        y = np.array([np.nan if v is None else float(v) for v in values])
        ax.plot(np.arange(HOURS), y, marker="o", markersize=3, color=colors[k % len(colors)], label=name)
    ax.set_xticks(np.arange(HOURS), [f"{h:02d}" for h in range(HOURS)])
    ax.set_xlabel("true hour (00 = twelve o'clock)")
    ax.set_ylabel("mean CSE (minutes)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", ncol=1 if len(by_hour) <= 10 else 2, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.set_title(title or "Mean common-sense error by true hour")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
