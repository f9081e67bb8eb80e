"""Task 1 epoch time: the project's ``idl.training.train`` against a plain ``model.fit``, per grid run.

Every Task 1 run (params.yaml ``basics.runs``: the Table 1 MLP and the Table 2 CNN
variants, Adam or SGD) is trained twice in this process on the same in-memory arrays,
same batch size, same seed:

* ``plain``: what one would write without the project: seed, build, compile with
  Keras' default optimizer, ``model.fit`` with validation data, no callbacks;
* ``ours``: ``idl.training.train`` called exactly as the basics stage
  (``idl.basics.train.train_run``) calls it: seeded (op determinism on TensorFlow),
  per-epoch CSV log, ``BackupAndRestore`` backup (weights + optimizer state,
  double-buffered), a data fingerprint before training, and the finished model saved
  once in its state and once atomically as the output. Its state and outputs go to a temporary folder.

The two alternate (plain first for every other run, and every other repeat) so that
a neighbour loading the machine hits both. On TensorFlow, op determinism, which
``train`` switches on, is switched off again before each plain fit, so the ratio is
the whole cost of the project's path. An epoch is timed from the end of the previous
one (after every callback's epoch-end work, backup included) to the end of its own;
the first epoch, which traces and compiles, is left out and the median of the later
ones (pooled over ``--repeats``) is reported (with ``--epochs 1`` there is none).
Images/s are training images per second of epoch wall time, validation included;
``ours / plain`` is the ratio of the median epoch times (above 1: ours is slower).
``ours epoch-end s`` is the part of our epoch after validation (CSV log, backup,
checkpoint): measured inside the epoch, it is little disturbed by a busy CPU and does
not grow with the data, so it is the number to carry over to full scale, where the
ratio tends to 1. ``call s`` is the whole call, set-up (data fingerprint, compile)
and final save included.

The data are generated Fashion-MNIST look-alikes (``idl.data.demo_data.fashion_like``),
or the real images if ``--fashion-mnist DIR`` names a folder with the four IDX files
(the workflow keeps them in ``resources/raw/fashion_mnist``). ``--n-train`` training
images plus ``basics.val_fraction`` of them held out for validation, split with the
project's seeded split. The defaults (400 images, 3 epochs, all 10 runs) take ~6
minutes on 2 CPU cores; the 5-convolution CNNs dominate (about 50 images/s there).
The numbers are noisy on a shared machine (single epochs vary by 2x when neighbours
run): compare rows of the same invocation, add ``--repeats``, and note the load with
``--backend-note``. Run on demand:

    python benchmarks/bench_basics_training.py [--n-train 400] [--epochs 3] [--repeats 1]
        [--runs mlp_adam cnn_sgd_c3_d2] [--threads N] [--backend-note "2 shared cores"]
        [--json bench_basics.json]

Full scale (the report's 54,000 training + 6,000 validation images): about 15 min per
epoch of a 5-convolution CNN on 2 CPU cores, so all 10 runs take ~9 hours; pick one run
of each architecture, or use a GPU machine:

    python benchmarks/bench_basics_training.py --n-train 54000 --epochs 3 \\
        --runs mlp_adam cnn_adam_c3_d0 cnn_adam_c5_d2 [--fashion-mnist resources/raw/fashion_mnist]
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import keras
import numpy as np
from tqdm import tqdm

from idl.data.splits import split_indices
from idl.data.demo_data import fashion_like
from idl.data.readers import load_fashion_mnist
from idl.errors import DataError
from idl.io import write_json
from idl.models.keras_basics import build_run_model, optimizer
from idl.params import load_stage_params
from idl.training import TrainSettings, configure_threads, train

log = logging.getLogger(__name__)

PARAMS = ("seed", "basics.val_fraction", "basics.train", "basics.runs")
DEFAULT_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"
LOSS = "sparse_categorical_crossentropy"


class EpochTimer(keras.callbacks.Callback):
    """Seconds between epoch ends; as the last callback it includes every other callback's work.

    ``end_seconds`` is the part after validation (the callbacks' epoch-end work: CSV log,
    backup, checkpoint), measured within the epoch, so little disturbed by a busy CPU.
    """

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self.end_seconds: list[float] = []
        self._val_end = None

    def on_train_begin(self, logs=None):
        self._last = time.perf_counter()

    def on_test_end(self, logs=None):  # fit's validation pass
        self._val_end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.seconds.append(now - self._last)
        self.end_seconds.append(now - self._val_end if self._val_end is not None else float("nan"))
        self._last, self._val_end = now, None


def model_factory(run: dict, input_shape) -> Callable[[], keras.Model]:
    """The zero-argument factory the basics stage hands to ``train``."""
    return lambda: build_run_model(run, input_shape)


def load_data(n_train: int, val_fraction: float, seed: int, fashion_dir: Path | None):
    """(x_train, y_train, x_val, y_val, source): ``n_train`` training images plus their validation share."""
    n_total = max(2, int(round(n_train / (1.0 - val_fraction))))
    if fashion_dir is None:
        x, y = fashion_like(n_total, seed)
        source = "generated Fashion-MNIST look-alikes (idl.data.demo_data.fashion_like)"
    else:
        x, y, _, _ = load_fashion_mnist(fashion_dir)
        if n_total > len(x):
            raise DataError(f"{fashion_dir}: holds {len(x)} training images, {n_total} needed for "
                            f"--n-train {n_train} plus validation; lower --n-train")
        x, y = x[:n_total], y[:n_total]
        source = f"Fashion-MNIST from {fashion_dir}"
    x, y = x[..., None], y.astype(np.int64)  # as idl.basics.data stores them
    split = split_indices(len(x), val_fraction=val_fraction, seed=seed)
    tr, va = split["train"], split["val"]
    return x[tr], y[tr], x[va], y[va], source


def _plain_determinism() -> None:
    """Undo train()'s op determinism so the plain fit is plain (TensorFlow only; private switch)."""
    if keras.backend.backend() != "tensorflow":
        return
    from tensorflow.python.framework import config as tf_config  # benchmark only: no public 'off'

    disable = getattr(tf_config, "disable_op_determinism", None)
    if disable is not None:
        disable()


