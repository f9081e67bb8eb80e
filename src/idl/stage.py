"""The shared shape of every stage script: arguments, parameters, logging, errors.

A stage is ``python scripts/NAME.py --params params.yaml [--log FILE] ...``; the
same command is run by Snakemake and by DVC. User-facing errors (``IdlError``)
are printed as one clear line and exit with status 1, without a traceback.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Callable, Iterable

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


def stage_main(
    main: Callable[[argparse.Namespace, StageParams], None],
    params_keys: Iterable[str],
    add_arguments: Callable[[argparse.ArgumentParser], None],
    description: str | None = None,
    argv: list[str] | None = None,
) -> int:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--params", default="params.yaml", help="parameter file (default: params.yaml)")
    parser.add_argument("--log", default=None, help="also write the log to this file")
    add_arguments(parser)
    args = parser.parse_args(argv)
    _setup_logging(args.log)
    try:
        keys = [k.format(**vars(args)) for k in params_keys]
        p = load_stage_params(args.params, keys)
        main(args, p)
    except IdlError as exc:
        log.error("%s", exc)
        return 1
    except KeyboardInterrupt:
        log.error("interrupted; rerun the same command to resume where possible")
        return 130
    except Exception:  # noqa: BLE001 - the traceback belongs in the log file Snakemake points users to
        log.exception("unexpected error (the traceback above says where; please report it with this log)")
        return 1
    return 0


def run(main, params_keys, add_arguments, description=None) -> None:
    sys.exit(stage_main(main, params_keys, add_arguments, description))
