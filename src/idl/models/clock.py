"""Clock-reading CNNs of the report: Keras models built from the layer specs of
:mod:`idl.models.specs`, where the specs themselves live.

One small builder, :func:`build_from_spec`, turns a spec into a Keras model; :func:`apply_spec` does the
same on a tensor so multi-head models can share a convolutional trunk.

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
import numpy as np

from idl.models.specs import FINAL_CLASSIFIER, LayerSpec, with_output

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


def clock_classifier(
    n_classes: int = 12,
    input_shape: Sequence[int] = (150, 150, 1),
    spec: Sequence[LayerSpec] = FINAL_CLASSIFIER,
    name: str | None = None,
) -> keras.Model:
    """The report's clock classifier: ``spec`` with an n_classes-way softmax output."""
    input_shape = tuple(input_shape)
    if len(input_shape) == 2:
        input_shape = input_shape + (1,)
    spec = with_output(spec, n_classes, activation="softmax")
    return build_from_spec(spec, input_shape, name or f"clock_classifier_{n_classes}")


def prepare_images(x: np.ndarray) -> np.ndarray:
    """Grayscale images (N, H, W) -> (N, H, W, 1), dtype kept (the model rescales).

    Keeping uint8 costs a quarter of the memory of float32; arrays that already have
    a channel axis are returned unchanged.
    """
    x = np.asarray(x)
    if x.ndim == 3:
        return x[..., np.newaxis]
    if x.ndim == 4:
        return x
    raise ValueError(f"images must have shape (N, H, W) or (N, H, W, C), got {x.shape}")


def load_model(path) -> keras.Model:
    """A saved clock model. Use this, not ``keras.models.load_model`` alone: importing this
    module registers the custom layers a clock model may hold (:class:`TurnUpright`)."""
    return keras.models.load_model(path)


@keras.saving.register_keras_serializable(package="idl")
class TurnUpright(keras.layers.Layer):
    """Turn each image so that the direction given by its vector points up.

    Inputs ``[images, direction]``: images (N, H, W, C) and, per image, a vector
    ``(sin a, cos a)`` (any length) of the angle ``a`` clockwise from the top of the
    picture at which the dial's 12 lies. The output is the image turned by ``a``
    counter-clockwise about its centre, so that the 12 is at the top; corners the turn
    uncovers are filled by reflection (as the rotation augmentation does). No gradient
    flows into the direction: the layer reads an orientation, it does not train it.
    """

    def __init__(self, fill_mode: str = "reflect", **kwargs):
        super().__init__(**kwargs)
        self.fill_mode = fill_mode

    def call(self, inputs):
        from keras import ops

        images, direction = inputs
        direction = ops.stop_gradient(ops.cast(direction, images.dtype))
        s, c = direction[:, 0], direction[:, 1]
        norm = ops.sqrt(s * s + c * c) + 1e-12
        s, c = s / norm, c / norm
        h, w = ops.shape(images)[1], ops.shape(images)[2]
        cx = (ops.cast(w, images.dtype) - 1.0) / 2.0
        cy = (ops.cast(h, images.dtype) - 1.0) / 2.0
        # output pixel (x, y) samples the input at the centre + (its offset turned clockwise by a):
        # the output's top (12 upright) reads the input where the 12 is
        zero = ops.zeros_like(s)
        transform = ops.stack([c, -s, cx - c * cx + s * cy,
                               s, c, cy - s * cx - c * cy,
                               zero, zero], axis=1)
        return ops.image.affine_transform(images, transform, interpolation="bilinear",
                                          fill_mode=self.fill_mode)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode}
