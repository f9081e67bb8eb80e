"""Task 3's generative models (CAE, VAE, GAN), built from the report's Tables 10 and 11.

All three share two pieces, as in the course notebook the report used:

* :func:`encoder` (Table 10): a stride-2 3x3 ReLU convolution, ``n_down`` more of
  them, Flatten, and a Dense output layer;
* :func:`decoder` (Table 11): Dense(4*4*64), Reshape(4, 4, 64), ``n_up`` stride-2 3x3
  ReLU transposed convolutions, and a 3x3 convolution to the image's channels.

The decoder doubles the side ``n_up`` times from 4, so images must be square with a side
of ``4 * 2**n``: 32x32 needs n = 3, the report's 64x64 n = 4 (its tables say 4).

The models are ``keras.Model`` subclasses with the same surface, so the workflow and
:func:`idl.training.train` treat them alike:

============  ==========================  =====================================
model         trains on                   inference
============  ==========================  =====================================
:class:`CAE`  x (or (x, x)); BCE          ``encode``, ``decode``, ``reconstruct``
:class:`VAE`  x; BCE + KL                 ``encode``, ``decode``, ``reconstruct``, ``sample``
:class:`GAN`  x; discriminator/generator  ``decode``, ``sample``
============  ==========================  =====================================

Images are float in [0, 1] (uint8 in 0-255 is accepted too and divided by 255);
everything returned is a NumPy array of images in [0, 1]. Each model has
``latent_dim`` and ``image_shape`` attributes; :func:`build_generative` makes one by
kind, :func:`compile_generative` compiles it the notebook's way and fits
:func:`idl.training.train`'s ``compile_model`` hook.

The code is backend-neutral Keras 3 except for one unavoidable spot: the GAN trains
two networks with two optimizers in one step, which Keras' own ``train_step`` cannot
do. Its losses are written with ``keras.ops`` on explicit weight values
(``stateless_call``); only taking gradients and applying them depends on the backend
(:func:`_value_and_grad`, :meth:`GAN._apply`), for TensorFlow and JAX.
"""
from __future__ import annotations

import logging
import math
from typing import Any, Sequence

import keras
import numpy as np
from keras import ops

log = logging.getLogger(__name__)

KINDS = ("cae", "vae", "gan")
#: Latent sizes: the CAE's 256 and the VAE's 32 are the report's. The GAN's generator is
#: Table 11's decoder, whose table states 32 latent dimensions, so the GAN takes 32 too.
DEFAULT_LATENT = {"cae": 256, "vae": 32, "gan": 32}
#: The notebook's optimizers: Adam (Keras default rate) for the CAE, Adam 1e-3 for the
#: VAE, Adam(2e-4, beta_1=0.5) for each of the GAN's two networks.
DEFAULT_LEARNING_RATE = {"cae": 1e-3, "vae": 1e-3, "gan": 2e-4}
GAN_BETA_1 = 0.5
_PACKAGE = "idl"


# ------------------------------------------------------------------------- shapes

def _image_shape(image_shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"image shape {tuple(image_shape)}: expected (height, width, channels)")
    return shape


def resamplings(image_shape: Sequence[int]) -> int:
    """``n`` with side = 4 * 2**n: how many times the decoder doubles (and the encoder halves).

    Raises ``ValueError`` naming the shape if the images are not square with such a side.
    """
    h, w, _ = _image_shape(image_shape)
    n = int(round(math.log2(h / 4))) if h >= 4 else -1
    if h != w or n < 0 or 4 * 2**n != h:
        raise ValueError(
            f"image shape {tuple(image_shape)}: Table 11's decoder makes square images whose side is "
            f"4 * 2**n (8, 16, 32, 64, ...); resize the images to such a side"
        )
    return n


# ----------------------------------------------------------------------- builders

