"""acquire(): every route (HTTP files, HTTP archive, Kaggle, local) against fixtures in the
real layouts, served by a local HTTP server; and every failure leaves nothing behind."""
from __future__ import annotations

import hashlib
import json
import sys
import types
import zipfile

import numpy as np
import pytest
from PIL import Image

from httpserver import FileServer
from idl.data import demo_data as F
from idl.data.acquire import acquire
from idl.data.sources import check_layout, expected_counts
from idl.data.readers import cifar10_label_names, load_cifar10, load_fashion_mnist
from idl.data.sources import DATASETS, TINYHERO_COMMIT, parse_checksum
from idl.errors import DataError, DownloadError

FASHION = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
CIFAR = "cifar-10-python.tar.gz"
AFHQ_COUNTS = {"train/cat": 3, "train/dog": 2, "train/wild": 1, "val/cat": 1, "val/dog": 1,
               "val/wild": 1}
TINY_HERO = {str(d): 2 for d in range(4)}


def digest(path, algo="sha256") -> str:
    return f"{algo}:{hashlib.new(algo, path.read_bytes()).hexdigest()}"


def files_under(path):
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()) \
        if path.exists() else []


@pytest.fixture
def server(tmp_path):
    with FileServer(tmp_path / "www") as srv:
        yield srv


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


@pytest.fixture
def cifar_served(server):
    arrays = F.make_cifar10_tarball(server.root / CIFAR, n_per_batch=3, n_test=4, seed=1)
    return f"{server.url}/{CIFAR}", {CIFAR: digest(server.root / CIFAR)}, arrays


def quiet(**kw):
    return {"progress": False, "backoff": 0.0, **kw}


def assert_nothing_left(parent, dest):
    assert not dest.exists()
    leftovers = [p.name for p in parent.iterdir() if p.name.startswith(f".{dest.name}.")]
    assert leftovers == []


# --- success on every route --------------------------------------------------------------------

def test_fashion_mnist_from_mirror_verified_and_readable(server, cache, tmp_path):
    arrays = F.make_fashion_mnist(server.root, n_train=30, n_test=10, seed=3)
    sums = {fn: digest(server.root / fn, "md5") for fn in FASHION}
    dest = tmp_path / "raw" / "fashion_mnist"
    record = acquire("fashion_mnist", dest, mirror=server.url + "/", checksums=sums,
                     cache_dir=cache, **quiet())

    assert sorted(files_under(dest)) == sorted(FASHION + ["SOURCE.json"])
    assert json.loads((dest / "SOURCE.json").read_text()) == record
    assert record["source"] == "http" and record["name"] == "fashion_mnist"
    assert record["urls"] == [f"{server.url}/{fn}" for fn in FASHION]
    assert [f["verified"] for f in record["files"]] == [sums[fn] for fn in FASHION]
    assert record["counts"] == expected_counts("fashion_mnist")
    for got, want in zip(load_fashion_mnist(dest), arrays):
        np.testing.assert_array_equal(got, want)


def test_cifar10_tarball_over_http(cifar_served, cache, tmp_path):
    url, sums, arrays = cifar_served
    dest = tmp_path / "cifar10"
    record = acquire("cifar10", dest, url=url, checksums=sums, cache_dir=cache,
                     **quiet(progress=True))
    assert record["files"][0]["sha256"] == sums[CIFAR].split(":")[1]
    assert record["counts"] == {"data_batch": 5, "test_batch": 1, "batches.meta": 1}
    assert (cache / "cifar10" / CIFAR).is_file()  # cached under its real name
    for got, want in zip(load_cifar10(dest), arrays):
        np.testing.assert_array_equal(got, want)
    assert cifar10_label_names(dest)[:2] == ["airplane", "automobile"]


