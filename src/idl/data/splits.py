"""Seeded random splits of ``range(n)`` into disjoint, sorted index sets, saved as index files by
the stages (Task 1's train/validation split, Task 3's train/test split). The clock task's split is
stratified over the dial's minutes instead (:func:`idl.clock.course_data.split_indices`).
"""
from __future__ import annotations

import numpy as np


def split_indices(n: int, val_fraction: float = 0.1, seed: int = 0) -> dict[str, np.ndarray]:
    """Disjoint, sorted ``{"train": idx, "val": idx}`` covering ``range(n)``; same seed, same split.

    The validation part has ``round(n * val_fraction)`` images (at least 1, at most n - 1).
    """
    if isinstance(n, bool) or int(n) != n or n < 2:
        raise ValueError(f"n must be an integer >= 2 to split, got {n!r}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be between 0 and 1 (exclusive), got {val_fraction!r}")
    n = int(n)
    n_val = min(max(int(round(n * val_fraction)), 1), n - 1)
    perm = np.random.default_rng(seed).permutation(n)
    return {"train": np.sort(perm[n_val:]), "val": np.sort(perm[:n_val])}
