"""Acquire a dataset: fetch it, verify it, unpack it into ``dest`` in its real layout.

One mechanism for every dataset in :data:`idl.data.sources.DATASETS`, whether it comes
over HTTP (files or one archive), from Kaggle, or from a file or folder already on disk
(``local=``). Whatever the route, the result is checked the same way (layout globs and
file counts) and described the same way (``dest/SOURCE.json``).

Guarantees a workflow engine relies on:

* ``dest`` appears whole or not at all (built in a temporary sibling, renamed at the end),
  and only once the data read as the pipeline will read it (:func:`check_format`);
* archives are unpacked only if every member stays inside the destination (no absolute
  paths, ``..``, drive letters, links pointing out, device files);
* temporaries are named after their process, removed however a run ends, and swept by the
  next run after a ``kill -9`` (:mod:`idl.io`);
* downloads land in a cache under a temporary name and are renamed only once complete
  (Content-Length) and verified (checksum), so the cache never holds half a file and a
  second acquisition copies from it without touching the network;
* every failure is a :class:`DownloadError` or :class:`DataError` that names the URL or
  file, says what was wrong and what to do.
"""
from __future__ import annotations

import hashlib
import json
import logging
import lzma
import os
import posixpath
import re
import shutil
import stat
import tarfile
import tempfile
import time
import zipfile
import zlib
from pathlib import Path
from typing import Mapping
from urllib.parse import parse_qs, unquote, urlparse

import requests
import urllib3
from tqdm import tqdm

from idl.clock.course_data import load_course_data
from idl.errors import DataError, DownloadError
from idl.io import atomic_dir, atomic_path, scratch_dir, sweep_stale, write_json
from idl.data.readers import cifar10_label_names, load_cifar10, load_fashion_mnist
from idl.data.sources import (SOURCE_FILE, DatasetSource, check_layout, check_url, get_source, group_counts,
                              parse_checksum)

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
# 4xx answers that mean "try again later" rather than "not there".
_RETRY_STATUS = frozenset({408, 429})
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_ROOT_SEARCH_DEPTH = 4


class _Transient(Exception):
    """A failure worth retrying (connection trouble, 5xx, truncated transfer)."""


