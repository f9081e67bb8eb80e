"""Train and evaluate one clock model from the pipeline's files (data folder + split indices)."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np

from idl.clock.course_data import load_course_data, load_split
from idl.clock.evaluate import class_targets, evaluate_classifier
from idl.io import write_json

log = logging.getLogger(__name__)


def _spec(architecture: str):
    from idl.models.clock import FIDUCIAL_CLASSIFIER, FINAL_CLASSIFIER

    return {"final": FINAL_CLASSIFIER, "fiducial": FIDUCIAL_CLASSIFIER}[architecture]


def threads_from_env() -> int | None:
    """Snakemake exports the rule's ``threads`` as OMP_NUM_THREADS; under DVC it is unset (all cores)."""
    value = os.environ.get("OMP_NUM_THREADS")
    return int(value) if value and value.isdigit() and int(value) > 0 else None


def _load(data_dir: Path, split_dir: Path):
    images, labels = load_course_data(data_dir)
    split = load_split(split_dir)
    if max(int(idx.max()) for idx in split.values() if len(idx)) >= len(labels):
        from idl.errors import DataError

        raise DataError(f"{split_dir}: split indices exceed the {len(labels)} rows of {data_dir}; rerun the split")
    return images, labels, split


def train_clock_model(data_dir, split_dir, out_dir, state_dir, model_cfg: dict, train_cfg: dict, seed: int):
    from idl.models.clock import clock_classifier, prepare_images
    from idl.training import configure_threads, train

    configure_threads(threads_from_env())  # before TensorFlow runs any op
    images, labels, split = _load(Path(data_dir), Path(split_dir))
    n_classes = model_cfg["n_classes"]
    x = prepare_images(np.asarray(images))
    y = class_targets(labels, n_classes)
    tr, va = split["train"], split["val"]
    log.info("training %s on %d images (%d validation), input %s", model_cfg, len(tr), len(va), x.shape[1:])
    return train(
        lambda: clock_classifier(n_classes, input_shape=x.shape[1:], spec=_spec(model_cfg["architecture"])),
        x[tr], y[tr], x[va], y[va],
        out_dir=out_dir,
        state_dir=state_dir,
        epochs=train_cfg["epochs"],
        batch_size=train_cfg["batch_size"],
        learning_rate=train_cfg["learning_rate"],
        lr_halving_epochs=train_cfg["lr_halving_epochs"],
        optimizer="nadam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        early_stopping_monitor="loss",
        patience=train_cfg["patience"],
        seed=seed,
        # a live progress bar on a terminal; one line per epoch in a workflow's log
        progress=sys.stderr.isatty(),
    )


def evaluate_clock_model(name, trained_dir, data_dir, split_dir, model_cfg: dict, metrics_path, figure_path) -> dict:
    import keras

    from idl.plots import learning_curves
    from idl.training import read_history

    trained_dir = Path(trained_dir)
    images, labels, split = _load(Path(data_dir), Path(split_dir))
    model = keras.models.load_model(trained_dir / "model.keras")
    test = split["test"]
    metrics, _ = evaluate_classifier(model, np.asarray(images[test]), labels[test], model_cfg["n_classes"])
    history = read_history(trained_dir / "history.csv")
    metrics = {k: (float(v) if k != "n" else int(v)) for k, v in metrics.items()}
    metrics["epochs"] = int(len(history))
    write_json(metrics_path, metrics)
    learning_curves(history, figure_path, title=f"clock model {name}")
    log.info("%s: accuracy %.3f, mean CSE %.1f min", name, metrics["accuracy"], metrics["cse_mean"])
    return metrics
