"""Read the time off clock pictures with a trained model's *reader*: its weights and its recipe.

    python -m idl.clock.read PHOTO.jpg [OTHER.png images.npy ...] [--reader FOLDER] [--quarter-turns]
    ./run read-clock PHOTO.jpg ...

prints one ``HH:MM`` line per image, in the order given (a course-format ``images.npy`` gives one
line per row). The dial has 12 hours and the hour 0 of the course labels is printed as 12:
``12:05``, ``01:30``, ... ``11:59``.

A reader is a folder of two files, written from a trained ``model.keras`` by the ``clock_reader``
rule (``scripts/clock_reader.py``, :func:`export_reader`):

``reader.weights.h5``
    the model's weights alone (``model.save_weights``): no optimizer state, no code;
``reader.json``
    what rebuilds the model around them: the format version, the model's ``clock.models``
    recipe as params.yaml writes it (the model is rebuilt with
    :func:`idl.clock.recipes.build_model`, never deserialised from the file), the side of the
    square images it was trained on, the weights' SHA-256 and the Keras version that wrote them.

:func:`load_reader` checks the weights' SHA-256 against ``reader.json`` before it loads them, so
damaged, truncated or swapped weights (or a Git LFS pointer in their place) are refused instead of
giving wrong times. The hash sits beside the weights: it proves that the two files belong together
and are intact, not who made them (the committed copy's history does that).

Pictures (PNG or JPEG, any size and pixel mode) are prepared as the training images look: decoded
as :func:`idl.data.images.load_downsampled` decodes every picture of the project (transparency
onto white, 16-bit pixels by their depth, a non-square picture centre-cropped to a square, then
box-filtered to the model's side), turned as its EXIF orientation says, and made grayscale with
Pillow's ITU-R 601-2 luma. An ``images.npy`` must be the course's layout, (N, H, W) uint8; it is
read without pickle (:func:`idl.data.arrays.load_npy`) and each image is cropped and resized the
same way when its side differs from the model's.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from idl.clock.labels import from_minutes
from idl.clock.recipes import Recipe
from idl.errors import DataError, IdlError

log = logging.getLogger(__name__)

READER_JSON = "reader.json"
WEIGHTS_FILE = "reader.weights.h5"
FORMAT = "idl-clock-reader"
FORMAT_VERSION = 1
#: The committed reader ``python -m idl.clock.read`` uses unless ``--reader`` names another.
SHIPPED = Path(__file__).resolve().parent / "shipped"
#: reader.json is a few hundred bytes; anything this big is not one.
_MAX_JSON_BYTES = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"


def how_to_make(folder: Path | None = None) -> str:
    """What to do when there is no usable reader (``folder``: where one was looked for)."""
    copy = f", or copy that folder's {READER_JSON} and {WEIGHTS_FILE} into {folder}" if folder is not None else ""
    return ("make one from a trained model with `snakemake --cores 1 results/clock/models/<model>/reader` "
            "(the clock_reader rule; it trains <model> first if needed) and pass "
            f"--reader results/clock/models/<model>/reader{copy}")


# ------------------------------------------------------------------------- export

def _outputs(model, x) -> list[np.ndarray]:
    """The model's outputs on a small batch, in a fixed order (a direct call: no predict loop to build)."""
    import keras

    out = model(x, training=False)
    if isinstance(out, Mapping):
        out = [out[k] for k in sorted(out)]
    return [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(out)]