def default_cache_dir() -> Path:
    """``$IDL_CACHE`` if set, else ``~/.cache/idl-repro``."""
    env = os.environ.get("IDL_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "idl-repro"


def check_format(name: str, root: str | os.PathLike) -> None:
    """Read dataset ``name`` under ``root`` as the pipeline will; DataError if it cannot.

    Fashion-MNIST, CIFAR-10 and the clock data go through their readers (dtype, shape, label
    range, no empty splits; CIFAR-10's pickles through the restricted unpickler). The image
    datasets are checked by their layout counts, which are never zero.
    """
    root = Path(root)
    if name == "fashion_mnist":
        load_fashion_mnist(root)
    elif name == "cifar10":
        load_cifar10(root)
        cifar10_label_names(root)
    elif name == "clock":
        load_course_data(root)  # refuses empty data too


def acquire(name: str, dest: str | os.PathLike, *, local: str | os.PathLike | None = None,
            mirror: str | None = None, url: str | None = None,
            expected_counts: Mapping[str, int] | None = None,
            checksums: Mapping[str, str | None] | None = None,
            cache_dir: str | os.PathLike | None = None, retries: int = 3,
            timeout: float = 60.0, backoff: float = 1.0, progress: bool = True) -> dict:
    """Produce ``dest`` holding dataset ``name`` in its real layout plus ``SOURCE.json``.

    Route, the first that is given wins (so one global ``mirror`` can sit beside a
    per-dataset ``local`` or ``url``):
      ``local``  -- an archive (.zip, .tar[.gz|.bz2|.xz], .tgz), a single file, or a folder
                    already on disk; no network. Registry files found in it by name are
                    checksum-verified.
      ``url``    -- replaces the one URL of a single-archive source (for Kaggle sources:
                    download this archive over HTTP instead of using Kaggle).
      ``mirror`` -- a base URL replacing everything before the file name of each registry URL
                    (Kaggle sources: ``<mirror>/<dataset slug>.zip``, e.g. ``animal-faces.zip``).
      default    -- the registry's URLs, or ``kagglehub.dataset_download(handle)``.

    ``checksums`` maps a file name to ``"md5:<hex>"``/``"sha256:<hex>"`` (overriding the
    registry) or to ``None`` (do not verify). The name is a downloaded or local file
    (``"A1_data_150.zip"``) or a file inside the dataset, relative to ``dest``
    (``"images.npy"``: survives a re-zipped archive). ``expected_counts`` overrides layout
    counts per group. ``retries`` is the number of extra attempts after a transient failure,
    with exponential ``backoff`` seconds. Returns the record written to ``SOURCE.json``.
    """
    source = get_source(name)
    dest = Path(dest)
    if local is not None:
        url = mirror = None
    elif url:
        mirror = None
    if url and source.kind == "http_files":
        raise ValueError(f"{name} has {len(source.files)} files: use mirror= (a base URL), "
                         "not url=")
    if url:
        check_url(url, "url")
    if mirror:
        check_url(mirror, "mirror")
    layout = group_counts(source, expected_counts)  # validates group names before any download
    sums = _user_checksums(checksums)
    cache = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()

    with scratch_dir(dest, "unpack") as work, atomic_dir(dest) as stage:
        if local is not None:
            record = _stage_local(source, Path(local), work, stage, sums, layout, progress)
        elif source.kind == "kaggle" and not (url or mirror):
            record = _stage_kaggle(source, work, stage, layout, progress)
        else:
            record = _stage_http(source, cache, work, stage, mirror, url, sums, layout,
                                 retries=retries, timeout=timeout, backoff=backoff,
                                 progress=progress)
        counts = check_layout(
            name, stage, expected_counts, where=dest,
            hint=f"Source: {_describe(record)}. Nothing was written to {dest}. The download or "
                 "archive is incomplete or a different version: acquire again (delete the "
                 "cached copy if it came from the cache), or, for a deliberate subset, "
                 "pass expected_counts for these groups.")
        _verify_members(source, stage, sums, record)
        try:
            check_format(name, stage)
        except DataError as e:  # name the file inside the dataset, not inside our temporary
            inside = str(e).replace(f"{stage}{os.sep}", "").replace(str(stage), ".")
            raise DataError(f"{name} from {_describe(record)}: {inside.rstrip('.')}. Nothing "
                            f"was written to {dest}.") from e
        digest, per_file = _layout_digest(stage, layout)
        record = {"name": name, **record, "counts": counts, "layout_sha256": digest}
        if len(per_file) <= 16:  # small layouts: the hashes to pin with checksums=
            record["file_sha256"] = per_file
        write_json(stage / SOURCE_FILE, record)
    log.info("%s: acquired into %s (%s)", name, dest,
             ", ".join(f"{g} {n}" for g, n in record["counts"].items()))
    return record


# --- routes --------------------------------------------------------------------------------

def _stage_http(source: DatasetSource, cache: Path, work: Path, stage: Path, mirror, url,
                sums, layout, *, retries, timeout, backoff, progress) -> dict:
    files = []
    for file_url, filename, checksum in _plan(source, mirror, url, sums):
        target = cache / source.name / filename
        sweep_stale(target)  # partial downloads of killed runs, even when the cache is used
        info = _cached(target, file_url, checksum) or _download(
            file_url, target, checksum, retries=retries, timeout=timeout, backoff=backoff,
            progress=progress)
        if checksum is None:
            log.info("%s: no published checksum for %s; sha256 seen: %s (pass checksums="
                     "{%r: 'sha256:%s'} to pin it)", source.name, filename, info["sha256"],
                     filename, info["sha256"])
        files.append({"filename": filename, "url": file_url, "bytes": info["bytes"],
                      "sha256": info["sha256"], "verified": checksum})
        if source.kind == "http_files":
            shutil.copy2(target, stage / filename)
        else:
            _unpack_into(target, work, stage, layout, progress, cached=target)
    return {"source": "http", "urls": [f["url"] for f in files], "files": files}


def _stage_kaggle(source: DatasetSource, work: Path, stage: Path, layout, progress) -> dict:
    path = _kaggle_download(source)
    record = {"source": "kaggle", "kaggle_handle": source.kaggle_handle,
              "kaggle_url": source.kaggle_url, "kaggle_path": str(path)}
    if path.is_dir():
        _copy_tree(_find_root(path, layout), stage, progress)
    else:
        _unpack_into(path, work, stage, layout, progress)
    return record


def _stage_local(source: DatasetSource, local: Path, work: Path, stage: Path, sums, layout,
                 progress) -> dict:
    if not local.exists():
        raise DataError(f"{source.name}: local path {local} does not exist. Point `local` at the "
                        "downloaded archive or at the folder it unpacks to.")
    if not (local.is_dir() or local.is_file()):
        raise DataError(f"{source.name}: local path {local} is neither a file nor a folder (a "
                        "pipe or device?). Point `local` at the downloaded archive or at the "
                        "folder it unpacks to.")
    record: dict = {"source": "local", "local": str(local.resolve()), "files": []}
    registry = {f.filename: f.checksum for f in source.files}
    if local.is_dir():
        _copy_tree(_find_root(local, layout), stage, progress)
    else:
        checksum = sums.get(local.name, registry.get(local.name))
        info = _hash_file(local)
        _verify(info, checksum, what=str(local), filename=local.name, error=DataError,
                todo="the file is corrupt or a different version: download it again")
        record["files"].append({"filename": local.name, "bytes": info["bytes"],
                                "sha256": info["sha256"], "verified": checksum})
        _unpack_into(local, work, stage, layout, progress)
    if source.kind == "http_files":
        # The files themselves are the dataset: check the ones we know by name.
        for f in source.files:
            path = stage / f.filename
            checksum = sums.get(f.filename, f.checksum)
            if path.is_file():
                info = _hash_file(path)
                _verify(info, checksum, what=f"{f.filename} from {local}", filename=f.filename,
                        error=DataError, todo="the file is corrupt or a different version: "
                        "download it again")
                record["files"].append({"filename": f.filename, "bytes": info["bytes"],
                                        "sha256": info["sha256"], "verified": checksum})
    return record


def _verify_members(source: DatasetSource, stage: Path, sums: dict, record: dict) -> None:
    """Check ``checksums`` entries naming files inside the dataset; refuse names that match
    nothing (a typo must not silently disable a check)."""
    fetched = {f["filename"] for f in record.get("files", [])} | {f.filename for f in source.files}
    for name, checksum in sums.items():
        path = stage / name
        if checksum is not None and path.is_file():
            _verify(_hash_file(path), checksum, what=f"{name} in {_describe(record)}",
                    filename=name, error=DataError,
                    todo="the dataset differs from the one pinned: check the source or the pin")
            record.setdefault("verified_members", {})[name] = checksum
        elif name not in fetched and not path.is_file():
            raise DataError(f"checksums names {name!r}, which is neither a file that was "
                            f"fetched ({', '.join(sorted(fetched)) or 'none'}) nor a file in "
                            f"the {source.name} dataset: check the name.")


def _kaggle_download(source: DatasetSource) -> Path:
    """``kagglehub.dataset_download``; every failure becomes one actionable DownloadError."""
    handle = source.kaggle_handle
    todo = (f"Set KAGGLE_USERNAME and KAGGLE_KEY (or put kaggle.json in ~/.kaggle), or download "
            f"the archive by hand from {source.kaggle_url} and point the dataset's `local:` "
            "parameter at it.")
    try:
        import kagglehub  # lazy: slow to import, and only this route needs it

        path = kagglehub.dataset_download(handle)
    except (Exception, SystemExit) as e:  # kaggle libraries call exit(1) without credentials
        raise DownloadError(f"{source.name}: downloading Kaggle dataset {handle!r} failed "
                            f"({type(e).__name__}: {e}). {todo}") from e
    if not path or not Path(path).exists():
        raise DownloadError(f"{source.name}: kagglehub returned {path!r} for {handle!r}, which "
                            f"does not exist. {todo}")
    return Path(path)


# --- HTTP ----------------------------------------------------------------------------------

def _plan(source: DatasetSource, mirror, url, sums) -> list[tuple[str, str, str | None]]:
    """(url, cache file name, checksum or None) for each file to fetch."""
    if mirror and source.kind == "kaggle":
        filename = source.archive_name
        return [(f"{mirror.rstrip('/')}/{filename}", filename, sums.get(filename))]
    if url:
        registry = source.files[0] if source.files else None
        filename = _filename_from_url(url)
        if filename in sums:
            checksum = sums[filename]
        elif registry is not None:
            checksum = sums.get(registry.filename, registry.checksum)
        else:
            checksum = None
        return [(url, filename, checksum)]
    plan = []
    for f in source.files:
        file_url = f"{mirror.rstrip('/')}/{f.filename}" if mirror else f.url
        plan.append((file_url, f.filename, sums.get(f.filename, f.checksum)))
    return plan


def _download(url: str, target: Path, checksum: str | None, *, retries: int, timeout: float,
              backoff: float, progress: bool) -> dict:
    """Fetch ``url`` into ``target`` (complete and verified), retrying transient failures."""
    attempts = max(0, int(retries)) + 1
    for attempt in range(1, attempts + 1):
        try:
            info = _download_once(url, target, checksum, timeout=timeout, progress=progress)
        except _Transient as e:
            if attempt == attempts:
                raise DownloadError(
                    f"downloading {url} failed: {e} (gave up after {attempts} attempt"
                    f"{'s' if attempts > 1 else ''}). Check your network connection or try again "
                    "later; or use mirror=/url= for another copy, or download the file by hand "
                    "and pass local=.") from e
            delay = backoff * 2 ** (attempt - 1)
            log.warning("%s: %s; retrying in %.1f s (attempt %d of %d)", url, e, delay,
                        attempt + 1, attempts)
            time.sleep(delay)
        else:
            write_json(_sidecar(target), {"url": url, **info})
            return info
    raise AssertionError("unreachable")


def _download_once(url: str, target: Path, checksum: str | None, *, timeout: float,
                   progress: bool) -> dict:
    # identity: the bytes on disk must be the bytes the checksum and Content-Length describe.
    headers = {"Accept-Encoding": "identity", "User-Agent": "idl-repro"}
    try:
        with requests.get(url, stream=True, timeout=timeout, headers=headers) as r:
            if r.status_code >= 500 or r.status_code in _RETRY_STATUS:
                raise _Transient(f"server answered HTTP {r.status_code} {r.reason}")
            if r.status_code >= 400:
                raise DownloadError(
                    f"downloading {url} failed: HTTP {r.status_code} {r.reason}. The file is not "
                    "there (moved, removed or access denied): check the URL, use mirror=/url= for "
                    "another copy, or download the file by hand and pass local=.")
            if (r.headers.get("Content-Type", "").startswith("text/html")
                    and not target.name.endswith((".html", ".htm"))):
                raise DownloadError(
                    f"downloading {url} returned an HTML page instead of {target.name} (the link "
                    "may have expired or need a login). Open it in a browser, download the file "
                    "by hand and pass local=.")
            length = r.headers.get("Content-Length", "")
            total = int(length) if length.isdigit() else None
            md5, sha256, n = hashlib.md5(), hashlib.sha256(), 0
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                with open(tmp, "wb") as fh, tqdm(total=total, unit="B", unit_scale=True,
                                                 unit_divisor=1024, desc=target.name,
                                                 disable=not progress, leave=False) as bar:
                    try:
                        for chunk in r.iter_content(_CHUNK):
                            fh.write(chunk)
                            md5.update(chunk)
                            sha256.update(chunk)
                            n += len(chunk)
                            bar.update(len(chunk))
                    except requests.exceptions.ChunkedEncodingError as e:
                        if total is not None:
                            raise _Transient(f"truncated transfer: the server announced {total} "
                                             f"bytes but the connection ended early "
                                             f"({_reason(e)})") from e
                        raise _Transient(f"connection broken after {n} bytes: {_reason(e)}") from e
                if total is not None and n != total:
                    raise _Transient(f"truncated transfer: received {n} of {total} bytes")
                info = {"bytes": n, "md5": md5.hexdigest(), "sha256": sha256.hexdigest()}
                _verify(info, checksum, what=url, filename=target.name, error=DownloadError,
                        todo="the file was not kept. The server may hold a different version "
                             "or the transfer was corrupted: try again; if it persists, check "
                             "the source")
    except (requests.ConnectionError, requests.Timeout) as e:
        raise _Transient(f"connection failed: {e}") from e
    except (requests.RequestException, urllib3.exceptions.HTTPError) as e:  # bad URL, ...
        raise DownloadError(f"downloading {url} failed: {type(e).__name__}: {_reason(e)}. Check "
                            "the URL (or mirror), or download the file by hand and pass "
                            "local=.") from e
    return info


def _cached(target: Path, url: str, checksum: str | None) -> dict | None:
    """The cached file's info if it is still good, else None (and the bad copy is removed).

    With a checksum the file is re-verified against it; without one it must match the
    hash recorded when it was downloaded from this same URL.
    """
    if not target.is_file():
        return None
    info = _hash_file(target)
    if checksum is not None:
        algo, expected = parse_checksum(checksum)
        good, why = info[algo] == expected, f"{algo} {info[algo]} != expected {expected}"
    else:
        meta = _read_json(_sidecar(target))
        good = bool(meta) and meta.get("url") == url and meta.get("sha256") == info["sha256"]
        why = "no record that it is a complete download of this URL"
    if good:
        log.info("using cached %s", target)
        return info
    log.warning("cached %s is not usable (%s); downloading it again", target, why)
    target.unlink(missing_ok=True)
    _sidecar(target).unlink(missing_ok=True)
    return None


def _verify(info: dict, checksum: str | None, *, what: str, filename: str, error: type,
            todo: str) -> None:
    if checksum is None:
        return
    algo, expected = parse_checksum(checksum)
    if info[algo] != expected:
        raise error(
            f"checksum mismatch for {what}:\n  expected {algo} {expected}\n  got      {algo} "
            f"{info[algo]}\nWhat to do: {todo}. If you trust this file, pin it with "
            f"checksums={{{filename!r}: '{algo}:{info[algo]}'}}.")


def _filename_from_url(url: str) -> str:
    """A cache name for a URL: the ``files=`` query value (ownCloud/surfdrive) or the last
    path segment, e.g. ``.../download?path=%2F&files=A1_data_150.zip`` -> ``A1_data_150.zip``."""
    parsed = urlparse(url)
    query = parse_qs(parsed.query).get("files")
    name = query[-1] if query else unquote(parsed.path.rstrip("/").rsplit("/", 1)[-1])
    name = name.rsplit("/", 1)[-1]
    name = "".join(c if c.isalnum() or c in "._-+" else "_" for c in name).lstrip(".")
    return name or "download"


def _reason(error: Exception) -> str:
    """The innermost message of a requests/urllib3 error (they nest tuples of errors)."""
    while error.args and isinstance(error.args[0], Exception):
        error = error.args[0]
    return str(error.args[0]) if error.args else str(error)


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".source.json")


