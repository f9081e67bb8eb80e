"""The demo's data generator: small stand-in datasets written in the REAL file formats and layouts.

Two users: the tests (archives served over a local HTTP server, so the download,
unpack and layout code runs exactly as on the real data) and the offline demo
(:func:`make_raw` writes what :func:`idl.data.acquire.acquire` would have produced,
so the whole pipeline runs without network). The images are drawn, not random:
Fashion-MNIST and CIFAR-10 stand-ins have class-dependent shapes, colours and
textures under noise and jitter (learnable, with deliberately confusable classes so
a small CNN stays well short of 100 %); the cats, pistachios and sprites only need
to look plausible for the generative models and figures.
"""
from __future__ import annotations

import gzip
import io
import logging
import os
import pickle
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import Mapping

import numpy as np
from PIL import Image
from tqdm import tqdm

from idl.data.sources import SOURCE_FILE, TINYHERO_COMMIT, check_layout
from idl.io import atomic_dir, atomic_path, write_json

log = logging.getLogger(__name__)

CIFAR10_LABEL_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                       "horse", "ship", "truck")
FASHION_MNIST_LABEL_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                             "Shirt", "Sneaker", "Bag", "Ankle boot")
AFHQ_SMALL_COUNTS = {"train/cat": 4, "train/dog": 2, "train/wild": 2,
                     "val/cat": 2, "val/dog": 1, "val/wild": 1}
_PISTACHIO_DIR = "Pistachio_Image_Dataset/Pistachio_Image_Dataset"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: same seed, same archive bytes

# Sizes of make_raw's stand-ins. "tiny": the offline demo (seconds); "small": more data
# for trying the models (pistachio and tinyhero at their real counts). make_raw's keyword
# arguments override single entries. cifar10's n_train is spread over the 5 batches;
# afhq's n_other is the count of every group except train/cat.
SCALES: dict[str, dict] = {
    "tiny": {
        "fashion_mnist": {"n_train": 600, "n_test": 200},
        "cifar10": {"n_train": 600, "n_test": 200},
        "afhq": {"n_cat": 200, "n_other": 20},
        "pistachio": {"n_kirmizi": 150, "n_siirt": 110},
        "tinyhero": {"n_per_direction": 100},
    },
    "small": {
        "fashion_mnist": {"n_train": 6000, "n_test": 1000},
        "cifar10": {"n_train": 5000, "n_test": 1000},
        "afhq": {"n_cat": 1000, "n_other": 100},
        "pistachio": {"n_kirmizi": 1232, "n_siirt": 916},
        "tinyhero": {"n_per_direction": 912},
    },
}


# --- file formats ----------------------------------------------------------------------------

