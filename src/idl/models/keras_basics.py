"""Task 1 ("Keras Basics"): the report's MLP (Table 1) and CNN (Table 2), written down as data.

The architecture grid of Tables 3 and 4 is a handful of switches on these two models
(optimizer, 3 or 5 convolutional layers, 0 or 2 dropout layers), so each run is a
small dict in params.yaml (``basics.runs``, the one place the grid is written) and one
builder, :func:`build_run_model`, turns it into a Keras model via
:func:`idl.models.layers.build_from_spec` (Rescaling(1/255) on uint8 pixels first, then the
layers).

What the report leaves open, and what we chose (also stated on the results page):

* Table 2 gives no kernel size for the 128-filter convolutions: we use 3x3 (as the
  book's example the report took the model from), "same" padding for every
  convolution (the 7x7 one too) and ReLU for all of them.
* Pooling uses stride 1 as Table 2 says (the book uses 2), with Keras' default
  "valid" padding, so each pooling layer trims one pixel.
* 3 convolutional layers: see :data:`idl.basics.CONV3_NOTE`.
* Optimizers are Keras' defaults (:func:`optimizer`); the report names no settings.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import keras

from idl.models.layers import build_from_spec
from idl.models.specs import LayerSpec

N_CLASSES = 10

#: Table 1: base MLP.
MLP: list[LayerSpec] = [
    ("flatten", {}),
    ("dense", {"units": 200, "activation": "relu"}),
    ("dense", {"units": 100, "activation": "relu"}),
    ("output", {"units": N_CLASSES, "activation": "softmax"}),
]

_CONV = {"kernel_size": 3, "strides": 1, "padding": "same", "activation": "relu"}
_POOL = ("maxpool", {"pool_size": 2, "strides": 1})

#: Table 2: base CNN (5 convolutional layers, 2 dropout layers).
CNN: list[LayerSpec] = [
    ("conv", {"filters": 64, **_CONV, "kernel_size": 7}),
    _POOL,
    ("conv", {"filters": 128, **_CONV}),
    ("conv", {"filters": 128, **_CONV}),
    _POOL,
    ("conv", {"filters": 128, **_CONV}),
    ("conv", {"filters": 128, **_CONV}),
    _POOL,
    ("flatten", {}),
    ("dense", {"units": 128, "activation": "relu"}),
    ("dropout", {"rate": 0.5}),
    ("dense", {"units": 64, "activation": "relu"}),
    ("dropout", {"rate": 0.5}),
    ("output", {"units": N_CLASSES, "activation": "softmax"}),
]

#: The grid's switches (Tables 3 and 4).
CONV_LAYER_CHOICES = (3, 5)
DROPOUT_LAYER_CHOICES = (0, 2)


def mlp_spec() -> list[LayerSpec]:
    """Table 1 as a layer spec (a fresh copy, safe to edit)."""
    return [(k, dict(p)) for k, p in MLP]


def cnn_spec(conv_layers: int = 5, dropout_layers: int = 2) -> list[LayerSpec]:
    """Table 2 with 5 or 3 convolutional layers (see :data:`idl.basics.CONV3_NOTE`) and 2 or 0 dropout layers."""
    if conv_layers not in CONV_LAYER_CHOICES:
        raise ValueError(f"conv_layers must be one of {CONV_LAYER_CHOICES}, got {conv_layers!r}")
    if dropout_layers not in DROPOUT_LAYER_CHOICES:
        raise ValueError(f"dropout_layers must be one of {DROPOUT_LAYER_CHOICES}, got {dropout_layers!r}")
    spec: list[LayerSpec] = []
    previous = None
    for kind, params in CNN:
        # conv3: drop the second convolution of each 128-filter pair.
        if conv_layers == 3 and kind == "conv" and previous == "conv":
            continue
        if dropout_layers == 0 and kind == "dropout":
            continue
        spec.append((kind, dict(params)))
        previous = kind
    return spec


def optimizer(name: str) -> keras.optimizers.Optimizer:
    """A fresh Adam or SGD with Keras' default settings (the report names none)."""
    makers = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}
    try:
        return makers[name.lower()]()
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; known: {sorted(makers)}") from None


def build_basics_model(
    arch: str,
    input_shape: Sequence[int],
    conv_layers: int = 5,
    dropout_layers: int = 2,
) -> keras.Model:
    """The Table 1 MLP (``arch="mlp"``) or a Table 2 CNN variant for uint8 (H, W, C) images.

    ``input_shape`` is (28, 28, 1) for Fashion-MNIST or (32, 32, 3) for CIFAR-10; an
    (H, W) shape gets a channel axis. ``conv_layers``/``dropout_layers`` apply to the CNN only.
    """
    input_shape = tuple(int(d) for d in input_shape)
    if len(input_shape) == 2:
        input_shape += (1,)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (H, W, C) or (H, W), got {input_shape}")
    if arch == "mlp":
        return build_from_spec(mlp_spec(), input_shape, name="mlp")
    if arch == "cnn":
        spec = cnn_spec(conv_layers, dropout_layers)
        return build_from_spec(spec, input_shape, name=f"cnn_c{conv_layers}_d{dropout_layers}")
    raise ValueError(f"arch must be 'mlp' or 'cnn', got {arch!r}")


def build_run_model(run: Mapping[str, Any], input_shape: Sequence[int]) -> keras.Model:
    """The model of one ``basics.runs`` entry (``arch``; for a CNN ``conv_layers`` and
    ``dropout_layers``, Table 2's 5 and 2 where left out). Its ``optimizer`` is for training."""
    layers = {k: run[k] for k in ("conv_layers", "dropout_layers") if run.get(k) is not None}
    return build_basics_model(run["arch"], input_shape, **layers)
