"""Every clock-reading approach as data: a recipe (from params.yaml) -> model, targets, decoding.

A *recipe* says what a model is; this module is the one place that knows what each
``kind`` means, so the pipeline trains and scores all of them the same way. A ``clock.models``
entry is checked once, into a frozen :class:`Recipe`, and every function here takes that::

    recipe = Recipe.from_params({"kind": "classify", "n_classes": 24, "preset": "final"})
    model = build_model(recipe, (150, 150, 1))
    train(..., y=targets(recipe, labels), **compile_kwargs(recipe))
    minutes = predict(recipe, model, images)["minutes"]

Kinds (targets are derived from *minutes past 12:00*, see :mod:`idl.clock.labels`):

``classify``
    Table 6/7 classifier, softmax over ``n_classes`` intervals of 720/n_c minutes;
    sparse class ids; read back as the centre of the class interval (the report).
``regress``
    Table 9: one linear unit, MAE loss. The target is the time in **hours** (0 <= t < 12,
    minutes / 60) so losses are O(1) and a Nadam rate of 2e-4 moves the output fast
    enough; the report's MAE in minutes is 60x the logged loss. Decoded as
    ``60 t mod 720`` (12.01 h reads as 00:00.6).
``regress_angle`` (beyond the report)
    Table 9's stack with two linear units = (sin, cos) of the hour-hand angle, so 11:59
    and 00:00 are neighbours for the loss too. MAE, the report's choice for regression
    (constant gradients keep pushing small angle errors; the slow hour hand makes
    them small). Decoded with ``atan2``, whatever the vector's length.
``multihead`` (the report's model 3)
    Shared conv trunk; an ``hour`` head (Table 7's dense stack, 12-way softmax, sparse
    hour 0-11) and a ``minute`` head (Table 9's stack, one linear unit, the minute in
    **minutes** 0-59, MAE). Minutes, not minutes/60, because the report's loss weights
    0.99 / 0.01 were tuned against a minute loss in minutes ("a mean absolute error of
    less than 5 minutes"). Decoded as ``60 hour + clip(round(minute), 0, 59)``: a
    minute read as 61 or -2 is more likely the end or start of the predicted hour than
    a different hour.
``multihead_angle`` (beyond the report)
    Like multihead, but the minute head gives (sin, cos) of the minute-hand angle
    (period 60 minutes), MAE, and decoding is *joint* (:func:`joint_decode`): the
    hour head's probabilities give a continuous hour-hand position and the minute
    picks the hour that agrees with it, so 2:59 is not read as 3:59 just because the
    hour class leaned to 3.

Knobs (``conv_filters``, ``conv_repeat``, ``pool1_strides``, ``batch_norm``, ``dropout``,
``dense_units``) override the ``preset`` (fiducial = Table 6, final = Table 7); see
:func:`idl.models.specs.classifier_spec`. ``dropout`` sets every dense stack's rate when
given; left out, each stack keeps its table's own rate (Table 6: 0.15, Table 7: 0.5,
Table 9: 0.3). ``batch_norm="all"`` also puts Table 9's BatchNorm layers in the
regression stacks. ``augment_rotation`` rotates every training image by a random angle
(the dial is randomly rotated in the data anyway, so the label is unchanged).
``augment_quarter_turns`` turns every training image by a random multiple of 90 degrees each
epoch (:mod:`idl.clock.augment`): exact, so it goes with ``upright`` too, whose orientation
target turns with the picture.
``curriculum`` (true or ``{phases, advance_at}``, :mod:`idl.clock.curriculum`) trains on
generated copies of the training clocks turned progressively further from upright first.
``upright`` (multi-head kinds, beyond the report) puts a second network in front: it
finds where the dial's 12 lies (the ``turn`` output, (sin, cos) of the angle clockwise
from the top, MAE against the generator's record of each dial's turn, :data:`TURN_FILE`),
turns the picture so the 12 is at the top (:class:`idl.models.clock.TurnUpright`) and
the recipe's network reads the upright clock. One model, trained in one go: the reader
learns on pictures turned by the orientation network's own estimates, as it will read
them. Training needs the turns, so it needs generated clocks; reading does not.
``hour_hand`` (multi-head kinds, beyond the report) adds a third head on the shared
trunk: (sin, cos) of the hour-hand angle (period 12 hours, MAE, :data:`HOUR_HAND`). The
hour is then decoded from this continuous hand position and the minute
(:func:`hand_decode`) instead of from the hour class probabilities: at 2:58 the hand lies
just before the 3 and the minute says on which side of it, whatever the class says. The
hour head is still trained and scored. (At paper scale the hand was read less surely than
the classes at first, and better once the model trained with ``augment_quarter_turns``;
see the README.)
``batch_size``, ``learning_rate``, ``lr_halving_epochs``, ``epochs``, ``patience`` and ``max_minutes``
are for the caller's training and are only checked here (left out or null: the caller's defaults).
``init_from`` names another ``clock.models`` entry whose trained weights this model starts from
(layers of the same name and shape; the optimizer and its schedule start fresh): a warm restart,
or a bigger model grown from a smaller one. :func:`check_init_from` checks the names.
``init_from_reader`` names a reader folder instead (``reader.json`` and ``reader.weights.h5``, e.g.
the shipped one, ``src/idl/clock/shipped``): the model starts from its checked weights, so a
variant of the shipped reader trains without training the reader first.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from idl.clock.course_data import TURN_FILE  # noqa: F401 - named in the docs above
from idl.clock.curriculum import CurriculumPlan, validate_curriculum
from idl.clock.labels import (
    MINUTES_PER_DIAL,
    check_n_classes,
    class_to_minutes,
    from_angle,
    to_angle,
    to_class,
    to_minutes,
)
from idl.models.specs import (
    PRESETS,
    classifier_head_spec,
    classifier_spec,
    conv_trunk_spec,
    orientation_head_spec,
    regressor_head_spec,
    regressor_spec,
    resolve_knobs,
)

KINDS = ("classify", "regress", "regress_angle", "multihead", "multihead_angle")
KNOBS = tuple(PRESETS["final"])
MULTIHEAD_KINDS = ("multihead", "multihead_angle")
HOUR, MINUTE = "hour", "minute"  # output layer names of the multi-head models
TURN = "turn"  # output layer name of an upright model's orientation network
HOUR_HAND = "hour_hand"  # output layer name of the hour-hand angle head (recipe key hour_hand)
#: Weight of the hour-hand loss (MAE of (sin, cos)), beside the hour class's 0.99.
HOUR_HAND_LOSS_WEIGHT = 1.0
#: Weight of the orientation loss (MAE of (sin, cos), about 0.7 at chance) beside the
#: multi-head losses; the reader can only learn once the picture is upright.
TURN_LOSS_WEIGHT = 1.0

#: Loss weights (hour, minute). multihead: the report's 99 % / 1 %. multihead_angle:
#: the same balance in the angle head's units. The MAE of (sin, cos) of the minute hand
#: grows by (2/pi) * (2 pi / 60) = 1/15 per minute of error, averaged over the dial, where
#: an MAE in minutes grows by 1 per minute; 0.01 x 15 = 0.15 keeps the report's
#: hour-to-minute pull.
DEFAULT_LOSS_WEIGHTS = {"multihead": (0.99, 0.01), "multihead_angle": (0.99, 0.15)}

#: Training the report used with each preset (the caller's defaults may differ).
PRESET_TRAINING = {"fiducial": {"batch_size": 32, "lr_halving_epochs": 40},
                   "final": {"batch_size": 32, "lr_halving_epochs": 20}}

#: Rotation augmentation fill: "reflect" keeps the corners that a rotation uncovers
#: filled with background-like texture; "constant" would paint black wedges that never
#: occur in test images (a train/test mismatch). Mirrored content lands only in the
#: corners, far from the dial centre the hands start from.
ROTATION_FILL_MODE = "reflect"

_ALLOWED = ("kind", "n_classes", "preset", *KNOBS, "augment_rotation", "augment_quarter_turns", "curriculum",
            "upright", "hour_hand", "loss_weights", "batch_size", "learning_rate", "lr_halving_epochs",
            "epochs", "patience", "max_minutes", "init_from", "init_from_reader",
            "train_on")


# ------------------------------------------------------------------------- recipe

@dataclass(frozen=True)
class Recipe:
    """One checked clock recipe (a ``clock.models`` entry) with its defaults filled in.

    Built once, by :meth:`from_params`, where the parameters are read; everything after reads
    attributes and checks nothing again. Frozen: the recipe a model was built from is the one
    its outputs are decoded with.
    """

    kind: str
    preset: str
    conv_filters: int
    conv_repeat: int
    pool1_strides: int
    batch_norm: str
    dense_units: int
    #: None: each dense stack keeps its table's rate (always set for classify)
    dropout: float | None = None
    #: classify only
    n_classes: int | None = None
    augment_rotation: bool = False
    augment_quarter_turns: bool = False
    curriculum: CurriculumPlan | None = None
    upright: bool = False
    hour_hand: bool = False
    #: (hour, minute); multi-head kinds only
    loss_weights: tuple[float, float] | None = None
    #: None: the caller's clock.train value
    batch_size: int | None = None
    learning_rate: float | None = None
    lr_halving_epochs: float | None = None
    epochs: int | None = None
    patience: int | None = None
    #: wall-clock training budget (:class:`idl.training.TrainSettings`)
    max_minutes: float | None = None
    #: the clock.models entry whose trained weights this model starts from
    init_from: str | None = None
    #: or the reader folder whose checked weights it starts from (:mod:`idl.clock.read`)
    init_from_reader: str | None = None
    #: the clock.external folder this model trains and is tested on (None: the clock data)
    train_on: str | None = None

    @classmethod
    def from_params(cls, recipe: Mapping[str, Any]) -> Recipe:
        """The recipe ``recipe`` (as params.yaml writes it) describes, checked.

        Defaults: ``preset`` "final", ``n_classes`` 12 (classify), the preset's knobs, false
        flags, ``loss_weights`` per :data:`DEFAULT_LOSS_WEIGHTS` (multi-head kinds). ``dropout``
        is filled for classify only (elsewhere each stack keeps its table's rate unless it is
        given). Raises ``ValueError`` naming the bad key or value.
        """
        if not isinstance(recipe, Mapping):
            raise ValueError(f"a clock recipe must be a mapping of settings, got {type(recipe).__name__}")
        unknown = [k for k in recipe if k not in _ALLOWED]
        if unknown:
            raise ValueError(f"unknown clock recipe key {unknown[0]!r}; known keys: {', '.join(_ALLOWED)}")
        kind = recipe.get("kind")
        if kind not in KINDS:
            raise ValueError(f"clock recipe 'kind' must be one of {list(KINDS)}, got {kind!r}")
        out: dict[str, Any] = {"kind": kind}

        if kind == "classify":
            n = recipe.get("n_classes", 12)
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
                raise ValueError(f"clock recipe 'n_classes' must be an integer dividing 720, got {n!r}")
            try:
                check_n_classes(int(n))
            except ValueError as exc:
                raise ValueError(f"clock recipe 'n_classes': {exc}") from None
            out["n_classes"] = int(n)
        elif "n_classes" in recipe:
            raise ValueError(f"clock recipe 'n_classes' only applies to kind classify, not {kind!r}")

        preset = recipe.get("preset", "final")
        if preset not in PRESETS:
            raise ValueError(f"clock recipe 'preset' must be one of {sorted(PRESETS)}, got {preset!r}")
        out["preset"] = preset
        given = {k: recipe[k] for k in KNOBS if recipe.get(k) is not None}
        try:
            knobs = resolve_knobs(preset, **given)
        except ValueError as exc:
            raise ValueError(f"clock recipe: {exc}") from None
        for k in KNOBS:
            if k != "dropout" or kind == "classify" or k in given:
                out[k] = knobs[k]

        out["augment_rotation"] = _flag(recipe, "augment_rotation")
        out["augment_quarter_turns"] = _flag(recipe, "augment_quarter_turns")
        try:
            out["curriculum"] = validate_curriculum(recipe.get("curriculum"))
        except ValueError as exc:
            raise ValueError(f"clock recipe: {exc}") from None
        if out["curriculum"] and out["augment_rotation"]:
            raise ValueError("clock recipe: augment_rotation and curriculum exclude each other (random "
                             "rotation would turn the curriculum's upright clocks)")
        if out["curriculum"] and out["augment_quarter_turns"]:
            raise ValueError("clock recipe: augment_quarter_turns and curriculum exclude each other (the "
                             "curriculum turns its last phase with its own quarter_turns setting)")
        out["upright"] = upright = _flag(recipe, "upright", kind)
        if upright and (out["augment_rotation"] or out["curriculum"]):
            raise ValueError("clock recipe: upright excludes augment_rotation and curriculum (both turn the "
                             "picture away from the dial turn the orientation network learns)")

        out["hour_hand"] = _flag(recipe, "hour_hand", kind, " (regress_angle already reads the hour hand's angle)")

        if kind in MULTIHEAD_KINDS:
            w = recipe.get("loss_weights")
            w = DEFAULT_LOSS_WEIGHTS[kind] if w is None else w
            ok = isinstance(w, Sequence) and not isinstance(w, str) and len(w) == 2 and all(
                not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) and v >= 0 for v in w)
            if not ok or sum(w) == 0:
                raise ValueError(f"clock recipe 'loss_weights' must be two non-negative numbers [hour, minute], "
                                 f"not both 0, got {w!r}")
            out["loss_weights"] = (float(w[0]), float(w[1]))
        elif recipe.get("loss_weights") is not None:
            raise ValueError(f"clock recipe 'loss_weights' only applies to the multi-head kinds, not {kind!r}")

        if recipe.get("batch_size") is not None:
            b = recipe["batch_size"]
            if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1:
                raise ValueError(f"clock recipe 'batch_size' must be a positive integer, got {b!r}")
            out["batch_size"] = int(b)
        if recipe.get("learning_rate") is not None:
            lr = recipe["learning_rate"]
            if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < 1:
                raise ValueError(f"clock recipe 'learning_rate' must be a number between 0 and 1, got {lr!r}")
            out["learning_rate"] = float(lr)
        if recipe.get("lr_halving_epochs") is not None:
            h = recipe["lr_halving_epochs"]
            if isinstance(h, bool) or not isinstance(h, (int, float)) or not h > 0:
                raise ValueError(f"clock recipe 'lr_halving_epochs' must be a positive number, got {h!r}")
            out["lr_halving_epochs"] = h
        for key in ("epochs", "patience"):
            if recipe.get(key) is not None:
                n = recipe[key]
                if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                    raise ValueError(f"clock recipe {key!r} must be a positive integer, got {n!r}")
                out[key] = int(n)
        if recipe.get("max_minutes") is not None:
            m = recipe["max_minutes"]
            if isinstance(m, bool) or not isinstance(m, (int, float)) or not m > 0:
                raise ValueError(f"clock recipe 'max_minutes' must be a positive number, got {m!r}")
            out["max_minutes"] = float(m)
        if recipe.get("init_from") is not None:
            if not isinstance(recipe["init_from"], str) or not recipe["init_from"]:
                raise ValueError(f"clock recipe 'init_from' must name a clock.models entry, got "
                                 f"{recipe['init_from']!r}")
            out["init_from"] = recipe["init_from"]
        if recipe.get("init_from_reader") is not None:
            if not isinstance(recipe["init_from_reader"], str) or not recipe["init_from_reader"]:
                raise ValueError(f"clock recipe 'init_from_reader' must be a reader folder, got "
                                 f"{recipe['init_from_reader']!r}")
            if "init_from" in out:
                raise ValueError("clock recipe: give init_from (a clock model) or init_from_reader (a reader "
                                 "folder), not both")
            out["init_from_reader"] = recipe["init_from_reader"]
        if recipe.get("train_on") is not None:
            if not isinstance(recipe["train_on"], str) or not recipe["train_on"]:
                raise ValueError(f"clock recipe 'train_on' must name a clock.external folder, got "
                                 f"{recipe['train_on']!r}")
            out["train_on"] = recipe["train_on"]
        return cls(**out)

    @property
    def starts_from(self) -> str | None:
        """What the model's starting weights come from (a clock model or a reader folder), if anything."""
        return self.init_from or self.init_from_reader

    def arch(self) -> dict:
        """Keyword arguments for the spec builders of :mod:`idl.models.specs` (``dropout`` only where
        the recipe fixes it)."""
        return {"preset": self.preset, **{k: getattr(self, k) for k in KNOBS if getattr(self, k) is not None}}


