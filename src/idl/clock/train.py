"""Train one clock model from the pipeline's files (data folder + split indices).

What a model is comes from its recipe in params.yaml (``clock.models.NAME``), built by
:mod:`idl.clock.recipes`; this module only wires files, recipe and training together. Scoring a trained model is
:mod:`idl.clock.evaluate`.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Mapping

import numpy as np

from idl.clock.course_data import TURN_FILE, load_course_data, load_dial_turn, load_with_split
from idl.clock.labels import cse_minutes, to_minutes
from idl.clock.recipes import Recipe
from idl.errors import DataError

log = logging.getLogger(__name__)


def _take(y, idx):
    return {k: v[idx] for k, v in y.items()} if isinstance(y, dict) else y[idx]


def training_settings(recipe: Recipe, train_cfg: Mapping, seed: int):
    """How the recipe's model trains (an :class:`idl.training.TrainSettings`): ``clock.train``, with the
    recipe's own epochs, batch size, learning rate and its halving, patience and budget where it sets
    them; Nadam and early stopping on the training loss, as the report."""
    from idl.training import TrainSettings

    own = ("epochs", "batch_size", "learning_rate", "lr_halving_epochs", "patience", "max_minutes")
    cfg = {**train_cfg, **{k: getattr(recipe, k) for k in own if getattr(recipe, k) is not None}}
    return TrainSettings(
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        learning_rate=cfg["learning_rate"],
        lr_halving_epochs=cfg["lr_halving_epochs"],
        optimizer="nadam",
        early_stopping_monitor="loss",
        patience=cfg["patience"],
        max_minutes=cfg.get("max_minutes"),
        seed=seed,
        # a live progress bar on a terminal; one line per epoch in a workflow's log
        progress=sys.stderr.isatty(),
    )


def curriculum_images(recipe: Recipe, curriculum_dirs, labels: np.ndarray, shape: tuple, rows: np.ndarray) -> dict:
    """The training rows of each generated curriculum folder, keyed by its ``max_rotation_deg``.

    Each folder must hold the training data's rows (same labels, same image size), rendered
    with the rotation its SOURCE.json names; a recipe without a curriculum takes none.
    """
    import json

    from idl.clock.curriculum import rotations
    from idl.models.clock import prepare_images

    dirs = [Path(d) for d in curriculum_dirs or ()]
    needed = rotations(recipe.curriculum)
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


def train_clock_model(data_dir, split_dir, out_dir, state_dir, model_cfg: Mapping, train_cfg: Mapping, seed: int,
                      curriculum_dirs=None, init_from=None, init_from_reader=None):
    """Train the model of ``model_cfg`` (a ``clock.models`` entry) with ``train_cfg`` (``clock.train``);
    ``init_from``: the trained ``model.keras`` of the entry its ``init_from`` names;
    ``init_from_reader``: the reader folder its ``init_from_reader`` names (weights checked on load)."""
    from idl.clock import recipes

    recipe = Recipe.from_params(model_cfg)
    for key, given in (("init_from", init_from), ("init_from_reader", init_from_reader)):
        if (getattr(recipe, key) is None) != (given is None):
            raise ValueError(f"model {recipes.describe(recipe)}: its recipe's {key} is {getattr(recipe, key)!r} "
                             f"but the starting weights given are {given!r}")
    # the files are checked before Keras is imported: a bad file fails in a second, not after TF starts
    images, labels, split = load_with_split(Path(data_dir), Path(split_dir))
    if init_from_reader is not None:
        from idl.clock.read import read_meta, verified_weights

        verified_weights(init_from_reader, read_meta(init_from_reader))
    turns = None
    if recipe.upright and (recipe.starts_from is None or (Path(data_dir) / TURN_FILE).exists()):
        turns = load_dial_turn(data_dir, len(labels))
    elif recipe.upright:
        log.info("%s has no %s: the orientation network keeps the weights of %s and is not trained; the "
                 "reading network learns on the pictures it turns upright", data_dir, TURN_FILE, recipe.starts_from)
    turn_record = turns is not None

    from idl.models.clock import prepare_images
    from idl.training import STATE_HISTORY, configure_threads, threads_from_env, train

    configure_threads(threads_from_env())  # before TensorFlow runs any op
    settings = training_settings(recipe, train_cfg, seed)
    x = prepare_images(np.asarray(images))
    y = recipes.targets(recipe, labels, turns, turn_record=turn_record)
    tr, va = split["train"], split["val"]
    log.info("training %s on %d images (%d validation), input %s, %s",
             recipes.describe(recipe), len(tr), len(va), x.shape[1:], settings)
    x_train, y_train = x[tr], _take(y, tr)
    if recipe.curriculum:
        from idl.clock.curriculum import FULL, curriculum_dataset

        stages = curriculum_images(recipe, curriculum_dirs, labels, x.shape[1:], tr)
        stages[FULL] = x_train
        x_train = curriculum_dataset(stages, y_train, settings.batch_size, recipe.curriculum, seed,
                                     history_path=Path(state_dir) / STATE_HISTORY)
        y_train = None
    elif curriculum_dirs:
        raise DataError(f"model {recipes.describe(recipe)} has no curriculum but was given curriculum data")
    elif recipe.augment_quarter_turns:
        from idl.clock.augment import quarter_turn_dataset

        x_train = quarter_turn_dataset(x_train, y_train, settings.batch_size, seed,
                                       turn_key=recipes.turning_target(recipe, turn_record))
        y_train = None

    def build():
        model = recipes.build_model(recipe, x.shape[1:])
        if recipe.upright and not turn_record:
            recipes.freeze_orientation(model)
        return model

    val_images, val_minutes = np.asarray(images[va]), to_minutes(labels[va])

    def val_cse(model) -> dict:
        """The mean common-sense error on the validation clocks, read as the evaluate stage reads them."""
        return {"val_cse": cse_minutes(val_minutes, recipes.predict(recipe, model, val_images)["minutes"]).mean()}

    return train(
        build,
        x_train, y_train, x[va], _take(y, va), settings,
        out_dir=out_dir,
        state_dir=state_dir,
        init_from=init_from if init_from_reader is None else _reader_model(init_from_reader),
        epoch_metrics=val_cse,
        **recipes.compile_kwargs(recipe, turn_record),
    )


def _reader_model(folder):
    """The model of the reader in ``folder``, its weights' SHA-256 checked (:func:`idl.clock.read.load_reader`)."""
    from idl.clock.read import load_reader

    reader = load_reader(folder)
    log.info("starting from the reader in %s (%s, trained at %dx%d)", folder, reader.meta.get("model"),
             reader.image_size, reader.image_size)
    return reader.model