def export_reader(trained: str | os.PathLike, recipe_params: Mapping[str, Any], out_dir: str | os.PathLike,
                  name: str | None = None) -> dict:
    """Write the reader of the trained ``model.keras`` at ``trained`` (its ``clock.models`` recipe
    ``recipe_params``, named ``name``) into the folder ``out_dir``, atomically; returns reader.json.

    The trained weights are copied into a model rebuilt from the recipe, which must then read the
    trained model's outputs (a model trained from another recipe is refused here rather than
    shipped), and written from it with ``save_weights``: the rebuilt model was never compiled, so
    no optimizer state comes along. The file is loaded back into a third build before it is kept.
    """
    import keras

    from idl.clock import recipes
    from idl.io import atomic_dir, sha256_file, write_json
    from idl.models.clock import load_model

    trained = Path(trained)
    what = f"clock.models.{name}" if name else "its recipe"
    recipe = Recipe.from_params(recipe_params)
    if not trained.is_file():
        raise DataError(f"{trained}: no trained model here; train it first")
    model = load_model(trained)
    shape = tuple(model.input_shape[1:])
    if len(shape) != 3 or shape[2] != 1 or shape[0] != shape[1]:
        raise DataError(f"{trained}: takes images of shape {shape}; a reader needs a model of square "
                        "grayscale images (side, side, 1)")
    size = int(shape[0])
    retrain = f"was it trained from another recipe than {what}'s? Retrain it"
    probe = np.random.default_rng(0).integers(0, 256, (4, size, size, 1), dtype=np.uint8)
    want = _outputs(model, probe)

    def same(other) -> bool:
        got = _outputs(other, probe)
        return len(got) == len(want) and all(
            g.shape == w.shape and np.allclose(g, w, rtol=1e-4, atol=1e-5) for g, w in zip(got, want))

    fresh = recipes.build_model(recipe, (size, size, 1))
    try:
        fresh.set_weights(model.get_weights())
    except ValueError as exc:
        raise DataError(f"{trained}: its weights do not fit the model {what} builds ({_one_line(exc)}); "
                        f"{retrain}") from None
    if not same(fresh):
        raise DataError(f"{trained}: the model {what} builds reads differently with the trained weights; {retrain}")
    with atomic_dir(out_dir) as tmp:
        weights = tmp / WEIGHTS_FILE
        fresh.save_weights(weights)
        check = recipes.build_model(recipe, (size, size, 1))
        check.load_weights(weights)
        if not same(check):
            raise DataError(f"{trained}: its weights, written and read back, read differently; please report it")
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "model": name,
            "approach": recipes.describe(recipe),
            "recipe": dict(recipe_params),
            "image_size": size,
            "weights_file": WEIGHTS_FILE,
            "weights_sha256": sha256_file(weights),
            "parameters": int(sum(int(np.prod(v.shape)) for v in fresh.weights)),
            "keras_version": keras.__version__,
            "keras_backend": keras.backend.backend(),
        }
        write_json(tmp / READER_JSON, meta)
    log.info("reader of %s (%s, %dx%d images, %d weights) written to %s", name or trained, meta["approach"],
             size, size, meta["parameters"], out_dir)
    return meta


# --------------------------------------------------------------------------- load

@dataclass(frozen=True)
class Reader:
    """A loaded reader: the rebuilt Keras model, its recipe, the side of its square input images."""

    folder: Path
    recipe: Recipe
    image_size: int
    model: Any
    meta: dict


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} is given twice")
        out[key] = value
    return out


def read_meta(folder: str | os.PathLike) -> dict:
    """The checked contents of ``folder``/reader.json (plain JSON: nothing is unpickled or evaluated)."""
    folder = Path(folder)
    path = folder / READER_JSON
    if folder.resolve() == SHIPPED and not path.exists():
        raise DataError(f"{folder}: the shipped clock reader ({READER_JSON} and {WEIGHTS_FILE}) is not in "
                        f"this copy of the project; {how_to_make(folder)}")
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder, so no clock reader; {how_to_make()}")
    redo = f"re-export the reader ({how_to_make()})"
    try:
        with open(path, "rb") as f:
            raw = f.read(_MAX_JSON_BYTES + 1)
    except FileNotFoundError:
        raise DataError(f"{path}: not found, so {folder} holds no clock reader; {how_to_make(folder)}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc}); {redo}") from None
    if len(raw) > _MAX_JSON_BYTES:
        raise DataError(f"{path}: over {_MAX_JSON_BYTES} bytes, so not a reader description; {redo}")
    try:
        meta = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: not valid JSON ({_one_line(exc)}); {redo}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DataError(f"{path}: not a clock reader description (its \"format\" is not {FORMAT!r}); {redo}")
    version = meta.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise DataError(f"{path}: format version {version} is newer than this project reads ({FORMAT_VERSION}); "
                        "update the project")
    if version != FORMAT_VERSION:
        raise DataError(f"{path}: unknown format version {version!r} (this project reads {FORMAT_VERSION}); {redo}")
    size = meta.get("image_size")
    if isinstance(size, bool) or not isinstance(size, int) or not 16 <= size <= 4096:
        raise DataError(f"{path}: \"image_size\" must be the side in pixels of the model's square images, "
                        f"got {size!r}; {redo}")
    sha = meta.get("weights_sha256")
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
        raise DataError(f"{path}: \"weights_sha256\" must be 64 lowercase hex digits, got {sha!r}; {redo}")
    if not isinstance(meta.get("recipe"), dict):
        raise DataError(f"{path}: \"recipe\" must be the model's clock.models entry, got {meta.get('recipe')!r}; "
                        f"{redo}")
    try:
        Recipe.from_params(meta["recipe"])
    except ValueError as exc:
        raise DataError(f"{path}: its recipe cannot be built by this project ({exc}); {redo}") from None
    return meta