def plain_fit(run: dict, data, batch_size: int, epochs: int, seed: int) -> tuple[EpochTimer, float]:
    """Same model, Keras' default optimizer, same loss and metric, ``model.fit``, no callbacks."""
    x, y, x_val, y_val = data
    keras.backend.clear_session()
    _plain_determinism()
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    model = model_factory(run, x.shape[1:])()
    model.compile(optimizer=optimizer(run["optimizer"]), loss=LOSS, metrics=["accuracy"])
    timer = EpochTimer()
    model.fit(x, y, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size, shuffle=True,
              callbacks=[timer], verbose=0)
    return timer, time.perf_counter() - start


def project_train(run: dict, data, batch_size: int, epochs: int, seed: int) -> tuple[EpochTimer, float]:
    """``idl.training.train`` with basics_stages.train_run's arguments, into a temporary folder."""
    x, y, x_val, y_val = data
    keras.backend.clear_session()
    timer = EpochTimer()
    with tempfile.TemporaryDirectory(prefix="bench_basics_") as tmp, \
            open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # fit's verbose=2 lines
        start = time.perf_counter()
        settings = TrainSettings(epochs=epochs, batch_size=batch_size, learning_rate=None, lr_halving_epochs=None,
                                 optimizer=run["optimizer"], patience=None, seed=seed, progress=False)
        train(model_factory(run, x.shape[1:]), x, y, x_val, y_val, settings,
              out_dir=Path(tmp) / "out", state_dir=Path(tmp) / "state",
              loss=LOSS, metrics=["accuracy"], callbacks=[timer])
        total = time.perf_counter() - start
    return timer, total


def summarise(fits: list[tuple[EpochTimer, float]], n_train: int) -> dict:
    """Median later-epoch seconds and images/s over all repeats (None with a single epoch), plus raw times."""
    later = [s for timer, _ in fits for s in timer.seconds[1:]]
    ends = [s for timer, _ in fits for s in timer.end_seconds[1:]]
    steady = float(statistics.median(later)) if later else None
    return {"epoch_seconds": [timer.seconds for timer, _ in fits],
            "epoch_end_seconds": [timer.end_seconds for timer, _ in fits],
            "first_epoch_s": float(statistics.median(timer.seconds[0] for timer, _ in fits)),
            "median_epoch_s": steady, "images_per_s": n_train / steady if steady else None,
            "median_epoch_end_s": float(statistics.median(ends)) if ends else None,
            "call_s": float(statistics.median(total for _, total in fits))}