# --- unpacking and layout -------------------------------------------------------------------

def _unpack_into(archive: Path, work: Path, stage: Path, layout, progress: bool,
                 cached: Path | None = None) -> None:
    """Unpack ``archive`` and move the folder that holds the layout into ``stage``."""
    into = Path(tempfile.mkdtemp(dir=work))
    try:
        _extract(archive, into, progress)
    except DataError:
        if cached is not None:  # an unverifiable cached copy is bad: do not reuse it
            cached.unlink(missing_ok=True)
            _sidecar(cached).unlink(missing_ok=True)
        raise
    root = _find_root(into, layout)
    for child in root.iterdir():
        os.replace(child, stage / child.name)


def _extract(archive: Path, into: Path, progress: bool) -> None:
    """Unpack ``archive`` (zip or tar, by name or by content; else a single file) into
    ``into``, refusing hostile members (:func:`_check_member`) before they are written."""
    lower = archive.name.lower()
    bar = dict(unit="file", desc=f"unpack {archive.name}", disable=not progress, leave=False)
    try:
        if lower.endswith(".zip") or (not lower.endswith(_TAR_SUFFIXES)
                                      and zipfile.is_zipfile(archive)):
            with zipfile.ZipFile(archive) as zf:
                members = zf.infolist()
                for member in members:  # all of them before anything is written
                    _check_member(archive, member.filename, *_zip_kind(zf, member))
                for member in tqdm(members, **bar):
                    zf.extract(member, into)
        elif lower.endswith(_TAR_SUFFIXES) or tarfile.is_tarfile(archive):
            with tarfile.open(archive, "r:*") as tf:
                for member in tqdm(tf, **bar):  # one pass over a compressed stream
                    _check_member(archive, member.name, *_tar_kind(member))
                    tf.extract(member, into, filter="data")  # and the data filter besides
        else:
            shutil.copy2(archive, into / archive.name)  # a single file (e.g. an IDX .gz)
    except tarfile.FilterError as e:  # should _check_member have let one through
        member = getattr(getattr(e, "tarinfo", None), "name", "?")
        raise _hostile(archive, member, f"is refused by tarfile's data filter ({e})") from e
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError,
            RuntimeError, ValueError) as e:  # RuntimeError: encrypted or unsupported zip
        raise DataError(f"cannot unpack {archive}: {e}. The archive is corrupt or incomplete: "
                        "delete it and acquire again (or download it again by hand).") from e


