"""Where each dataset of the report comes from, and what it must look like once unpacked.

One table drives every download: adding a dataset means adding an entry here, not
new download code. The layout spec is what :func:`idl.data.acquire.acquire` checks
after unpacking, so a truncated archive or a different version of a dataset fails
loudly at acquisition time instead of silently training on less data.

Checksums are ``"md5:<hex>"`` or ``"sha256:<hex>"``; ``None`` where nobody publishes
one (the acquired file's SHA-256 is then recorded in ``SOURCE.json``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal, Mapping
from urllib.parse import urlsplit

from idl.errors import DataError, DownloadError

#: The record of where a dataset folder came from, written into it by acquisition and the demo.
SOURCE_FILE = "SOURCE.json"

Kind = Literal["http_files", "http_archive", "kaggle"]

HASH_ALGOS = ("md5", "sha256")


@dataclass(frozen=True)
class RemoteFile:
    """One file to download; ``filename`` names it in the cache and on mirrors."""

    url: str
    filename: str
    checksum: str | None = None


@dataclass(frozen=True)
class DatasetSource:
    """A dataset: how to fetch it and the layout it must have once unpacked.

    kind:
      ``http_files``   -- the files themselves are the dataset (Fashion-MNIST's IDX gz files);
      ``http_archive`` -- one archive to download and unpack;
      ``kaggle``       -- fetched with ``kagglehub.dataset_download(kaggle_handle)``.
    layout: group name -> (glob pattern relative to the dataset root, expected file count).
    """

    name: str
    kind: Kind
    layout: Mapping[str, tuple[str, int]]
    files: tuple[RemoteFile, ...] = ()
    kaggle_handle: str | None = None
    homepage: str = ""
    licence: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "layout", MappingProxyType(dict(self.layout)))
        if self.kind == "kaggle" and not self.kaggle_handle:
            raise ValueError(f"{self.name}: a kaggle source needs kaggle_handle")
        if self.kind != "kaggle" and not self.files:
            raise ValueError(f"{self.name}: an http source needs files")
        if self.kind == "http_archive" and len(self.files) != 1:
            raise ValueError(f"{self.name}: an http_archive source has exactly one file")
        for f in self.files:
            if f.checksum is not None:
                parse_checksum(f.checksum)

    @property
    def archive_name(self) -> str | None:
        """The file a Kaggle dataset downloads as (``<slug>.zip``): its name on a mirror."""
        return f"{self.kaggle_handle.split('/')[-1]}.zip" if self.kaggle_handle else None

    @property
    def kaggle_url(self) -> str | None:
        if not self.kaggle_handle:
            return None
        return f"https://www.kaggle.com/datasets/{self.kaggle_handle}"


def parse_checksum(text: str) -> tuple[str, str]:
    """``"md5:abc..."`` -> ``("md5", "abc...")``; rejects unknown algorithms and bad hex."""
    algo, sep, hexdigest = text.partition(":")
    algo, hexdigest = algo.strip().lower(), hexdigest.strip().lower()
    lengths = {"md5": 32, "sha256": 64}
    if not sep or algo not in lengths:
        raise ValueError(f"checksum {text!r} must look like 'md5:<hex>' or 'sha256:<hex>'")
    if len(hexdigest) != lengths[algo] or any(c not in "0123456789abcdef" for c in hexdigest):
        raise ValueError(f"checksum {text!r}: expected {lengths[algo]} hex digits for {algo}")
    return algo, hexdigest


def url_problem(url) -> str | None:
    """Why ``url`` is not an absolute http(s) URL naming a host, or None if it is one."""
    if not isinstance(url, str) or not url.strip():
        return "it is empty"
    if any(c.isspace() or not c.isprintable() for c in url):
        return "it contains spaces or control characters (write a space as %20)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as e:
        return f"it cannot be parsed ({e})"
    if parts.scheme.lower() not in ("http", "https"):
        return "it does not start with http:// or https://"
    if not parts.hostname:
        return "it names no host"
    return None


def check_url(url: str, key: str) -> str:
    """``url`` if it is an absolute http(s) URL naming a host; else a DownloadError that
    names ``key`` (where the URL came from, e.g. ``data.clock.url``) and the URL."""
    problem = url_problem(url)
    if problem:
        raise DownloadError(f"{key}: {url!r} is not a download URL: {problem}. Give a full "
                            "address such as https://example.org/data/file.zip, or use `local` "
                            "for a file already on disk.")
    return url


FASHION_MNIST_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FASHION_MNIST_FILES = {
    # MD5s from the zalandoresearch/fashion-mnist README.
    "train-images-idx3-ubyte.gz": "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "md5:25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "md5:bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "md5:bb300cfdad3c16e7a12a480ee83cd310",
}

TINYHERO_COMMIT = "75d48ea6a2a37659f913f143958a401a7c3d077d"

_AFHQ_COUNTS = {"train/cat": 5153, "train/dog": 4739, "train/wild": 4738,
                "val/cat": 500, "val/dog": 500, "val/wild": 500}
_PISTACHIO_ROOT = "Pistachio_Image_Dataset/Pistachio_Image_Dataset"

DATASETS: dict[str, DatasetSource] = {
    "fashion_mnist": DatasetSource(
        name="fashion_mnist",
        kind="http_files",
        files=tuple(RemoteFile(FASHION_MNIST_BASE + fn, fn, md5)
                    for fn, md5 in FASHION_MNIST_FILES.items()),
        layout={fn.split("-idx")[0]: (fn, 1) for fn in FASHION_MNIST_FILES},
        homepage="https://github.com/zalandoresearch/fashion-mnist",
        licence="MIT",
        notes="60000 + 10000 grayscale 28x28 images in IDX gz files.",
    ),
    "cifar10": DatasetSource(
        name="cifar10",
        kind="http_archive",
        files=(RemoteFile(
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            "cifar-10-python.tar.gz",
            "sha256:6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
        ),),
        layout={
            "data_batch": ("cifar-10-batches-py/data_batch_[1-5]", 5),
            "test_batch": ("cifar-10-batches-py/test_batch", 1),
            "batches.meta": ("cifar-10-batches-py/batches.meta", 1),
        },
        homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        notes="170,498,071 bytes; 50000 + 10000 RGB 32x32 images as pickled batches.",
    ),
    "clock": DatasetSource(
        name="clock",
        kind="http_archive",
        files=(RemoteFile(
            "https://surfdrive.surf.nl/index.php/s/Nznt5c48Mzlb2HY/download"
            "?path=%2F&files=A1_data_150.zip",
            "A1_data_150.zip",
            None,  # not published: the SHA-256 first seen is recorded in SOURCE.json
        ),),
        layout={"images": ("images.npy", 1), "labels": ("labels.npy", 1)},
        homepage="https://surfdrive.surf.nl/index.php/s/Nznt5c48Mzlb2HY",
        licence="course material",
        notes="images (18000,150,150) uint8, labels (18000,2) [hour, minute], rows sorted by time.",
    ),
    "afhq": DatasetSource(
        name="afhq",
        kind="kaggle",
        kaggle_handle="andrewmvd/animal-faces",
        layout={g: (f"afhq/{g}/*.jpg", n) for g, n in _AFHQ_COUNTS.items()},
        homepage="https://github.com/clovaai/stargan-v2",
        licence="CC BY-NC 4.0",
        notes="512x512 RGB JPEG animal faces.",
    ),
    "pistachio": DatasetSource(
        name="pistachio",
        kind="kaggle",
        kaggle_handle="muratkokludataset/pistachio-image-dataset",
        # Glob, never build names: some files are "kirmizi (1).jpg", some "kirmizi 1.jpg".
        layout={
            "Kirmizi_Pistachio": (f"{_PISTACHIO_ROOT}/Kirmizi_Pistachio/*.jpg", 1232),
            "Siirt_Pistachio": (f"{_PISTACHIO_ROOT}/Siirt_Pistachio/*.jpg", 916),
        },
        notes="600x600 RGB JPEG.",
    ),
    "tinyhero": DatasetSource(
        name="tinyhero",
        kind="http_archive",
        files=(RemoteFile(
            "https://github.com/AgaMiko/pixel_character_generator/archive/"
            f"{TINYHERO_COMMIT}.zip",
            f"pixel_character_generator-{TINYHERO_COMMIT}.zip",
            None,  # GitHub does not promise byte-stable archives; the hash seen is recorded
        ),),
        # 0 back, 1 left, 2 front, 3 right; index i is the same character in all four.
        layout={str(d): (f"data/{d}/*.png", 912) for d in range(4)},
        homepage="https://github.com/AgaMiko/pixel_character_generator",
        licence="CC-BY-SA 3.0 / GPL 3.0",
        notes="64x64 RGBA PNG (the report says 914 per direction; the commit has 912).",
    ),
}


def get_source(name: str) -> DatasetSource:
    """The registry entry for ``name``, with a message listing the known names."""
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise ValueError(f"unknown dataset {name!r}; known: {known}") from None


# Layout checks: shared by acquisition and the demo's generators (idl.data.demo_data).

def expected_counts(name: str) -> dict[str, int]:
    """Layout group -> number of files the real dataset has (from the registry)."""
    return {group: n for group, (_, n) in get_source(name).layout.items()}


def check_layout(name: str, root: str | os.PathLike, counts: Mapping[str, int] | None = None,
                 *, where: str | os.PathLike | None = None, hint: str = "") -> dict[str, int]:
    """Count the files of each layout group under ``root``; raise DataError on any mismatch.

    ``counts`` overrides the registry's expected count per group (small fixtures,
    deliberate subsets). ``where`` is the path to name in the message (defaults to root).
    """
    root = Path(root)
    layout = group_counts(get_source(name), counts)
    found = {g: _count(root, pattern) for g, (pattern, _) in layout.items()}
    bad = [f"  group {g!r}: pattern {pattern!r} expected {n} files, found {found[g]}"
           + (" (missing)" if found[g] == 0 else "")
           for g, (pattern, n) in layout.items() if found[g] != n]
    if bad:
        raise DataError(
            f"dataset {name!r} in {where or root} does not have the expected layout:\n"
            + "\n".join(bad) + (f"\n{hint}" if hint else ""))
    return found


def _count(root: Path, pattern: str) -> int:
    return sum(1 for p in root.glob(pattern) if p.is_file())


def group_counts(source: DatasetSource, counts: Mapping[str, int] | None) -> dict:
    """The source's layout (group -> (pattern, file count)), with ``counts`` overriding counts."""
    layout = dict(source.layout)
    for group, n in (counts or {}).items():
        if group not in layout:
            raise ValueError(f"expected_counts: {source.name} has no group {group!r}; "
                             f"groups: {', '.join(layout)}")
        if int(n) < 1:
            raise ValueError(f"expected_counts: {source.name} group {group!r} must hold at "
                             f"least 1 file, not {n}")
        layout[group] = (layout[group][0], int(n))
    return layout
