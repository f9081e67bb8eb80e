"""Hostile and broken data at the door: crafted pickles, archives that write outside their folder,
files of the wrong format, malformed URLs, and runs killed mid-download. Each is refused by the
acquire stage (scripts/acquire.py) with exit 1 and one line naming the file or member; nothing is
executed, nothing is written outside the destination, and no output or temporary is left."""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import signal
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import yaml

from httpserver import FileServer
from idl.data import demo_data as F
from idl.data.acquire import acquire
from idl.data.readers import FASHION_MNIST_FILES, load_cifar10
from idl.data.sources import check_url
from idl.errors import DataError, DownloadError

ROOT = Path(__file__).resolve().parents[1]
BATCH = "cifar-10-batches-py/data_batch_1"
CIFAR = "cifar-10-python.tar.gz"


# --- helpers -------------------------------------------------------------------------------------

def run_acquire(tmp_path, dataset, *, mirror=None, wait=True, **cfg):
    """scripts/acquire.py for ``dataset`` with ``data.<dataset>`` updated by ``cfg``, into
    tmp_path/raw/<dataset>, caching in tmp_path/cache. Returns (process, out)."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["data"][dataset].update({k: str(v) if isinstance(v, Path) else v
                                    for k, v in cfg.items()})
    params["data"]["mirror"] = mirror
    path = tmp_path / f"params-{dataset}.yaml"
    path.write_text(yaml.safe_dump(params))
    out = tmp_path / "raw" / dataset
    cmd = [sys.executable, str(ROOT / "scripts" / "acquire.py"), "--params", str(path),
           "--dataset", dataset, "--out", str(out)]
    env = {**os.environ, "IDL_CACHE": str(tmp_path / "cache")}
    if not wait:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True), out
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120), out


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def temporaries(folder, name):
    return sorted(p.name for p in Path(folder).glob(f".{name}.*")) if Path(folder).exists() else []


def assert_refused(proc, out, *needles):
    """Exit 1 with a one-line error naming ``needles``; no output and no temporaries left."""
    log = proc.stdout + proc.stderr
    assert proc.returncode == 1, log
    for needle in needles:
        assert needle in log, f"{needle!r} not in:\n{log}"
    assert "please report" not in log and "Traceback" not in log, log
    assert not out.exists()
    assert temporaries(out.parent, out.name) == []


def assert_nothing_left(dest):
    assert not dest.exists()
    assert temporaries(dest.parent, dest.name) == []


# --- 1. code execution from pickled CIFAR-10 batches ---------------------------------------------

class Payload:
    """Pickles as a call of ``func(*args)``: what a crafted file makes pickle.load run."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class Stowaway:  # an instance of a class nobody asked for, nested inside the batch
    pass


def crafted(kind: str, marker: Path):
    """(pickled bytes, the global or problem the message must name)."""
    data = np.zeros((2, 3072), np.uint8)
    batch = {b"batch_label": b"training batch 1 of 5", b"labels": [0, 1], b"data": data,
             b"filenames": [b"a.png", b"b.png"]}
    if kind == "os.system":
        batch[b"data"] = Payload(os.system, f"touch {marker}")
        return pickle.dumps(batch, protocol=2), f"global {os.system.__module__}.system"
    if kind == "eval":
        batch[b"labels"] = Payload(eval, f"open({str(marker)!r}, 'w').close() or [0, 1]")
        return pickle.dumps(batch, protocol=2), "global __builtin__.eval"
    if kind == "Popen":
        return pickle.dumps(Payload(subprocess.Popen, ["touch", str(marker)]), protocol=4), \
            "global subprocess.Popen"
    if kind == "object array":
        batch[b"data"] = np.array([[1, "x"]], dtype=object)
        return pickle.dumps(batch, protocol=2), "array of Python objects"
    if kind == "nested instance":
        batch[b"filenames"] = [b"a.png", [Stowaway()]]
        return pickle.dumps(batch, protocol=2), f"global {__name__}.Stowaway"
    if kind == "not a dict":
        return pickle.dumps([data, [0, 1]], protocol=2), "expected a pickled dict, got list"
    raise ValueError(kind)