def check_init_from(models: Mapping[str, Mapping[str, Any]]) -> None:
    """Every ``init_from`` of ``models`` (``clock.models``) names another entry, and no chain of
    them comes back to where it started; raises ``ValueError`` naming the model."""
    for name, recipe in models.items():
        seen = [name]
        while isinstance(recipe, Mapping) and recipe.get("init_from") is not None:
            source = recipe["init_from"]
            if source not in models:
                raise ValueError(f"clock.models.{seen[-1]}.init_from: no clock model named {source!r}; "
                                 f"known: {', '.join(models)}")
            if source in seen:
                raise ValueError(f"clock.models.{name}.init_from: the models start from each other in a "
                                 f"circle ({' -> '.join([*seen, source])})")
            seen.append(source)
            recipe = models[source]


def check_train_on(models: Mapping[str, Mapping[str, Any]], external: Mapping[str, Any]) -> None:
    """Every ``train_on`` of ``models`` (``clock.models``) names a ``clock.external`` folder;
    raises ``ValueError`` naming the model."""
    for name, recipe in models.items():
        target = recipe.get("train_on") if isinstance(recipe, Mapping) else None
        if target is not None and target not in external:
            known = ", ".join(external) or "none: add the folder under clock.external first"
            raise ValueError(f"clock.models.{name}.train_on: no clock.external folder named {target!r}; known: {known}")


