"""Score a trained clock model the way the report does: class accuracy and the common-sense error.

The common-sense error (CSE) compares the *exact* true time with the predicted
class read back as the centre of its interval, so even a perfect n_c = 12
classifier has a mean CSE of 15 minutes (the report's "lower bound").
:func:`evaluate_clock_model` is the pipeline's evaluate stage.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

import numpy as np

from idl.clock.course_data import TURN_FILE, load_dial_turn, load_with_split
from idl.clock.labels import class_to_minutes, cse_minutes, to_class, to_minutes
from idl.clock.recipes import Recipe
from idl.errors import DataError
from idl.io import atomic_path, write_json

log = logging.getLogger(__name__)


def _minutes(labels: np.ndarray) -> np.ndarray:
    """``[hour, minute]`` rows, or minutes past 12:00 already, -> minutes."""
    labels = np.asarray(labels)
    return to_minutes(labels) if labels.ndim == 2 else labels.astype(np.int64)


def class_targets(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Sparse integer class ids (int32) for ``[hour, minute]`` labels (or minutes).

    Train with ``sparse_categorical_crossentropy``: it is the report's categorical
    cross-entropy computed from class ids instead of one-hot rows (same loss,
    n_classes times less target memory, which matters for n_c = 720).
    """
    return to_class(_minutes(labels), n_classes).astype(np.int32)


def evaluate_classifier(model, images: np.ndarray, labels: np.ndarray, n_classes: int,
                        batch_size: int = 256, progress: bool = False) -> tuple[dict, np.ndarray]:
    """Accuracy and CSE statistics of ``model`` on ``images``; also per-row predictions.

    Returns ``(metrics, predicted_minutes)`` where metrics has ``accuracy`` (class),
    ``cse_mean``, ``cse_median``, ``cse_p90`` (minutes) and ``n``.
    """
    true_min = _minutes(labels)
    if len(true_min) != len(images):
        raise ValueError(f"{len(images)} images but {len(true_min)} labels: they must match row for row")
    if len(true_min) == 0:
        raise ValueError("no images to evaluate")
    from idl.models.clock import prepare_images  # Keras: only once there is a model to run

    probs = np.asarray(model.predict(prepare_images(images), batch_size=batch_size, verbose=1 if progress else 0))
    if probs.ndim != 2 or probs.shape != (len(true_min), n_classes):
        raise ValueError(f"model output has shape {probs.shape}, expected ({len(true_min)}, {n_classes}): "
                         f"is this an n_c={n_classes} classifier?")
    pred_class = probs.argmax(axis=1)
    pred_min = class_to_minutes(pred_class, n_classes)
    cse = cse_minutes(true_min, pred_min)
    metrics = {
        "accuracy": float(np.mean(pred_class == to_class(true_min, n_classes))),
        "cse_mean": float(cse.mean()),
        "cse_median": float(np.median(cse)),
        "cse_p90": float(np.percentile(cse, 90)),
        "n": int(len(true_min)),
    }
    return metrics, pred_min


def curve_metrics(columns) -> list[str]:
    """Loss, every accuracy a history has (``accuracy``, ``hour_accuracy``, ...) and the validation
    CSE (``val_cse``: the panel "cse", validation only) where it has one."""
    acc = [c for c in columns if c.endswith("accuracy") and not c.startswith("val_")]
    return ["loss"] + acc + (["cse"] if "val_cse" in columns else [])