def _fmt(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def markdown_table(rows: list[dict]) -> str:
    head = ["run", "plain s/epoch", "ours s/epoch", "plain img/s", "ours img/s", "ours / plain",
            "ours epoch-end s", "plain call s", "ours call s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for r in rows:
        p, o = r["plain"], r["ours"]
        lines.append("| " + " | ".join([
            r["run"], _fmt(p["median_epoch_s"], ".2f"), _fmt(o["median_epoch_s"], ".2f"),
            _fmt(p["images_per_s"], ".0f"), _fmt(o["images_per_s"], ".0f"), _fmt(r["ratio"], ".2f"),
            _fmt(o["median_epoch_end_s"], ".2f"), _fmt(p["call_s"], ".1f"), _fmt(o["call_s"], ".1f")]) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-train", type=int, default=400, help="training images (default 400; report: 54000)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per fit (default 3; the first is compile)")
    parser.add_argument("--runs", nargs="+", metavar="RUN", help="names under basics.runs (default: all)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="fits per path and run, alternating which goes first; epochs pooled (default 1)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: basics.train.batch_size")
    parser.add_argument("--threads", type=int, default=None, help="limit TensorFlow's CPU threads")
    parser.add_argument("--backend-note", default="", help="free text shown with the results, e.g. the machine's load")
    parser.add_argument("--fashion-mnist", type=Path, metavar="DIR",
                        help="folder with the four Fashion-MNIST IDX files (default: generated images)")
    parser.add_argument("--params", type=Path, default=DEFAULT_PARAMS, help="parameter file (default: the project's)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notes: each run builds new models
    configure_threads(args.threads)
    if min(args.n_train, args.epochs, args.repeats) < 1:
        parser.error("--n-train, --epochs and --repeats must be at least 1")

    p = load_stage_params(args.params, PARAMS)
    grid = p["basics.runs"]
    names = args.runs or list(grid)
    unknown = [n for n in names if n not in grid]
    if unknown:
        parser.error(f"unknown run(s) {', '.join(unknown)}; {args.params} basics.runs has: {', '.join(grid)}")
    seed = int(p["seed"])
    batch_size = args.batch_size or int(p["basics.train"]["batch_size"])
    x, y, x_val, y_val, source = load_data(args.n_train, float(p["basics.val_fraction"]), seed, args.fashion_mnist)
    data = (x, y, x_val, y_val)

    load_before = os.getloadavg()
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}, {os.cpu_count()} CPUs, "
          f"threads {args.threads or 'default'}, load average {load_before[0]:.2f} at start"
          + (f"; note: {args.backend_note}" if args.backend_note else ""))
    print(f"{source}: {len(x)} training + {len(x_val)} validation images, batch {batch_size}, "
          f"{args.epochs} epochs per fit (first left out), {args.repeats} fit(s) per path, runs from {args.params}")

    rows = []
    started = time.perf_counter()
    for i, name in enumerate(tqdm(names, desc="runs", unit="run", disable=args.no_progress, file=sys.stderr)):
        run = grid[name]
        fits: dict[str, list] = {"plain": [], "ours": []}
        firsts = []
        for rep in range(args.repeats):
            order = ("plain", "ours") if (i + rep) % 2 == 0 else ("ours", "plain")
            firsts.append(order[0])
            for which in order:
                fit = plain_fit if which == "plain" else project_train
                fits[which].append(fit(run, data, batch_size, args.epochs, seed))
        result = {"run": name, "recipe": run, "first": firsts}
        for which, done in fits.items():
            result[which] = summarise(done, n_train=len(x))
        po, pp = result["ours"]["median_epoch_s"], result["plain"]["median_epoch_s"]
        result["ratio"] = po / pp if po and pp else None
        rows.append(result)
        log.info("%s: ours / plain = %s", name, result["ratio"])
    elapsed = time.perf_counter() - started

    print()
    print(markdown_table(rows))
    ratios = [r["ratio"] for r in rows if r["ratio"]]
    load_after = os.getloadavg()
    print()
    print((f"median ours / plain over {len(ratios)} run(s): {statistics.median(ratios):.2f}; " if ratios else "")
          + f"benchmark took {elapsed:.0f} s; load average {load_after[0]:.2f} at end")
    if args.json:
        write_json(args.json, {
            "keras": keras.__version__, "backend": keras.backend.backend(), "cpus": os.cpu_count(),
            "threads": args.threads, "note": args.backend_note, "data": source,
            "n_train": len(x), "n_val": len(x_val), "batch_size": batch_size, "epochs": args.epochs, "repeats": args.repeats,
            "seed": seed, "load_average": {"start": load_before[0], "end": load_after[0]},
            "seconds": elapsed, "runs": rows,
        })
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
