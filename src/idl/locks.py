"""One lock per stage output, respected by every engine that runs the stage.

Snakemake and DVC each keep their own lock and know nothing of the other's, so both
could run the same stage in one checkout at once and write the same files (and the same
resume state). The lock lives in the stage script instead, which both engines run: before
a stage writes anything it takes an exclusive ``flock`` on ``.<name>.lock`` beside each
output (and its resume state). A second run of the same stage, by either engine or by hand,
finds the lock taken and stops at once with a message naming the running job; it never
waits, because a stage can run for hours.

The kernel drops a ``flock`` when its process ends, however it ends, so a run killed with
``kill -9`` leaves no lock behind that could block the next one; the lock file itself is
removed when the run finishes and reused if a killed run left it.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Iterable, Iterator

from idl.errors import IdlError
from idl.records import forget_stale_benchmark


class Busy(IdlError):
    """Another run of the same stage holds the lock on one of its outputs."""


def lock_path(output: str | os.PathLike) -> Path:
    output = Path(output)
    return output.with_name(f".{output.name}.lock")


def _engine() -> str:
    """Which engine started this process, from the parent processes' command lines (Linux)."""
    pid = os.getppid()
    for _ in range(6):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            break
        for engine in ("snakemake", "dvc"):
            if any(Path(word).name == engine or word.endswith(f"/{engine}") for word in cmd.split()[:3]):
                return engine
        pid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
        if pid <= 1:
            break
    return "a command line"


def _describe(holder: dict) -> str:
    if not holder:
        return "a run that has not yet said who it is"
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("started", 0)))
    return (f"pid {holder.get('pid')} on {holder.get('host')}, started {started} by {holder.get('engine')}: "
            f"{holder.get('command')}")


def _acquire(output: Path, holder: dict) -> int:
    """An open descriptor holding the flock of ``output``'s lock file, or raise Busy."""
    path = lock_path(output)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                other = json.loads(os.pread(fd, 1 << 16, 0) or b"{}")
            except ValueError:
                other = {}
            os.close(fd)
            raise Busy(f"{output} is being made by another run of this stage ({_describe(other)}). "
                       "Two runs must not write the same outputs or share one resume state: wait for that "
                       "run to finish (or stop it), then run again.") from None
        # The holder before us may have removed the file between our open and our flock:
        # then we locked an orphan, and must lock the file that is there now.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder).encode(), 0)
            return fd
        os.close(fd)


@contextlib.contextmanager
def hold(outputs: Iterable[str | os.PathLike]) -> Iterator[None]:
    """Hold the locks of ``outputs`` (paths, files or folders) for the block; raise Busy if taken.

    Once they are held, a stage run by DVC also drops Snakemake's record of its last run
    (``idl.records``): that run's outputs are about to be replaced."""
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(), "engine": _engine(),
              "command": " ".join([Path(sys.executable).name, *sys.argv])}
    held: list[tuple[Path, int]] = []
    made: list[Path] = []  # folders made for lock files, removed again if the stage left them empty
    try:
        for output in sorted({Path(o) for o in outputs}, key=os.path.abspath):
            made += _make_parents(lock_path(output))
            held.append((output, _acquire(output, holder)))
        forget_stale_benchmark()
        yield
    finally:
        for output, fd in reversed(held):
            lock_path(output).unlink(missing_ok=True)  # while still locked: see _acquire
            os.close(fd)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()


def _make_parents(path: Path) -> list[Path]:
    """Create the missing folders above ``path``; return them, outermost first."""
    missing = [p for p in reversed(path.parents) if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    return missing