def test_clock_without_published_checksum_records_the_hash_seen(server, cache, tmp_path):
    images = np.random.default_rng(0).integers(0, 255, (6, 15, 15), dtype=np.uint8)
    labels = np.array([[h, 5 * h] for h in range(6)], dtype=np.int64)
    # surfdrive serves the zip from ".../download?path=%2F&files=A1_data_150.zip"
    F.make_clock_zip(server.root / "download", images, labels, top_folder="A1_data_150")
    url = f"{server.url}/download?path=%2F&files=A1_data_150.zip"
    record = acquire("clock", tmp_path / "clock", url=url, cache_dir=cache, **quiet())

    assert record["files"][0]["sha256"] == digest(server.root / "download").split(":")[1]
    assert record["files"][0]["verified"] is None
    assert record["counts"] == {"images": 1, "labels": 1}
    np.testing.assert_array_equal(np.load(tmp_path / "clock" / "images.npy"), images)
    np.testing.assert_array_equal(np.load(tmp_path / "clock" / "labels.npy"), labels)

    # Pinning a hash the file does not have is refused, even though the file is cached.
    with pytest.raises(DownloadError, match="checksum mismatch"):
        acquire("clock", tmp_path / "clock2", url=url, cache_dir=cache,
                checksums={"A1_data_150.zip": "sha256:" + "0" * 64}, **quiet())
    assert_nothing_left(tmp_path, tmp_path / "clock2")
    assert files_under(cache) == []


def test_clock_can_be_pinned_by_the_files_inside_the_archive(server, cache, tmp_path):
    images = np.zeros((2, 5, 5), np.uint8)
    F.make_clock_zip(server.root / "A1_data_150.zip", images, np.zeros((2, 2), np.int64))
    url = f"{server.url}/A1_data_150.zip"
    first = acquire("clock", tmp_path / "a", url=url, cache_dir=cache, **quiet())
    pin = {"images.npy": "sha256:" + first["file_sha256"]["images.npy"]}  # shown in SOURCE.json
    again = acquire("clock", tmp_path / "b", url=url, cache_dir=cache, checksums=pin, **quiet())
    assert again["verified_members"] == pin

    with pytest.raises(DataError, match="checksum mismatch for images.npy"):
        acquire("clock", tmp_path / "c", url=url, cache_dir=cache, **quiet(),
                checksums={"images.npy": "sha256:" + "1" * 64})
    with pytest.raises(DataError, match="'image.npy', which is neither"):
        acquire("clock", tmp_path / "c", url=url, cache_dir=cache, **quiet(),
                checksums={"image.npy": "sha256:" + "1" * 64})
    assert_nothing_left(tmp_path, tmp_path / "c")


def test_tinyhero_github_archive_top_folder_is_stripped(server, cache, tmp_path):
    F.make_tinyhero_zip(server.root / f"{TINYHERO_COMMIT}.zip", n_per_direction=2, seed=0)
    dest = tmp_path / "tinyhero"
    record = acquire("tinyhero", dest, url=f"{server.url}/{TINYHERO_COMMIT}.zip",
                     expected_counts=TINY_HERO, cache_dir=cache, **quiet())
    assert record["counts"] == TINY_HERO
    assert (dest / "README.md").is_file() and (dest / "data" / "3" / "1.png").is_file()
    sprite = Image.open(dest / "data" / "0" / "0.png")
    assert sprite.mode == "RGBA" and sprite.size == (64, 64)
    alpha = np.asarray(sprite)[..., 3]
    assert alpha[0, 0] == 0 and alpha.max() == 255  # transparent background, opaque figure


def test_afhq_archive_by_url_instead_of_kaggle(server, cache, tmp_path):
    F.make_afhq_zip(server.root / "afhq.zip", AFHQ_COUNTS, size=32, seed=0)
    dest = tmp_path / "afhq"
    record = acquire("afhq", dest, url=f"{server.url}/afhq.zip", expected_counts=AFHQ_COUNTS,
                     cache_dir=cache, **quiet())
    assert record["source"] == "http" and record["counts"] == AFHQ_COUNTS
    assert len(list(dest.glob("afhq/train/cat/*.jpg"))) == 3
    assert Image.open(next(dest.glob("afhq/val/wild/*.jpg"))).size == (32, 32)


