"""Keras models from layer specs, shared by every task: :func:`build_from_spec` turns a spec of
:mod:`idl.models.specs` into a Keras model; :func:`apply_spec` does the same on a tensor so
multi-head models can share a convolutional trunk.

Kinds and the Keras layer each becomes (params are passed through as keyword
arguments, so anything the Keras layer accepts may be given):

=========== ==================== ==========================================
kind        Keras layer          report's name
=========== ==================== ==========================================
``conv``    ``Conv2D``           Conv2D (ReLU unless ``activation`` given)
``maxpool`` ``MaxPooling2D``     MaxPool2D
``bn``      ``BatchNormalization`` BatchNorm
``flatten`` ``Flatten``          Flatten
``dropout`` ``Dropout``          Dropout
``dense``   ``Dense``            Dense (ReLU unless ``activation`` given)
``output``  ``Dense``            Dense (output); ``activation`` as given
=========== ==================== ==========================================

Padding is Keras' default ("valid"): with it Table 7 leaves the 7x7 feature maps the
report mentions for 150x150 inputs (and Table 6 the 8x8 ones).
"""
from __future__ import annotations

from typing import Any, Sequence

import keras

from idl.models.specs import LayerSpec

# kind -> (Keras layer class, default params)
_KINDS: dict[str, tuple[type, dict[str, Any]]] = {
    "conv": (keras.layers.Conv2D, {"activation": "relu"}),
    "maxpool": (keras.layers.MaxPooling2D, {}),
    "bn": (keras.layers.BatchNormalization, {}),
    "flatten": (keras.layers.Flatten, {}),
    "dropout": (keras.layers.Dropout, {}),
    "dense": (keras.layers.Dense, {"activation": "relu"}),
    "output": (keras.layers.Dense, {}),
}


def apply_spec(spec: Sequence[LayerSpec], x, prefix: str = ""):
    """Apply the layers of ``spec`` to the symbolic tensor ``x``; return the result.

    Layers get stable names (``{prefix}conv1``, ``{prefix}bn2``, ``{prefix}output``;
    a ``name`` param overrides) so two builds of the same spec have the same config.
    Raises ``ValueError`` naming the layer if a spatial size drops below 1, which
    happens when an architecture meant for 150x150 images is given smaller ones.
    """
    counts: dict[str, int] = {}
    for i, item in enumerate(spec):
        try:
            kind, params = item
        except (TypeError, ValueError):
            raise ValueError(f"layer spec #{i} must be a (kind, params) pair, got {item!r}") from None
        if kind not in _KINDS:
            raise ValueError(f"layer spec #{i}: unknown kind {kind!r}; known: {sorted(_KINDS)}")
        cls, defaults = _KINDS[kind]
        counts[kind] = counts.get(kind, 0) + 1
        default_name = f"{prefix}output" if kind == "output" else f"{prefix}{kind}{counts[kind]}"
        kwargs = {**defaults, "name": default_name, **params}
        shape_in = tuple(x.shape)[1:]
        too_small = (
            f"layer {kwargs['name']} ({kind} {params}) cannot take input of shape {shape_in}: "
            "the images are too small for this architecture"
        )
        try:
            x = cls(**kwargs)(x)
        except ValueError as exc:
            if len(shape_in) == 3 and any(w in str(exc) for w in ("size", "<= 0", "negative")):
                raise ValueError(too_small) from exc
            raise
        if len(x.shape) == 4 and any(d is not None and d < 1 for d in x.shape[1:3]):
            raise ValueError(too_small)
    return x


def build_from_spec(spec: Sequence[LayerSpec], input_shape: Sequence[int], name: str) -> keras.Model:
    """Build a functional model: Rescaling(1/255) on uint8 pixels, then ``spec``."""
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = keras.layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    outputs = apply_spec(spec, x)
    return keras.Model(inputs, outputs, name=name)
