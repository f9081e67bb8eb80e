"""Train one Task 1 run (a recipe of ``basics.runs``) and score it on the validation and official
test sets. Its learning curves are drawn by :mod:`idl.basics.summary`, so a plotting edit does not
retrain anything.
"""
from __future__ import annotations

import sys
from pathlib import Path

from idl.basics.data import load_training_data
from idl.io import write_json


def train_run(name: str, run: dict, data_path, split_dir, out_dir, state_dir, train_cfg: dict, seed: int) -> dict:
    """Train one run for a fixed number of epochs; score it on the validation and official test sets."""
    data, split = load_training_data(data_path, split_dir)  # before Keras starts: a bad file fails in a second

    import keras

    from idl.models.keras_basics import build_run_model
    from idl.training import TrainSettings, configure_threads, threads_from_env, train

    configure_threads(threads_from_env())
    x, y = data["x_train"], data["y_train"]
    tr, va = split["train"], split["val"]
    # Keras' default Adam/SGD at a constant rate, a fixed number of epochs (the report names no settings)
    settings = TrainSettings(epochs=train_cfg["epochs"], batch_size=train_cfg["batch_size"], learning_rate=None,
                             lr_halving_epochs=None, optimizer=run["optimizer"], patience=None, seed=seed,
                             progress=sys.stderr.isatty())
    history = train(
        lambda: build_run_model(run, x.shape[1:]),
        x[tr], y[tr], x[va], y[va], settings,
        out_dir=out_dir, state_dir=state_dir,
        loss="sparse_categorical_crossentropy", metrics=["accuracy"],
    )
    model = keras.models.load_model(Path(out_dir) / "model.keras")
    test_loss, test_acc = model.evaluate(data["x_test"], data["y_test"], batch_size=256, verbose=0)
    last = history.iloc[-1]
    metrics = {
        "run": name,
        "arch": run["arch"],
        "epochs": int(len(history)),
        "val_loss": float(last["val_loss"]),
        "val_accuracy": float(last["val_accuracy"]),
        "test_loss": float(test_loss),
        "test_accuracy": float(test_acc),
    }
    write_json(Path(out_dir) / "metrics.json", metrics)
    return metrics
