"""Turn folders of dataset images into one compact ``(N, size, size, 3) uint8`` array.

The generative models (CAE, VAE, GAN) train on 32x32 RGB images: cats (AFHQ,
512x512 JPEG), pistachios (600x600 JPEG) and TinyHeroes sprites (64x64 RGBA PNG,
which the report keeps at their native 64x64). Decoding thousands of large JPEGs
is the slow part, so JPEGs are decoded at reduced size by libjpeg itself
(``Image.draft``); everything after that is small.

Choices made here, and why:

* Resampling filter: ``BOX`` (area averaging). Every source pixel contributes with
  equal weight, which is exactly the 2x2 mean for the common 64 -> 32 step after the
  JPEG draft decode, never overshoots (no Lanczos ringing/halos around the hard
  edges of sprites or of pistachios on a flat background), and is the filter that
  draft decoding approximates anyway, so draft and full decodes agree closely.
* Transparency (RGBA, LA, "P" with a transparent colour) is composited onto a
  solid ``background`` *before* resizing: resizing un-premultiplied RGBA would
  bleed the arbitrary colour stored under transparent pixels into the edges.
* Pixels of more than 8 bits (16-bit greyscale PNG/TIFF, 32-bit integer or float TIFF) are
  scaled by their bit depth (16 bits: divided by 257), never clipped: Pillow's own conversion
  would saturate a mid-grey 16-bit image to white. Pixels whose depth cannot be told (integers
  beyond 16 bits, floats outside 0..1) are refused, naming the file, like a corrupt image.
* Non-square images are centre-cropped to a square first (the crop box goes to
  ``resize`` so it is exact even after a draft decode), so nothing is stretched.
* Row order is the natural sort of the file names ("2.png" before "10.png"), so
  ``images.npy`` has the same rows on every machine and TinyHeroes index ``i`` is
  row ``i`` in every direction.
"""
from __future__ import annotations

import csv
import io as _stdio
import logging
import multiprocessing
import os
import re
import struct
import sys
import zlib
from functools import partial
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from idl import io
from idl.errors import DataError

logger = logging.getLogger(__name__)

RESAMPLE = Image.Resampling.BOX
TINYHERO_DIRECTIONS = {"back": 0, "left": 1, "front": 2, "right": 3}

# Everything Pillow's decoders raise on a broken file (UnidentifiedImageError and
# "image file is truncated" are OSErrors; broken PNG chunks raise SyntaxError).
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    zlib.error,
    Image.DecompressionBombError,
)


def _check_background(background: Sequence[int]) -> tuple[int, int, int]:
    bg = tuple(int(c) for c in background)
    if len(bg) != 3 or not all(0 <= c <= 255 for c in bg):
        raise ValueError(f"background must be three integers in 0..255 (R, G, B), got {background!r}")
    return bg  # type: ignore[return-value]


def _deep_to_8bit(im: Image.Image, path: Path) -> Image.Image:
    """A single-channel image of more than 8 bits per pixel as 8-bit "L", by its bit depth.

    Pillow's own conversion clips such pixels to 255, so a mid-grey 16-bit image comes out
    white. The rules: 16-bit modes ("I;16", "I;16B", ...) are full-range 16-bit and divided by
    257 (65535 -> 255); "I" (32-bit integers) is read the same way when its pixels lie in
    0..65535 (how 16-bit files have been opened) and refused otherwise; "F" (32-bit floats) is
    read as 0..1 (times 255) and refused otherwise. Refusals are a DataError naming the file.
    """
    a = np.asarray(im)
    if im.mode == "F":
        if not np.all(np.isfinite(a)) or a.min() < 0 or a.max() > 1:
            raise DataError(f"{path}: floating-point pixels outside 0..1 (from {np.nanmin(a):g} to "
                            f"{np.nanmax(a):g}, {int(np.sum(~np.isfinite(a)))} not finite) have no single "
                            "meaning in 8 bits; save the image as 8- or 16-bit integers, or remove it")
        scaled = a.astype(np.float64) * 255.0
    else:
        if a.min() < 0 or a.max() > 65535:
            raise DataError(f"{path}: {im.mode!r} pixels from {a.min()} to {a.max()} do not fit 16 bits, so "
                            "their bit depth is unknown; save the image as 8- or 16-bit, or remove it")
        scaled = a.astype(np.float64) / 257.0
    return Image.fromarray(np.round(scaled).astype(np.uint8), "L")