def _flag(recipe: Mapping[str, Any], key: str, kind: str | None = None, note: str = "") -> bool:
    """A true/false recipe key (default false); given ``kind``, one only the multi-head kinds take."""
    value = recipe.get(key, False)
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"clock recipe {key!r} must be true or false, got {value!r}")
    if value and kind is not None and kind not in MULTIHEAD_KINDS:
        raise ValueError(f"clock recipe {key!r} applies to the multi-head kinds {list(MULTIHEAD_KINDS)}, "
                         f"not {kind!r}{note}")
    return bool(value)


# -------------------------------------------------------------------------- model

def build_model(r: Recipe, input_shape: Sequence[int]):
    """The recipe's Keras model: uint8 image -> Rescaling(1/255) [-> RandomRotation] -> layers.

    Multi-head models output a dict ``{"hour": ..., "minute": ...}`` (plus ``"hour_hand"``
    and ``"turn"`` where the recipe asks for them).
    """
    import keras

    from idl.models.layers import apply_spec

    input_shape = tuple(int(d) for d in input_shape)
    if len(input_shape) == 2:
        input_shape += (1,)
    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    if r.augment_rotation:
        # factor 1.0 = up to a full turn either way; active only when training=True.
        x = keras.layers.RandomRotation(1.0, fill_mode=ROTATION_FILL_MODE, name="augment_rotation")(x)
    kind, a = r.kind, r.arch()
    trunk = {k: a[k] for k in ("conv_filters", "conv_repeat", "pool1_strides", "batch_norm")}
    head = {k: a[k] for k in ("dropout", "dense_units", "batch_norm") if k in a}
    if kind == "classify":
        outputs = apply_spec(classifier_spec(**a, n_classes=r.n_classes), x)
        name = f"clock_classify_{r.n_classes}"
    elif kind in ("regress", "regress_angle"):
        outputs = apply_spec(regressor_spec(**a, units=1 if kind == "regress" else 2), x)
        name = f"clock_{kind}"
    else:
        turn = None
        if r.upright:
            from idl.models.clock import TurnUpright

            turn = apply_spec(conv_trunk_spec(r.preset, **trunk) + orientation_head_spec(
                r.preset, **head, output_name=TURN), x, prefix="turn_")
            x = TurnUpright(name="upright")([x, turn])
        features = apply_spec(conv_trunk_spec(r.preset, **trunk), x)
        hour = apply_spec(classifier_head_spec(12, r.preset, **head, output_name=HOUR), features, prefix="hour_")
        units = 1 if kind == "multihead" else 2
        minute = apply_spec(regressor_head_spec(units, r.preset, **head, output_name=MINUTE), features,
                            prefix="minute_")
        outputs = {HOUR: hour, MINUTE: minute}
        if r.hour_hand:
            outputs[HOUR_HAND] = apply_spec(regressor_head_spec(2, r.preset, **head, output_name=HOUR_HAND),
                                            features, prefix="hand_")
        if turn is not None:
            outputs[TURN] = turn
        name = f"clock_{kind}" + ("_upright" if turn is not None else "")
    return keras.Model(inputs, outputs, name=name)