def verified_weights(folder: str | os.PathLike, meta: Mapping) -> bytes:
    """The bytes of ``folder``/reader.weights.h5, once their SHA-256 is the one ``meta`` expects.

    Read once and hashed from memory, so the bytes checked are the bytes loaded.
    """
    path = Path(folder) / WEIGHTS_FILE
    expected = meta["weights_sha256"]
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: not found, though {READER_JSON} beside it expects weights of SHA-256 {expected}; "
                        f"restore the file, or {how_to_make()}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    found = hashlib.sha256(data).hexdigest()
    if found != expected:
        hint = ""
        if data.startswith(b"version https://git-lfs"):
            hint = " It is a Git LFS pointer, not the weights: run `git lfs pull`."
        raise DataError(
            f"{path}: SHA-256 mismatch, nothing was loaded: {READER_JSON} expects {expected}, the file has "
            f"{found}. The weights are damaged, truncated or not the ones this reader was exported with.{hint} "
            f"Restore the file (e.g. `git checkout -- {path}`) or re-export the reader ({how_to_make()})")
    return data


def load_reader(folder: str | os.PathLike = SHIPPED) -> Reader:
    """The reader in ``folder``: reader.json checked, the weights' SHA-256 checked, then the model
    rebuilt from the recipe (:func:`idl.clock.recipes.build_model`) and the weights loaded into it.

    Raises DataError naming the file, and what to do, for a missing or bad reader.json, weights
    whose SHA-256 differs, or weights that do not fit the rebuilt model.
    """
    folder = Path(folder)
    meta = read_meta(folder)
    data = verified_weights(folder, meta)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from idl.clock.recipes import build_model

    recipe = Recipe.from_params(meta["recipe"])
    size = meta["image_size"]
    try:
        model = build_model(recipe, (size, size, 1))
    except ValueError as exc:
        raise DataError(f"{folder / READER_JSON}: its recipe cannot be built at {size}x{size} ({exc})") from None
    expected = meta.get("parameters")
    found = int(sum(int(np.prod(v.shape)) for v in model.weights))
    with tempfile.TemporaryDirectory(prefix="idl-reader-") as tmp:
        weights = Path(tmp) / WEIGHTS_FILE
        weights.write_bytes(data)
        try:
            if isinstance(expected, int) and expected != found:
                raise ValueError(f"{READER_JSON} says {expected} weights, its recipe builds {found}")
            model.load_weights(weights)
        except (ValueError, KeyError, OSError) as exc:
            raise DataError(
                f"{folder / WEIGHTS_FILE}: the weights do not fit the model {READER_JSON} describes "
                f"({_one_line(exc)}); they were written by Keras {meta.get('keras_version')}, this is "
                f"Keras {keras.__version__}; re-export the reader ({how_to_make()})") from None
    return Reader(folder=folder, recipe=recipe, image_size=size, model=model, meta=meta)


# ------------------------------------------------------------------------- images

def read_picture(path: str | os.PathLike, size: int) -> np.ndarray:
    """One PNG or JPEG picture as a (size, size) uint8 grayscale image (see the module docstring)."""
    from PIL import Image

    from idl.data.images import load_downsampled

    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder; give the pictures (or images.npy files) themselves") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not (head.startswith(_PNG_MAGIC) or head.startswith(_JPEG_MAGIC)):
        raise DataError(f"{path}: not a PNG or JPEG picture (nor an .npy file); the reader reads PNG and JPEG "
                        "pictures and course-format images.npy files")
    rgb = load_downsampled(path, size, exif_upright=True)  # DataError naming the file when it cannot be decoded
    return np.asarray(Image.fromarray(rgb, "RGB").convert("L"), dtype=np.uint8)