def _to_rgb(im: Image.Image, background: tuple[int, int, int], path: Path) -> Image.Image:
    """RGB image; transparent pixels become ``background`` (composited, not dropped).

    Every Pillow mode is read: more than 8 bits per pixel by :func:`_deep_to_8bit`, the rest
    by Pillow's conversion; a mode it cannot convert is a DataError naming the file.
    """
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        im = _deep_to_8bit(im, path)
    try:
        if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or im.has_transparency_data:
            rgba = im.convert("RGBA")
            canvas = Image.new("RGBA", rgba.size, (*background, 255))
            return Image.alpha_composite(canvas, rgba).convert("RGB")
        return im if im.mode == "RGB" else im.convert("RGB")
    except ValueError as e:  # "conversion from X to Y not supported"
        raise DataError(f"{path}: images of pixel mode {im.mode!r} cannot be converted to RGB ({e}); "
                        "save it as 8-bit RGB or grayscale, or remove it") from e


def _exif_transpose(im: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(im)
    except Exception:  # noqa: BLE001 - a damaged EXIF block only loses the turn; the decode checked the rest
        return im


def _centre_square(w: int, h: int) -> tuple[float, float, float, float]:
    """The largest centred square of a w x h picture, as Pillow's resize ``box``."""
    side = min(w, h)
    return ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)


def fit_squares(images: np.ndarray, size: int) -> np.ndarray:
    """Grayscale (N, H, W) uint8 images as (N, size, size): each centre-cropped to a square and
    box-filtered to ``size``, as :func:`load_downsampled` prepares every picture (returned as
    given when they already are that size)."""
    images = np.asarray(images)
    n, h, w = images.shape
    if (h, w) == (size, size):
        return images
    box = _centre_square(w, h)
    out = np.empty((n, size, size), dtype=np.uint8)
    for i, image in enumerate(images):
        im = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), "L")
        out[i] = np.asarray(im.resize((size, size), RESAMPLE, box=box), dtype=np.uint8)
    return out


def load_downsampled(
    path: str | os.PathLike,
    size: int,
    *,
    background: Sequence[int] = (255, 255, 255),
    use_draft: bool = True,
    exif_upright: bool = False,
) -> np.ndarray:
    """Read one image as a ``(size, size, 3) uint8`` array (see the module docstring).

    ``use_draft=False`` decodes JPEGs at full size first; it exists to check and
    benchmark the draft path, the results differ by a few grey levels at most.
    ``exif_upright``: turn the picture as its EXIF orientation says (a camera's photo), with
    Pillow's ``ImageOps.exif_transpose``; a damaged EXIF block leaves it as decoded.
    Raises DataError naming the file when it cannot be decoded completely.
    """
    if int(size) < 1:
        raise ValueError(f"size must be a positive number of pixels, got {size!r}")
    size = int(size)
    bg = _check_background(background)
    path = Path(path)
    try:
        with Image.open(path) as im:
            if use_draft:
                # JPEG only (other formats ignore it): libjpeg scales by 1/2, 1/4 or
                # 1/8 while decoding, keeping both sides >= size.
                im.draft("RGB", (size, size))
            im.load()  # decode now, so truncation is detected here
            if exif_upright:
                im = _exif_transpose(im)
            rgb = _to_rgb(im, bg, path)
            if rgb.size != (size, size):
                rgb = rgb.resize((size, size), RESAMPLE, box=_centre_square(*rgb.size))
            arr = np.array(rgb, dtype=np.uint8)
    except FileNotFoundError as e:
        raise DataError(f"{path}: image file not found ({e}). Check the path or re-download the dataset.") from e
    except _DECODE_ERRORS as e:
        raise DataError(
            f"{path}: cannot decode image ({type(e).__name__}: {e}). The file is corrupt or "
            "truncated; re-download the dataset, or remove this file from the raw folder."
        ) from e
    return arr


def _natural_key(text: str) -> tuple:
    """'img10' -> ('img', 10, '') so numbers compare as numbers; text parts casefolded."""
    parts = re.split(r"(\d+)", text)
    return tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts))