def score_quarter_turns(recipe: Recipe, model, images: np.ndarray, true_minutes, true_classes,
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


def error_breakdown(recipe: Recipe, outputs, true_minutes, pred_minutes, turns=None) -> dict:
    """Where the CSE comes from.

    ``hour_errors``: clocks read 30 minutes or more off (a wrong hour), their rate, their share of
    the total CSE, the mean CSE without them, and how many are one and six hours off (six: the
    dial read upside down). Upright recipes with ``turns`` (the dials' true turns, generated data
    only): ``turn_error_deg``, how far from the 12 the orientation network looked. Hour-hand
    recipes: ``cse_mean_hour_from_classes``, the mean CSE had the hour come from the hour classes
    instead of the hand (what the hand head gains).
    """
    from idl.clock import recipes
    from idl.clock.labels import from_angle

    cse = cse_minutes(true_minutes, pred_minutes)
    wrong = cse >= 30
    hours_off = np.rint(((pred_minutes - true_minutes + 360) % 720 - 360) / 60).astype(int)[wrong]
    out: dict = {"hour_errors": {
        "rate": float(wrong.mean()),
        "share_of_cse": float(cse[wrong].sum() / cse.sum()) if cse.sum() > 0 else 0.0,
        "cse_mean_without": float(cse[~wrong].mean()) if (~wrong).any() else None,
        "one_hour_off": int(np.sum(np.abs(hours_off) == 1)),
        "six_hours_off": int(np.sum(np.abs(hours_off) == 6)),
    }}
    if recipe.upright and turns is not None:
        found = from_angle(np.asarray(outputs[recipes.TURN]), 360.0)
        err = np.abs((found - np.asarray(turns) + 180) % 360 - 180)
        out["turn_error_deg"] = {"median": float(np.median(err)), "p90": float(np.percentile(err, 90)),
                                 "over_30": float(np.mean(err > 30))}
    if recipe.hour_hand:
        by_class = recipes.decode_minutes(recipe, {k: v for k, v in outputs.items() if k != recipes.HOUR_HAND})
        out["cse_mean_hour_from_classes"] = float(cse_minutes(true_minutes, by_class).mean())
    return out


def evaluate_clock_model(
    name, trained_dir, data_dir, split_dir, model_cfg: Mapping, metrics_path, predictions_path,
    grid_path, curves_path=None,
) -> dict:
    """Score a trained model (``model_cfg``: its ``clock.models`` entry) on the test split (or,
    without a split, on every row of ``data_dir``).

    The metrics are the model's plain reading (the report's protocol); ``quarter_turns`` adds
    the scores of the same model reading each image at four quarter turns, outputs averaged, and
    the rest is :func:`error_breakdown` (with the dials' turns where the data has them).
    ``grid_path=None`` draws no grid of test images. Images of another side than the model's are
    refused on its own split and, on other data (no split), centre-cropped and box-filtered to it
    (:func:`idl.data.images.fit_squares`, as the reader prepares pictures; ``resized_from`` in the
    metrics says from what).
    """
    from idl.clock import recipes

    trained_dir = Path(trained_dir)
    recipe = Recipe.from_params(model_cfg)
    images, labels, split = load_with_split(Path(data_dir), Path(split_dir) if split_dir else None)

    from idl.clock.figures import prediction_grid
    from idl.clock.scoring import predictions_frame, score
    from idl.models.clock import load_model

    rows = split["test"] if split is not None else np.arange(len(labels))
    model = load_model(trained_dir / "model.keras")
    x, lab = np.asarray(images[rows]), labels[rows]
    side = model.input_shape[1]
    resized_from = None
    if x.shape[1:] != (side, side):
        if split is not None:  # the model's own data: another size means the two do not belong together
            raise DataError(
                f"{data_dir}: images are {x.shape[1]}x{x.shape[2]} but model {name} was trained on "
                f"{side}x{side}; retrain it on this data"
            )
        from idl.data.images import fit_squares

        # other data (clock.external): prepared as the reader prepares pictures, so a model trained
        # on 75x75 clocks reads the course's 150x150 ones
        log.info("%s: %dx%d images, box-filtered to the model's %dx%d", data_dir, x.shape[1], x.shape[2], side, side)
        resized_from = [int(x.shape[1]), int(x.shape[2])]
        x = fit_squares(x, side)
    pred = recipes.predict(recipe, model, x)
    true_min = to_minutes(lab)
    true_cls = recipes.true_classes(recipe, lab)
    metrics = score(true_min, pred["minutes"], true_cls, pred["classes"])
    metrics["quarter_turns"] = score_quarter_turns(recipe, model, x, true_min, true_cls, pred["outputs"])
    if resized_from is not None:
        metrics["resized_from"] = resized_from
    turns = None
    if recipe.upright and (Path(data_dir) / TURN_FILE).exists():
        turns = load_dial_turn(data_dir, len(labels))[rows]
    metrics.update(error_breakdown(recipe, pred["outputs"], true_min, pred["minutes"], turns))
    frame = predictions_frame(true_min, pred["minutes"], true_cls, pred["classes"])
    frame.insert(0, "source_row", rows)
    if curves_path is not None:
        from idl.plots import learning_curves
        from idl.io import read_history

        history = read_history(trained_dir / "history.csv")
        metrics["epochs"] = int(len(history))
        learning_curves(history, curves_path, title=f"clock model {name}", metrics=curve_metrics(history.columns))
    metrics["model"] = name
    metrics["approach"] = recipes.describe(recipe)
    metrics["data"] = str(data_dir)
    write_json(metrics_path, metrics)
    with atomic_path(predictions_path) as tmp:
        frame.to_csv(tmp, index=False)
    if grid_path is not None:
        prediction_grid(x, true_min, pred["minutes"], grid_path, title=f"{name} on {data_dir}")
    acc = "n/a" if metrics.get("accuracy") is None else f"{metrics['accuracy']:.3f}"
    log.info("%s: accuracy %s, mean CSE %.1f min on %d images", name, acc, metrics["cse_mean"], metrics["n"])
    return metrics
