"""Acquire a dataset: fetch it, verify it, unpack it into ``dest`` in its real layout.

One mechanism for every dataset in :data:`idl.data.sources.DATASETS`, whether it comes
over HTTP (files or one archive), from Kaggle, or from a file or folder already on disk
(``local=``). Whatever the route, the result is checked the same way (layout globs and
file counts) and described the same way (``dest/SOURCE.json``).

Guarantees a workflow engine relies on:

* ``dest`` appears whole or not at all (built in a temporary sibling, renamed at the end);
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
import os
import shutil
import tarfile
import tempfile
import time
import zipfile
import zlib
from pathlib import Path
from typing import Mapping
from urllib.parse import parse_qs, unquote, urlparse

import requests
from tqdm import tqdm

from idl.errors import DataError, DownloadError
from idl.io import atomic_dir, atomic_path, write_json
from idl.data.sources import DatasetSource, get_source, parse_checksum

log = logging.getLogger(__name__)

SOURCE_FILE = "SOURCE.json"
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
    layout = _layout(get_source(name), counts)
    found = {g: _count(root, pattern) for g, (pattern, _) in layout.items()}
    bad = [f"  group {g!r}: pattern {pattern!r} expected {n} files, found {found[g]}"
           + (" (missing)" if found[g] == 0 else "")
           for g, (pattern, n) in layout.items() if found[g] != n]
    if bad:
        raise DataError(
            f"dataset {name!r} in {where or root} does not have the expected layout:\n"
            + "\n".join(bad) + (f"\n{hint}" if hint else ""))
    return found


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
    layout = _layout(source, expected_counts)  # validates group names before any download
    sums = _user_checksums(checksums)
    cache = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()

    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".unpack", dir=dest.parent))
    try:
        with atomic_dir(dest) as stage:
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
            digest, per_file = _layout_digest(stage, layout)
            record = {"name": name, **record, "counts": counts, "layout_sha256": digest}
            if len(per_file) <= 16:  # small layouts: the hashes to pin with checksums=
                record["file_sha256"] = per_file
            write_json(stage / SOURCE_FILE, record)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("%s: acquired into %s (%s)", name, dest,
             ", ".join(f"{g} {n}" for g, n in record["counts"].items()))
    return record


# --- routes --------------------------------------------------------------------------------

def _stage_http(source: DatasetSource, cache: Path, work: Path, stage: Path, mirror, url,
                sums, layout, *, retries, timeout, backoff, progress) -> dict:
    files = []
    for file_url, filename, checksum in _plan(source, mirror, url, sums):
        target = cache / source.name / filename
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
    lower = archive.name.lower()
    bar = dict(unit="file", desc=f"unpack {archive.name}", disable=not progress, leave=False)
    try:
        if lower.endswith(".zip") or (not lower.endswith(_TAR_SUFFIXES)
                                      and zipfile.is_zipfile(archive)):
            with zipfile.ZipFile(archive) as zf:
                for member in tqdm(zf.infolist(), **bar):
                    zf.extract(member, into)  # ZipFile.extract strips absolute paths and ".."
        elif lower.endswith(_TAR_SUFFIXES) or tarfile.is_tarfile(archive):
            with tarfile.open(archive, "r:*") as tf:
                for member in tqdm(tf, **bar):  # one pass over a compressed stream
                    tf.extract(member, into, filter="data")
        else:
            shutil.copy2(archive, into / archive.name)  # a single file (e.g. an IDX .gz)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, OSError) as e:
        raise DataError(f"cannot unpack {archive}: {e}. The archive is corrupt or incomplete: "
                        "delete it and acquire again (or download it again by hand).") from e


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
    source may be a cache or a user's folder that must not change with ours)."""
    files = [Path(dirpath) / f for dirpath, _, names in os.walk(src) for f in names]
    for path in tqdm(files, unit="file", desc=f"copy {src.name}", disable=not progress,
                     leave=False):
        out = dst / path.relative_to(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, out)


def _count(root: Path, pattern: str) -> int:
    return sum(1 for p in root.glob(pattern) if p.is_file())


def _layout(source: DatasetSource, counts: Mapping[str, int] | None) -> dict:
    layout = dict(source.layout)
    for group, n in (counts or {}).items():
        if group not in layout:
            raise ValueError(f"expected_counts: {source.name} has no group {group!r}; "
                             f"groups: {', '.join(layout)}")
        layout[group] = (layout[group][0], int(n))
    return layout


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
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            md5.update(chunk)
            sha256.update(chunk)
            n += len(chunk)
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
