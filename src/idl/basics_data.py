"""Task 1's data stage: Fashion-MNIST or CIFAR-10 as one .npz and a seeded train/validation split.

Kept apart from the training code so that editing a model or the training loop does not
rerun this stage (a stage depends on every project module its script imports).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from idl.data.readers import load_cifar10, load_fashion_mnist
from idl.errors import DataError
from idl.io import atomic_path, save_npy

log = logging.getLogger(__name__)


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



def prepare_arrays(dataset: str, raw_dir, data_path, split_dir, val_fraction: float, seed: int) -> None:
    """The dataset's arrays as one .npz (channel axis added) and a seeded 90/10 split as index files."""
    loader = {"fashion_mnist": load_fashion_mnist, "cifar10": load_cifar10}[dataset]
    x_train, y_train, x_test, y_test = loader(raw_dir)
    if len(x_train) < 2 or len(x_test) < 1:
        raise DataError(f"{raw_dir}: {dataset} has {len(x_train)} training and {len(x_test)} test images; "
                        "a train/validation split needs at least 2 training images and scoring at least 1 "
                        "test image; acquire the dataset again")
    if x_train.ndim == 3:  # grayscale: add the channel axis the models expect
        x_train, x_test = x_train[..., None], x_test[..., None]
    with atomic_path(data_path, suffix=".npz") as tmp:
        np.savez(tmp, x_train=x_train, y_train=y_train.astype(np.int64), x_test=x_test, y_test=y_test.astype(np.int64))
    split = split_indices(len(x_train), val_fraction=val_fraction, seed=seed)
    for part, idx in split.items():
        save_npy(Path(split_dir) / f"{part}.npy", idx)
    log.info("%s: %d train, %d val, %d test images %s", dataset, len(split["train"]), len(split["val"]),
             len(x_test), x_train.shape[1:])