def compile_kwargs(r: Recipe, turn_record: bool = True) -> dict:
    """``loss``, ``metrics`` and ``loss_weights`` for ``model.compile`` / ``idl.training.train``.

    Built-in Keras names only, so they are backend-neutral and saved models reload
    without custom objects. ``turn_record=False`` (data without the dials' turns): an upright
    recipe's orientation output gets no loss.
    """
    kind = r.kind
    if kind == "classify":
        return {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"], "loss_weights": None}
    if kind in ("regress", "regress_angle"):
        return {"loss": "mean_absolute_error", "metrics": None, "loss_weights": None}
    w_hour, w_minute = r.loss_weights
    out = {
        "loss": {HOUR: "sparse_categorical_crossentropy", MINUTE: "mean_absolute_error"},
        "metrics": {HOUR: ["accuracy"]},
        "loss_weights": {HOUR: w_hour, MINUTE: w_minute},
    }
    if r.upright and turn_record:
        out["loss"][TURN] = "mean_absolute_error"
        out["loss_weights"][TURN] = TURN_LOSS_WEIGHT
    if r.hour_hand:
        out["loss"][HOUR_HAND] = "mean_absolute_error"
        out["loss_weights"][HOUR_HAND] = HOUR_HAND_LOSS_WEIGHT
    return out


def freeze_orientation(model) -> None:
    """Keep an upright model's orientation network as it is (for training on clocks without the
    dials' turns, where nothing could teach it): its layers stop training, batch norm included."""
    frozen = [layer for layer in model.layers if layer.name == TURN or layer.name.startswith(f"{TURN}_")]
    if not frozen:
        raise ValueError(f"model {model.name} has no orientation network (no layer named {TURN}*)")
    for layer in frozen:
        layer.trainable = False


# ------------------------------------------------------------------------ targets

def turning_target(r: Recipe, turn_record: bool = True) -> str | None:
    """The target entry that turns with the picture when a training clock is turned (quarter-turn
    augmentation): an upright recipe's orientation target where the data has the turns, else None."""
    return TURN if r.upright and turn_record else None


def targets(r: Recipe, labels: np.ndarray, dial_turn: np.ndarray | None = None, turn_record: bool = True):
    """Training targets for ``[hour, minute]`` label rows (dict keyed by output for multi-head).

    ``dial_turn`` (degrees clockwise at which each row's 12 lies, :data:`TURN_FILE`) is
    needed by upright recipes and ignored by the others; ``turn_record=False`` (data without
    it): an upright recipe's orientation target is a placeholder no loss reads.
    """
    minutes = to_minutes(labels)
    kind = r.kind
    if kind == "classify":
        return to_class(minutes, r.n_classes)
    if kind == "regress":
        return (minutes / 60.0).astype(np.float32)
    if kind == "regress_angle":
        return to_angle(minutes).astype(np.float32)
    hour = minutes // 60
    minute = minutes % 60
    if kind == "multihead":
        out = {HOUR: hour, MINUTE: minute.astype(np.float32)}
    else:
        out = {HOUR: hour, MINUTE: to_angle(minute, period=60).astype(np.float32)}
    if r.hour_hand:
        out[HOUR_HAND] = to_angle(minutes).astype(np.float32)
    if r.upright and not turn_record:
        # no loss reads it (compile_kwargs), but Keras' metrics want a target for every output
        out[TURN] = np.zeros((len(labels), 2), dtype=np.float32)
    elif r.upright:
        if dial_turn is None:
            raise ValueError(f"an upright recipe learns where the 12 is from each dial's turn ({TURN_FILE}); "
                             "none was given")
        turn = np.asarray(dial_turn, dtype=np.float64).reshape(-1)
        if len(turn) != len(labels):
            raise ValueError(f"{len(turn)} dial turns for {len(labels)} labels")
        out[TURN] = to_angle(turn, period=360.0).astype(np.float32)
    return out


def true_classes(r: Recipe, labels: np.ndarray) -> np.ndarray | None:
    """Class ids (classify) or the hour 0-11 (multi-head kinds) the model is scored against; else None."""
    if r.kind == "classify":
        return to_class(to_minutes(labels), r.n_classes)
    if r.kind in MULTIHEAD_KINDS:
        return to_minutes(labels) // 60
    return None


# ----------------------------------------------------------------------- decoding

def hour_hand_position(hour_probs: np.ndarray) -> np.ndarray:
    """Continuous hour-hand position (hours, 0 <= p < 12) from 12 hour-class probabilities.

    Circular mean of the class *centres* h + 0.5, weighted by the probabilities. Class h
    holds hand positions [h, h + 1), so its centre is the unbiased estimate: a confident
    class h puts the hand mid-way, and mass leaking to a neighbour moves it toward that
    boundary. (Using h instead would shift every reading half an hour early.) Where the
    weighted vectors cancel (e.g. uniform probabilities) the arg-max class centre is used.
    """
    p = np.asarray(hour_probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 12:
        raise ValueError(f"hour probabilities must have shape (N, 12), got {p.shape}")
    theta = 2.0 * np.pi * (np.arange(12) + 0.5) / 12.0
    s, c = p @ np.sin(theta), p @ np.cos(theta)
    pos = (np.arctan2(s, c) / (2.0 * np.pi) * 12.0) % 12.0
    flat = np.hypot(s, c) < 1e-9 * np.maximum(p.sum(axis=1), 1e-300)
    return np.where(flat, p.argmax(axis=1) + 0.5, pos)


def joint_decode(hour_probs: np.ndarray, minute: np.ndarray) -> np.ndarray:
    """Minutes past 12:00 from hour probabilities and a minute reading (0 <= m < 60).

    Picks the whole hour H whose time H + m/60 is circularly closest to
    :func:`hour_hand_position`. Examples: hour mass split 0.3 / 0.7 between classes 2
    and 3 with m = 59 gives 2:59 (the hand is just past 3 only if the minute is small);
    a fully confident class 3 keeps the hour 3 for every minute (3:59 for m = 59), as
    the class then says the hand lies in [3, 4). An exact tie (confident class h,
    m = 0) goes to the earlier hour, since class h starts at h:00.
    """
    return _nearest_hour(hour_hand_position(hour_probs), minute)


def hand_decode(hour_hand: np.ndarray, minute: np.ndarray) -> np.ndarray:
    """Minutes past 12:00 from the hour hand's (sin, cos) (period 12 hours) and a minute 0 <= m < 60.

    The whole hour H is the one whose time H + m/60 lies circularly closest to the hand's
    position, so the hour is right whenever the hand is read to within half an hour:
    a hand at 2:57.5 with m = 59 gives 2:59 and with m = 1 gives 3:01 (not 2:01).
    """
    return _nearest_hour(from_angle(hour_hand) / 60.0, minute)


def _nearest_hour(pos: np.ndarray, minute: np.ndarray) -> np.ndarray:
    """``60 H + m`` with H the whole hour for which H + m/60 is circularly closest to ``pos`` (hours)."""
    m = np.asarray(minute, dtype=np.float64).reshape(-1) % 60.0
    x = np.asarray(pos, dtype=np.float64).reshape(-1) - m / 60.0
    hour = np.ceil(x - 0.5 - 1e-9) % 12  # nearest integer; ties (to float noise) round down
    return (hour * 60.0 + m) % MINUTES_PER_DIAL


def _as_heads(outputs) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(hour, minute, hour_hand or None) of a multi-head model's outputs."""
    if isinstance(outputs, Mapping):
        hand = outputs.get(HOUR_HAND)
        return (np.asarray(outputs[HOUR]), np.asarray(outputs[MINUTE]),
                None if hand is None else np.asarray(hand))
    if isinstance(outputs, (list, tuple)) and len(outputs) == 2:
        return np.asarray(outputs[0]), np.asarray(outputs[1]), None
    raise ValueError("multi-head outputs must be a dict {'hour': ..., 'minute': ...} or a pair (hour, minute)")


def decode_minutes(r: Recipe, outputs) -> np.ndarray:
    """Raw model outputs (array, or dict for multi-head) -> minutes past 12:00, 0 <= m < 720."""
    kind = r.kind
    if kind == "classify":
        return class_to_minutes(np.asarray(outputs).argmax(axis=-1), r.n_classes)
    if kind == "regress":
        return (np.asarray(outputs, dtype=np.float64).reshape(-1) * 60.0) % MINUTES_PER_DIAL
    if kind == "regress_angle":
        return from_angle(np.asarray(outputs))
    hour, minute, hand = _as_heads(outputs)
    if kind == "multihead":
        m = np.clip(np.rint(np.asarray(minute, dtype=np.float64).reshape(-1)), 0, 59)
        if hand is not None:
            return hand_decode(hand, m)
        return (hour.argmax(axis=-1) * 60.0 + m) % MINUTES_PER_DIAL
    m = from_angle(minute, period=60)
    return joint_decode(hour, m) if hand is None else hand_decode(hand, m)


def _circular_mean(values, period: float, axis: int = 0) -> np.ndarray:
    """Mean of readings on a circle of ``period`` (59 and 1 of a 60-minute dial average to 0)."""
    return from_angle(to_angle(values, period).mean(axis=axis), period)


def average_outputs(r: Recipe, outputs: Sequence) -> Any:
    """Raw outputs of several views of the same images, averaged so that decoding stays right.

    Probabilities and (sin, cos) vectors are averaged as they are; readings on a dial
    (``regress``'s hours, ``multihead``'s minute) by their circular mean, so that a view
    reading 11:59 and one reading 0:01 agree on 0:00 rather than on 6:00.
    """
    kind = r.kind
    if not outputs:
        raise ValueError("no outputs to average")
    if kind in ("classify", "regress_angle"):
        return np.mean([np.asarray(o, dtype=np.float64) for o in outputs], axis=0)
    if kind == "regress":
        hours = np.stack([np.asarray(o, dtype=np.float64).reshape(-1) for o in outputs])
        return _circular_mean(hours, 12.0)[:, None]
    heads = [_as_heads(o) for o in outputs]
    out = {HOUR: np.mean([h for h, _, _ in heads], axis=0)}
    if kind == "multihead":
        minute = _circular_mean(np.stack([np.asarray(m, dtype=np.float64).reshape(-1) for _, m, _ in heads]), 60.0)
        out[MINUTE] = minute[:, None]
    else:
        out[MINUTE] = np.mean([np.asarray(m, dtype=np.float64) for _, m, _ in heads], axis=0)
    if all(hand is not None for _, _, hand in heads):
        out[HOUR_HAND] = np.mean([np.asarray(hand, dtype=np.float64) for _, _, hand in heads], axis=0)
    return out


def predict(r: Recipe, model, images: np.ndarray, batch_size: int = 256,
            quarter_turns: bool = False, unturned_outputs=None) -> dict:
    """Read the time off ``images`` (N, H, W[, 1]) uint8.

    Returns ``minutes`` (float, 0 <= m < 720), ``classes``: the predicted class id
    (classify), the decoded hour 0-11 (multi-head kinds: the hour of ``minutes``, which
    for multihead_angle may differ from the hour head's arg-max), else None; and
    ``outputs``, the raw (with ``quarter_turns``: averaged) outputs they were decoded from.
    ``quarter_turns``: read each image turned by 0, 90, 180 and 270 degrees and decode
    the averaged outputs (:func:`average_outputs`); a turned picture shows the same time,
    so a model that learned to read any rotation should agree with itself.
    ``unturned_outputs``: the model's outputs on ``images`` as given (an earlier plain
    ``predict``'s ``outputs``), reused as the first of the four views instead of read again.
    """
    from idl.models.clock import prepare_images

    x = prepare_images(images)
    if quarter_turns:
        if x.shape[1] != x.shape[2]:
            raise ValueError(f"quarter turns need square images, got {x.shape[1]}x{x.shape[2]}")
        views = [unturned_outputs] if unturned_outputs is not None else []
        views += [model.predict(np.rot90(x, k, axes=(1, 2)), batch_size=batch_size, verbose=0)
                  for k in range(len(views), 4)]
        outputs = average_outputs(r, views)
    else:
        outputs = model.predict(x, batch_size=batch_size, verbose=0)
    minutes = decode_minutes(r, outputs)
    if r.kind == "classify":
        classes = np.asarray(outputs).argmax(axis=-1)
    elif r.kind in MULTIHEAD_KINDS:
        classes = (minutes // 60).astype(np.int64) % 12
    else:
        classes = None
    return {"minutes": minutes, "classes": classes, "outputs": outputs}


# ---------------------------------------------------------------------- describe

_KNOB_WORDS = {
    "conv_filters": lambda v: f"{v} conv filters",
    "conv_repeat": lambda v: "conv layers doubled" if v == 2 else f"conv layers x{v}",
    "pool1_strides": lambda v: f"first pool stride {v}",
    "batch_norm": lambda v: {"none": "no BN", "between_stacks": "BN between conv stacks",
                             "all": "BN after every pooling and dense layer"}[v],
    "dropout": lambda v: f"dropout {v:g}",
    "dense_units": lambda v: f"dense {v}",
}


def describe(r: Recipe) -> str:
    """Short human description for tables, e.g. "classification, n_c = 24, Table 7"."""
    kind, knobs = r.kind, r.arch()
    # name the table the knobs are closest to (Table 8's model 9 written as fiducial + knobs is Table 7)
    diff = {p: [k for k in KNOBS if k in knobs and knobs[k] != PRESETS[p][k]] for p in PRESETS}
    preset = min(PRESETS, key=lambda p: (len(diff[p]), p != r.preset))
    diffs = [_KNOB_WORDS[k](knobs[k]) for k in diff[preset]]
    final = preset == "final"
    table = {
        "classify": "Table 7" if final else "Table 6",
        "regress": "Table 9" if final else "Table 6 conv stack + Table 9 dense stack",
        "regress_angle": "Table 9 stack" if final else "Table 6 conv stack + Table 9 dense stack",
        "multihead": "Tables 7 + 9" if final else "Table 6 conv stack + Tables 7/9 heads",
        "multihead_angle": "Tables 7 + 9" if final else "Table 6 conv stack + Tables 7/9 heads",
    }[kind]
    arch = table + (" with " + ", ".join(diffs) if diffs else "")
    if kind == "classify":
        text = f"classification, n_c = {r.n_classes}, {arch}"
    elif kind == "regress":
        text = f"regression (hours, MAE), {arch}"
    elif kind == "regress_angle":
        text = f"regression of hour-hand (sin, cos), {arch}"
    elif kind == "multihead":
        text = f"multi-head: hour class + minute (MAE), {arch}"
    else:
        text = f"multi-head: hour class + minute (sin, cos), joint decoding, {arch}"
    extras = []
    if kind in MULTIHEAD_KINDS and r.loss_weights != DEFAULT_LOSS_WEIGHTS[kind]:
        extras.append("loss weights {:g}/{:g}".format(*r.loss_weights))
    if r.augment_rotation:
        extras.append("rotation augmentation")
    if r.augment_quarter_turns:
        extras.append("quarter-turn augmentation")
    if r.upright:
        extras.append("turned upright first by a second network")
    if r.hour_hand:
        extras.append("hour from an hour-hand angle head")
    if r.curriculum:
        extras.append("rotation curriculum" + (" with quarter turns" if r.curriculum.quarter_turns else ""))
    train = PRESET_TRAINING[preset]
    if r.batch_size not in (None, train["batch_size"]):
        extras.append(f"batch {r.batch_size}")
    if r.learning_rate is not None:
        extras.append(f"learning rate {r.learning_rate:g}")
    if r.lr_halving_epochs not in (None, train["lr_halving_epochs"]):
        extras.append(f"LR halves every {r.lr_halving_epochs:g} epochs")
    if r.starts_from:
        extras.append(f"started from {r.starts_from}")
    return "; ".join([text, *extras])