def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` (uint8) as a gzip-compressed IDX file (mtime 0: reproducible bytes)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    with atomic_path(path) as tmp, open(tmp, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(header + array.tobytes())


def make_fashion_mnist(dir: str | os.PathLike, n_train: int = 60, n_test: int = 20,
                       seed: int = 0):
    """Write the 4 Fashion-MNIST IDX gz files (real names) into ``dir``; return the arrays."""
    dir = Path(dir)
    x_train, y_train = fashion_like(n_train, seed)
    x_test, y_test = fashion_like(n_test, seed + 1)
    for name, arr in (("train-images-idx3-ubyte.gz", x_train),
                      ("train-labels-idx1-ubyte.gz", y_train),
                      ("t10k-images-idx3-ubyte.gz", x_test),
                      ("t10k-labels-idx1-ubyte.gz", y_test)):
        write_idx(dir / name, arr)
    return x_train, y_train, x_test, y_test


def _cifar_members(batch_sizes: list[int], n_test: int, seed: int):
    """(relative path, pickled bytes) of the CIFAR-10 python batches, and the arrays."""
    members, xs, ys = [], [], []
    for b in range(1, 7):
        n = n_test if b == 6 else batch_sizes[b - 1]
        x, y = cifar_like(n, seed + b)
        name = "test_batch" if b == 6 else f"data_batch_{b}"
        label = b"testing batch 1 of 1" if b == 6 else f"training batch {b} of 5".encode()
        batch = {b"batch_label": label, b"labels": [int(v) for v in y],
                 b"data": x.transpose(0, 3, 1, 2).reshape(n, 3072),
                 b"filenames": [f"stand_in_{b}_{i}.png".encode() for i in range(n)]}
        members.append((f"cifar-10-batches-py/{name}", pickle.dumps(batch, protocol=2)))
        xs.append(x)
        ys.append(y)
    meta = {b"num_cases_per_batch": batch_sizes[0], b"num_vis": 3072,
            b"label_names": [n.encode() for n in CIFAR10_LABEL_NAMES]}
    members.append(("cifar-10-batches-py/batches.meta", pickle.dumps(meta, protocol=2)))
    members.append(("cifar-10-batches-py/readme.html", b"<html>synthetic stand-in</html>\n"))
    return members, (np.concatenate(xs[:5]), np.concatenate(ys[:5]), xs[5], ys[5])


def make_cifar10_tarball(path: str | os.PathLike, n_per_batch: int = 10, n_test: int | None = None,
                         seed: int = 0):
    """Write a real-format ``cifar-10-python.tar.gz``; return (x_train, y_train, x_test, y_test)."""
    members, arrays = _cifar_members([n_per_batch] * 5, n_per_batch if n_test is None else n_test,
                                     seed)
    with atomic_path(path) as tmp, open(tmp, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, \
                tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tf:
            for dirname in ("cifar-10-batches-py",):
                info = tarfile.TarInfo(dirname)
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
                tf.addfile(info)
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o644, 0
                tf.addfile(info, io.BytesIO(data))
    return arrays


def make_clock_zip(path: str | os.PathLike, images: np.ndarray, labels: np.ndarray,
                   top_folder: str = "") -> None:
    """Write a clock archive like ``A1_data_150.zip``: ``images.npy`` and ``labels.npy``."""
    entries = {}
    for name, arr in (("images.npy", images), ("labels.npy", labels)):
        buf = io.BytesIO()
        np.save(buf, np.asarray(arr))
        entries[_join(top_folder, name)] = buf.getvalue()
    _write_zip(path, entries.items())


def make_afhq_zip(path: str | os.PathLike, counts: Mapping[str, int] | None = None,
                  size: int = 512, seed: int = 0) -> dict[str, int]:
    """Write an Animal-Faces-like zip: ``afhq/{train,val}/{cat,dog,wild}/*.jpg``."""
    counts = dict(AFHQ_SMALL_COUNTS if counts is None else counts)
    _write_zip(path, _afhq_files(counts, size, seed, progress=False))
    return counts


def make_pistachio_zip(path: str | os.PathLike, n_kirmizi: int = 4, n_siirt: int = 3,
                       size: int = 600, seed: int = 0) -> dict[str, int]:
    """Write a Pistachio-like zip with the Kaggle layout (names like ``kirmizi (1).jpg`` and,
    as in the real data, a few ``kirmizi 1.jpg``)."""
    files = _pistachio_files(n_kirmizi, n_siirt, size, seed, progress=False)
    extra = [("Pistachio_Image_Dataset/Pistachio_Image_Dataset_Request.txt", b"stand-in\n")]
    _write_zip(path, [*files, *extra])
    return {"Kirmizi_Pistachio": n_kirmizi, "Siirt_Pistachio": n_siirt}


def make_tinyhero_zip(path: str | os.PathLike, n_per_direction: int = 3, seed: int = 0,
                      top_folder: str = f"pixel_character_generator-{TINYHERO_COMMIT}"
                      ) -> dict[str, int]:
    """Write a GitHub-archive-like zip: ``<top_folder>/data/{0,1,2,3}/{i}.png`` (64x64 RGBA)."""
    files = [(_join(top_folder, name), data)
             for name, data in _tinyhero_files(n_per_direction, seed, progress=False)]
    files.append((_join(top_folder, "README.md"), b"# pixel_character_generator (stand-in)\n"))
    _write_zip(path, files)
    return {str(d): n_per_direction for d in range(4)}


# --- the offline demo's raw data ---------------------------------------------------------------

def make_raw(name: str, dest: str | os.PathLike, *, scale: str = "tiny", seed: int = 0,
             progress: bool = False, **sizes: int) -> dict:
    """Write stand-in dataset ``name`` into ``dest`` in its real unpacked layout, as
    :func:`~idl.data.acquire.acquire` would, with ``SOURCE.json`` saying ``synthetic``.

    ``sizes`` override entries of :data:`SCALES` (e.g. ``n_train=5000`` for cifar10)."""
    if name == "clock":
        raise ValueError("make_raw does not make clock data: use idl.clock.synth, which draws "
                         "the clock images")
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if name not in SCALES[scale]:
        raise ValueError(f"no stand-in for dataset {name!r}; known: {', '.join(SCALES[scale])}, "
                         "and clock via idl.clock.synth")
    size = dict(SCALES[scale][name])
    unknown = set(sizes) - set(size)
    if unknown:
        raise ValueError(f"make_raw({name!r}): unknown size {', '.join(sorted(unknown))}; "
                         f"accepted: {', '.join(size)}")
    size.update({k: int(v) for k, v in sizes.items()})
    with atomic_dir(dest) as stage:
        if name == "fashion_mnist":
            make_fashion_mnist(stage, seed=seed, **size)
            files = []
        elif name == "cifar10":
            n = size["n_train"]
            files = _cifar_members([n // 5 + (b < n % 5) for b in range(5)], size["n_test"],
                                   seed)[0]
        elif name == "afhq":
            files = _afhq_files(_layout_counts(name, size), 512, seed, progress)
        elif name == "pistachio":
            files = _pistachio_files(size["n_kirmizi"], size["n_siirt"], 600, seed, progress)
        else:
            files = _tinyhero_files(size["n_per_direction"], seed, progress)
        for rel, data in files:
            out = stage / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        counts = check_layout(name, stage, _layout_counts(name, size), where=dest)
        record = {"name": name, "source": "synthetic", "generator": "idl.data.demo_data.make_raw",
                  "scale": scale, "seed": seed, "sizes": size, "counts": counts}
        write_json(stage / SOURCE_FILE, record)
    log.info("%s: wrote synthetic stand-in (%s) into %s", name, scale, dest)
    return record


def _layout_counts(name: str, size: dict) -> dict[str, int] | None:
    if name == "afhq":
        return {g: size["n_cat"] if g == "train/cat" else size["n_other"]
                for g in ("train/cat", "train/dog", "train/wild", "val/cat", "val/dog", "val/wild")}
    if name == "pistachio":
        return {"Kirmizi_Pistachio": size["n_kirmizi"], "Siirt_Pistachio": size["n_siirt"]}
    if name == "tinyhero":
        return {str(d): size["n_per_direction"] for d in range(4)}
    return None  # fashion_mnist and cifar10 count files, which do not depend on the size


# --- Fashion-MNIST-like images -----------------------------------------------------------------

def fashion_like(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 28x28 uint8 garment silhouettes and balanced labels 0..9 (Fashion-MNIST classes).

    Shirt / T-shirt / pullover / coat overlap on purpose (sleeve length, collar, zip and
    texture vary within a class), as they do in the real data.
    """
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    xx, yy = _coords(56)  # drawn at 2x, averaged down: soft edges
    x = np.empty((n, 28, 28), np.uint8)
    for i, c in enumerate(y):
        s = rng.uniform(0.8, 1.05)
        u = (xx - rng.uniform(-0.1, 0.1)) / s
        v = (yy - rng.uniform(-0.1, 0.1)) / s
        if rng.random() < 0.5 and c not in (5, 7, 9):
            u = -u
        img = _garment(int(c), u, v, rng).reshape(28, 2, 28, 2).mean(axis=(1, 3))
        img = img * rng.uniform(0.7, 1.1) + rng.normal(0, 0.07, img.shape)
        x[i] = np.clip(img * 255, 0, 255).astype(np.uint8)
    return x, y


def _garment(c: int, u: np.ndarray, v: np.ndarray, rng) -> np.ndarray:
    shade = rng.uniform(0.35, 1.0)
    stripes = rng.uniform(0, 0.35) * (np.sin(rng.uniform(10, 30) * v + rng.uniform(0, 6)) > 0)
    if c in (0, 2, 4, 6):  # tops: torso + sleeves (+ collar, zip)
        sleeve_end = {0: rng.uniform(-0.4, 0.05), 2: rng.uniform(-0.05, 0.7),
                      4: rng.uniform(0.3, 0.8), 6: rng.uniform(0.0, 0.75)}[c]
        bottom = rng.uniform(0.85, 0.98) if c == 4 else rng.uniform(0.6, 0.85)
        torso = (np.abs(u) <= 0.4 + 0.06 * v) & (v >= -0.7) & (v <= bottom)
        sleeves = (np.abs(u) >= 0.36) & (np.abs(u) <= 0.8 - 0.1 * (v + 0.7)) \
            & (v >= -0.7) & (v <= sleeve_end)
        mask = (torso | sleeves) & ~_ell(u, v, 0, -0.72, rng.uniform(0.12, 0.22), 0.15)
        img = mask * shade * (1 - (stripes if c == 6 else stripes * 0.3))
        if c == 4:  # coat: a zip line down the front
            img = img * (1 - rng.uniform(0.2, 0.8) * (np.abs(u) < 0.05) * torso)
        if c == 6 and rng.random() < 0.7:  # shirt: collar points and buttons
            collar = _ell(u, v, -0.12, -0.55, 0.1, 0.06) | _ell(u, v, 0.12, -0.55, 0.1, 0.06)
            img = np.where(collar, shade * 0.4, img)
        return img
    if c == 1:  # trouser: two legs
        gap = rng.uniform(0.03, 0.1)
        legs = ((np.abs(u) >= gap) & (np.abs(u) <= 0.42)) | (v <= -0.5)
        return legs * (np.abs(u) <= 0.45) * (v >= -0.85) * (v <= 0.92) * shade * (1 - stripes * 0.3)
    if c == 3:  # dress: widening downwards
        half = 0.2 + rng.uniform(0.2, 0.45) * (v + 0.85) / 1.75
        return (np.abs(u) <= half) * (v >= -0.85) * (v <= 0.9) * shade * (1 - stripes * 0.5)
    if c == 5:  # sandal: thin straps over a sole
        straps = (np.sin(rng.uniform(14, 22) * u + rng.uniform(0, 6)) > 0.2) \
            & (v >= 0.0) & (v <= 0.45) & (np.abs(u) <= 0.85)
        sole = (v >= 0.45) & (v <= 0.58) & (np.abs(u) <= 0.9)
        return (straps * 0.8 + sole) * shade
    if c == 7:  # sneaker: low solid shoe
        body = ((v >= 0.1) & (v <= 0.5) & (np.abs(u) <= 0.9)) \
            | (_ell(u, v, -0.3, 0.12, 0.55, 0.35) & (v <= 0.12))
        sole = (v > 0.42) & (v <= 0.52) & (np.abs(u) <= 0.9)
        return body * shade * (1 - stripes * 0.4) + sole * 0.3
    if c == 8:  # bag: box with a handle
        box = (np.abs(u) <= rng.uniform(0.6, 0.8)) & (v >= -0.15) & (v <= 0.8)
        r = np.hypot(u, (v + 0.15) / 0.9)
        handle = (np.abs(r - rng.uniform(0.35, 0.5)) < 0.07) & (v < -0.15)
        return (box * (1 - stripes * 0.3) + handle) * shade
    # 9, ankle boot: shaft + foot
    shaft = (u >= -0.25) & (u <= 0.45) & (v >= rng.uniform(-0.85, -0.5)) & (v <= 0.55)
    foot = (u >= -0.9) & (u <= 0.45) & (v >= 0.1) & (v <= 0.55)
    return (shaft | foot) * shade * (1 - stripes * 0.3) + ((v > 0.5) & (v < 0.62) & (u > -0.9)
                                                           & (u < 0.45)) * 0.25


# --- CIFAR-10-like images ----------------------------------------------------------------------

_SKY, _ROAD, _GRASS = (0.55, 0.7, 0.9), (0.45, 0.45, 0.47), (0.35, 0.55, 0.25)
_WATER, _INDOOR, _DIRT = (0.2, 0.35, 0.6), (0.6, 0.5, 0.42), (0.5, 0.4, 0.3)
_BACKGROUNDS = {0: [_SKY], 1: [_ROAD, _INDOOR], 2: [_SKY, _GRASS], 3: [_INDOOR, _GRASS],
                4: [_GRASS, _DIRT], 5: [_INDOOR, _GRASS], 6: [_DIRT, _GRASS], 7: [_GRASS, _DIRT],
                8: [_SKY], 9: [_ROAD, _SKY]}
_FUR = [(0.85, 0.55, 0.25), (0.5, 0.5, 0.5), (0.15, 0.13, 0.12), (0.92, 0.9, 0.85),
        (0.55, 0.38, 0.22)]


def cifar_like(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 32x32x3 uint8 scenes and balanced labels 0..9 (CIFAR-10 classes).

    Each class has its own object shape and typical background; colours, pose, size and
    background vary, and cat/dog, deer/horse, automobile/truck look alike on purpose.
    """
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    xx, yy = _coords(64)
    x = np.empty((n, 32, 32, 3), np.uint8)
    for i, c in enumerate(y):
        canvas = _background(int(c), xx, yy, rng)
        s = rng.uniform(0.7, 1.05)
        u = (xx - rng.uniform(-0.15, 0.15)) / s
        v = (yy - rng.uniform(-0.15, 0.15)) / s
        if rng.random() < 0.5:
            u = -u
        for mask, colour in _cifar_object(int(c), u, v, rng):
            canvas[mask] = colour
        img = canvas.reshape(32, 2, 32, 2, 3).mean(axis=(1, 3))
        img = img * rng.uniform(0.75, 1.15) + rng.normal(0, 0.05, img.shape)
        x[i] = np.clip(img * 255, 0, 255).astype(np.uint8)
    return x, y


def _background(c: int, xx, yy, rng) -> np.ndarray:
    if rng.random() < 0.25:
        base = rng.uniform(0.1, 0.9, 3)
    else:
        options = _BACKGROUNDS[c]
        base = np.array(options[rng.integers(len(options))]) + rng.normal(0, 0.08, 3)
    canvas = np.broadcast_to(base, xx.shape + (3,)) * (1 + rng.uniform(-0.3, 0.3) * yy)[..., None]
    if c == 8:  # ship: water below the horizon
        horizon = rng.uniform(0.05, 0.35)
        canvas = np.where((yy > horizon)[..., None], np.array(_WATER) + rng.normal(0, 0.05, 3),
                          canvas)
    return np.array(canvas, dtype=np.float64)


def _colour(rng, base=None, spread=0.1):
    base = rng.uniform(0.1, 0.95, 3) if base is None else np.asarray(base)
    return np.clip(base + rng.normal(0, spread, 3), 0, 1)


def _cifar_object(c: int, u, v, rng):
    """(mask, colour) layers, painted in order."""
    dark = _colour(rng, (0.1, 0.1, 0.1), 0.04)
    if c == 0:  # airplane: fuselage, wings, tail
        body = _colour(rng, (0.85, 0.85, 0.88), 0.06)
        a = rng.uniform(-0.3, 0.3)
        return [(_ell(u, v, 0, 0, 0.75, 0.11, a) | _ell(u, v, 0.05, 0, 0.14, 0.7, a + 0.3)
                 | _ell(u, v, -0.62, -0.15, 0.1, 0.22, a), body)]
    if c in (1, 9):  # automobile / truck: boxes on wheels
        paint = _colour(rng)
        if c == 1:
            body = _box(u, v, -0.7, 0.7, 0.0, 0.32) | _box(u, v, -0.35, 0.3, -0.28, 0.0)
            window = _box(u, v, -0.28, 0.22, -0.22, -0.03)
            wheels = _ell(u, v, -0.42, 0.35, 0.15, 0.15) | _ell(u, v, 0.42, 0.35, 0.15, 0.15)
        else:
            body = _box(u, v, -0.8, 0.25, -0.45, 0.3) | _box(u, v, 0.28, 0.75, -0.15, 0.3)
            window = _box(u, v, 0.45, 0.7, -0.1, 0.05)
            wheels = (_ell(u, v, -0.6, 0.35, 0.13, 0.13) | _ell(u, v, -0.2, 0.35, 0.13, 0.13)
                      | _ell(u, v, 0.5, 0.35, 0.13, 0.13))
        return [(body, paint), (window, _colour(rng, (0.6, 0.75, 0.85), 0.05)), (wheels, dark)]
    if c == 2:  # bird: small body, head, beak, tail
        feathers = _colour(rng, (0.55, 0.4, 0.25), 0.2)
        return [(_ell(u, v, 0, 0.05, 0.35, 0.2, -0.3) | _ell(u, v, 0.3, -0.17, 0.14, 0.13)
                 | _ell(u, v, -0.42, 0.18, 0.22, 0.06, 0.4), feathers),
                (_tri(u, v, (0.42, -0.2), (0.42, -0.12), (0.6, -0.15)),
                 _colour(rng, (0.9, 0.7, 0.1), 0.05)),
                (_ell(u, v, 0.33, -0.2, 0.035, 0.035), dark)]
    if c in (3, 5):  # cat / dog: face
        fur = _colour(rng, _FUR[rng.integers(len(_FUR))], 0.06)
        eye = _colour(rng, (0.5, 0.75, 0.2) if c == 3 else (0.25, 0.15, 0.05), 0.05)
        eyes = _ell(u, v, -0.17, -0.03, 0.08, 0.06) | _ell(u, v, 0.17, -0.03, 0.08, 0.06)
        if c == 3:
            head = _ell(u, v, 0, 0.05, 0.45, 0.4)
            ears = (_tri(u, v, (-0.42, -0.1), (-0.1, -0.3), (-0.35, -0.65))
                    | _tri(u, v, (0.42, -0.1), (0.1, -0.3), (0.35, -0.65)))
            nose = _ell(u, v, 0, 0.15, 0.05, 0.04)
            return [(head | ears, fur), (eyes, eye), (nose, (0.9, 0.5, 0.55))]
        head = _ell(u, v, 0, 0.02, 0.38, 0.45)
        ears = _ell(u, v, -0.4, 0.05, 0.13, 0.32, 0.2) | _ell(u, v, 0.4, 0.05, 0.13, 0.32, -0.2)
        muzzle = _ell(u, v, 0, 0.27, 0.2, 0.15)
        return [(head, fur), (ears, fur * 0.6), (muzzle, np.clip(fur * 1.3, 0, 1)),
                (eyes, eye), (_ell(u, v, 0, 0.2, 0.07, 0.05), dark)]
    if c in (4, 7):  # deer / horse: body, legs, neck, head
        coat = _colour(rng, (0.5, 0.33, 0.18) if c == 4 else _FUR[rng.integers(len(_FUR))], 0.07)
        rx, leg = (0.42, 0.05) if c == 4 else (0.55, 0.08)
        legs = np.zeros_like(u, dtype=bool)
        for lx in (-0.8, -0.6, 0.6, 0.8):
            legs |= _box(u, v, lx * rx - leg / 2, lx * rx + leg / 2, 0.05, 0.65)
        layers = [(_ell(u, v, 0, 0, rx, 0.2) | legs | _ell(u, v, rx * 0.95, -0.3, 0.1, 0.25, 0.4)
                   | _ell(u, v, rx * 1.15, -0.52, 0.16, 0.08, 0.3), coat)]
        if c == 4:  # antlers
            layers.append((_box(u, v, rx * 0.95, rx * 0.95 + 0.03, -0.85, -0.55)
                           | _box(u, v, rx * 0.8, rx * 1.1, -0.78, -0.75), (0.35, 0.25, 0.15)))
        return layers
    if c == 6:  # frog: wide low body with bulging eyes
        skin = _colour(rng, (0.3, 0.6, 0.2) if rng.random() < 0.7 else (0.5, 0.4, 0.2), 0.08)
        body = (_ell(u, v, 0, 0.15, 0.5, 0.28) | _ell(u, v, -0.25, -0.1, 0.11, 0.1)
                | _ell(u, v, 0.25, -0.1, 0.11, 0.1) | _ell(u, v, -0.5, 0.35, 0.25, 0.08)
                | _ell(u, v, 0.5, 0.35, 0.25, 0.08))
        pupils = _ell(u, v, -0.25, -0.12, 0.05, 0.05) | _ell(u, v, 0.25, -0.12, 0.05, 0.05)
        return [(body, skin), (pupils, dark)]
    # 8, ship: hull on the water, superstructure, funnel
    hull = (v >= 0.05) & (v <= 0.3) & (np.abs(u) <= 0.75 - (v - 0.05) * 0.9)
    top = _box(u, v, -0.35, 0.2, -0.25, 0.05)
    funnel = _box(u, v, -0.15, 0.0, -0.45, -0.25)
    return [(hull, _colour(rng, (0.35, 0.35, 0.38), 0.1)),
            (top, _colour(rng, (0.9, 0.9, 0.9), 0.05)),
            (funnel, _colour(rng, (0.7, 0.2, 0.15), 0.1))]


# --- AFHQ-like faces, pistachios, sprites ------------------------------------------------------

def _afhq_files(counts: Mapping[str, int], size: int, seed: int, progress: bool):
    jobs = [(group, k) for group, n in counts.items() for k in range(1, n + 1)]
    for group, k in tqdm(jobs, desc="afhq stand-in", disable=not progress, leave=False):
        split, kind = group.split("/")
        rng = np.random.default_rng([seed, _group_seed(group), k])
        prefix = "flickr" if k % 3 else "pixabay"
        yield (f"afhq/{split}/{kind}/{prefix}_{kind}_{k:06d}.jpg",
               _jpeg(_animal_face(kind, rng), size))


def _group_seed(group: str) -> int:
    """A stable small integer for a group name (``hash()`` changes between runs)."""
    return zlib.crc32(group.encode())


def _animal_face(kind: str, rng, n: int = 128) -> np.ndarray:
    """A face filling the frame, as in AFHQ: ears by kind, eyes, muzzle, fur texture."""
    xx, yy = _coords(n)
    bg = _colour(rng, None, 0)[None, None] * (1 + 0.3 * yy[..., None])
    canvas = np.array(np.broadcast_to(bg, (n, n, 3)))
    fur = _colour(rng, _FUR[rng.integers(len(_FUR))] if kind != "wild"
                  else ((0.85, 0.5, 0.15) if rng.random() < 0.6 else (0.75, 0.62, 0.4)), 0.05)
    u = (xx - rng.uniform(-0.06, 0.06)) / rng.uniform(0.9, 1.05)
    v = (yy - rng.uniform(-0.06, 0.06)) / rng.uniform(0.9, 1.05)
    head = _ell(u, v, 0, 0.1, 0.78, 0.72)
    if kind == "cat":
        ears = (_tri(u, v, (-0.8, -0.1), (-0.2, -0.5), (-0.72, -0.98))
                | _tri(u, v, (0.8, -0.1), (0.2, -0.5), (0.72, -0.98)))
        eye_colour, pupil = _colour(rng, (0.55, 0.75, 0.2), 0.1), (0.04, 0.12)
    elif kind == "dog":
        ears = _ell(u, v, -0.75, 0.15, 0.2, 0.5, 0.25) | _ell(u, v, 0.75, 0.15, 0.2, 0.5, -0.25)
        eye_colour, pupil = _colour(rng, (0.3, 0.18, 0.08), 0.05), (0.09, 0.09)
    else:
        ears = _ell(u, v, -0.62, -0.62, 0.18, 0.16) | _ell(u, v, 0.62, -0.62, 0.18, 0.16)
        eye_colour, pupil = _colour(rng, (0.8, 0.65, 0.2), 0.05), (0.07, 0.08)
    texture = _smooth_noise(rng, n, 8)[..., None]
    canvas[head | ears] = (fur * (0.85 + 0.3 * texture))[head | ears]
    if kind == "wild" and fur[1] < 0.6:  # tiger-ish stripes
        stripes = head & (np.sin(14 * u + 3 * np.sin(4 * v)) > 0.6) & (np.abs(u) > 0.25)
        canvas[stripes] = 0.1
    canvas[_ell(u, v, 0, 0.42, 0.32, 0.25)] = np.clip(fur * 1.35, 0, 1)  # muzzle
    for ex in (-0.3, 0.3):
        canvas[_ell(u, v, ex, -0.05, 0.14, 0.11)] = eye_colour
        canvas[_ell(u, v, ex, -0.05, *pupil)] = 0.05
    canvas[_tri(u, v, (-0.1, 0.25), (0.1, 0.25), (0, 0.36))] = (0.25, 0.12, 0.12)
    return canvas + rng.normal(0, 0.02, canvas.shape)


def _pistachio_files(n_kirmizi: int, n_siirt: int, size: int, seed: int, progress: bool):
    jobs = [("Kirmizi_Pistachio", "kirmizi", k) for k in range(1, n_kirmizi + 1)]
    jobs += [("Siirt_Pistachio", "siirt", k) for k in range(1, n_siirt + 1)]
    for folder, stem, k in tqdm(jobs, desc="pistachio stand-in", disable=not progress, leave=False):
        rng = np.random.default_rng([seed, len(stem), k])
        name = f"{stem} {k}.jpg" if k % 10 == 7 else f"{stem} ({k}).jpg"  # both styles occur
        yield f"{_PISTACHIO_DIR}/{folder}/{name}", _jpeg(_pistachio(stem, rng), size)


def _pistachio(kind: str, rng, n: int = 150) -> np.ndarray:
    """A shaded nut on a dark background; Kirmizi longer and redder, Siirt rounder and paler,
    a dark slit where the shell has split."""
    xx, yy = _coords(n)
    a = rng.uniform(0, np.pi)
    rx = rng.uniform(0.55, 0.7) if kind == "kirmizi" else rng.uniform(0.5, 0.62)
    ry = rx / (rng.uniform(1.5, 1.8) if kind == "kirmizi" else rng.uniform(1.2, 1.4))
    cx, cy = rng.uniform(-0.1, 0.1, 2)
    c, s = np.cos(a), np.sin(a)
    xr, yr = c * (xx - cx) + s * (yy - cy), -s * (xx - cx) + c * (yy - cy)
    r2 = (xr / rx) ** 2 + (yr / ry) ** 2
    inside = r2 <= 1
    shell = _colour(rng, (0.8, 0.62, 0.5) if kind == "kirmizi" else (0.85, 0.78, 0.6), 0.04)
    light = np.sqrt(np.clip(1 - r2, 0, 1)) * (0.75 + 0.25 * (-xr / rx - yr / ry) / 2)
    canvas = np.zeros((n, n, 3)) + rng.uniform(0.0, 0.06)
    canvas[inside] = (shell * (0.35 + 0.75 * light[..., None]))[inside]
    slit = inside & (np.abs(yr + 0.05 * np.sin(9 * xr)) < rng.uniform(0.02, 0.05) * ry / 0.4) \
        & (xr > rng.uniform(-0.2, 0.3) * rx)
    canvas[slit] = (0.12, 0.1, 0.05) if rng.random() < 0.5 else (0.35, 0.45, 0.15)
    return canvas + rng.normal(0, 0.015, canvas.shape)


def _tinyhero_files(n_per_direction: int, seed: int, progress: bool):
    for i in tqdm(range(n_per_direction), desc="tinyhero stand-in", disable=not progress,
                  leave=False):
        rng = np.random.default_rng([seed, i])  # one character, drawn from four sides
        traits = _hero_traits(rng)
        for d in range(4):
            buf = io.BytesIO()
            Image.fromarray(_sprite(traits, d), "RGBA").save(buf, format="PNG")
            yield f"data/{d}/{i}.png", buf.getvalue()


def _hero_traits(rng) -> dict:
    palette = lambda base, spread=0.12: tuple(int(v) for v in np.clip(
        np.array(base) + rng.normal(0, spread * 255, 3), 0, 255))
    return {"skin": palette((225, 180, 130), 0.08), "hair": palette(rng.uniform(20, 235, 3), 0.05),
            "shirt": palette(rng.uniform(30, 230, 3), 0.05), "pants": palette((90, 70, 50), 0.15),
            "long_hair": rng.random() < 0.4, "bald": rng.random() < 0.15,
            "helmet": rng.random() < 0.15, "width": int(rng.integers(5, 8))}


def _sprite(t: dict, d: int) -> np.ndarray:
    """A chibi pixel character on a 32x32 grid, scaled 2x to 64x64 RGBA: big head, small
    body, transparent background, dark outline. d: 0 back, 1 left, 2 front, 3 right."""
    g = np.zeros((32, 32, 4), np.uint8)
    side = d in (1, 3)

    def fill(r0, r1, c0, c1, rgb):
        g[r0:r1, c0:c1] = (*rgb, 255)

    w = t["width"] - (1 if side else 0)
    fill(18, 25, 16 - w + 1, 16 + w - 1, t["shirt"])  # torso
    if side:
        fill(19, 24, 15, 18, t["skin"])  # one arm towards the viewer
        fill(25, 29, 14, 18, t["pants"])
    else:
        fill(19, 24, 16 - w - 1, 16 - w + 1, t["skin"])
        fill(19, 24, 16 + w - 1, 16 + w + 1, t["skin"])
        fill(25, 29, 16 - w + 2, 15, t["pants"])
        fill(25, 29, 17, 16 + w - 2, t["pants"])
    fill(6, 18, 10, 22, t["skin"])  # head
    hair = (150, 150, 160) if t["helmet"] else t["hair"]
    if not t["bald"] or t["helmet"]:
        fill(5, 9, 10, 22, hair)
        if d == 0:
            fill(5, 17 if t["long_hair"] else 14, 10, 22, hair)
        elif t["long_hair"]:  # down both sides; in profile only behind (1 faces left)
            if d != 1:
                fill(9, 19, 10, 12, hair)
            if d != 3:
                fill(9, 19, 20, 22, hair)
    eye = (30, 40, 60)
    if d == 2:
        fill(12, 14, 13, 15, eye)
        fill(12, 14, 17, 19, eye)
    elif d == 1:
        fill(12, 14, 11, 13, eye)
    elif d == 3:
        fill(12, 14, 19, 21, eye)
    # dark outline: transparent pixels next to the figure
    solid = g[..., 3] > 0
    grown = solid.copy()
    grown[1:] |= solid[:-1]
    grown[:-1] |= solid[1:]
    grown[:, 1:] |= solid[:, :-1]
    grown[:, :-1] |= solid[:, 1:]
    g[grown & ~solid] = (35, 25, 30, 255)
    return np.repeat(np.repeat(g, 2, axis=0), 2, axis=1)


# --- drawing helpers ---------------------------------------------------------------------------

def _coords(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in [-1, 1], x to the right, y downwards."""
    t = (np.arange(n) + 0.5) / n * 2 - 1
    return np.meshgrid(t, t)


def _ell(x, y, cx, cy, rx, ry, angle=0.0) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    dx, dy = x - cx, y - cy
    return ((c * dx + s * dy) / rx) ** 2 + ((-s * dx + c * dy) / ry) ** 2 <= 1


def _box(x, y, x0, x1, y0, y1) -> np.ndarray:
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def _tri(x, y, p0, p1, p2) -> np.ndarray:
    def side(a, b):
        return (x - b[0]) * (a[1] - b[1]) - (a[0] - b[0]) * (y - b[1])
    d0, d1, d2 = side(p0, p1), side(p1, p2), side(p2, p0)
    return ~(((d0 < 0) | (d1 < 0) | (d2 < 0)) & ((d0 > 0) | (d1 > 0) | (d2 > 0)))


def _smooth_noise(rng, n: int, cells: int) -> np.ndarray:
    """Low-frequency noise in [0, 1] (fur, lighting): coarse random grid, upsampled."""
    coarse = Image.fromarray((rng.random((cells, cells)) * 255).astype(np.uint8))
    return np.asarray(coarse.resize((n, n), Image.BICUBIC), np.float64) / 255


def _jpeg(canvas: np.ndarray, size: int) -> bytes:
    img = Image.fromarray(np.clip(canvas * 255, 0, 255).astype(np.uint8), "RGB")
    if img.size != (size, size):
        img = img.resize((size, size), Image.BICUBIC)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _join(top: str, name: str) -> str:
    return f"{top.strip('/')}/{name}" if top else name


def _write_zip(path: str | os.PathLike, entries) -> None:
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(zipfile.ZipInfo(name, date_time=_ZIP_DATE), data,
                        compress_type=zipfile.ZIP_DEFLATED)
