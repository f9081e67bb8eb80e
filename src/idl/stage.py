"""The shared shape of every stage script: arguments, parameters, logging, errors.

A stage is ``python scripts/NAME.py --params params.yaml [--log FILE] ...``; the
same command is run by Snakemake and by DVC. User-facing errors (``IdlError``)
are printed as one clear line and exit with status 1, without a traceback.

While it runs, a stage holds the lock of each output it declares (``OUTPUTS``, the
argument names of its output paths, :mod:`idl.locks`), so a second run of the same
stage by the other engine stops instead of writing the same files; it sweeps what
interrupted runs of those outputs left behind (:func:`idl.io.sweep_stale`); and SIGTERM
or SIGINT (Snakemake and Slurm stop jobs with SIGTERM) end it through the normal
clean-up path, so no temporary file outlives the run.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Callable, Iterable, Iterator

from idl.errors import IdlError
from idl.params import StageParams, load_stage_params

log = logging.getLogger("idl")

# TensorFlow's C++ start-up chatter hides the lines a user needs; warnings and errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _setup_logging(logfile: str | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if logfile:
        from pathlib import Path

        Path(logfile).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(logfile, mode="w"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        handlers=handlers,
        force=True,
    )


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every ``finally`` and atomic write cleans up."""


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
_raising = False  # whether _signals_raise() is active in this process


def _block_for_fork() -> None:
    if _raising:  # a signal sent to the child before it resets its handlers waits (pending)
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)


def _unblock_in_parent() -> None:
    if _raising:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def _defaults_in_child() -> None:
    """A forked child (a multiprocessing worker) dies on SIGTERM as its parent expects, instead of
    raising inside the pool's queue handling (which deadlocks the pool)."""
    global _raising
    if _raising:
        _raising = False
        for sig in _STOP_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


# Signals stay blocked across fork(): one that reached the child between fork() and its reset
# would otherwise be consumed by Python's handler and lost, leaving a worker its pool waits for.
os.register_at_fork(before=_block_for_fork, after_in_parent=_unblock_in_parent, after_in_child=_defaults_in_child)


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    global _raising

    stopped = []

    def terminate(signum, frame):
        # Slurm sends a job step SIGTERM twice at its time limit: the second one must not cut the
        # clean-up short, so once stopped the stage ignores them until it exits.
        for sig in _STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        stopped.append(signum)
        raise Terminated(signal.Signals(signum).name)

    old = {sig: signal.signal(sig, terminate) for sig in _STOP_SIGNALS}
    _raising = True
    try:
        yield
    finally:
        _raising = False
        if not stopped:
            for sig, handler in old.items():
                signal.signal(sig, handler)


def output_paths(args: argparse.Namespace, outputs: Iterable[str]) -> list[Path]:
    """The paths of the declared output arguments (lists flattened, unset ones left out)."""
    paths = []
    for name in outputs:
        value = getattr(args, name)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item is not None:
                paths.append(Path(item))
    return paths


def stage_main(
    main: Callable[[argparse.Namespace, StageParams], None],
    params_keys: Iterable[str],
    add_arguments: Callable[[argparse.ArgumentParser], None],
    description: str | None = None,
    outputs: Iterable[str] = (),
    argv: list[str] | None = None,
) -> int:
    from idl.dagshape import refuse_a_stale_dvc_yaml
    from idl.io import sweep_stale
    from idl.locks import hold

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--params", default="params.yaml", help="parameter file (default: params.yaml)")
    parser.add_argument("--log", default=None, help="also write the log to this file")
    add_arguments(parser)
    args = parser.parse_args(argv)
    _setup_logging(args.log)
    try:
        with _signals_raise():
            keys = [k.format(**vars(args)) for k in params_keys]
            p = load_stage_params(args.params, keys)
            refuse_a_stale_dvc_yaml(args.params)  # run by DVC from a dvc.yaml of another DAG
            paths = output_paths(args, outputs)
            with hold(paths):
                for path in paths:
                    sweep_stale(path)
                main(args, p)
    except IdlError as exc:
        log.error("%s", exc)
        return 1
    except Terminated as exc:
        log.error("stopped by %s; rerun the same command to resume where possible", exc)
        return 128 + getattr(signal, str(exc), signal.SIGTERM)
    except KeyboardInterrupt:
        log.error("interrupted; rerun the same command to resume where possible")
        return 130
    except Exception:  # noqa: BLE001 - the traceback belongs in the log file Snakemake points users to
        log.exception("unexpected error (the traceback above says where; please report it with this log)")
        return 1
    return 0


def run(main, params_keys, add_arguments, description=None, outputs=()) -> None:
    sys.exit(stage_main(main, params_keys, add_arguments, description, outputs))
