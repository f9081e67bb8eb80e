"""Task 3's data: the prepared images of a dataset and its train/test split.

A model is a recipe in params.yaml (``generative.models.NAME``: kind cae|vae|gan, latent_dim,
filters, epochs, batch_size, learning_rate). Every recipe is trained on the training split of
every dataset in ``generative.datasets`` (the prepared 32x32 arrays of the data layer); the
held-out split scores the reconstructions, and generated samples are compared with the real
images in the feature space of :mod:`idl.generative.scores`.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from idl.data.arrays import load_index, load_npy
from idl.errors import DataError
from idl.io import atomic_dir, save_npy, write_json

log = logging.getLogger(__name__)

DATASET_TITLES = {"afhq": "AFHQ cats", "pistachio": "Kirmizi pistachios", "tinyhero": "TinyHeroes (front)"}


_PREPARE_FIX = "rerun the prepare_images stage for this dataset"
_SPLIT_FIX = "rerun the gen_split stage"


def _prepared_images(prepared_dir, mmap: bool = False) -> np.ndarray:
    """The prepared ``images.npy`` (uint8, n x h x w x 3, n >= 2), checked."""
    path = Path(prepared_dir) / "images.npy"
    images = load_npy(path, mmap=mmap, fix=_PREPARE_FIX)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8 or 0 in images.shape[1:]:
        raise DataError(f"{path}: expected uint8 RGB images (n, h, w, 3), got {images.dtype} {images.shape}; "
                        f"{_PREPARE_FIX}")
    if len(images) < 2:
        raise DataError(f"{path}: {len(images)} image(s); a train/test split needs at least 2; {_PREPARE_FIX} "
                        "with more images")
    return images


def load_images(prepared_dir) -> np.ndarray:
    """The prepared ``images.npy`` (uint8, n x h x w x 3) as float32 in [0, 1]."""
    return _prepared_images(prepared_dir).astype(np.float32) / 255.0


def write_split(prepared_dir, out_dir, test_fraction: float, seed: int) -> dict:
    """A seeded train/test split of the prepared images, saved as index files (train.npy, test.npy)."""
    from idl.data.splits import split_indices

    n = len(_prepared_images(prepared_dir, mmap=True))
    parts = split_indices(n, val_fraction=test_fraction, seed=seed)
    info = {"n": n, "n_train": int(len(parts["train"])), "n_test": int(len(parts["val"])),
            "test_fraction": test_fraction, "seed": seed}
    with atomic_dir(out_dir) as tmp:
        save_npy(tmp / "train.npy", parts["train"])
        save_npy(tmp / "test.npy", parts["val"])
        write_json(tmp / "split.json", info)
    log.info("split %d images: %d train, %d test", n, info["n_train"], info["n_test"])
    return info


def read_split(split_dir, n_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The train and test index files, disjoint and non-empty, each index below ``n_rows`` if given."""
    split_dir = Path(split_dir)
    tr, te = (load_index(split_dir / f"{part}.npy", n_rows, fix=_SPLIT_FIX) for part in ("train", "test"))
    if np.intersect1d(tr, te).size:
        raise DataError(f"{split_dir}: train.npy and test.npy share row indices; {_SPLIT_FIX}")
    return tr, te