def encoder(
    image_shape: Sequence[int],
    out_dim: int,
    *,
    n_down: int | None = None,
    filters: int = 128,
    out_activation: str | None = "sigmoid",
    name: str = "encoder",
) -> keras.Model:
    """Table 10: Conv2D input layer + ``n_down`` Conv2D (3x3, stride 2, same, ReLU), Flatten, Dense.

    ``n_down=None`` takes it from the image side (32 -> 3, 64 -> 4), so the last feature
    map is 2x2 as in the report's 64x64 setup.
    """
    shape = _image_shape(image_shape)
    if n_down is None:
        n_down = resamplings(shape)
    conv = dict(kernel_size=(3, 3), strides=(2, 2), padding="same", activation="relu", filters=int(filters))
    inputs = keras.Input(shape, name=f"{name}_input")
    h = inputs
    for i in range(1 + int(n_down)):  # the input convolution, then n_down more
        h = keras.layers.Conv2D(**conv, name=f"{name}_conv{i + 1}")(h)
    h = keras.layers.Flatten(name=f"{name}_flatten")(h)
    outputs = keras.layers.Dense(int(out_dim), activation=out_activation, name=f"{name}_output")(h)
    return keras.Model(inputs, outputs, name=name)


def decoder(
    latent_dim: int,
    image_shape: Sequence[int],
    *,
    n_up: int | None = None,
    filters: int = 128,
    out_activation: str = "sigmoid",
    name: str = "decoder",
) -> keras.Model:
    """Table 11: Dense(4*4*64), Reshape, ``n_up`` Conv2DTranspose (3x3, stride 2, same, ReLU), Conv2D out.

    ``n_up=None`` takes it from the image side; a given ``n_up`` must produce that side.
    """
    shape = _image_shape(image_shape)
    n = resamplings(shape)
    if n_up is None:
        n_up = n
    elif int(n_up) != n:
        raise ValueError(f"image shape {shape}: n_up={n_up} would make {4 * 2 ** int(n_up)}x{4 * 2 ** int(n_up)} "
                         f"images; this side needs n_up={n}")
    inputs = keras.Input((int(latent_dim),), name=f"{name}_input")
    # Table 11 gives the Dense layer no activation and the notebook leaves Keras' default,
    # so it is linear: the ReLU transposed convolutions that follow add the non-linearity.
    h = keras.layers.Dense(4 * 4 * 64, name=f"{name}_dense")(inputs)
    h = keras.layers.Reshape((4, 4, 64), name=f"{name}_reshape")(h)
    for i in range(int(n_up)):
        h = keras.layers.Conv2DTranspose(int(filters), (3, 3), strides=(2, 2), padding="same", activation="relu",
                                         name=f"{name}_deconv{i + 1}")(h)
    outputs = keras.layers.Conv2D(shape[-1], (3, 3), padding="same", activation=out_activation,
                                  name=f"{name}_output")(h)
    return keras.Model(inputs, outputs, name=name)


# ------------------------------------------------------------------------ helpers

def _unit_float(x):
    """Images as floats in [0, 1]: uint8 is divided by 255, anything else only cast."""
    dtype = keras.backend.standardize_dtype(getattr(x, "dtype", "float32"))
    x = ops.cast(x, keras.backend.floatx())
    return x / 255.0 if dtype == "uint8" else x


def _unit_numpy(x) -> np.ndarray:
    x = np.asarray(x)
    return x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32, copy=False)


def _bce(target, prediction):
    """Mean binary cross-entropy over every element (pixel and channel, or unit) and the batch."""
    return ops.mean(keras.losses.binary_crossentropy(target, prediction))


def _normal(n: int, dim: int, seed: int | None) -> np.ndarray:
    """Standard normal latent vectors from NumPy: the same seed gives the same z on every backend."""
    return np.random.default_rng(seed).standard_normal((int(n), int(dim))).astype(np.float32)


class _Generative(keras.Model):
    """What the three models share: shape checks, config round trip, batched inference."""

    kind = ""

    def __init__(self, image_shape, latent_dim, *, filters: int = 128, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = _image_shape(image_shape)
        resamplings(self.image_shape)  # fail early, naming the shape
        self.latent_dim = int(latent_dim)
        self.filters = int(filters)
        self.seed = seed

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "trainable": self.trainable, "image_shape": list(self.image_shape),
                "latent_dim": self.latent_dim, "filters": self.filters, "seed": self.seed}

    def decode(self, z, batch_size: int = 256) -> np.ndarray:
        """Images in [0, 1] from latent vectors ``z`` (n, latent_dim)."""
        return np.asarray(self.decoder.predict(np.asarray(z, np.float32), batch_size=batch_size, verbose=0))