_DRIVE = re.compile(r"^[A-Za-z]:")


def _path_problem(path: str) -> str | None:
    """Why ``path`` (a member name or link target, relative to the archive's root) could
    land outside the destination, or None."""
    if "\\" in path or _DRIVE.match(path):
        return "is a Windows path (backslash or drive letter)"
    if path.startswith("/"):
        return "is an absolute path"
    if ".." in path.split("/"):
        return "climbs out of the folder with '..'"
    return None


def _check_member(archive: Path, name: str, kind: str, link: str | None = None) -> None:
    """Refuse a member whose path, or whose link target, is not inside the destination, and
    device files and pipes; ``kind`` is file, dir, symlink, hardlink or special."""
    problem = _path_problem(name)
    if problem is None and kind == "special":
        problem = "is a device file or pipe"
    if problem is None and kind in ("symlink", "hardlink"):
        # a symbolic link's target is relative to its own folder, a hard link's to the root
        base = posixpath.dirname(name) if kind == "symlink" else ""
        if link is None or _path_problem(posixpath.normpath(posixpath.join(base, link))):
            problem = f"is a link to {link!r}, outside the archive"
    if problem:
        raise _hostile(archive, name, problem)


def _hostile(archive: Path, member: str, problem: str) -> DataError:
    return DataError(f"refusing to unpack {archive}: member {member!r} {problem}. A dataset "
                     "archive holds only files inside its own folder; this one could write "
                     "elsewhere on your disk, so none of it was kept. Get the archive from the "
                     "dataset's official source.")


