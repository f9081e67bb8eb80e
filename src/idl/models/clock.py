"""Clock-reading CNNs of the report: Keras models built from the layer specs of
:mod:`idl.models.specs`, where the specs themselves live, by :mod:`idl.models.layers`.
"""
from __future__ import annotations

from typing import Sequence

import keras
import numpy as np

from idl.models.layers import build_from_spec
from idl.models.specs import FINAL_CLASSIFIER, LayerSpec, with_output


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
