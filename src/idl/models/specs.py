"""Layer specs: the report's clock architectures written down as data (no Keras here).

An architecture is a list of ``(kind, params)`` layer specs, read straight off the
report's tables, so the tables and the code can be compared line by line and the
hyper-parameter study (Table 8) is a matter of editing a list. :mod:`idl.models.clock`
builds Keras models from them; parameters are checked here, so ``params.yaml`` can be
validated when the workflow is parsed without starting TensorFlow.

Kinds (and the report's name for each): ``conv`` Conv2D, ``maxpool`` MaxPool2D, ``bn``
BatchNorm, ``flatten`` Flatten, ``dropout`` Dropout, ``dense`` Dense, ``output`` Dense
(output).

Table 8 walks from Table 6 to Table 7 by changing a few settings; :func:`classifier_spec`
(and :func:`conv_trunk_spec`, :func:`classifier_head_spec`, :func:`regressor_head_spec`,
:func:`regressor_spec`, both whole models through :func:`whole_spec`) write any step of that
walk from those knobs, with :data:`PRESETS` holding Table 6's and Table 7's values.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

LayerSpec = tuple[str, dict[str, Any]]

#: Table 6: fiducial clock classifier (n_c = 12).
FIDUCIAL_CLASSIFIER: list[LayerSpec] = [
    ("conv", {"filters": 32, "kernel_size": 4, "strides": 2}),
    ("maxpool", {"pool_size": 4, "strides": 4}),
    ("conv", {"filters": 32, "kernel_size": 2, "strides": 1}),
    ("maxpool", {"pool_size": 2, "strides": 2}),
    ("flatten", {}),
    ("dropout", {"rate": 0.15}),
    ("dense", {"units": 144}),
    ("dropout", {"rate": 0.15}),
    ("dense", {"units": 144}),
    ("output", {"units": 12, "activation": "softmax"}),
]

#: The convolutional stack shared by Tables 7 and 9 (and the multi-head model).
CONV_STACK: list[LayerSpec] = [
    ("conv", {"filters": 64, "kernel_size": 4, "strides": 2}),
    ("conv", {"filters": 64, "kernel_size": 4, "strides": 2}),
    ("maxpool", {"pool_size": 4, "strides": 2}),
    ("bn", {}),
    ("conv", {"filters": 64, "kernel_size": 2, "strides": 1}),
    ("conv", {"filters": 64, "kernel_size": 2, "strides": 1}),
    ("maxpool", {"pool_size": 2, "strides": 2}),
    ("bn", {}),
    ("flatten", {}),
]

#: Table 7's dense stack (after the convolutional stack).
CLASSIFIER_HEAD: list[LayerSpec] = [
    ("dropout", {"rate": 0.5}),
    ("dense", {"units": 360}),
    ("bn", {}),
    ("dropout", {"rate": 0.5}),
    ("dense", {"units": 360}),
    ("bn", {}),
    ("output", {"units": 12, "activation": "softmax"}),
]

#: Table 7: final clock classifier (model 9 of Table 8).
FINAL_CLASSIFIER: list[LayerSpec] = CONV_STACK + CLASSIFIER_HEAD

#: Table 9's dense stack: three (dropout, dense, dense, BN) blocks and a linear unit.
REGRESSOR_HEAD: list[LayerSpec] = [
    layer
    for _ in range(3)
    for layer in (
        ("dropout", {"rate": 0.3}),
        ("dense", {"units": 360}),
        ("dense", {"units": 360}),
        ("bn", {}),
    )
] + [("output", {"units": 1, "activation": "linear"})]

#: Table 9: final clock regression model (data only; its training lives elsewhere).
FINAL_REGRESSOR: list[LayerSpec] = CONV_STACK + REGRESSOR_HEAD

#: kind -> the report's name for it in its tables.
REPORT_NAMES: dict[str, str] = {
    "conv": "Conv2D",
    "maxpool": "MaxPool2D",
    "bn": "BatchNorm",
    "flatten": "Flatten",
    "dropout": "Dropout",
    "dense": "Dense",
    "output": "Dense (output)",
}


def with_output(spec: Sequence[LayerSpec], units: int, activation: str | None = None) -> list[LayerSpec]:
    """Copy of ``spec`` whose output layer has ``units`` units (e.g. n_c classes)."""
    kinds = [kind for kind, _ in spec]
    if kinds.count("output") != 1 or kinds[-1] != "output":
        raise ValueError("spec must end with exactly one ('output', {...}) layer")
    params = dict(spec[-1][1], units=int(units))
    if activation is not None:
        params["activation"] = activation
    return [(k, dict(p)) for k, p in spec[:-1]] + [("output", params)]


def spec_rows(spec: Sequence[LayerSpec]) -> list[tuple[str, str]]:
    """``(Type, Parameters)`` rows in the report's table notation, for documentation."""
    rows = []
    for kind, params in spec:
        shown = {("n" if k in ("filters", "units") else k): v for k, v in params.items() if k != "name"}
        rows.append((REPORT_NAMES[kind], ", ".join(f"{k}={v}" for k, v in shown.items())))
    return rows


