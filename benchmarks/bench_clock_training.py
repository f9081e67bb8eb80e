"""Training throughput: the project's ``idl.training.train`` against a plain ``model.fit``.

``train`` adds what a plain fit does not have: a per-epoch CSV log, a
``BackupAndRestore`` backup (weights + optimizer state, double-buffered), a
data fingerprint (hash of every array) before training, the finished model
saved once in its state and once atomically as the output, and (on TensorFlow) op determinism. This
measures what those cost, on the same model (Table 7, n_c = 12) and the same
synthetic clocks, in one process:

1. ``plain fit``: ``model.fit`` on in-memory arrays, no callbacks;
2. ``idl.training.train``: the project's path with all its callbacks;
3. ``plain fit, deterministic``: run 1 again after ``train`` has switched on op
   determinism (TensorFlow keeps it on), which separates the cost of determinism
   from the cost of the callbacks.

Images/s are training images per second of wall time within an epoch (validation
and callbacks included); the first epoch, which traces and compiles, is reported
separately and left out of the steady-state number, which is that of the median
later epoch (robust to a neighbour stealing the CPU for one epoch; with
``--epochs 1`` there is no steady state). The numbers are noisy on a shared
machine: use several epochs and compare runs of the same invocation. Run on demand:

    python benchmarks/bench_clock_training.py [--per-minute 1] [--size 150] [--epochs 2] [--batch-size 32]

Paper scale on a GPU (16,200 training clocks of 150x150, JAX)::

    KERAS_BACKEND=jax python benchmarks/bench_clock_training.py --per-minute 25 --epochs 3
"""
from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from idl.clock import synth
from idl.clock.evaluate import class_targets
from idl.models.clock import clock_classifier, prepare_images
from idl.training import TrainSettings, configure_threads, make_optimizer, train

N_CLASSES = 12
LEARNING_RATE = 2e-4  # the report's recipe (Table 7: halving every 20 epochs)
HALVING = 20.0


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch; as the last callback it includes the others' epoch-end work."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def plain_fit(x, y, x_val, y_val, args) -> tuple[list[float], float]:
    """What one would write without the project: same model, optimizer, loss, no callbacks."""
    keras.utils.set_random_seed(0)
    model = clock_classifier(N_CLASSES, input_shape=x.shape[1:])
    steps = int(np.ceil(len(x) / args.batch_size))
    model.compile(optimizer=make_optimizer("nadam", LEARNING_RATE, HALVING, steps),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = EpochTimer()
    start = time.perf_counter()
    model.fit(x, y, validation_data=(x_val, y_val), epochs=args.epochs, batch_size=args.batch_size,
              shuffle=True, callbacks=[timer], verbose=0)
    return timer.seconds, time.perf_counter() - start


def project_train(x, y, x_val, y_val, args, workdir: Path) -> tuple[list[float], float]:
    timer = EpochTimer()
    start = time.perf_counter()
    settings = TrainSettings(epochs=args.epochs, batch_size=args.batch_size, learning_rate=LEARNING_RATE,
                             lr_halving_epochs=HALVING, patience=None, seed=0, progress=False)
    train(lambda: clock_classifier(N_CLASSES, input_shape=x.shape[1:]), x, y, x_val, y_val, settings,
          out_dir=workdir / "out", state_dir=workdir / "state", loss="sparse_categorical_crossentropy",
          metrics=["accuracy"], callbacks=[timer])
    return timer.seconds, time.perf_counter() - start


def _report(name: str, n_train: int, seconds: list[float], total: float) -> float | None:
    first = n_train / seconds[0]
    steady = n_train / float(np.median(seconds[1:])) if len(seconds) > 1 else None
    shown = f"{steady:8.1f}" if steady else "     n/a"
    print(f"{name:28s} {shown} img/s   first epoch {seconds[0]:6.2f} s ({first:7.1f} img/s)   "
          f"whole call {total:6.2f} s")
    return steady


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-minute", type=int, default=1, help="clocks per minute of the dial (720 each)")
    parser.add_argument("--size", type=int, default=150, help="image side in pixels (default 150)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run (default 2; the first is compile)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--val-fraction", type=float, default=0.1, help="held out for validation (default 0.1)")
    parser.add_argument("--threads", type=int, default=None, help="limit TensorFlow's CPU threads")
    parser.add_argument("--data", type=Path, default=None,
                        help="time on this images.npy/labels.npy folder instead of generating clocks")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    configure_threads(args.threads)

    if args.data:
        from idl.clock.course_data import load_course_data

        images, labels = load_course_data(args.data)
        images = np.asarray(images)
        args.size = images.shape[1]
    else:
        images, labels = synth.generate(args.per_minute, size=args.size, seed=0, progress=False)
    order = np.random.default_rng(0).permutation(len(images))
    n_val = max(1, int(round(args.val_fraction * len(images))))
    x, y = prepare_images(images), class_targets(labels, N_CLASSES)
    x_val, y_val, x, y = x[order[:n_val]], y[order[:n_val]], x[order[n_val:]], y[order[n_val:]]

    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}; devices: "
          f"{', '.join(d for d in _devices())}")
    print(f"Table 7 classifier, n_c = {N_CLASSES}: {len(x)} training + {len(x_val)} validation clocks of "
          f"{args.size}x{args.size}, batch {args.batch_size}, {args.epochs} epochs")
    print(f"{'':28s} {'steady':>8s}")
    plain = _report("plain model.fit", len(x), *plain_fit(x, y, x_val, y_val, args))
    with tempfile.TemporaryDirectory(prefix="bench_train_") as tmp:
        ours = _report("idl.training.train", len(x), *project_train(x, y, x_val, y_val, args, Path(tmp)))
    det = None
    if keras.backend.backend() == "tensorflow":
        det = _report("plain fit, deterministic", len(x), *plain_fit(x, y, x_val, y_val, args))
    if plain and ours:
        print(f"train / plain fit: {ours / plain:.2f}x the images/s" +
              (f"; train / deterministic plain fit: {ours / det:.2f}x" if det else ""))


def _devices() -> list[str]:
    if keras.backend.backend() == "jax":
        import jax  # benchmark only: which device ran

        return [f"{d.platform}:{getattr(d, 'device_kind', '?')}" for d in jax.devices()]
    if keras.backend.backend() != "tensorflow":
        return ["(not listed for this backend)"]
    import tensorflow as tf  # benchmark only: which device ran

    return [d.device_type for d in tf.config.list_logical_devices()] or ["?"]


if __name__ == "__main__":
    main()
