"""Task 1 ("Keras basics") stages: one training run, ranking, summary (the data: idl.basics_data).

A run is a recipe in params.yaml (``basics.runs.NAME``: arch, optimizer, conv_layers,
dropout_layers), trained on Fashion-MNIST; the ranking file names the best three, which
the CIFAR-10 stages (rank 1, 2, 3) read, so the DAG stays static for DVC.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np

from idl.data.arrays import load_index, load_npz
from idl.errors import DataError
from idl.io import write_json, write_table

log = logging.getLogger(__name__)


N_CLASSES = 10  # Fashion-MNIST and CIFAR-10; the models' output units (idl.models.keras_basics.N_CLASSES)
_FIX = "rerun the basics_data stage"


def _load(data_path, split_dir) -> tuple[dict, dict]:
    """basics_data's arrays (.npz) and train/val index files, checked before any model is built."""
    data = load_npz(data_path, ("x_train", "y_train", "x_test", "y_test"), fix=_FIX)
    for part in ("train", "test"):
        x, y = data[f"x_{part}"], data[f"y_{part}"]
        if x.ndim != 4 or x.dtype != np.uint8 or 0 in x.shape or x.shape[1:] != data["x_train"].shape[1:]:
            raise DataError(f"{data_path}: x_{part} must be uint8 images (N, H, W, C) with N > 0, like x_train; "
                            f"found {x.dtype} {x.shape}; {_FIX}")
        if y.shape != (len(x),) or y.dtype.kind not in "iu":
            raise DataError(f"{data_path}: y_{part} must be {len(x)} integer labels (one per image of x_{part}); "
                            f"found {y.dtype} {y.shape}; {_FIX}")
        if y.min() < 0 or y.max() >= N_CLASSES:
            raise DataError(f"{data_path}: y_{part} has label {y.min() if y.min() < 0 else y.max()}, outside "
                            f"0..{N_CLASSES - 1}; {_FIX}")
    split = {p: load_index(Path(split_dir) / f"{p}.npy", len(data["x_train"]), fix=_FIX) for p in ("train", "val")}
    if np.intersect1d(split["train"], split["val"]).size:
        raise DataError(f"{split_dir}: train.npy and val.npy share row indices; {_FIX}")
    return data, split


def train_run(name: str, run: dict, data_path, split_dir, out_dir, state_dir, train_cfg: dict, seed: int) -> dict:
    """Train one run for a fixed number of epochs; score it on the validation and official test sets."""
    data, split = _load(data_path, split_dir)  # before Keras starts: a bad file fails in a second

    import keras

    from idl.models.keras_basics import build_basics_model
    from idl.plots import learning_curves
    from idl.training import configure_threads, threads_from_env, train

    configure_threads(threads_from_env())
    x, y = data["x_train"], data["y_train"]
    tr, va = split["train"], split["val"]
    history = train(
        lambda: build_basics_model(run["arch"], x.shape[1:], conv_layers=run.get("conv_layers", 5),
                                   dropout_layers=run.get("dropout_layers", 2)),
        x[tr], y[tr], x[va], y[va],
        out_dir=out_dir, state_dir=state_dir,
        epochs=train_cfg["epochs"], batch_size=train_cfg["batch_size"],
        learning_rate=None, lr_halving_epochs=None, optimizer=run["optimizer"],
        loss="sparse_categorical_crossentropy", metrics=["accuracy"],
        patience=None, seed=seed, progress=sys.stderr.isatty(),
    )
    model = keras.models.load_model(Path(out_dir) / "model.keras")
    test_loss, test_acc = model.evaluate(data["x_test"], data["y_test"], batch_size=256, verbose=0)
    last = history.iloc[-1]
    metrics = {
        "run": name,
        "epochs": int(len(history)),
        "val_loss": float(last["val_loss"]),
        "val_accuracy": float(last["val_accuracy"]),
        "test_loss": float(test_loss),
        "test_accuracy": float(test_acc),
    }
    write_json(Path(out_dir) / "metrics.json", metrics)
    learning_curves(history, Path(out_dir) / "learning_curves.png", title=f"{name}: training vs validation")
    return metrics


def rank(metrics_files, out_path, by: str) -> list[str]:
    from idl.basics import rank_runs, write_ranking

    metrics = {}
    for f in metrics_files:
        m = json.loads(Path(f).read_text())
        metrics[m["run"]] = m
    ranking = rank_runs(metrics, by=by, top=3)
    write_ranking(out_path, ranking, metrics, by)
    log.info("best three by %s: %s", by, ", ".join(ranking))
    return ranking


def ranked_run(ranking_path, rank_no: int, runs: dict) -> tuple[str, dict]:
    from idl.basics import read_ranking

    ranking = read_ranking(ranking_path)
    if not 1 <= rank_no <= len(ranking):
        raise DataError(f"{ranking_path}: has {len(ranking)} runs, rank {rank_no} asked for")
    name = ranking[rank_no - 1]
    if name not in runs:
        raise DataError(f"{ranking_path}: run {name!r} is not in basics.runs; rerun the ranking")
    return name, runs[name]


def write_summary(metrics_files, cifar_files, ranking_path, out_dir, runs: dict) -> dict:
    """Tables 3-5 as CSV (read by the results page), the overview figure, and summary.json."""
    import pandas as pd

    from idl.basics import read_ranking, table3, table4, table5
    from idl.plots import compare_curves

    out_dir = Path(out_dir)
    metrics, histories = {}, {}
    for f in metrics_files:
        m = json.loads(Path(f).read_text())
        metrics[m["run"]] = m
        histories[m["run"]] = pd.read_csv(Path(f).parent / "history.csv")
    cifar = {}
    for f in cifar_files:
        rank_no = int(Path(f).parent.name.removeprefix("rank"))
        cifar[rank_no] = json.loads(Path(f).read_text())
    ranking = read_ranking(ranking_path)
    write_table(out_dir / "table3.csv", *table3(metrics))
    write_table(out_dir / "table4.csv", *table4(metrics))
    write_table(out_dir / "table5.csv", *table5(cifar, ranking))
    compare_curves(histories, out_dir / "overview.png", title="Fashion-MNIST: validation accuracy of every run",
                   metric="val_accuracy")
    summary = {
        "ranking": ranking,
        "fashion_val_accuracy": {n: m["val_accuracy"] for n, m in sorted(metrics.items())},
        "fashion_test_accuracy": {n: m["test_accuracy"] for n, m in sorted(metrics.items())},
        "cifar_val_accuracy": {cifar[r]["run"]: cifar[r]["val_accuracy"] for r in sorted(cifar)},
    }
    write_json(out_dir / "summary.json", summary)
    return summary