# ------------------------------------------------------------------ spec builders
# Table 8 walks from Table 6 to Table 7 by changing a handful of settings ("knobs").
# The builders below produce both tables, and every model in between, from those
# knobs, so each Table 8 model is a small dict instead of a hand-copied layer list.

#: Knob values of the two named architectures: fiducial = Table 6, final = Table 7.
PRESETS: dict[str, dict[str, Any]] = {
    "fiducial": {"conv_filters": 32, "conv_repeat": 1, "pool1_strides": 4, "batch_norm": "none",
                 "dropout": 0.15, "dense_units": 144},
    "final": {"conv_filters": 64, "conv_repeat": 2, "pool1_strides": 2, "batch_norm": "all",
              "dropout": 0.5, "dense_units": 360},
}

#: Where BatchNorm goes. "between_stacks" (Table 8 model 2): only after the first
#: max-pool, i.e. between the two convolutional stacks. "all" (model 3 on, Table 7):
#: after every pooling layer and after every dense block.
BATCH_NORM_PLACES = ("none", "between_stacks", "all")

#: Dropout of Table 9's dense stack (the report: "dialing back the dropout rate a bit (to 0.2 - 0.3)").
REGRESSOR_DROPOUT = 0.3


def resolve_knobs(preset: str = "fiducial", **knobs) -> dict[str, Any]:
    """The preset's knob values with the given (non-None) ones substituted, checked.

    Raises ``ValueError`` naming the preset, knob or value that is wrong.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known: {sorted(PRESETS)}")
    out = dict(PRESETS[preset])
    for name, value in knobs.items():
        if name not in out:
            raise ValueError(f"unknown architecture knob {name!r}; known: {sorted(out)}")
        if value is None:
            continue
        if name == "batch_norm":
            if value not in BATCH_NORM_PLACES:
                raise ValueError(f"batch_norm must be one of {list(BATCH_NORM_PLACES)}, got {value!r}")
        elif name == "dropout":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise ValueError(f"dropout must be a number in [0, 1), got {value!r}")
            value = float(value)
        elif isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
        else:
            value = int(value)
        out[name] = value
    return out


def conv_trunk_spec(
    preset: str = "fiducial",
    *,
    conv_filters: int | None = None,
    conv_repeat: int | None = None,
    pool1_strides: int | None = None,
    batch_norm: str | None = None,
) -> list[LayerSpec]:
    """The two convolutional stacks and Flatten (Table 6's or Table 7's, or in between).

    Stack 1: ``conv_repeat`` x Conv2D(kernel 4, stride 2), MaxPool(4, ``pool1_strides``);
    stack 2: ``conv_repeat`` x Conv2D(kernel 2, stride 1), MaxPool(2, 2). ``None`` takes
    the preset's value. The final preset gives :data:`CONV_STACK` exactly.
    """
    k = resolve_knobs(preset, conv_filters=conv_filters, conv_repeat=conv_repeat,
                      pool1_strides=pool1_strides, batch_norm=batch_norm)
    stacks = [
        ({"kernel_size": 4, "strides": 2}, {"pool_size": 4, "strides": k["pool1_strides"]}),
        ({"kernel_size": 2, "strides": 1}, {"pool_size": 2, "strides": 2}),
    ]
    spec: list[LayerSpec] = []
    for i, (conv, pool) in enumerate(stacks):
        spec += [("conv", {"filters": k["conv_filters"], **conv}) for _ in range(k["conv_repeat"])]
        spec.append(("maxpool", dict(pool)))
        if k["batch_norm"] == "all" or (k["batch_norm"] == "between_stacks" and i == 0):
            spec.append(("bn", {}))
    spec.append(("flatten", {}))
    return spec


def classifier_head_spec(
    n_classes: int = 12,
    preset: str = "fiducial",
    *,
    dropout: float | None = None,
    dense_units: int | None = None,
    batch_norm: str | None = None,
    output_name: str | None = None,
) -> list[LayerSpec]:
    """Table 6/7's dense stack: 2 x (Dropout, Dense[, BatchNorm]) and an n_classes softmax.

    BatchNorm follows each dense layer only for ``batch_norm="all"``.
    """
    k = resolve_knobs(preset, dropout=dropout, dense_units=dense_units, batch_norm=batch_norm)
    spec: list[LayerSpec] = []
    for _ in range(2):
        spec += [("dropout", {"rate": k["dropout"]}), ("dense", {"units": k["dense_units"]})]
        if k["batch_norm"] == "all":
            spec.append(("bn", {}))
    out = {"units": int(n_classes), "activation": "softmax"}
    if output_name:
        out["name"] = output_name
    return spec + [("output", out)]


def regressor_head_spec(
    units: int = 1,
    preset: str = "final",
    *,
    dropout: float | None = None,
    dense_units: int | None = None,
    batch_norm: str | None = None,
    output_name: str | None = None,
    blocks: int = 3,
    dense_per_block: int = 2,
) -> list[LayerSpec]:
    """Table 9's dense stack: 3 x (Dropout, Dense, Dense[, BatchNorm]) and ``units`` linear outputs.

    ``dropout=None`` means Table 9's own 0.3 (not the preset's classifier dropout);
    BatchNorm closes each block only for ``batch_norm="all"``. The final preset with
    ``units=1`` gives :data:`REGRESSOR_HEAD` exactly. ``blocks`` and ``dense_per_block``
    make smaller stacks of the same kind (:func:`orientation_head_spec`).
    """
    k = resolve_knobs(preset, dropout=dropout, dense_units=dense_units, batch_norm=batch_norm)
    rate = REGRESSOR_DROPOUT if dropout is None else k["dropout"]
    spec: list[LayerSpec] = []
    for _ in range(blocks):
        spec.append(("dropout", {"rate": rate}))
        spec += [("dense", {"units": k["dense_units"]}) for _ in range(dense_per_block)]
        if k["batch_norm"] == "all":
            spec.append(("bn", {}))
    out = {"units": int(units), "activation": "linear"}
    if output_name:
        out["name"] = output_name
    return spec + [("output", out)]


def orientation_head_spec(preset: str = "final", **knobs) -> list[LayerSpec]:
    """Where the dial's 12 lies, as (sin, cos): one block of Table 9's stack with one Dense.

    Dropout (Table 9's 0.3 unless given), Dense[, BatchNorm] and 2 linear units; ``knobs``
    as for :func:`regressor_head_spec`. A direction needs no deeper stack.
    """
    return regressor_head_spec(2, preset, blocks=1, dense_per_block=1, **knobs)


def whole_spec(
    head: Callable[..., list[LayerSpec]],
    outputs: int,
    preset: str,
    *,
    conv_filters: int | None = None,
    conv_repeat: int | None = None,
    pool1_strides: int | None = None,
    batch_norm: str | None = None,
    dropout: float | None = None,
    dense_units: int | None = None,
) -> list[LayerSpec]:
    """:func:`conv_trunk_spec` and then ``head(outputs, preset, ...)`` (a head builder), from one
    set of knobs: ``batch_norm`` goes to both, the trunk's knobs to the trunk, the dense ones to the
    head. ``None`` takes the preset's value (the head's own rule for ``dropout``)."""
    return conv_trunk_spec(preset, conv_filters=conv_filters, conv_repeat=conv_repeat,
                           pool1_strides=pool1_strides, batch_norm=batch_norm) + \
        head(outputs, preset, dropout=dropout, dense_units=dense_units, batch_norm=batch_norm)


def classifier_spec(preset: str = "fiducial", *, n_classes: int = 12, **knobs) -> list[LayerSpec]:
    """A whole classifier from knobs (:func:`whole_spec`): ``classifier_spec()`` is Table 6
    (:data:`FIDUCIAL_CLASSIFIER`), ``classifier_spec("final")`` is Table 7 (:data:`FINAL_CLASSIFIER`),
    and Table 8's models are the steps between."""
    return whole_spec(classifier_head_spec, n_classes, preset, **knobs)


def regressor_spec(preset: str = "final", *, units: int = 1, **knobs) -> list[LayerSpec]:
    """A whole regressor from knobs (:func:`whole_spec`): ``regressor_spec()`` is Table 9
    (:data:`FINAL_REGRESSOR`)."""
    return whole_spec(regressor_head_spec, units, preset, **knobs)