def read_npy(path: str | os.PathLike, size: int) -> np.ndarray:
    """A course-format images.npy, (N, H, W) uint8, as (N, size, size) (without pickle)."""
    from idl.data.arrays import load_npy

    path = Path(path)
    fix = "give a course-format images.npy: (N, H, W) uint8 grayscale images"
    images = load_npy(path, mmap=True, fix=fix)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(f"{path}: expected (N, H, W) uint8 grayscale images, found shape {images.shape} "
                        f"dtype {images.dtype}; {fix}")
    if len(images) == 0 or 0 in images.shape[1:]:
        raise DataError(f"{path}: holds no images (shape {images.shape}); {fix}")
    from idl.data.images import fit_squares

    return fit_squares(images, size)


def read_images(paths: Iterable[str | os.PathLike], size: int) -> np.ndarray:
    """Every image of ``paths`` (PNG/JPEG pictures and course-format ``.npy`` files, in order) as one
    (N, size, size) uint8 array."""
    parts = []
    for path in paths:
        path = Path(path)
        if path.suffix.lower() == ".npy":
            parts.append(read_npy(path, size))
        else:
            parts.append(read_picture(path, size)[np.newaxis])
    if not parts:
        raise ValueError("no images given")
    return np.concatenate(parts)


# ------------------------------------------------------------------------ reading

def format_times(minutes) -> list[str]:
    """Minutes past 12:00 -> "HH:MM" on a 12-hour dial, rounded to the nearest minute; hour 0 is 12."""
    return [f"{int(h) or 12:02d}:{int(m):02d}" for h, m in from_minutes(np.asarray(minutes).reshape(-1))]


def read_times(reader: Reader, images: np.ndarray, quarter_turns: bool = False) -> list[str]:
    """The time each of ``images`` (N, side, side) uint8 shows, as "HH:MM" (:func:`idl.clock.recipes.predict`)."""
    from idl.clock import recipes

    pred = recipes.predict(reader.recipe, reader.model, images, quarter_turns=quarter_turns)
    return format_times(pred["minutes"])


def save_model(reader: Reader, path: str | os.PathLike) -> None:
    """The reader's model as a full Keras file (``model.keras``), for the pipeline's scoring stage."""
    from idl.io import atomic_path

    path = Path(path)
    if path.suffix != ".keras":
        raise DataError(f"{path}: a Keras model file must end in .keras")
    with atomic_path(path) as tmp:
        reader.model.save(tmp)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m idl.clock.read",
        description="Read the time off clock pictures with a trained clock reader: one HH:MM line per image, "
                    "in order (a 12-hour dial: 12:00 to 11:59).")
    ap.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                    help="PNG or JPEG pictures of a clock (any size), or course-format images.npy files "
                         "((N, H, W) uint8: one line per row)")
    ap.add_argument("--reader", type=Path, default=SHIPPED,
                    help="reader folder (reader.json and reader.weights.h5), e.g. results/clock/models/<model>/"
                         "reader; default: the shipped one, src/idl/clock/shipped")
    ap.add_argument("--quarter-turns", action="store_true",
                    help="read each image at 0, 90, 180 and 270 degrees and average (four times slower, "
                         "usually more accurate for models trained on every rotation)")
    ap.add_argument("--save-model", type=Path, default=None, metavar="FILE.keras",
                    help="write the reader's model as a full Keras model file (for scripts/clock_evaluate.py "
                         "and the clock_score rule), instead of or as well as reading pictures")
    args = ap.parse_args(argv)
    if not args.paths and args.save_model is None:
        ap.error("give at least one picture or images.npy (or --save-model)")
    try:
        meta = read_meta(args.reader)  # the cheap checks first: no Keras start-up for a missing reader
        verified_weights(args.reader, meta)
        images = read_images(args.paths, meta["image_size"]) if args.paths else None
        reader = load_reader(args.reader)
        if args.save_model is not None:
            save_model(reader, args.save_model)
        lines = read_times(reader, images, args.quarter_turns) if images is not None else []
    except IdlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