def _register(cls):
    return keras.saving.register_keras_serializable(package=_PACKAGE)(cls)


# ---------------------------------------------------------------------------- CAE

@_register
class CAE(_Generative):
    """Convolutional autoencoder: Table 10's encoder to a sigmoid code, Table 11's decoder back.

    Trains on images alone (or on (x, x)) with binary cross-entropy between input and
    reconstruction, as the notebook's CAE.
    """

    kind = "cae"

    def __init__(self, image_shape, latent_dim: int = DEFAULT_LATENT["cae"], *, filters: int = 128, **kwargs):
        kwargs.pop("seed", None)  # nothing random in a CAE
        super().__init__(image_shape, latent_dim, filters=filters, **kwargs)
        self.encoder = encoder(self.image_shape, self.latent_dim, filters=self.filters, name="encoder")
        self.decoder = decoder(self.latent_dim, self.image_shape, filters=self.filters, name="decoder")
        self.built = True  # both halves are built above

    def call(self, x, training=None):
        return self.decoder(self.encoder(_unit_float(x), training=training), training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return _bce(_unit_float(x if y is None else y), y_pred)

    def encode(self, x, batch_size: int = 256) -> np.ndarray:
        """Latent codes (n, latent_dim) of images ``x``."""
        return np.asarray(self.encoder.predict(_unit_numpy(x), batch_size=batch_size, verbose=0))

    def reconstruct(self, x, batch_size: int = 256) -> np.ndarray:
        """The decoded codes of images ``x``: images in [0, 1]."""
        return self.decode(self.encode(x, batch_size), batch_size)


# ---------------------------------------------------------------------------- VAE

@_register
class VAE(_Generative):
    """Variational autoencoder as in the notebook.

    The encoder's linear output is split into ``z_mean`` and ``z_log_var``; the forward
    pass samples z = z_mean + exp(z_log_var / 2) * eps (the reparameterisation trick;
    eps from a seedable ``keras.random.SeedGenerator``) and decodes it. The loss is the
    mean binary cross-entropy per pixel plus the KL divergence to N(0, I) divided by the
    number of pixel values (prod(image_shape)), the notebook's weighting. History
    columns: ``loss``, ``reconstruction_loss``, ``kl_loss``.

    The forward pass always samples, so validation losses estimate the same quantity as
    the training loss; :meth:`reconstruct` decodes ``z_mean`` and is deterministic.
    """

    kind = "vae"

    def __init__(self, image_shape, latent_dim: int = DEFAULT_LATENT["vae"], *, filters: int = 128,
                 seed: int | None = None, **kwargs):
        super().__init__(image_shape, latent_dim, filters=filters, seed=seed, **kwargs)
        self.encoder = encoder(self.image_shape, 2 * self.latent_dim, filters=self.filters, out_activation=None,
                               name="encoder")
        self.decoder = decoder(self.latent_dim, self.image_shape, filters=self.filters, name="decoder")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        self.built = True

    def _moments(self, x, training=None):
        stats = self.encoder(_unit_float(x), training=training)
        return stats[:, : self.latent_dim], stats[:, self.latent_dim:]

    def call(self, x, training=None):
        z_mean, z_log_var = self._moments(x, training)
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        z = z_mean + ops.exp(0.5 * z_log_var) * eps
        kl = -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)
        # added here because only the forward pass sees z_mean and z_log_var; compute_loss reads it back
        self.add_loss(ops.mean(kl) / float(np.prod(self.image_shape)))
        return self.decoder(z, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        reconstruction = _bce(_unit_float(x if y is None else y), y_pred)
        kl = ops.sum(ops.stack(self.losses)) if self.losses else ops.zeros(())
        self.reconstruction_loss_tracker.update_state(reconstruction)
        self.kl_loss_tracker.update_state(kl)
        return reconstruction + kl

    def encode(self, x, batch_size: int = 256) -> np.ndarray:
        """``z_mean`` (n, latent_dim) of images ``x``."""
        stats = self.encoder.predict(_unit_numpy(x), batch_size=batch_size, verbose=0)
        return np.asarray(stats)[:, : self.latent_dim]

    def reconstruct(self, x, batch_size: int = 256) -> np.ndarray:
        """Decoded ``z_mean`` of images ``x``: images in [0, 1], no sampling noise."""
        return self.decode(self.encode(x, batch_size), batch_size)

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` new images decoded from z ~ N(0, I) (seeded: the same seed, the same images)."""
        return self.decode(_normal(n, self.latent_dim, seed))


# ---------------------------------------------------------------------------- GAN

@_register
class OptimizerPair(keras.optimizers.Optimizer):
    """The GAN's two optimizers presented to Keras as its one ``model.optimizer``.

    Keras keeps a model's optimizer state in ``model.optimizer`` (the JAX trainer threads
    ``optimizer.variables`` through its jitted step; checkpoints save it), but one
    optimizer cannot serve two networks. This holds ``d_optimizer`` and ``g_optimizer``
    and lists both their variables (discriminator's first); the GAN's step applies each
    to its own network. ``learning_rate`` and ``iterations`` are the generator's.
    Both inner optimizers must be built before this one (:meth:`GAN.compile` does it).
    """

    def __init__(self, d_optimizer, g_optimizer, name: str = "optimizer_pair", **kwargs):
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        if d_optimizer is g_optimizer:
            raise ValueError("the discriminator and the generator need separate optimizer objects")
        self.d_optimizer = keras.optimizers.get(d_optimizer)
        self.g_optimizer = keras.optimizers.get(g_optimizer)

    def build(self, var_list):
        if not (self.d_optimizer.built and self.g_optimizer.built):
            raise ValueError("OptimizerPair: build d_optimizer and g_optimizer on their networks' variables first")
        super().build(var_list)

    @property
    def variables(self):
        return self.d_optimizer.variables + self.g_optimizer.variables

    # the inner optimizers are saved (and loaded) as this object's children
    def save_own_variables(self, store):
        pass

    def load_own_variables(self, store):
        pass

    @property
    def learning_rate(self):
        return self.g_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        # Optimizer.__init__ sets a placeholder rate before the inner optimizers exist.
        if "g_optimizer" in self.__dict__:
            self.g_optimizer.learning_rate = value

    @property
    def iterations(self):
        return self.g_optimizer.iterations

    def apply(self, grads, trainable_variables=None):
        raise NotImplementedError("apply d_optimizer and g_optimizer to their own networks")

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        raise NotImplementedError("apply d_optimizer and g_optimizer to their own networks")

    def get_config(self):
        return {"name": self.name,
                "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
                "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        d = keras.saving.deserialize_keras_object(config.pop("d_optimizer"), custom_objects=custom_objects)
        g = keras.saving.deserialize_keras_object(config.pop("g_optimizer"), custom_objects=custom_objects)
        return cls(d, g, **config)


def _value_and_grad(fn, params):
    """``(loss, aux), grads`` of ``fn(params) -> (loss, aux)`` with respect to ``params`` (a list).

    The one backend-specific piece of the GAN's loss side: Keras has no gradient API.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax  # only this branch runs on JAX

        return jax.value_and_grad(fn, has_aux=True)(params)
    if backend == "tensorflow":
        # Imported here, not at the top, so the module loads (and the rest works) on any
        # backend; GradientTape is the only way to take gradients on TensorFlow.
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(params)
            loss, aux = fn(params)
        return (loss, aux), tape.gradient(loss, params)
    raise NotImplementedError(_backend_message(backend))


def _backend_message(backend: str) -> str:
    return (f"GAN training supports the TensorFlow and JAX backends, not {backend!r}; "
            f"set KERAS_BACKEND=tensorflow or jax (the CAE and VAE train on any backend)")


def _pick(values, variables, subset):
    """The entries of ``values`` (aligned with ``variables``) that belong to ``subset``."""
    index = {id(v): i for i, v in enumerate(variables)}
    return [values[index[id(v)]] for v in subset]


def _put(values, variables, subset, new):
    """``values`` with the entries of ``subset`` replaced by ``new``."""
    out = list(values)
    index = {id(v): i for i, v in enumerate(variables)}
    for v, value in zip(subset, new):
        out[index[id(v)]] = value
    return out


def _current(scope, variables, old):
    """Values of ``variables`` after a StatelessScope (unchanged ones keep ``old``)."""
    new = [scope.get_current_value(v) for v in variables]
    return [o if n is None else n for n, o in zip(new, old)]


@_register
class GAN(_Generative):
    """The notebook's GAN: Table 11's decoder (tanh) generates, Table 10's encoder (1 sigmoid unit) judges.

    Takes images in [0, 1] like the CAE and VAE and rescales them to the generator's
    [-1, 1] inside its steps. Each batch first trains the discriminator on the real
    images (label 1) and as many generated ones (label 0), then the generator through
    the discriminator (which it wants to say 1), each network with its own optimizer.
    History columns: ``loss`` (d_loss + g_loss, so code watching ``loss`` works),
    ``d_loss``, ``g_loss``. Calling the model on images gives the discriminator's
    probability that they are real.
    """

    kind = "gan"

    def __init__(self, image_shape, latent_dim: int = DEFAULT_LATENT["gan"], *, filters: int = 128,
                 seed: int | None = None, **kwargs):
        super().__init__(image_shape, latent_dim, filters=filters, seed=seed, **kwargs)
        self.generator = decoder(self.latent_dim, self.image_shape, filters=self.filters, out_activation="tanh",
                                 name="generator")
        self.discriminator = encoder(self.image_shape, 1, filters=self.filters, out_activation="sigmoid",
                                     name="discriminator")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker, self.d_loss_tracker, self.g_loss_tracker]

    @property
    def d_optimizer(self):
        return getattr(self.optimizer, "d_optimizer", None)

    @property
    def g_optimizer(self):
        return getattr(self.optimizer, "g_optimizer", None)

    def call(self, x, training=None):
        return self.discriminator(2.0 * _unit_float(x) - 1.0, training=training)

    def decode(self, z, batch_size: int = 256) -> np.ndarray:
        """Generated images in [0, 1] (the generator's tanh range mapped back) from latent vectors ``z``."""
        out = self.generator.predict(np.asarray(z, np.float32), batch_size=batch_size, verbose=0)
        return (np.asarray(out) + 1.0) / 2.0

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` generated images from z ~ N(0, I) (seeded: the same seed, the same images)."""
        return self.decode(_normal(n, self.latent_dim, seed))

    # ------------------------------------------------------------------ compile

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Compile with one optimizer per network (default Adam(2e-4, beta_1=0.5) each)."""
        for key in ("optimizer", "loss", "loss_weights", "metrics", "weighted_metrics"):
            if kwargs.get(key) is not None:
                raise TypeError(f"GAN.compile() takes d_optimizer and g_optimizer; {key}= is not used by a GAN")
            kwargs.pop(key, None)
        if d_optimizer is None:
            d_optimizer = keras.optimizers.Adam(DEFAULT_LEARNING_RATE["gan"], beta_1=GAN_BETA_1)
        if g_optimizer is None:
            g_optimizer = keras.optimizers.Adam(DEFAULT_LEARNING_RATE["gan"], beta_1=GAN_BETA_1)
        pair = OptimizerPair(d_optimizer, g_optimizer)
        pair.d_optimizer.build(self.discriminator.trainable_variables)
        pair.g_optimizer.build(self.generator.trainable_variables)
        super().compile(optimizer=pair, **kwargs)

    def get_compile_config(self):
        if not self.compiled or not isinstance(self.optimizer, OptimizerPair):
            return {}
        return {"d_optimizer": keras.saving.serialize_keras_object(self.optimizer.d_optimizer),
                "g_optimizer": keras.saving.serialize_keras_object(self.optimizer.g_optimizer)}

    def compile_from_config(self, config):
        self.compile(d_optimizer=keras.saving.deserialize_keras_object(config["d_optimizer"]),
                     g_optimizer=keras.saving.deserialize_keras_object(config["g_optimizer"]))
        self.optimizer.build(self.trainable_variables)

    # --------------------------------------------------------- losses (neutral)

    def _d_loss(self, d_params, d_state, g_params, g_state, real, z):
        """Discriminator loss on real (label 1) and generated (label 0) images; returns (loss, new d_state)."""
        fake, _ = self.generator.stateless_call(g_params, g_state, z, training=True)
        images = ops.concatenate([real, ops.stop_gradient(fake)], axis=0)
        n = ops.shape(real)[0]
        labels = ops.concatenate([ops.ones((n, 1)), ops.zeros((n, 1))], axis=0)
        pred, d_state = self.discriminator.stateless_call(d_params, d_state, images, training=True)
        return _bce(labels, pred), d_state

    def _g_loss(self, g_params, g_state, d_params, d_state, z):
        """Generator loss: the discriminator should call its images real; returns (loss, new g_state)."""
        fake, g_state = self.generator.stateless_call(g_params, g_state, z, training=True)
        pred, _ = self.discriminator.stateless_call(d_params, d_state, fake, training=True)
        return _bce(ops.ones_like(pred), pred), g_state

    # ------------------------------------------------------------------- steps

    def _apply(self, optimizer, opt_values, grads, params, variables):
        """New (params, optimizer values) after one update: the other backend-specific piece."""
        if keras.backend.backend() == "jax":
            return optimizer.stateless_apply(opt_values, grads, params)
        # TensorFlow's optimizers refuse stateless_apply (tf.distribute needs real variables)
        optimizer.apply(grads, variables)
        return [v.value for v in variables], opt_values

    def _step(self, state, data, training: bool):
        """One batch: (logs, new state). ``state`` = (trainable, non_trainable, optimizer, metrics) values."""
        trainable, non_trainable, opt_values, metric_values = state
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        real = 2.0 * _unit_float(x) - 1.0
        n = ops.shape(real)[0]

        with keras.StatelessScope(state_mapping=list(zip(self.non_trainable_variables, non_trainable))) as scope:
            z_d = keras.random.normal((n, self.latent_dim), seed=self.seed_generator)
            z_g = keras.random.normal((n, self.latent_dim), seed=self.seed_generator)
        non_trainable = _current(scope, self.non_trainable_variables, non_trainable)

        tv, ntv = self.trainable_variables, self.non_trainable_variables
        d_vars, g_vars = self.discriminator.trainable_variables, self.generator.trainable_variables
        d_nt_vars, g_nt_vars = self.discriminator.non_trainable_variables, self.generator.non_trainable_variables
        d_params, g_params = _pick(trainable, tv, d_vars), _pick(trainable, tv, g_vars)
        d_state, g_state = _pick(non_trainable, ntv, d_nt_vars), _pick(non_trainable, ntv, g_nt_vars)

        if training:
            n_d = len(self.optimizer.d_optimizer.variables)
            d_opt, g_opt = (None, None) if opt_values is None else (opt_values[:n_d], opt_values[n_d:])
            (d_loss, d_state), grads = _value_and_grad(
                lambda p: self._d_loss(p, d_state, g_params, g_state, real, z_d), d_params)
            d_params, d_opt = self._apply(self.optimizer.d_optimizer, d_opt, grads, d_params, d_vars)
            (g_loss, g_state), grads = _value_and_grad(
                lambda p: self._g_loss(p, g_state, d_params, d_state, z_g), g_params)
            g_params, g_opt = self._apply(self.optimizer.g_optimizer, g_opt, grads, g_params, g_vars)
            opt_values = None if opt_values is None else list(d_opt) + list(g_opt)
            trainable = _put(_put(trainable, tv, d_vars, d_params), tv, g_vars, g_params)
        else:
            d_loss, _ = self._d_loss(d_params, d_state, g_params, g_state, real, z_d)
            g_loss, _ = self._g_loss(g_params, g_state, d_params, d_state, z_g)
        non_trainable = _put(_put(non_trainable, ntv, d_nt_vars, d_state), ntv, g_nt_vars, g_state)

        mv = self.metrics_variables
        with keras.StatelessScope(state_mapping=list(zip(mv, metric_values))) as scope:
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            self.loss_tracker.update_state(d_loss + g_loss)
            logs = {m.name: m.result() for m in self.metrics}
        metric_values = _current(scope, mv, metric_values)
        return logs, (trainable, non_trainable, opt_values, metric_values)

    def _stateful(self, data, training: bool):
        """TensorFlow: read the variables, run the step, write back what it changed."""
        if keras.backend.backend() != "tensorflow":
            raise NotImplementedError(_backend_message(keras.backend.backend()))
        values = lambda vs: [v.value for v in vs]  # noqa: E731
        state = (values(self.trainable_variables), values(self.non_trainable_variables), None,
                 values(self.metrics_variables))
        logs, (_, non_trainable, _, metric_values) = self._step(state, data, training)
        # trainable and optimizer variables were updated in place by optimizer.apply
        for v, value in zip(self.non_trainable_variables + self.metrics_variables, non_trainable + metric_values):
            v.assign(value)
        return logs

    def train_step(self, *args):
        """Keras calls ``train_step(data)`` on TensorFlow and ``train_step(state, data)`` on JAX."""
        if keras.backend.backend() == "jax":
            state, data = args
            return self._step(state, data, training=True)
        return self._stateful(args[0], training=True)

    def test_step(self, *args):
        """Both losses on held-out images, no updates."""
        if keras.backend.backend() == "jax":
            (trainable, non_trainable, metric_values), data = args
            logs, (trainable, non_trainable, _, metric_values) = self._step(
                (trainable, non_trainable, None, metric_values), data, training=False)
            return logs, (trainable, non_trainable, metric_values)
        return self._stateful(args[0], training=False)


# ------------------------------------------------------------------- factories

_CLASSES = {"cae": CAE, "vae": VAE, "gan": GAN}


def build_generative(kind: str, image_shape: Sequence[int], latent_dim: int | None = None, *,
                     filters: int = 128, seed: int | None = None) -> keras.Model:
    """A CAE, VAE or GAN for images of ``image_shape``; ``latent_dim=None`` takes the report's size."""
    try:
        cls = _CLASSES[kind.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown generative model kind {kind!r}; known: {', '.join(KINDS)}") from None
    latent = DEFAULT_LATENT[cls.kind] if latent_dim is None else int(latent_dim)
    if cls is CAE:
        return cls(image_shape, latent, filters=filters)
    return cls(image_shape, latent, filters=filters, seed=seed)


def compile_generative(model: keras.Model, steps_per_epoch: int | None = None,
                       learning_rate: float | None = None) -> None:
    """Compile a CAE, VAE or GAN the notebook's way; fits ``idl.training.train(compile_model=...)``.

    Adam at ``learning_rate`` (None: 1e-3 for the CAE and VAE, 2e-4 for the GAN, whose two
    Adams also take beta_1 = 0.5). ``steps_per_epoch`` is accepted for the hook and unused
    (the rate is constant, as in the notebook).
    """
    if not isinstance(model, _Generative):
        raise TypeError(f"compile_generative() compiles a CAE, VAE or GAN, not {type(model).__name__}")
    rate = DEFAULT_LEARNING_RATE[model.kind] if learning_rate is None else float(learning_rate)
    log.info("compiling the %s with Adam at learning rate %g%s", model.kind.upper(), rate,
             f" and beta_1={GAN_BETA_1} (one per network)" if isinstance(model, GAN) else "")
    if isinstance(model, GAN):
        model.compile(d_optimizer=keras.optimizers.Adam(rate, beta_1=GAN_BETA_1),
                      g_optimizer=keras.optimizers.Adam(rate, beta_1=GAN_BETA_1))
    else:
        model.compile(optimizer=keras.optimizers.Adam(rate))