CRAFTED = ["os.system", "eval", "Popen", "object array", "nested instance", "not a dict"]


def cifar_folder(folder: Path, batch: bytes | None = None, member: str = BATCH) -> Path:
    """A CIFAR-10 folder in the real layout, with ``member`` replaced by ``batch``."""
    F.make_raw("cifar10", folder, n_train=10, n_test=4)
    if batch is not None:
        (folder / member).write_bytes(batch)
    return folder


def tar_gz(folder: Path, path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        tf.add(folder / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    return path


@pytest.mark.parametrize("kind", CRAFTED)
def test_crafted_pickle_in_a_local_folder_is_refused_by_the_stage(tmp_path, kind):
    marker = tmp_path / "pwned"
    batch, needle = crafted(kind, marker)
    local = cifar_folder(tmp_path / "download", batch)
    proc, out = run_acquire(tmp_path, "cifar10", local=local)
    assert_refused(proc, out, BATCH, needle, f"local {local}")
    assert not marker.exists()


@pytest.mark.parametrize("kind", CRAFTED)
def test_crafted_pickle_is_refused_by_the_reader(tmp_path, kind):
    """The same files met later by the training stages (which read the batches again)."""
    marker = tmp_path / "pwned"
    batch, needle = crafted(kind, marker)
    folder = cifar_folder(tmp_path / "c", batch)
    with pytest.raises(DataError, match="data_batch_1") as err:
        load_cifar10(folder)
    assert needle in str(err.value)
    assert not marker.exists()


def test_crafted_pickle_in_an_archive_with_any_name_or_from_a_mirror(tmp_path):
    marker = tmp_path / "pwned"
    batch, needle = crafted("os.system", marker)
    folder = cifar_folder(tmp_path / "c", batch)
    archive = tar_gz(folder, tmp_path / "holiday photos.bin")
    proc, out = run_acquire(tmp_path, "cifar10", local=archive)
    assert_refused(proc, out, BATCH, needle, str(archive))

    with FileServer(tmp_path / "www") as server:
        tar_gz(folder, server.root / CIFAR)
        proc, out = run_acquire(tmp_path, "cifar10", mirror=server.url,
                                checksums={CIFAR: sha256(server.root / CIFAR)})
    assert_refused(proc, out, BATCH, needle, f"{server.url}/{CIFAR}")
    assert not marker.exists()


def test_crafted_meta_file_is_refused_too(tmp_path):
    meta = pickle.dumps({b"label_names": Payload(os.system, "true")}, protocol=2)
    folder = cifar_folder(tmp_path / "c", meta, "cifar-10-batches-py/batches.meta")
    with pytest.raises(DataError, match="batches.meta: refuses to load global"):
        acquire("cifar10", tmp_path / "out", local=folder, progress=False)
    assert_nothing_left(tmp_path / "out")


# --- 3. bad data is refused when it enters the pipeline ------------------------------------------

def npy(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


GOOD_IMAGES = np.zeros((3, 8, 8), np.uint8)
GOOD_LABELS = np.array([[0, 0], [5, 30], [11, 59]], np.int64)


# The loader's exact wording belongs to idl.clock.course_data: match the file and the gist.
@pytest.mark.parametrize("images, labels, needles", [
    (GOOD_IMAGES.astype(np.float32), GOOD_LABELS, ("images.npy", "uint8")),
    (np.zeros((3, 64), np.uint8), GOOD_LABELS, ("images.npy", "(N, H, W)")),
    (GOOD_IMAGES, np.array([[12, 0], [0, 0], [0, 0]]), ("labels.npy", "hour 12")),
    (GOOD_IMAGES, np.array([[0, 0], [0, -1], [0, 60]]), ("labels.npy", "minute -1")),
    (GOOD_IMAGES, GOOD_LABELS[:, :1], ("labels.npy", "(N, 2)")),
    (GOOD_IMAGES, GOOD_LABELS.astype(np.float64), ("labels.npy", "integer")),
    (GOOD_IMAGES[:2], GOOD_LABELS, ("images.npy", "2 images")),
    (GOOD_IMAGES[:0], GOOD_LABELS[:0], ("images.npy",)),
    (GOOD_IMAGES, b"not an npy file", ("labels.npy",)),
    (GOOD_IMAGES, np.array([[0, None]] * 3, dtype=object), ("labels.npy",)),
])
def test_bad_clock_data_is_refused_by_the_stage(tmp_path, images, labels, needles):
    local = tmp_path / "A1_data_150"
    local.mkdir()
    for name, value in (("images.npy", images), ("labels.npy", labels)):
        if isinstance(value, bytes):
            (local / name).write_bytes(value)
        else:
            np.save(local / name, value, allow_pickle=True)
    proc, out = run_acquire(tmp_path, "clock", local=local)
    assert_refused(proc, out, *needles, f"local {local}", f"Nothing was written to {out}")


def fashion_folder(folder: Path, **replace) -> Path:
    """The four IDX files, some replaced (keys x_train, y_train, x_test, y_test)."""
    F.make_fashion_mnist(folder, n_train=20, n_test=10)
    for key, data in replace.items():
        path = folder / FASHION_MNIST_FILES[key]
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            F.write_idx(path, data)
    return folder


def idx(type_code: int, shape: tuple, payload: bytes = b"") -> bytes:
    header = bytes([0, 0, type_code, len(shape)]) + np.asarray(shape, ">u4").tobytes()
    return gzip.compress(header + payload)


@pytest.mark.parametrize("replace, needle", [
    ({"x_train": np.zeros((20, 32, 32), np.uint8)},
     "train-images-idx3-ubyte.gz: expected uint8 images of shape (N, 28, 28)"),
    ({"y_test": np.full(10, 12, np.uint8)}, "t10k-labels-idx1-ubyte.gz: labels must be 0..9"),
    ({"x_train": np.zeros((0, 28, 28), np.uint8), "y_train": np.zeros(0, np.uint8)},
     "train-images-idx3-ubyte.gz: holds no images"),
    ({"y_train": idx(0x0C, (20,), bytes(80))}, "train-labels-idx1-ubyte.gz: expected uint8 labels"),
    ({"x_test": b"<html>Please log in</html>"}, "t10k-images-idx3-ubyte.gz: not an IDX file"),
    ({"x_test": idx(0x08, (1 << 31, 1 << 31))},
     "t10k-images-idx3-ubyte.gz: IDX header announces shape"),
])
def test_bad_fashion_mnist_is_refused_by_the_stage(tmp_path, replace, needle):
    local = fashion_folder(tmp_path / "fmnist", **replace)
    pins = {fn: sha256(local / fn) for fn in FASHION_MNIST_FILES.values()}  # not the registry's
    proc, out = run_acquire(tmp_path, "fashion_mnist", local=local, checksums=pins)
    assert_refused(proc, out, needle)


def batch(data, labels) -> bytes:
    return pickle.dumps({b"batch_label": b"x", b"labels": labels, b"data": data,
                         b"filenames": []}, protocol=2)


@pytest.mark.parametrize("member, content, needle", [
    (BATCH, batch(np.zeros((2, 3072), np.float32), [0, 1]), "expected uint8 data of shape"),
    (BATCH, batch(np.zeros((2, 1024), np.uint8), [0, 1]), "expected uint8 data of shape"),
    (BATCH, batch(np.zeros((2, 3072), np.uint8), [0, 10]), "labels must be 0..9"),
    (BATCH, batch(np.zeros((2, 3072), np.uint8), [b"cat", b"dog"]), "expected 2 integers"),
    (BATCH, batch(np.zeros((2, 3072), np.uint8), [0, [1]]), "'labels' is not an array"),
    (BATCH, b"\x80\x02garbage", "cannot unpickle"),
    ("cifar-10-batches-py/batches.meta", pickle.dumps({b"num_vis": 3072}, protocol=2),
     "expected 10 label_names"),
])
def test_bad_cifar10_is_refused_by_the_stage(tmp_path, member, content, needle):
    local = cifar_folder(tmp_path / "download", content, member)
    proc, out = run_acquire(tmp_path, "cifar10", local=local)
    assert_refused(proc, out, member, needle)


def test_cifar10_without_images_is_refused(tmp_path):
    empty = batch(np.zeros((0, 3072), np.uint8), [])
    local = cifar_folder(tmp_path / "download")
    for b in range(1, 6):
        (local / f"cifar-10-batches-py/data_batch_{b}").write_bytes(empty)
    with pytest.raises(DataError, match="hold no images"):
        acquire("cifar10", tmp_path / "out", local=local, progress=False)
    assert_nothing_left(tmp_path / "out")


def test_image_dataset_without_images_is_refused_by_the_stage(tmp_path):
    local = tmp_path / "pixel_character_generator"
    for d in range(4):
        (local / "data" / str(d)).mkdir(parents=True)
    (local / "README.md").write_text("no sprites here\n")
    proc, out = run_acquire(tmp_path, "tinyhero", local=local)
    assert_refused(proc, out, "expected 912 files, found 0 (missing)")
    with pytest.raises(ValueError, match="at least 1 file"):
        acquire("tinyhero", tmp_path / "t", local=local, expected_counts={"0": 0})


# --- 4. archives whose members would land outside the destination --------------------------------

def clock_members():
    return [("A1_data_150/images.npy", npy(GOOD_IMAGES)),
            ("A1_data_150/labels.npy", npy(GOOD_LABELS))]


def hostile_zip(path: Path, name: str, *, mode: int | None = None, data: bytes = b"evil") -> Path:
    """A valid clock archive plus one member ``name`` (with Unix ``mode``, e.g. a link)."""
    with zipfile.ZipFile(path, "w") as zf:
        for member, content in clock_members():
            zf.writestr(member, content)
        info = zipfile.ZipInfo(name)
        if mode is not None:
            info.create_system, info.external_attr = 3, mode << 16
        zf.writestr(info, data)
    return path


def hostile_tar(path: Path, name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for member, content in clock_members():
            info = tarfile.TarInfo(member)
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, link
        info.size = 4 if kind == tarfile.REGTYPE else 0
        tf.addfile(info, io.BytesIO(b"evil") if kind == tarfile.REGTYPE else None)
    return path


def zip_cases(tmp):
    return [
        ("../../evil.txt", {}, "climbs out"),
        ("A1_data_150/../../../evil.txt", {}, "climbs out"),
        (f"{tmp}/evil.txt", {}, "absolute path"),
        ("C:\\evil.txt", {}, "Windows path"),
        ("C:evil.txt", {}, "Windows path"),
        ("..\\..\\evil.txt", {}, "Windows path"),
        ("A1_data_150/link", {"mode": 0o120777, "data": b"../../../etc/passwd"}, "outside"),
        ("A1_data_150/abs", {"mode": 0o120777, "data": b"/etc/passwd"}, "outside"),
        ("A1_data_150/fifo", {"mode": 0o010644}, "device file or pipe"),
    ]


def tar_cases(tmp):
    return [
        ("../evil.txt", {}, "climbs out"),
        (f"{tmp}/evil.txt", {}, "absolute path"),
        ("C:\\evil.txt", {}, "Windows path"),
        ("A1_data_150/link", {"kind": tarfile.SYMTYPE, "link": "../../.."}, "outside"),
        ("A1_data_150/etc", {"kind": tarfile.SYMTYPE, "link": "/etc"}, "outside"),
        ("A1_data_150/hard", {"kind": tarfile.LNKTYPE, "link": "../outside.txt"}, "outside"),
        ("A1_data_150/fifo", {"kind": tarfile.FIFOTYPE}, "device file or pipe"),
        ("A1_data_150/null", {"kind": tarfile.CHRTYPE}, "device file or pipe"),
    ]


@pytest.mark.parametrize("fmt, index", [("zip", i) for i in range(9)] +
                         [("tar", i) for i in range(8)])
def test_hostile_archive_members_are_refused(tmp_path, fmt, index):
    work = tmp_path / "work" / "deep"
    work.mkdir(parents=True)
    name, kw, problem = (zip_cases if fmt == "zip" else tar_cases)(tmp_path)[index]
    archive = work / ("A1_data_150.zip" if fmt == "zip" else "A1_data_150.tar.gz")
    (hostile_zip if fmt == "zip" else hostile_tar)(archive, name, **kw)
    dest = work / "clock"
    with pytest.raises(DataError) as err:
        acquire("clock", dest, local=archive, progress=False)
    msg = str(err.value)
    assert f"member {name!r}" in msg and problem in msg and str(archive) in msg
    assert_nothing_left(dest)
    assert not list(tmp_path.rglob("evil.txt")) and not (tmp_path / "work" / "outside.txt").exists()
    assert sorted(p.name for p in work.iterdir()) == [archive.name]


def test_hostile_archives_under_other_names_are_refused_by_the_stage(tmp_path):
    archive = hostile_zip(tmp_path / "clock data (final).bin", "../../evil.txt")
    proc, out = run_acquire(tmp_path, "clock", local=archive)
    assert_refused(proc, out, "member '../../evil.txt'", "climbs out", str(archive))

    archive = hostile_tar(tmp_path / "backup.dat", f"{tmp_path}/evil.txt")
    proc, out = run_acquire(tmp_path, "clock", local=archive)
    assert_refused(proc, out, f"member '{tmp_path}/evil.txt'", "absolute path")
    assert not list(tmp_path.rglob("evil.txt"))


def test_links_inside_a_tar_are_still_unpacked(tmp_path):
    archive = hostile_tar(tmp_path / "a.tar.gz", "A1_data_150/alias.npy", tarfile.SYMTYPE,
                          "labels.npy")
    acquire("clock", tmp_path / "clock", local=archive, progress=False)
    assert (tmp_path / "clock" / "alias.npy").resolve() == \
        (tmp_path / "clock" / "labels.npy").resolve()


def test_special_files_in_a_local_folder_are_refused(tmp_path):
    local = tmp_path / "download"
    local.mkdir()
    np.save(local / "images.npy", GOOD_IMAGES)
    np.save(local / "labels.npy", GOOD_LABELS)
    os.mkfifo(local / "pipe")
    with pytest.raises(DataError, match="pipe is not a regular file"):
        acquire("clock", tmp_path / "clock", local=local, progress=False)
    with pytest.raises(DataError, match="neither a file nor a folder"):
        acquire("clock", tmp_path / "clock", local=local / "pipe", progress=False)
    assert_nothing_left(tmp_path / "clock")


# --- malformed URLs ------------------------------------------------------------------------------

@pytest.mark.parametrize("url, problem", [
    ("htp:/nope", "does not start with http:// or https://"),
    ("http://", "names no host"),
    ("not a url", "spaces"),
    ("http://example.org/my file.zip", "spaces"),
    ("http://[::1/x.zip", "cannot be parsed"),
    ("http://host:port/x.zip", "cannot be parsed"),
    ("file:///etc/passwd", "does not start with http://"),
])
def test_malformed_urls_are_named(tmp_path, url, problem):
    with pytest.raises(DownloadError, match="data.clock.url") as err:
        check_url(url, "data.clock.url")
    assert repr(url) in str(err.value) and problem in str(err.value)
    with pytest.raises(DownloadError) as err:
        acquire("clock", tmp_path / "c", url=url, cache_dir=tmp_path / "cache", progress=False)
    assert repr(url) in str(err.value)
    with pytest.raises(DownloadError, match="mirror"):
        acquire("cifar10", tmp_path / "c", mirror=url, cache_dir=tmp_path / "cache",
                progress=False)
    assert_nothing_left(tmp_path / "c")


def test_malformed_url_through_the_stage(tmp_path):
    """Refused when the parameters are read (idl.checks) or, failing that, by acquire."""
    proc, out = run_acquire(tmp_path, "clock", url="htp:/nope")
    assert_refused(proc, out, "url", "'htp:/nope'", "http://")
    proc, out = run_acquire(tmp_path, "cifar10", mirror="http://")
    assert_refused(proc, out, "mirror", "'http://'")


def test_url_that_passes_the_check_but_requests_refuses(tmp_path):
    with pytest.raises(DownloadError, match=r"a\.\.b.*Check the URL"):
        acquire("clock", tmp_path / "c", url="http://a..b/x.zip", cache_dir=tmp_path / "cache",
                progress=False, retries=0)
    assert_nothing_left(tmp_path / "c")


# --- 7. a run killed mid-download leaves nothing behind, or its next run sweeps it ---------------

class _Trickle(BaseHTTPRequestHandler):
    """Serves ``server.payload`` in 64 KiB pieces, pausing between them while ``server.slow``."""

    def do_GET(self):
        data = self.server.payload
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        for start in range(0, len(data), 1 << 16):
            try:
                self.wfile.write(data[start:start + (1 << 16)])
                self.wfile.flush()
            except OSError:
                return  # the client is gone
            if self.server.slow.is_set():
                time.sleep(0.05)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def trickle(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (64, 256, 256), dtype=np.uint8)  # 4 MB
    labels = np.array([[h % 12, h % 60] for h in range(64)])
    F.make_clock_zip(tmp_path / "A1_data_150.zip", images, labels)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    httpd.daemon_threads = True
    httpd.payload = (tmp_path / "A1_data_150.zip").read_bytes()
    httpd.slow = threading.Event()
    httpd.slow.set()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}/A1_data_150.zip"
    httpd.shutdown()
    httpd.server_close()


def start_and_wait_for_partial_download(tmp_path, url):
    proc, out = run_acquire(tmp_path, "clock", url=url, wait=False)
    cache = tmp_path / "cache" / "clock"
    deadline = time.monotonic() + 60
    while not any(p.stat().st_size for p in cache.glob(".A1_data_150.zip.*")
                  if p.exists()):
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline, "the download never started"
        time.sleep(0.05)
    return proc, out, cache


def test_sigterm_mid_download_leaves_no_temporaries(tmp_path, trickle):
    _, url = trickle
    proc, out, cache = start_and_wait_for_partial_download(tmp_path, url)
    proc.send_signal(signal.SIGTERM)
    log = proc.communicate(timeout=30)[0]
    assert proc.returncode != 0 and "please report" not in log, log
    assert temporaries(cache, "A1_data_150.zip") == [], log
    assert not out.exists() and temporaries(out.parent, out.name) == [], log


def test_after_kill_9_the_next_run_sweeps_and_succeeds(tmp_path, trickle):
    httpd, url = trickle
    proc, out, cache = start_and_wait_for_partial_download(tmp_path, url)
    proc.kill()
    proc.wait(timeout=30)
    assert temporaries(cache, "A1_data_150.zip") != []  # what a kill -9 leaves
    assert temporaries(out.parent, out.name) != []

    httpd.slow.clear()
    again, out = run_acquire(tmp_path, "clock", url=url)
    assert again.returncode == 0, again.stderr
    assert temporaries(cache, "A1_data_150.zip") == []
    assert temporaries(out.parent, out.name) == []
    assert sorted(p.name for p in out.iterdir()) == ["SOURCE.json", "images.npy", "labels.npy"]
    assert sorted(p.name for p in cache.iterdir()) == ["A1_data_150.zip",
                                                       "A1_data_150.zip.source.json"]