def _zip_kind(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[str, str | None]:
    """(kind, link target) of a zip member, from the Unix mode its creator recorded."""
    mode = info.external_attr >> 16 if info.create_system == 3 else 0
    if stat.S_ISLNK(mode):  # zipfile would write the target as a small file's text
        return "symlink", zf.read(info).decode("utf-8", "replace") if info.file_size < 4096 \
            else None
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "special", None
    return ("dir" if info.is_dir() else "file"), None


def _tar_kind(member: tarfile.TarInfo) -> tuple[str, str | None]:
    if member.issym():
        return "symlink", member.linkname
    if member.islnk():
        return "hardlink", member.linkname
    if member.isdir() or member.isfile():
        return ("dir" if member.isdir() else "file"), None
    return "special", None


def _find_root(top: Path, layout) -> Path:
    """The folder under ``top`` where the layout globs match (archives often add a top
    folder such as ``pixel_character_generator-<commit>/``). Breadth-first, so the
    shallowest match wins; if none matches every group, the one matching most groups
    (the layout check then says precisely what is missing)."""
    patterns = [pattern for pattern, _ in layout.values()]
    best, best_hits = top, 0
    queue, seen = [(top, 0)], 0
    while queue and seen < 500:
        folder, depth = queue.pop(0)
        seen += 1
        hits = sum(1 for p in patterns if next(folder.glob(p), None) is not None)
        if hits == len(patterns):
            return folder
        if hits > best_hits:
            best, best_hits = folder, hits
        if depth < _ROOT_SEARCH_DEPTH:
            try:
                subdirs = sorted(d for d in folder.iterdir()
                                 if d.is_dir() and d.name != "__MACOSX")  # macOS zip debris
            except OSError:
                continue
            queue.extend((d, depth + 1) for d in subdirs)
    return best


def _copy_tree(src: Path, dst: Path, progress: bool) -> None:
    """Copy the contents of ``src`` into the existing folder ``dst`` (never links: the
    source may be a cache or a user's folder that must not change with ours). Links to
    files are copied as the files; anything else that is not a regular file is refused."""
    files = [Path(dirpath) / f for dirpath, _, names in os.walk(src) for f in names]
    for path in tqdm(files, unit="file", desc=f"copy {src.name}", disable=not progress,
                     leave=False):
        if not path.is_file():
            raise DataError(f"{path} is not a regular file (a pipe, device, socket or broken "
                            "link); a dataset folder holds only files and folders: remove it")
        if path.is_symlink() and not path.resolve().is_relative_to(src.resolve()):
            raise DataError(f"{path} is a link to {path.resolve()}, outside {src}; a dataset folder "
                            "holds its own files: copy the file in instead of linking to it")
        out = dst / path.relative_to(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(path, out)
        except OSError as e:
            raise DataError(f"cannot copy {path}: {e}") from e


def _layout_digest(root: Path, layout) -> tuple[str, dict[str, str]]:
    """SHA-256 over (path, file SHA-256) of every layout file: one number for the content;
    and the per-file SHA-256s."""
    paths = sorted({p for pattern, _ in layout.values() for p in root.glob(pattern) if p.is_file()})
    per_file = {p.relative_to(root).as_posix(): _hash_file(p)["sha256"] for p in paths}
    h = hashlib.sha256()
    for rel, sha in per_file.items():
        h.update(f"{rel}\t{sha}\n".encode())
    return h.hexdigest(), per_file


def _hash_file(path: Path) -> dict:
    md5, sha256, n = hashlib.md5(), hashlib.sha256(), 0
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                md5.update(chunk)
                sha256.update(chunk)
                n += len(chunk)
    except OSError as e:
        raise DataError(f"cannot read {path}: {e}") from e
    return {"bytes": n, "md5": md5.hexdigest(), "sha256": sha256.hexdigest()}


def _user_checksums(checksums: Mapping[str, str | None] | None) -> dict:
    sums = dict(checksums or {})
    for value in sums.values():
        if value is not None:
            parse_checksum(value)
    return sums


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _describe(record: dict) -> str:
    if record.get("source") == "local":
        return f"local {record['local']}"
    if record.get("source") == "kaggle":
        return f"Kaggle {record['kaggle_handle']} ({record['kaggle_path']})"
    return ", ".join(record.get("urls", [])) or "unknown"