def _path_key(path: Path) -> tuple:
    # Compare path components one by one; the raw string breaks ties ("01" vs "1").
    return (tuple(_natural_key(p) for p in path.parts), path.as_posix())


def _is_hidden(rel: Path) -> bool:
    return any(p.startswith(".") or p == "__MACOSX" for p in rel.parts)


def select_files(raw_dir: str | os.PathLike, pattern: str) -> list[Path]:
    """Files under ``raw_dir`` matching ``pattern``, in natural order, for stable rows.

    Hidden files and macOS ``__MACOSX``/``._name`` archive debris are skipped: they
    match ``*.png`` but are not images. Raises DataError when nothing matches.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise DataError(f"{raw_dir}: image folder does not exist. Download/extract the dataset first.")
    found = [p for p in raw_dir.glob(pattern) if p.is_file() and not _is_hidden(p.relative_to(raw_dir))]
    if not found:
        raise DataError(
            f"{raw_dir}: no files match {pattern!r}. Check the dataset layout (was the archive "
            "extracted into this folder?) or the pattern."
        )
    return sorted(found, key=lambda p: _path_key(p.relative_to(raw_dir)))


def tinyhero_pattern(direction: str) -> str:
    """Glob (relative to the TinyHeroes repository root) for one viewing direction."""
    if direction not in TINYHERO_DIRECTIONS:
        valid = ", ".join(f"{k!r} ({v})" for k, v in TINYHERO_DIRECTIONS.items())
        raise ValueError(f"unknown TinyHeroes direction {direction!r}; valid directions: {valid}")
    return f"data/{TINYHERO_DIRECTIONS[direction]}/*.png"


def _load_one(path: str, size: int, background: tuple[int, int, int]) -> tuple[np.ndarray | None, str | None]:
    """Worker: the array, or the DataError message (exceptions do not cross the pool well)."""
    try:
        return load_downsampled(path, size, background=background), None
    except DataError as e:
        return None, str(e)


def _default_workers() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


def _pool_context():
    # fork on Linux: no re-import of __main__, so this also works from scripts
    # without an ``if __name__ == "__main__"`` guard (e.g. Snakemake ``script:``).
    # Elsewhere the platform default (spawn) is the only safe choice.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _source_name(path: Path, root: Path | None) -> str:
    if root is None:
        return path.as_posix()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        raise ValueError(f"{path} is not inside root {root}; pass root=None or the dataset folder") from None


def prepare_images(
    files: Iterable[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    size: int = 32,
    background: Sequence[int] = (255, 255, 255),
    max_bad_fraction: float = 0.01,
    root: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> dict:
    """Downsample ``files`` into ``out_dir/{images.npy, manifest.csv, summary.json}``.

    Rows follow the natural sort of the paths (the order ``select_files`` returns),
    whatever order ``files`` came in and however many workers decode them.
    Unreadable files are logged and skipped; more than ``max_bad_fraction`` of them
    means a broken download, so DataError is raised and nothing is written.
    ``manifest.csv`` maps each row to its source (relative to ``root`` if given).
    """
    if not 0.0 <= max_bad_fraction <= 1.0:
        raise ValueError(f"max_bad_fraction must be in [0, 1], got {max_bad_fraction!r}")
    bg = _check_background(background)
    size = int(size)
    out_dir = Path(out_dir)
    root_path = Path(root) if root is not None else None
    paths = sorted((Path(f) for f in files), key=_path_key)
    if not paths:
        raise DataError(f"{out_dir}: no input images given. Check the raw folder and the file pattern.")
    if len(set(paths)) != len(paths):
        raise ValueError("files contains duplicates; each image must appear once")
    names = [_source_name(p, root_path) for p in paths]

    n = len(paths)
    workers = _default_workers() if workers is None else max(1, int(workers))
    workers = min(workers, n)
    load = partial(_load_one, size=size, background=bg)
    images = np.zeros((n, size, size, 3), dtype=np.uint8)
    ok = np.zeros(n, dtype=bool)
    bad: list[dict] = []
    bar = tqdm(total=n, desc=f"downsampling to {size}x{size}", unit="img", disable=not progress)
    try:
        if workers > 1:
            chunksize = max(1, min(64, n // (workers * 4)))
            with _pool_context().Pool(workers) as pool:
                results = list(_consume(pool.imap(load, map(str, paths), chunksize=chunksize), bar))
        else:
            results = list(_consume(map(load, map(str, paths)), bar))
    finally:
        bar.close()
    for i, (arr, err) in enumerate(results):
        if arr is None:
            logger.warning("skipping unreadable image %s: %s", names[i], err)
            bad.append({"source": names[i], "error": err})
        else:
            images[i] = arr
            ok[i] = True

    fraction = len(bad) / n
    if fraction > max_bad_fraction or not ok.any():
        shown = ", ".join(b["source"] for b in bad[:10]) + (f" (and {len(bad) - 10} more)" if len(bad) > 10 else "")
        raise DataError(
            f"{len(bad)} of {n} images ({fraction:.1%}) could not be read, more than "
            f"max_bad_fraction={max_bad_fraction:.1%}: {shown}. Nothing was written to {out_dir}. "
            "Re-download the dataset, or raise max_bad_fraction if these files are known to be broken."
        )

    kept = [name for name, good in zip(names, ok) if good]
    summary = {
        "n_files": n,
        "n_images": len(kept),
        "n_bad": len(bad),
        "bad_fraction": fraction,
        "bad_files": bad,
        "size": size,
        "background": list(bg),
        "resample": RESAMPLE.name,
        "dtype": "uint8",
        "shape": [len(kept), size, size, 3],
    }
    buf = _stdio.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["row", "source"])
    writer.writerows(enumerate(kept))
    with io.atomic_dir(out_dir) as tmp:
        io.save_npy(tmp / "images.npy", images[ok])
        io.write_text(tmp / "manifest.csv", buf.getvalue())
        io.write_json(tmp / "summary.json", summary)
    logger.info("wrote %d images (%d skipped) to %s", len(kept), len(bad), out_dir)
    return summary


def _consume(results, bar):
    for r in results:
        bar.update(1)
        yield r


def read_manifest(out_dir: str | os.PathLike) -> list[str]:
    """Sources of ``out_dir/images.npy`` row by row, as written by ``prepare_images``."""
    path = Path(out_dir) / "manifest.csv"
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError as e:
        raise DataError(f"{path}: manifest not found; run the image preparation step first.") from e
    except (OSError, UnicodeDecodeError, csv.Error) as e:  # a folder, a binary file, a broken quote...
        raise DataError(f"{path}: not a readable manifest ({type(e).__name__}: {e}); rerun the image "
                        "preparation step") from e
    if rows and list(rows[0]) != ["row", "source"]:
        raise DataError(f"{path}: expected columns row,source, got {list(rows[0])}")
    for i, r in enumerate(rows):
        if r["row"] != str(i) or not r["source"]:
            raise DataError(f"{path}: row numbers must be 0..N-1 in order, each with its source; line {i + 2} "
                            f"says {r['row']!r}, {r['source']!r}; rerun the image preparation step")
    return [r["source"] for r in rows]


def before_after_figure(
    files: Sequence[str | os.PathLike],
    arrays: np.ndarray,
    path: str | os.PathLike,
    n: int = 8,
    *,
    top_size: int = 64,
    background: Sequence[int] = (255, 255, 255),
) -> None:
    """Report Figure 4: originals (at ``top_size``) above their downsampled arrays.

    ``arrays[i]`` must be the downsampled ``files[i]`` (e.g. ``read_manifest`` rows);
    the first ``n`` are shown. Nearest-neighbour display keeps the pixels visible.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    arrays = np.asarray(arrays)
    if len(files) != len(arrays):
        raise ValueError(f"files ({len(files)}) and arrays ({len(arrays)}) must correspond one to one")
    k = min(int(n), len(files))
    if k < 1:
        raise ValueError("before_after_figure needs at least one image")
    fig = Figure(figsize=(1.2 * k, 2.7))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, k, squeeze=False)
    small = arrays.shape[1]
    for i in range(k):
        top = load_downsampled(files[i], top_size, background=background)
        axes[0, i].imshow(top, interpolation="nearest")
        axes[1, i].imshow(arrays[i], interpolation="nearest")
        for ax in axes[:, i]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel(f"original\n{top_size}x{top_size}", fontsize=8)
    axes[1, 0].set_ylabel(f"downsampled\n{small}x{small}", fontsize=8)
    fig.tight_layout()
    with io.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
