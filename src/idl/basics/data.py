"""Task 1's data: Fashion-MNIST or CIFAR-10 as one .npz and a seeded train/validation split, and
reading them back (checked) for training.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from idl.data.arrays import load_index, load_npz
from idl.data.readers import load_cifar10, load_fashion_mnist
from idl.data.splits import split_indices
from idl.errors import DataError
from idl.io import atomic_path, save_npy

log = logging.getLogger(__name__)

N_CLASSES = 10  # Fashion-MNIST and CIFAR-10; the models' output units (idl.models.keras_basics.N_CLASSES)
_FIX = "rerun the basics_data stage"


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


def load_training_data(data_path, split_dir) -> tuple[dict, dict]:
    """basics_data's arrays (.npz) and train/val index files, checked before any model is built."""
    data = load_npz(data_path, ("x_train", "y_train", "x_test", "y_test"), fix=_FIX)
    for part in ("train", "test"):
        x, y = data[f"x_{part}"], data[f"y_{part}"]
        if x.ndim != 4 or x.dtype != np.uint8 or 0 in x.shape or x.shape[1:] != data["x_train"].shape[1:]:
            raise DataError(f"{data_path}: x_{part} must be uint8 images (N, H, W, C) with N > 0, like x_train; "
                            f"found {x.dtype} {x.shape}; {_FIX}")
        if y.shape != (len(x),) or y.dtype.kind not in "iu":
            raise DataError(f"{data_path}: y_{part} must be {len(x)} integer labels (one per image of x_{part}); "
                            f"found {y.dtype} {y.shape}; {_FIX}")
        if y.min() < 0 or y.max() >= N_CLASSES:
            raise DataError(f"{data_path}: y_{part} has label {y.min() if y.min() < 0 else y.max()}, outside "
                            f"0..{N_CLASSES - 1}; {_FIX}")
    split = {p: load_index(Path(split_dir) / f"{p}.npy", len(data["x_train"]), fix=_FIX) for p in ("train", "val")}
    if np.intersect1d(split["train"], split["val"]).size:
        raise DataError(f"{split_dir}: train.npy and val.npy share row indices; {_FIX}")
    return data, split