def test_reacquire_replaces_dest_and_failure_keeps_the_old_one(cifar_served, cache, tmp_path):
    url, sums, _ = cifar_served
    dest = tmp_path / "cifar10"
    acquire("cifar10", dest, url=url, checksums=sums, cache_dir=cache, **quiet())
    (dest / "stray.txt").write_text("from an earlier run")
    acquire("cifar10", dest, url=url, checksums=sums, cache_dir=cache, **quiet())
    assert not (dest / "stray.txt").exists()
    before = files_under(dest)
    with pytest.raises(DataError):
        acquire("cifar10", dest, url=url, checksums=sums, cache_dir=cache,
                expected_counts={"data_batch": 6}, **quiet())
    assert files_under(dest) == before


# --- failures ----------------------------------------------------------------------------------

def test_checksum_mismatch_names_url_and_hashes_and_keeps_nothing(cifar_served, cache, tmp_path):
    url, sums, _ = cifar_served
    wrong = "sha256:" + "ab" * 32
    dest = tmp_path / "cifar10"
    with pytest.raises(DownloadError) as err:
        acquire("cifar10", dest, url=url, checksums={CIFAR: wrong}, cache_dir=cache, **quiet())
    msg = str(err.value)
    assert url in msg and "ab" * 32 in msg and sums[CIFAR].split(":")[1] in msg
    assert "try again" in msg
    assert_nothing_left(tmp_path, dest)
    assert files_under(cache) == []


def test_registry_checksum_applies_to_a_replacement_url(cifar_served, cache, tmp_path):
    url, _, _ = cifar_served  # a fixture is not the real tarball
    with pytest.raises(DownloadError, match="6d958be0745778"):
        acquire("cifar10", tmp_path / "c", url=url, cache_dir=cache, **quiet())


def test_truncated_transfer_is_an_error_not_a_success(server, cifar_served, cache, tmp_path):
    url, sums, _ = cifar_served
    server.truncate.add(f"/{CIFAR}")
    dest = tmp_path / "cifar10"
    with pytest.raises(DownloadError, match=r"truncated transfer: the server announced \d+ bytes"):
        acquire("cifar10", dest, url=url, checksums=sums, cache_dir=cache, retries=1, **quiet())
    assert server.hits[f"/{CIFAR}"] == 2  # retried once
    assert_nothing_left(tmp_path, dest)
    assert files_under(cache) == []


def test_server_error_is_retried_then_reported(server, cifar_served, cache, tmp_path):
    url, sums, _ = cifar_served
    server.status[f"/{CIFAR}"] = 500
    with pytest.raises(DownloadError) as err:
        acquire("cifar10", tmp_path / "c", url=url, checksums=sums, cache_dir=cache,
                retries=2, **quiet())
    assert server.hits[f"/{CIFAR}"] == 3
    assert "HTTP 500" in str(err.value) and "3 attempts" in str(err.value) and url in str(err.value)
    assert_nothing_left(tmp_path, tmp_path / "c")


