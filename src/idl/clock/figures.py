"""Figures of the clock data: a contact sheet to see what the model is given."""
from __future__ import annotations

import math
import os

import numpy as np
from matplotlib.figure import Figure  # a bare Figure renders with Agg, no pyplot state

from idl.io import atomic_path


def contact_sheet(images: np.ndarray, labels: np.ndarray, path: str | os.PathLike, n: int = 24,
                  seed: int = 0, title: str | None = None) -> None:
    """Write a PNG grid of ``n`` random images (sorted by row) titled with their "HH:MM" labels."""
    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if len(images) == 0:
        raise ValueError("no images to show")
    n = min(n, len(images))
    rows = np.sort(np.random.default_rng(seed).choice(len(images), size=n, replace=False))
    cols = min(n, 8)
    nrows = math.ceil(n / cols)
    fig = Figure(figsize=(1.6 * cols, 1.75 * nrows + (0.4 if title else 0)), dpi=100)
    axes = fig.subplots(nrows, cols, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, row in zip(axes.ravel(), rows):
        ax.imshow(images[row], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        hour, minute = (int(v) for v in labels[row])
        ax.set_title(f"{hour:02d}:{minute:02d}", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
