"""Damaged and hostile array files (issue 14): the one loader (idl.data.arrays) refuses each with a
DataError naming the file, and every stage that reads arrays says so in one line, exits 1 and
leaves nothing behind. The stages run as real scripts, the way Snakemake and DVC run them."""
from __future__ import annotations

import io
import os
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npformat

from idl.clock.course_data import save_split, split_indices
from idl.data.arrays import load_index, load_npy, load_npz
from idl.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
GOOD = np.arange(720 * 4, dtype=np.int64).reshape(720, 4)


# ------------------------------------------------------------------ damaged files

def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def absurd_header(arr: np.ndarray) -> bytes:
    """The file's own data under a header that claims 1.46 TiB."""
    buf = io.BytesIO()
    npformat.write_array_header_1_0(buf, {"descr": npformat.dtype_to_descr(arr.dtype), "fortran_order": False,
                                          "shape": (1 << 20, 1 << 20, 200)})
    return buf.getvalue() + arr.tobytes()


def pickled() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.array([{"rows": 1}, None], dtype=object), allow_pickle=True)
    return buf.getvalue()


# what each damage does to a file that should hold ``good``
NPY_DAMAGE = {
    "npz_as_npy": lambda good: npz_bytes(a=good),
    "absurd_shape": absurd_header,
    "truncated": lambda good: npy_bytes(good)[: len(npy_bytes(good)) - good.nbytes // 2],
    "trailing_bytes": lambda good: npy_bytes(good) + b"\0" * 64,
    "object_array": lambda good: pickled(),
    "empty_file": lambda good: b"",
    "text_file": lambda good: b"<html><body>404 Not Found</body></html>\n",
    "directory": None,
}
NPY_SAYS = {  # what the message says about each
    "npz_as_npy": "is an .npz archive (a zip file), not .npy",
    "absurd_shape": "is truncated or its header is wrong: its header says (1048576, 1048576, 200)",
    "truncated": "is truncated or its header is wrong",
    "trailing_bytes": "is damaged: its header says",
    "object_array": "holds Python objects",
    "empty_file": "is empty (0 bytes)",
    "text_file": "looks like text",
    "directory": "is a folder, not a file",
}


def damage(path: Path, kind: str, good: np.ndarray) -> Path:
    """Put a damaged version of ``good`` (``kind``, a key of NPY_DAMAGE) at ``path``."""
    if path.is_file():
        path.unlink()
    if kind == "directory":
        path.mkdir(parents=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(NPY_DAMAGE[kind](good))
    return path


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# ------------------------------------------------------------ the loader itself

@pytest.mark.parametrize("kind", list(NPY_DAMAGE))
@pytest.mark.parametrize("mmap", [False, True])
def test_load_npy_refuses_damage_naming_the_file(tmp_path, kind, mmap):
    path = damage(tmp_path / "x.npy", kind, GOOD)
    with pytest.raises(DataError, match=rf"^{re.escape(str(path))}: .*{re.escape(NPY_SAYS[kind])}.*; do this$") as err:
        load_npy(path, mmap=mmap, fix="do this")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("arr, expected", [
    (np.array(["a", "b"]), r"<U1 data.*expected plain numbers"),
    (np.zeros(3, dtype=[("a", "<i4"), ("b", "<f4")]), r".*expected plain numbers"),
    (np.zeros(3, dtype=np.complex64), r"complex64 data"),
    (np.array(["2020-01-01"], dtype="datetime64[D]"), r"datetime64\[D\] data"),
])
def test_load_npy_refuses_unexpected_dtypes(tmp_path, arr, expected):
    np.save(tmp_path / "x.npy", arr)
    with pytest.raises(DataError, match=rf"x\.npy: holds {expected}"):
        load_npy(tmp_path / "x.npy")


def test_load_npy_refuses_damaged_headers(tmp_path):
    def header(text: bytes, version: bytes = b"\x01\x00") -> bytes:
        return npformat.MAGIC_PREFIX + version + struct.pack("<H", len(text) + 1) + text + b"\n"

    good = header(b"{'descr': '<i8', 'fortran_order': False, 'shape': (2,)}") + bytes(16)
    assert load_npy_bytes(tmp_path, good).tolist() == [0, 0]
    bad = {
        "in magic": (good[:6], "is truncated inside its .npy header"),
        "version": (good[:6] + b"\x09\x00" + good[8:], "unknown .npy format version 9.0"),
        "cut header": (good[:20], "damaged .npy header (ValueError: EOF"),
        "not a dict": (header(b"[1, 2]"), "damaged .npy header (ValueError: Header is not a dictionary"),
        "bad descr": (header(b"{'descr': 'zz', 'fortran_order': False, 'shape': (2,)}"), "damaged .npy header"),
        "negative": (header(b"{'descr': '<i8', 'fortran_order': False, 'shape': (-2,)}"), "negative dimension"),
        "float shape": (header(b"{'descr': '<i8', 'fortran_order': False, 'shape': (2.5,)}"), "shape is not valid"),
    }
    for name, (data, says) in bad.items():
        with pytest.raises(DataError, match=re.escape(says)):
            load_npy_bytes(tmp_path, data)


def load_npy_bytes(tmp_path, data: bytes) -> np.ndarray:
    (tmp_path / "h.npy").write_bytes(data)
    return load_npy(tmp_path / "h.npy")


def test_load_npy_reads_good_files_as_numpy_does(tmp_path):
    cases = {"c": GOOD, "f": np.asfortranarray(GOOD.astype(np.float32)), "big": GOOD.astype(">i4"),
             "scalar": np.float64(3.5), "empty_rows": np.zeros((0, 3), np.uint8), "bool": GOOD > 5}
    for name, arr in cases.items():
        np.save(tmp_path / f"{name}.npy", arr)
        for mmap in (False, True):
            got = load_npy(tmp_path / f"{name}.npy", mmap=mmap)
            np.testing.assert_array_equal(got, arr)
            assert got.dtype == np.asarray(arr).dtype.newbyteorder("=") and got.dtype.isnative
    assert isinstance(load_npy(tmp_path / "c.npy", mmap=True), np.memmap)
    assert load_npy(tmp_path / "c.npy").flags.writeable


def test_load_npz_reads_good_archives_and_refuses_damage(tmp_path):
    np.savez_compressed(tmp_path / "ok.npz", a=GOOD, b=GOOD[:, 0].astype(">f8"))
    got = load_npz(tmp_path / "ok.npz", ["a", "b"])
    np.testing.assert_array_equal(got["a"], GOOD)
    np.testing.assert_array_equal(got["b"], GOOD[:, 0])
    assert set(load_npz(tmp_path / "ok.npz")) == {"a", "b"}

    def zipped(**members: bytes) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        return buf.getvalue()

    good = npz_bytes(a=GOOD)
    bad = {
        "npy_as_npz": (npy_bytes(GOOD), r"single \.npy array.*not an \.npz"),
        "cut_zip": (good[: len(good) // 2], r"not a readable \.npz archive \(BadZipFile"),
        "text": (b"<html>gone</html>", r"not a readable \.npz archive"),
        "missing_key": (npz_bytes(b=GOOD), r"has no array 'a' \(it has \['b'\]\)"),
        "other_member": (zipped(**{"a.npy": npy_bytes(GOOD), "run.py": b"print(1)"}), r"'run\.py'.*not a \.npy"),
        "member_cut": (zipped(**{"a.npy": npy_bytes(GOOD)[:200]}), r"\(array 'a'\): is truncated"),
        "member_absurd": (zipped(**{"a.npy": absurd_header(GOOD)}), r"\(array 'a'\): is truncated.*1048576"),
        "member_object": (zipped(**{"a.npy": pickled()}), r"\(array 'a'\): holds Python objects"),
        "member_npz": (zipped(**{"a.npy": good}), r"\(array 'a'\): is an \.npz archive"),
        "crc": (good.replace(npy_bytes(GOOD)[-8:], b"\xff" * 8), r"not a readable \.npz archive \(BadZipFile"),
    }
    for name, (data, expected) in bad.items():
        (tmp_path / f"{name}.npz").write_bytes(data)
        with pytest.raises(DataError, match=rf"{name}\.npz.*{expected}.*; fix it$"):
            load_npz(tmp_path / f"{name}.npz", ["a"], fix="fix it")
    for kind in ("empty_file", "directory"):
        path = damage(tmp_path / f"{kind}.npz", kind, GOOD)
        with pytest.raises(DataError, match=re.escape(f"{kind}.npz: {NPY_SAYS[kind]}")):
            load_npz(path)


def test_load_index_checks_rows(tmp_path):
    path = tmp_path / "i.npy"
    for arr, expected in [(np.array([0, 5, 9]), None), (np.array([[1, 2]]), "1-D"),
                          (np.array([], np.int64), r"no row indices \(0 rows\)"),
                          (np.array([1, -2]), r"row index -2, outside 0\.\.9"),
                          (np.array([3, 10]), r"row index 10, outside 0\.\.9"),
                          (np.array([0.0, 1.0]), r"holds float64 data.*integers")]:
        np.save(path, arr)
        if expected is None:
            assert load_index(path, 10).dtype == np.int64
        else:
            with pytest.raises(DataError, match=rf"i\.npy: .*{expected}"):
                load_index(path, 10)


# ------------------------------------------------------------------ the stages

def run_stage(script: str, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, str(ROOT / "scripts" / f"{script}.py"), "--params",
                           str(ROOT / "params.yaml"), *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def assert_refused(proc, bad: Path, root: Path, before: set[str], expected: str = ""):
    """Exit 1, one ERROR line naming ``bad`` (and ``expected``), no traceback, nothing written."""
    errors = [line for line in proc.stderr.splitlines() if " ERROR " in line]
    assert proc.returncode == 1, proc.stderr
    assert len(errors) == 1 and str(bad) in errors[0], proc.stderr
    assert expected.lower() in errors[0].lower(), errors[0]
    assert "please report" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert tree(root) == before, "outputs or temporaries were left behind"


def clock_data(root: Path) -> Path:
    minutes = np.arange(720)
    data = root / "data"
    data.mkdir(parents=True)
    np.save(data / "images.npy", np.zeros((720, 8, 8), np.uint8))
    np.save(data / "labels.npy", np.stack([minutes // 60, minutes % 60], axis=1))
    np.save(data / "dial_turn.npy", np.zeros(720, np.float32))
    save_split(root / "split", split_indices(np.load(data / "labels.npy"), seed=0))
    return data


CLOCK_CASES = [  # (stage, file, damage): every damage on clock_split, a few on the others
    *[("clock_split", "data/images.npy", kind) for kind in NPY_DAMAGE],
    ("clock_split", "data/labels.npy", "truncated"), ("clock_split", "data/labels.npy", "object_array"),
    ("clock_train", "split/train.npy", "npz_as_npy"), ("clock_train", "split/val.npy", "absurd_shape"),
    ("clock_train", "split/train.npy", "directory"), ("clock_train", "data/images.npy", "truncated"),
    ("clock_train", "data/dial_turn.npy", "text_file"),
    ("clock_evaluate", "split/test.npy", "truncated"), ("clock_evaluate", "split/test.npy", "empty_file"),
    ("clock_evaluate", "data/labels.npy", "npz_as_npy"),
]


def clock_command(stage: str, root: Path) -> list:
    data, split, out = root / "data", root / "split", root / "out"
    model = "multihead_angle_upright"  # reads dial_turn.npy too
    if stage == "clock_split":
        return ["--data", data, "--out", out]
    if stage == "clock_train":
        return ["--model", model, "--data", data, "--split", split, "--out", out, "--state", root / "state"]
    return ["--model", model, "--trained", root / "trained", "--data", data, "--split", split,
            "--metrics", root / "m.json", "--predictions", root / "p.csv", "--grid", root / "g.png"]


@pytest.mark.parametrize("stage, name, kind", CLOCK_CASES)
def test_clock_stages_refuse_damaged_arrays(tmp_path, stage, name, kind):
    clock_data(tmp_path)
    good = np.load(tmp_path / name)
    bad = damage(tmp_path / name, kind, good)
    before = tree(tmp_path)
    proc = run_stage(stage, *clock_command(stage, tmp_path))
    assert_refused(proc, bad, tmp_path, before, NPY_SAYS[kind])


@pytest.mark.parametrize("stage, name, arr, expected", [
    ("clock_split", "images.npy", np.zeros((0, 8, 8), np.uint8), "holds no images"),
    ("clock_split", "labels.npy", np.zeros((0, 2), np.int64), "720 images but"),
    ("clock_train", "split/val.npy", np.zeros(0, np.int64), "no row indices"),
    ("clock_train", "split/test.npy", np.array([3, 720]), "row index 720, outside 0..719"),
])
def test_clock_stages_refuse_empty_data_and_bad_indices(tmp_path, stage, name, arr, expected):
    data = clock_data(tmp_path)
    bad = (tmp_path / name) if "/" in name else data / name
    if stage == "clock_split" and name == "images.npy":  # both files empty: the images are named
        np.save(data / "labels.npy", np.zeros((0, 2), np.int64))
    np.save(bad, arr)
    before = tree(tmp_path)
    assert_refused(run_stage(stage, *clock_command(stage, tmp_path)), bad, tmp_path, before, expected)


def test_clock_split_refuses_too_few_rows_for_three_parts(tmp_path):
    data = clock_data(tmp_path)
    np.save(data / "images.npy", np.zeros((2, 8, 8), np.uint8))
    np.save(data / "labels.npy", np.array([[1, 2], [3, 4]]))
    before = tree(tmp_path)
    proc = run_stage("clock_split", *clock_command("clock_split", tmp_path))
    assert_refused(proc, data / "labels.npy", tmp_path, before, "too few to split")


def basics_data(root: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (20, 28, 28, 1), dtype=np.uint8), "y_train": np.arange(20) % 10,
              "x_test": np.zeros((4, 28, 28, 1), np.uint8), "y_test": np.arange(4)}
    np.savez(root / "arrays.npz", **arrays)
    (root / "split").mkdir()
    np.save(root / "split" / "train.npy", np.arange(18))
    np.save(root / "split" / "val.npy", np.arange(18, 20))
    return root / "arrays.npz", root / "split"


@pytest.mark.parametrize("name, data, expected", [
    ("arrays.npz", npy_bytes(GOOD), "not an .npz archive"),
    ("arrays.npz", npz_bytes(x_train=GOOD)[:300], "not a readable .npz archive"),
    ("arrays.npz", b"", "is empty"),
    ("arrays.npz", "directory", "is a folder"),
    ("arrays.npz", npz_bytes(x_train=GOOD), "has no array 'y_train'"),
    ("arrays.npz", {"x_train": absurd_header(GOOD)}, "(array 'x_train'): is truncated"),
    ("arrays.npz", {"y_test": pickled()}, "(array 'y_test'): holds python objects"),
    ("arrays.npz", {"x_train": np.zeros((0, 28, 28, 1), np.uint8), "y_train": np.zeros(0, np.int64)},
     "with n > 0"),
    ("arrays.npz", {"y_train": np.full(20, 10)}, "y_train has label 10, outside 0..9"),
    ("split/train.npy", npy_bytes(GOOD)[:140], "is truncated"),
    ("split/val.npy", pickled(), "python objects"),
    ("split/val.npy", npy_bytes(np.array([5, 20])), "row index 20, outside 0..19"),
])
def test_basics_train_refuses_damaged_arrays(tmp_path, name, data, expected):
    npz, split = basics_data(tmp_path)
    bad = tmp_path / name
    if isinstance(data, dict):  # the good archive with some members replaced (by arrays or raw bytes)
        with np.load(npz) as f:
            members = {k: npy_bytes(f[k]) for k in f.files}
        members.update({k: v if isinstance(v, bytes) else npy_bytes(v) for k, v in data.items()})
        with zipfile.ZipFile(bad, "w") as zf:
            for key, member in members.items():
                zf.writestr(f"{key}.npy", member)
    elif data == "directory":
        bad.unlink()
        bad.mkdir()
    else:
        bad.write_bytes(data)
    before = tree(tmp_path)
    proc = run_stage("basics_train", "--run", "cnn_adam_c3_d0", "--data", npz, "--split", split,
                     "--out", tmp_path / "out", "--state", tmp_path / "state")
    assert_refused(proc, bad, tmp_path, before, expected)


def prepared(root: Path, n: int = 10) -> Path:
    data = root / "prepared"
    data.mkdir()
    np.save(data / "images.npy", np.zeros((n, 8, 8, 3), np.uint8))
    return data


@pytest.mark.parametrize("stage, name, kind", [
    ("gen_split", "images.npy", "npz_as_npy"), ("gen_split", "images.npy", "absurd_shape"),
    ("gen_split", "images.npy", "truncated"), ("gen_split", "images.npy", "directory"),
    ("gen_train", "images.npy", "object_array"), ("gen_train", "images.npy", "empty_file"),
    ("gen_train", "split/train.npy", "text_file"), ("gen_train", "split/test.npy", "truncated"),
    ("gen_split", "images.npy", "one_image"), ("gen_train", "split/test.npy", "out_of_range"),
])
def test_generative_stages_refuse_damaged_arrays(tmp_path, stage, name, kind):
    data = prepared(tmp_path)
    split = tmp_path / "split"
    split.mkdir()
    np.save(split / "train.npy", np.arange(8))
    np.save(split / "test.npy", np.arange(8, 10))
    bad = (tmp_path / name) if "/" in name else data / name
    expected = {"one_image": "1 image(s); a train/test split needs at least 2",
                "out_of_range": "row index 10, outside 0..9"}.get(kind)
    if expected:
        np.save(bad, np.zeros((1, 8, 8, 3), np.uint8) if kind == "one_image" else np.array([9, 10]))
    else:
        damage(bad, kind, np.load(bad))
        expected = NPY_SAYS[kind]
    before = tree(tmp_path)
    args = (["--data", data, "--out", tmp_path / "out"] if stage == "gen_split" else
            ["--gen", "cae", "--data", data, "--split", split, "--out", tmp_path / "out", "--state", tmp_path / "st"])
    assert_refused(run_stage(stage, *args), bad, tmp_path, before, expected)


def test_prepare_images_stage_reads_16_bit_and_names_unreadable_files(tmp_path):
    from PIL import Image

    raw = tmp_path / "raw" / "data" / "2"
    raw.mkdir(parents=True)
    args = ["--dataset", "tinyhero", "--raw", tmp_path / "raw", "--out", tmp_path / "out",
            "--figure", tmp_path / "fig.png"]
    (raw / "0.png").write_bytes(b"")
    (raw / "1.png").write_text("<html>not an image</html>")
    before = tree(tmp_path)
    proc = run_stage("prepare_images", *args)
    assert_refused(proc, Path("0.png"), tmp_path, before, "2 of 2 images")
    assert "1.png" in proc.stderr
    for name in ("0.png", "1.png"):  # mid-grey 16-bit sprites: mid-grey, not white
        Image.fromarray(np.full((64, 64), 32896, np.uint16)).save(raw / name)
    proc = run_stage("prepare_images", *args)
    assert proc.returncode == 0, proc.stderr
    images = np.load(tmp_path / "out" / "images.npy")
    assert images.shape == (2, 32, 32, 3) and np.all(images == 128)
