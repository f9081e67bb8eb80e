"""The course clock format: what load/write accept and refuse, and the stratified split."""
import numpy as np
import pytest

from idl.clock.course_data import (load_course_data, load_split, save_split, split_indices,
                                   write_course_data)
from idl.clock.labels import to_minutes
from idl.errors import DataError


def course_labels(per_minute: int) -> np.ndarray:
    minutes = np.repeat(np.arange(720), per_minute)
    return np.stack([minutes // 60, minutes % 60], axis=1).astype(np.int64)


@pytest.fixture
def small_set(tmp_path):
    """Course-format files with 2 images per minute, sorted by time like the real data."""
    labels = course_labels(2)
    images = np.random.default_rng(0).integers(0, 256, (len(labels), 8, 8), dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)
    np.save(tmp_path / "labels.npy", labels)
    return tmp_path, images, labels


def test_load_round_trip(small_set, tmp_path):
    src, images, labels = small_set
    got_images, got_labels = load_course_data(src)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert got_labels.dtype == np.int64
    out = tmp_path / "copy"
    write_course_data(out, got_images, got_labels)
    again_images, again_labels = load_course_data(out)
    np.testing.assert_array_equal(again_images, images)
    np.testing.assert_array_equal(again_labels, labels)
    assert sorted(p.name for p in out.iterdir()) == ["images.npy", "labels.npy"]


@pytest.mark.parametrize("name, array, expected", [
    ("images.npy", np.zeros((1440, 8, 8), dtype=np.float32), r"images\.npy.*uint8.*float32"),
    ("images.npy", np.zeros((1440, 8, 8, 3), dtype=np.uint8), r"images\.npy.*\(1440, 8, 8, 3\)"),
    ("labels.npy", np.zeros((1440, 3), dtype=np.int64), r"labels\.npy.*\(N, 2\).*\(1440, 3\)"),
    ("labels.npy", np.zeros((1440, 2), dtype=np.float64), r"labels\.npy.*integer.*float64"),
    ("labels.npy", np.zeros((1439, 2), dtype=np.int64), r"1440 images.*1439 labels"),
])
def test_load_refuses_wrong_layout(small_set, name, array, expected):
    src, _, _ = small_set
    np.save(src / name, array)
    with pytest.raises(DataError, match=expected):
        load_course_data(src)


@pytest.mark.parametrize("col, value, what", [(0, 12, "hour 12"), (0, -1, "hour -1"),
                                              (1, 60, "minute 60")])
def test_load_names_first_bad_label_row(small_set, col, value, what):
    src, _, labels = small_set
    labels = labels.copy()
    labels[[37, 900], col] = value
    np.save(src / "labels.npy", labels)
    with pytest.raises(DataError, match=rf"labels\.npy: row 37 has {what}"):
        load_course_data(src)


def test_load_missing_file_is_named(small_set):
    src, _, _ = small_set
    (src / "labels.npy").unlink()
    with pytest.raises(DataError, match=r"labels\.npy: file not found"):
        load_course_data(src)


@pytest.mark.parametrize("name", ["images.npy", "labels.npy"])
def test_load_corrupt_file_is_named(small_set, name):
    src, _, _ = small_set
    data = (src / name).read_bytes()
    (src / name).write_bytes(data[: len(data) // 2])  # a truncated download
    with pytest.raises(DataError, match=rf"{name}: is truncated.*re-download the course data"):
        load_course_data(src)
    (src / name).write_bytes(b"<html>not found</html>")
    with pytest.raises(DataError, match=rf"{name}: is not a \.npy array file.*looks like text"):
        load_course_data(src)


def test_load_and_write_refuse_empty_data(small_set, tmp_path):
    src, _, _ = small_set
    np.save(src / "images.npy", np.zeros((0, 8, 8), np.uint8))
    np.save(src / "labels.npy", np.zeros((0, 2), np.int64))
    with pytest.raises(DataError, match=r"images\.npy: holds no images \(shape \(0, 8, 8\)\)"):
        load_course_data(src)
    with pytest.raises(DataError, match=r"images\.npy: holds no images"):
        write_course_data(tmp_path / "out", np.zeros((0, 8, 8), np.uint8), np.zeros((0, 2), np.int64))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_load_split_refuses_empty_parts_and_rows_outside_the_data(tmp_path):
    save_split(tmp_path, split_indices(course_labels(1)))
    np.save(tmp_path / "val.npy", np.array([719, 720]))
    with pytest.raises(DataError, match=r"val\.npy: has row index 720, outside 0\.\.719"):
        load_split(tmp_path, n_rows=720)
    np.save(tmp_path / "val.npy", np.array([-1]))
    with pytest.raises(DataError, match=r"val\.npy: has row index -1"):
        load_split(tmp_path)
    np.save(tmp_path / "val.npy", np.zeros(0, np.int64))
    with pytest.raises(DataError, match=r"val\.npy: has no row indices"):
        load_split(tmp_path)


def test_write_refuses_bad_data_and_leaves_nothing(tmp_path):
    labels = course_labels(1)
    labels[5, 1] = 75
    images = np.zeros((720, 8, 8), dtype=np.uint8)
    with pytest.raises(DataError, match=r"labels\.npy: row 5 has minute 75"):
        write_course_data(tmp_path / "out", images, labels)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_split_is_deterministic_disjoint_and_covering():
    labels = course_labels(25)
    a = split_indices(labels, seed=0)
    b = split_indices(labels, seed=0)
    c = split_indices(labels, seed=1)
    for part in ("train", "val", "test"):
        np.testing.assert_array_equal(a[part], b[part])
        assert np.all(np.diff(a[part]) > 0)  # sorted, no repeats
    assert not np.array_equal(a["test"], c["test"])
    both = np.concatenate([a["train"], a["val"], a["test"]])
    np.testing.assert_array_equal(np.sort(both), np.arange(len(labels)))


def test_split_is_stratified_over_minutes():
    labels = course_labels(25)
    split = split_indices(labels, fractions=(0.8, 0.1, 0.1), seed=3)
    for part, frac in (("train", 0.8), ("val", 0.1), ("test", 0.1)):
        counts = np.bincount(to_minutes(labels[split[part]]), minlength=720)
        # every minute in every part, as evenly as 25 rows allow (20 / 2-3 / 2-3)
        assert counts.min() >= np.floor(25 * frac) and counts.max() <= np.ceil(25 * frac)
        assert abs(len(split[part]) / len(labels) - frac) < 0.002


def test_split_with_one_row_per_minute_still_matches_fractions():
    split = split_indices(course_labels(1), fractions=(0.6, 0.2, 0.2), seed=0)
    assert [len(split[p]) for p in ("train", "val", "test")] == [432, 144, 144]


@pytest.mark.parametrize("fractions",
                         [(0.8, 0.1, 0.2), (0.9, 0.1, 0.0), (1.0, 0.1, -0.1), (0.5, 0.5)])
def test_split_refuses_bad_fractions(fractions):
    with pytest.raises(ValueError, match="fractions"):
        split_indices(course_labels(1), fractions=fractions)


def test_split_save_load_round_trip(tmp_path):
    split = split_indices(course_labels(3), seed=7)
    save_split(tmp_path / "split", split)
    got = load_split(tmp_path / "split")
    assert set(got) == {"train", "val", "test"}
    for part in split:
        np.testing.assert_array_equal(got[part], split[part])


def test_load_split_names_missing_part(tmp_path):
    save_split(tmp_path, split_indices(course_labels(1)))
    (tmp_path / "val.npy").unlink()
    with pytest.raises(DataError, match=r"val\.npy: file not found"):
        load_split(tmp_path)