def test_not_found_is_not_retried(server, cache, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404") as err:
        acquire("fashion_mnist", tmp_path / "f", mirror=server.url, cache_dir=cache, retries=3,
                **quiet())
    assert f"{server.url}/{FASHION[0]}" in str(err.value) and "local=" in str(err.value)
    assert server.hits[f"/{FASHION[0]}"] == 1
    assert_nothing_left(tmp_path, tmp_path / "f")


def test_missing_files_fail_the_layout_check(server, cache, tmp_path):
    F.make_afhq_zip(server.root / "afhq.zip", {**AFHQ_COUNTS, "val/wild": 0}, size=16)
    dest = tmp_path / "afhq"
    with pytest.raises(DataError) as err:
        acquire("afhq", dest, url=f"{server.url}/afhq.zip", cache_dir=cache, **quiet(),
                expected_counts={**AFHQ_COUNTS, "train/cat": 4})
    msg = str(err.value)
    assert "'train/cat'" in msg and "'afhq/train/cat/*.jpg'" in msg
    assert "expected 4 files, found 3" in msg
    assert "'val/wild'" in msg and "expected 1 files, found 0 (missing)" in msg
    assert str(dest) in msg and "'train/dog'" not in msg
    assert_nothing_left(tmp_path, dest)


def test_unknown_group_in_expected_counts_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no group 'train/cats'"):
        acquire("afhq", tmp_path / "a", local=tmp_path, expected_counts={"train/cats": 1})


def test_corrupt_archive_is_reported_and_not_kept_in_cache(server, cache, tmp_path):
    (server.root / "afhq.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(DataError, match="cannot unpack .*afhq.zip"):
        acquire("afhq", tmp_path / "afhq", url=f"{server.url}/afhq.zip", cache_dir=cache, **quiet())
    assert files_under(cache) == []
    assert_nothing_left(tmp_path, tmp_path / "afhq")


# --- local files, cache -------------------------------------------------------------------------

def test_local_folder_of_fashion_files_is_verified(tmp_path):
    F.make_fashion_mnist(tmp_path / "download" / "fmnist", n_train=20, n_test=10)
    sums = {fn: digest(tmp_path / "download" / "fmnist" / fn, "md5") for fn in FASHION}
    dest = tmp_path / "fashion_mnist"
    record = acquire("fashion_mnist", dest, local=tmp_path / "download", checksums=sums,
                     progress=False)
    assert record["source"] == "local" and record["local"] == str((tmp_path / "download").resolve())
    assert [f["verified"] for f in record["files"]] == [sums[fn] for fn in FASHION]
    assert load_fashion_mnist(dest)[0].shape == (20, 28, 28)

    with pytest.raises(DataError, match="checksum mismatch for t10k-images"):
        acquire("fashion_mnist", tmp_path / "f2", local=tmp_path / "download",
                checksums={**sums, FASHION[2]: "md5:" + "0" * 32}, progress=False)
    assert_nothing_left(tmp_path, tmp_path / "f2")


def test_local_archives_give_the_same_layout(tmp_path):
    F.make_pistachio_zip(tmp_path / "archive.zip", n_kirmizi=8, n_siirt=3, size=24)
    record = acquire("pistachio", tmp_path / "pistachio", local=tmp_path / "archive.zip",
                     expected_counts={"Kirmizi_Pistachio": 8, "Siirt_Pistachio": 3},
                     progress=False)
    assert record["counts"] == {"Kirmizi_Pistachio": 8, "Siirt_Pistachio": 3}
    kirmizi = tmp_path / "pistachio" / "Pistachio_Image_Dataset" / "Pistachio_Image_Dataset" \
        / "Kirmizi_Pistachio"
    assert (kirmizi / "kirmizi (1).jpg").is_file() and (kirmizi / "kirmizi 7.jpg").is_file()
    assert record["files"][0]["sha256"] == digest(tmp_path / "archive.zip").split(":")[1]

    # A local file carrying the registry's name must be the registry's file.
    F.make_cifar10_tarball(tmp_path / CIFAR, n_per_batch=2)
    with pytest.raises(DataError, match="checksum mismatch"):
        acquire("cifar10", tmp_path / "cifar10", local=tmp_path / CIFAR, progress=False)
    record = acquire("cifar10", tmp_path / "cifar10", local=tmp_path / CIFAR,
                     checksums={CIFAR: digest(tmp_path / CIFAR)}, progress=False)
    assert record["files"][0]["verified"] == digest(tmp_path / CIFAR)


def test_local_wins_over_a_global_mirror_and_kaggle_sources_use_it(server, cache, tmp_path):
    F.make_afhq_zip(server.root / "animal-faces.zip", AFHQ_COUNTS, size=16)
    record = acquire("afhq", tmp_path / "a", mirror=server.url, expected_counts=AFHQ_COUNTS,
                     cache_dir=cache, **quiet())
    assert record["urls"] == [f"{server.url}/animal-faces.zip"]
    record = acquire("afhq", tmp_path / "b", local=server.root / "animal-faces.zip",
                     mirror="http://127.0.0.1:9/unreachable", expected_counts=AFHQ_COUNTS,
                     cache_dir=cache, **quiet(retries=0))
    assert record["source"] == "local" and server.hits["/animal-faces.zip"] == 1


def test_missing_local_path_is_reported(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        acquire("cifar10", tmp_path / "c", local=tmp_path / "nowhere.tar.gz")


def test_cache_is_reused_without_network_and_reverified(server, cifar_served, cache, tmp_path):
    url, sums, arrays = cifar_served
    first = acquire("cifar10", tmp_path / "a", url=url, checksums=sums, cache_dir=cache, **quiet())

    # A damaged cached copy is detected and fetched again.
    cached = cache / "cifar10" / CIFAR
    cached.write_bytes(cached.read_bytes()[:-10])
    acquire("cifar10", tmp_path / "b", url=url, checksums=sums, cache_dir=cache, **quiet())
    assert server.hits[f"/{CIFAR}"] == 2 and digest(cached) == sums[CIFAR]

    server.stop()
    again = acquire("cifar10", tmp_path / "c", url=url, checksums=sums, cache_dir=cache,
                    **quiet(retries=0))
    assert again == first
    np.testing.assert_array_equal(load_cifar10(tmp_path / "c")[0], arrays[0])


def test_cache_dir_from_environment(cifar_served, tmp_path, monkeypatch):
    url, sums, _ = cifar_served
    monkeypatch.setenv("IDL_CACHE", str(tmp_path / "envcache"))
    acquire("cifar10", tmp_path / "c", url=url, checksums=sums, **quiet())
    assert (tmp_path / "envcache" / "cifar10" / CIFAR).is_file()


# --- Kaggle --------------------------------------------------------------------------------------

def fake_kagglehub(monkeypatch, download):
    monkeypatch.setitem(sys.modules, "kagglehub", types.SimpleNamespace(dataset_download=download))


def test_kaggle_download_is_copied_into_dest(tmp_path, monkeypatch):
    F.make_pistachio_zip(tmp_path / "p.zip", n_kirmizi=3, n_siirt=2, size=16)
    kaggle_dir = tmp_path / "kagglehub" / "versions" / "1"
    with zipfile.ZipFile(tmp_path / "p.zip") as zf:
        zf.extractall(kaggle_dir)
    asked = []
    fake_kagglehub(monkeypatch, lambda handle: asked.append(handle) or str(kaggle_dir))
    counts = {"Kirmizi_Pistachio": 3, "Siirt_Pistachio": 2}
    record = acquire("pistachio", tmp_path / "pistachio", expected_counts=counts, progress=False)
    assert asked == ["muratkokludataset/pistachio-image-dataset"]
    assert record["source"] == "kaggle" and record["kaggle_path"] == str(kaggle_dir)
    assert record["counts"] == counts
    assert check_layout("pistachio", tmp_path / "pistachio", counts) == counts
    assert (kaggle_dir / "Pistachio_Image_Dataset").is_dir()  # kagglehub's copy is untouched


@pytest.mark.parametrize("failure", [SystemExit(1), PermissionError("401 Unauthorized"),
                                     ConnectionError("network is unreachable")])
def test_kaggle_failure_says_how_to_get_the_data(tmp_path, monkeypatch, failure):
    def refuse(handle):
        raise failure
    fake_kagglehub(monkeypatch, refuse)
    with pytest.raises(DownloadError) as err:
        acquire("afhq", tmp_path / "afhq", progress=False)
    msg = str(err.value)
    for needle in ("KAGGLE_USERNAME", "KAGGLE_KEY", "kaggle.json",
                   "https://www.kaggle.com/datasets/andrewmvd/animal-faces", "local:"):
        assert needle in msg
    assert_nothing_left(tmp_path, tmp_path / "afhq")


# --- registry ------------------------------------------------------------------------------------

def test_registry_matches_the_reference_layouts():
    assert set(DATASETS) == {"fashion_mnist", "cifar10", "clock", "afhq", "pistachio", "tinyhero"}
    assert expected_counts("afhq") == {"train/cat": 5153, "train/dog": 4739, "train/wild": 4738,
                                       "val/cat": 500, "val/dog": 500, "val/wild": 500}
    assert expected_counts("pistachio") == {"Kirmizi_Pistachio": 1232, "Siirt_Pistachio": 916}
    assert expected_counts("tinyhero") == {str(d): 912 for d in range(4)}
    assert [f.checksum for f in DATASETS["fashion_mnist"].files][0] == \
        "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d"
    assert TINYHERO_COMMIT in DATASETS["tinyhero"].files[0].url
    for source in DATASETS.values():
        for f in source.files:
            assert f.checksum is None or parse_checksum(f.checksum)
    with pytest.raises(ValueError, match="known: afhq"):
        expected_counts("mnist")
