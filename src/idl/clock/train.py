"""Train and evaluate one clock model from the pipeline's files (data folder + split indices).

What a model is comes from its recipe in params.yaml (``clock.models.NAME``), built by
:mod:`idl.clock.recipes`; this module only wires files, recipe and training together.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np

from idl.clock.course_data import load_course_data, load_dial_turn, load_split
from idl.clock.labels import to_minutes
from idl.errors import DataError
from idl.io import atomic_path, write_json

log = logging.getLogger(__name__)


def _load(data_dir: Path, split_dir: Path | None):
    images, labels = load_course_data(data_dir)
    if split_dir is None:
        return images, labels, None
    return images, labels, load_split(split_dir, n_rows=len(labels))


def _take(y, idx):
    return {k: v[idx] for k, v in y.items()} if isinstance(y, dict) else y[idx]


def training_settings(recipe: dict, train_cfg: dict) -> dict:
    """clock.train, with the recipe's own batch size, learning rate and its halving where it sets them."""
    cfg = dict(train_cfg)
    for key in ("batch_size", "learning_rate", "lr_halving_epochs"):
        if recipe.get(key) is not None:
            cfg[key] = recipe[key]
    return cfg


def curriculum_images(recipe: dict, curriculum_dirs, labels: np.ndarray, shape: tuple, rows: np.ndarray) -> dict:
    """The training rows of each generated curriculum folder, keyed by its ``max_rotation_deg``.

    Each folder must hold the training data's rows (same labels, same image size), rendered
    with the rotation its SOURCE.json names; a recipe without a curriculum takes none.
    """
    import json

    from idl.clock.curriculum import rotations
    from idl.models.clock import prepare_images

    dirs = [Path(d) for d in curriculum_dirs or ()]
    needed = rotations(recipe["curriculum"])
    found = {}
    for d in dirs:
        try:
            rot = int(json.loads((d / "SOURCE.json").read_text())["max_rotation_deg"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{d}: not a curriculum data folder (SOURCE.json with max_rotation_deg: {exc})") from None
        images, their_labels = load_course_data(d)
        if images.shape[1:] != shape[:2] or not np.array_equal(their_labels, labels):
            raise DataError(
                f"{d}: its generated clocks ({len(their_labels)} of {images.shape[1]}x{images.shape[2]}) are not "
                f"the training data's rows ({len(labels)} of {shape[0]}x{shape[1]}): a curriculum needs "
                f"data.clock.synthetic (per_minute, size) to match the training data")
        found[rot] = prepare_images(np.asarray(images[rows]))
    if sorted(found) != needed:
        raise DataError(f"the curriculum trains at rotations {needed} but got generated clocks for {sorted(found)}")
    return found


def train_clock_model(data_dir, split_dir, out_dir, state_dir, model_cfg: dict, train_cfg: dict, seed: int,
                      curriculum_dirs=None):
    from idl.clock import recipes

    recipe = recipes.validate_recipe(model_cfg)
    # the files are checked before Keras is imported: a bad file fails in a second, not after TF starts
    images, labels, split = _load(Path(data_dir), Path(split_dir))
    turns = load_dial_turn(data_dir, len(labels)) if recipe["upright"] else None

    from idl.models.clock import prepare_images
    from idl.training import STATE_HISTORY, configure_threads, threads_from_env, train

    configure_threads(threads_from_env())  # before TensorFlow runs any op
    cfg = training_settings(recipe, train_cfg)
    x = prepare_images(np.asarray(images))
    y = recipes.targets(recipe, labels, turns)
    tr, va = split["train"], split["val"]
    log.info("training %s on %d images (%d validation), input %s, %s",
             recipes.describe(recipe), len(tr), len(va), x.shape[1:], cfg)
    x_train, y_train = x[tr], _take(y, tr)
    if recipe["curriculum"]:
        from idl.clock.curriculum import FULL, curriculum_dataset

        stages = curriculum_images(recipe, curriculum_dirs, labels, x.shape[1:], tr)
        stages[FULL] = x_train
        x_train = curriculum_dataset(stages, y_train, cfg["batch_size"], recipe["curriculum"], seed,
                                     history_path=Path(state_dir) / STATE_HISTORY)
        y_train = None
    elif curriculum_dirs:
        raise DataError(f"model {recipes.describe(recipe)} has no curriculum but was given curriculum data")
    elif recipe["augment_quarter_turns"]:
        from idl.clock.augment import quarter_turn_dataset

        x_train = quarter_turn_dataset(x_train, y_train, cfg["batch_size"], seed,
                                       turn_key=recipes.turning_target(recipe))
        y_train = None
    return train(
        lambda: recipes.build_model(recipe, x.shape[1:]),
        x_train, y_train, x[va], _take(y, va),
        out_dir=out_dir,
        state_dir=state_dir,
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        learning_rate=cfg["learning_rate"],
        lr_halving_epochs=cfg["lr_halving_epochs"],
        optimizer="nadam",
        early_stopping_monitor="loss",
        patience=cfg["patience"],
        seed=seed,
        # a live progress bar on a terminal; one line per epoch in a workflow's log
        progress=sys.stderr.isatty(),
        **recipes.compile_kwargs(recipe),
    )


def curve_metrics(columns) -> list[str]:
    """Loss and every accuracy a history has (``accuracy``, ``hour_accuracy``, ...)."""
    acc = [c for c in columns if c.endswith("accuracy") and not c.startswith("val_")]
    return ["loss"] + acc


def score_quarter_turns(recipe: dict, model, images: np.ndarray, true_minutes, true_classes,
                        unturned_outputs=None) -> dict | None:
    """Accuracy and CSE mean / median / p90 with each image read at 0, 90, 180 and 270 degrees and
    the outputs averaged (:func:`idl.clock.recipes.predict`, which reuses ``unturned_outputs``, the
    plain reading's outputs, when given); None for images that are not square."""
    from idl.clock import recipes
    from idl.clock.scoring import score

    if images.shape[1] != images.shape[2]:
        return None
    turned = recipes.predict(recipe, model, images, quarter_turns=True, unturned_outputs=unturned_outputs)
    four = score(true_minutes, turned["minutes"], true_classes, turned["classes"])
    return {k: four[k] for k in ("accuracy", "cse_mean", "cse_median", "cse_p90")}


def evaluate_clock_model(
    name, trained_dir, data_dir, split_dir, model_cfg: dict, metrics_path, predictions_path,
    grid_path, curves_path=None,
) -> dict:
    """Score a trained model on the test split (or, without a split, on every row of ``data_dir``).

    The metrics are the model's plain reading (the report's protocol); ``quarter_turns`` adds
    the scores of the same model reading each image at four quarter turns, outputs averaged.
    """
    from idl.clock import recipes

    trained_dir = Path(trained_dir)
    recipe = recipes.validate_recipe(model_cfg)
    images, labels, split = _load(Path(data_dir), Path(split_dir) if split_dir else None)

    from idl.clock.figures import prediction_grid
    from idl.clock.scoring import predictions_frame, score
    from idl.models.clock import load_model

    rows = split["test"] if split is not None else np.arange(len(labels))
    model = load_model(trained_dir / "model.keras")
    x, lab = np.asarray(images[rows]), labels[rows]
    if x.shape[1:] != tuple(model.input_shape[1:3]):
        raise DataError(
            f"{data_dir}: images are {x.shape[1]}x{x.shape[2]} but model {name} was trained on "
            f"{model.input_shape[1]}x{model.input_shape[2]}; resize the data or retrain"
        )
    pred = recipes.predict(recipe, model, x)
    true_min = to_minutes(lab)
    true_cls = recipes.true_classes(recipe, lab)
    metrics = score(true_min, pred["minutes"], true_cls, pred["classes"])
    metrics["quarter_turns"] = score_quarter_turns(recipe, model, x, true_min, true_cls, pred["outputs"])
    frame = predictions_frame(true_min, pred["minutes"], true_cls, pred["classes"])
    frame.insert(0, "source_row", rows)
    if curves_path is not None:
        from idl.plots import learning_curves
        from idl.training import read_history

        history = read_history(trained_dir / "history.csv")
        metrics["epochs"] = int(len(history))
        learning_curves(history, curves_path, title=f"clock model {name}", metrics=curve_metrics(history.columns))
    metrics["model"] = name
    metrics["approach"] = recipes.describe(recipe)
    metrics["data"] = str(data_dir)
    write_json(metrics_path, metrics)
    with atomic_path(predictions_path) as tmp:
        frame.to_csv(tmp, index=False)
    prediction_grid(x, true_min, pred["minutes"], grid_path, title=f"{name} on {data_dir}")
    acc = "n/a" if metrics.get("accuracy") is None else f"{metrics['accuracy']:.3f}"
    log.info("%s: accuracy %s, mean CSE %.1f min on %d images", name, acc, metrics["cse_mean"], metrics["n"])
    return metrics
