"""Scores for the report's generative models (Task 3: CAE, VAE, GAN), which it shows only as pictures.

Three questions, three kinds of number:

* **How well does the autoencoder reconstruct?** Per-image mean squared error and
  SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03,
  data range 1, 'valid' filtering, computed per channel and averaged), see
  :func:`score_reconstructions`.
* **How close are generated images to real ones, as a set?** The Fréchet distance
  (the FID formula) between Gaussians fitted to the two sets in a feature space,
  next to the same distance between two disjoint halves of the real images: the
  *floor* a perfect generator would reach at that sample size, so "good" has a
  scale. See :func:`score_samples`.
* **Are the samples varied, or all the same picture?** Mean pairwise distance in
  feature space, relative to the real images': about 1 is as varied as the data,
  0 means every sample is identical (the report's Figure 9 VAE).

The feature space is our own, built by the pipeline with no downloads and no
external data: :class:`FeatureNet` is the report's Table 10 encoder (3x3 stride-2
'same' ReLU convolutions with 128 filters; an input convolution plus ``n_down``
more, 3 for 32x32 images and 4 for 64x64) with **fixed, seeded random He-normal
weights that are never trained**. An image's features are each convolution's
per-channel spatial mean, concatenated (128 numbers per layer). Random-weight
convolutional features are a known training-free embedding (Naeem et al. 2020
and Kynkäänniemi et al. use random embeddings to score generators), but they
measure **colour, edge and texture statistics, not semantics**: a distance of
zero says the two sets look alike at that level, not that a generated cat is
recognisably a cat. The numbers are therefore comparable between our own models
and datasets, and not with published FID values (which use Inception features).

The weights are drawn with NumPy rather than Keras' random generators, so the
same seed gives the same network, and the same scores, under every Keras backend.
"""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
from scipy import ndimage
from scipy.spatial.distance import pdist
from tqdm import tqdm

log = logging.getLogger(__name__)

# SSIM constants (Wang et al. 2004) for images in [0, 1].
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
DATA_RANGE = 1.0

#: Table 10: filters of every encoder convolution.
FEATURE_FILTERS = 128
#: Pairs of samples averaged by :func:`diversity`; above this, a seeded random subset.
DEFAULT_MAX_PAIRS = 100_000
# Keras' HeNormal is a normal truncated at 2 standard deviations, rescaled so the
# kept values still have standard deviation sqrt(2 / fan_in).
_TRUNCATED_NORMAL_STD = 0.87962566103423978


# --------------------------------------------------------------------------- checks

def _check_images(images, name: str, min_count: int = 1) -> np.ndarray:
    """``images`` as a float array (n, h, w, 3) with values in [0, 1], or a ValueError saying what is wrong."""
    x = np.asarray(images)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(
            f"{name} has dtype {x.dtype}; expected float images with values in [0, 1] "
            f"(divide uint8 pixels by 255 first)"
        )
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"{name} has shape {x.shape}; expected (n, height, width, 3) RGB images")
    if len(x) < min_count:
        raise ValueError(f"{name} holds {len(x)} images; at least {min_count} are needed")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinity; check the model's output")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(
            f"{name} has values in [{lo:.4g}, {hi:.4g}]; expected [0, 1] (a sigmoid output, or pixels / 255)"
        )
    return x


def _check_pair(a, b, name_a: str, name_b: str) -> tuple[np.ndarray, np.ndarray]:
    """Two image arrays of the same shape, compared image by image."""
    a = _check_images(a, name_a)
    b = _check_images(b, name_b)
    if a.shape != b.shape:
        raise ValueError(f"{name_a} has shape {a.shape} but {name_b} has shape {b.shape}; they must match image for image")
    return a, b


def _check_features(feat, name: str, min_count: int = 2) -> np.ndarray:
    """``feat`` as a float64 (n, d) array of finite numbers."""
    f = np.asarray(feat, dtype=np.float64)
    if f.ndim != 2:
        raise ValueError(f"{name} has shape {f.shape}; expected (n_samples, n_features)")
    if len(f) < min_count:
        raise ValueError(f"{name} holds {len(f)} samples; at least {min_count} are needed")
    if not np.all(np.isfinite(f)):
        raise ValueError(f"{name} contains NaN or infinity")
    return f


# --------------------------------------------------------------------------- reconstruction

def mse(a, b) -> np.ndarray:
    """Mean squared error of each image pair (n,), over pixels and channels."""
    a, b = _check_pair(a, b, "a", "b")
    d = a.astype(np.float64) - b.astype(np.float64)
    return np.mean(d * d, axis=(1, 2, 3))


def _gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> np.ndarray:
    """The normalised 1-D Gaussian; SSIM's 2-D window is its outer product with itself."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()


def _filter_valid(x: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Gaussian-weighted local means of (n, h, w, c), 'valid' positions only (each side loses size // 2)."""
    pad = len(window) // 2
    for axis in (1, 2):
        x = ndimage.correlate1d(x, window, axis=axis, mode="constant")
        x = np.take(x, np.arange(pad, x.shape[axis] - pad), axis=axis)
    return x


def ssim(a, b, batch_size: int = 256) -> np.ndarray:
    """Structural similarity of each image pair (n,): 1 for identical images, lower as they differ.

    Standard SSIM (Wang et al. 2004) as in ``tf.image.ssim`` / scikit-image with
    Gaussian weights: local statistics from an 11x11 Gaussian window (sigma 1.5) at
    'valid' positions, population (not Bessel-corrected) variances, the SSIM map
    averaged over positions per channel, then over the 3 channels.
    """
    a, b = _check_pair(a, b, "a", "b")
    if min(a.shape[1], a.shape[2]) < SSIM_WINDOW:
        raise ValueError(f"images are {a.shape[1]}x{a.shape[2]}; SSIM needs at least {SSIM_WINDOW}x{SSIM_WINDOW}")
    window = _gaussian_window()
    c1 = (SSIM_K1 * DATA_RANGE) ** 2
    c2 = (SSIM_K2 * DATA_RANGE) ** 2
    out = np.empty(len(a), dtype=np.float64)
    for start in range(0, len(a), batch_size):
        x = a[start:start + batch_size].astype(np.float64)
        y = b[start:start + batch_size].astype(np.float64)
        mu_x, mu_y = _filter_valid(x, window), _filter_valid(y, window)
        var_x = _filter_valid(x * x, window) - mu_x * mu_x
        var_y = _filter_valid(y * y, window) - mu_y * mu_y
        cov = _filter_valid(x * y, window) - mu_x * mu_y
        luminance = (2 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1)
        structure = (2 * cov + c2) / (var_x + var_y + c2)
        per_channel = np.mean(luminance * structure, axis=(1, 2))
        out[start:start + batch_size] = per_channel.mean(axis=1)
    return out


def score_reconstructions(originals, reconstructions) -> dict:
    """How well an autoencoder reproduces its inputs: ``n``, ``mse_mean``, ``ssim_mean`` (plain floats)."""
    originals, reconstructions = _check_pair(originals, reconstructions, "originals", "reconstructions")
    return {
        "n": int(len(originals)),
        "mse_mean": float(np.mean(mse(originals, reconstructions))),
        "ssim_mean": float(np.mean(ssim(originals, reconstructions))),
    }


# --------------------------------------------------------------------------- feature space

def n_down_for_side(side: int) -> int:
    """Table 10's downsampling layers after the input convolution: 3 for 32x32, 4 for 64x64 (down to 2x2)."""
    side = int(side)
    if side < 8 or side & (side - 1):
        raise ValueError(f"image side {side} is not supported; the feature net needs a power of two, at least 8 (32 or 64)")
    return side.bit_length() - 1 - 2


def _he_normal(rng: np.random.Generator, shape: Sequence[int]) -> np.ndarray:
    """Keras' HeNormal (truncated at 2 sd, std sqrt(2 / fan_in)) drawn from a NumPy generator."""
    fan_in = int(np.prod(shape[:-1]))
    z = rng.standard_normal(shape)
    bad = np.abs(z) > 2.0
    while np.any(bad):
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2.0
    return (z * (np.sqrt(2.0 / fan_in) / _TRUNCATED_NORMAL_STD)).astype(np.float32)


class FeatureNet:
    """Table 10's encoder with fixed random weights, mapping an image to 128 x n_layers numbers.

    Never trained: the same ``seed`` gives the same weights (drawn with NumPy, so
    independent of the Keras backend) and so the same features on every run.
    ``model`` is the Keras model, ``dim`` the feature length.
    """

    def __init__(self, image_shape: Sequence[int], seed: int = 0):
        import keras
        from keras import layers

        shape = tuple(int(s) for s in image_shape)
        if len(shape) != 3 or shape[2] != 3 or shape[0] != shape[1]:
            raise ValueError(f"image_shape {tuple(image_shape)} must be (side, side, 3) for square RGB images")
        self.image_shape = shape
        self.seed = int(seed)
        self.n_down = n_down_for_side(shape[0])
        self.n_layers = 1 + self.n_down
        self.dim = FEATURE_FILTERS * self.n_layers

        inputs = keras.Input(shape=shape, name="image")
        x = inputs
        pooled = []
        for i in range(self.n_layers):
            x = layers.Conv2D(FEATURE_FILTERS, 3, strides=2, padding="same", activation="relu", name=f"conv{i}")(x)
            pooled.append(layers.GlobalAveragePooling2D(name=f"channel_mean{i}")(x))
        outputs = layers.Concatenate(name="features")(pooled)
        self.model = keras.Model(inputs, outputs, name="feature_net")

        rng = np.random.default_rng(self.seed)
        for i in range(self.n_layers):
            conv = self.model.get_layer(f"conv{i}")
            kernel, bias = conv.get_weights()
            conv.set_weights([_he_normal(rng, kernel.shape), np.zeros_like(bias)])

    def __repr__(self) -> str:
        return f"FeatureNet(image_shape={self.image_shape}, seed={self.seed}, dim={self.dim})"


def features(images, net: FeatureNet, batch_size: int = 256, progress: bool = False) -> np.ndarray:
    """Feature vectors (n, net.dim) of images in [0, 1], float64, computed in batches."""
    import keras

    x = _check_images(images, "images")
    if x.shape[1:] != net.image_shape:
        raise ValueError(f"images have shape {x.shape[1:]} but the feature net was built for {net.image_shape}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    out = np.empty((len(x), net.dim), dtype=np.float64)
    starts = range(0, len(x), batch_size)
    for start in tqdm(starts, desc="features", unit="batch", disable=not progress):
        batch = x[start:start + batch_size].astype(np.float32)
        out[start:start + len(batch)] = keras.ops.convert_to_numpy(net.model(batch, training=False))
    return out


# --------------------------------------------------------------------------- set scores

def _cov_factor(centred: np.ndarray) -> np.ndarray:
    """F (d, k) with F @ F.T equal to the sample covariance, k = min(n, d); no square roots taken."""
    n, d = centred.shape
    f = np.linalg.qr(centred, mode="r").T if n > d else centred.T
    return f / np.sqrt(n - 1)


def frechet_distance(feat_a, feat_b) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (the FID formula); never negative.

    ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)), sample covariances (n - 1).
    With S = F F^T, Tr (S_a S_b)^(1/2) is the sum of the singular values of
    F_a^T F_b, which avoids matrix square roots and their round-off: identical
    sets give 0 to about 1e-12 of the traces even when n < d (singular covariances).
    """
    a = _check_features(feat_a, "feat_a")
    b = _check_features(feat_b, "feat_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feat_a has {a.shape[1]} features but feat_b has {b.shape[1]}; use the same feature net for both")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    f_a, f_b = _cov_factor(a - mu_a), _cov_factor(b - mu_b)
    tr_a, tr_b = float(np.sum(f_a * f_a)), float(np.sum(f_b * f_b))
    tr_sqrt = float(np.sum(np.linalg.svd(f_a.T @ f_b, compute_uv=False)))
    diff = mu_a - mu_b
    value = float(diff @ diff) + tr_a + tr_b - 2.0 * tr_sqrt
    return max(value, 0.0)


def _mean_pair_distance(f: np.ndarray, max_pairs: int, seed: int, chunk: int = 8192) -> float:
    """Mean Euclidean distance over all pairs, or over ``max_pairs`` seeded random pairs (i != j)."""
    n = len(f)
    if n * (n - 1) // 2 <= max_pairs:
        return float(np.mean(pdist(f)))
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, size=max_pairs)
    j = rng.integers(0, n - 1, size=max_pairs)
    j = j + (j >= i)  # a partner other than i, uniformly
    total = 0.0
    for s in range(0, max_pairs, chunk):
        d = f[i[s:s + chunk]] - f[j[s:s + chunk]]
        total += float(np.sum(np.sqrt(np.sum(d * d, axis=1))))
    return total / max_pairs


def diversity(feat, reference_feat=None, max_pairs: int = DEFAULT_MAX_PAIRS, seed: int = 0) -> float:
    """Mean pairwise Euclidean distance between samples; divided by ``reference_feat``'s when that is given.

    0 exactly when all samples are identical. Above ``max_pairs`` pairs a seeded
    random subset of pairs is used, so the value is deterministic.
    """
    if max_pairs < 1:
        raise ValueError(f"max_pairs must be at least 1, got {max_pairs}")
    f = _check_features(feat, "feat")
    value = _mean_pair_distance(f, max_pairs, seed)
    if reference_feat is None:
        return value
    ref = _check_features(reference_feat, "reference_feat")
    if ref.shape[1] != f.shape[1]:
        raise ValueError(f"feat has {f.shape[1]} features but reference_feat has {ref.shape[1]}")
    ref_value = _mean_pair_distance(ref, max_pairs, seed)
    if ref_value == 0.0:
        raise ValueError("reference_feat has zero diversity (all its samples are identical), so a relative diversity is undefined")
    return value / ref_value


def relative_diversity(gen_feat, real_feat, max_pairs: int = DEFAULT_MAX_PAIRS, seed: int = 0) -> float:
    """diversity(generated) / diversity(real): about 1 is as varied as the data, 0 is all samples identical."""
    return diversity(gen_feat, reference_feat=real_feat, max_pairs=max_pairs, seed=seed)


def split_halves(rows: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint, equally large random halves of ``rows`` (seeded; an odd last row is dropped)."""
    perm = np.random.default_rng(seed).permutation(len(rows))
    half = len(rows) // 2
    return rows[np.sort(perm[:half])], rows[np.sort(perm[half:2 * half])]


def score_sample_features(gen_f, real_f, seed: int = 0, max_pairs: int = DEFAULT_MAX_PAIRS) -> dict:
    """:func:`score_samples` on features already computed (a caller scoring several sets
    against the same real images computes theirs once)."""
    gen_f = _check_features(gen_f, "gen_f", min_count=2)
    real_f = _check_features(real_f, "real_f", min_count=4)
    a, b = split_halves(real_f, seed)
    return {
        "frechet": frechet_distance(gen_f, a),
        "frechet_real_floor": frechet_distance(b, a),
        "relative_diversity": relative_diversity(gen_f, real_f, max_pairs=max_pairs, seed=seed),
        "n_generated": int(len(gen_f)),
        "n_real": int(len(real_f)),
    }


def score_samples(
    generated,
    real,
    net: FeatureNet,
    seed: int = 0,
    batch_size: int = 256,
    max_pairs: int = DEFAULT_MAX_PAIRS,
    progress: bool = False,
) -> dict:
    """How close and how varied generated images are, against real ones (plain floats, JSON-ready).

    ``real`` is split in two disjoint halves A and B (seeded). Keys: ``frechet``
    (generated vs A); ``frechet_real_floor`` (B vs A: what a perfect generator
    scores); ``relative_diversity`` (generated vs all of ``real``); ``n_generated``,
    ``n_real``.

    Fréchet estimates carry a sample-size bias of roughly c (1/n_a + 1/n_b), so the
    floor is an exact yardstick when ``len(generated) == len(real) // 2`` (the same
    sizes as B vs A); keep n_generated fixed across the models being compared.
    """
    generated = _check_images(generated, "generated", min_count=2)
    real = _check_images(real, "real", min_count=4)
    for name, x in (("generated", generated), ("real", real)):
        if x.shape[1:] != net.image_shape:
            raise ValueError(f"{name} images have shape {x.shape[1:]} but the feature net was built for {net.image_shape}")
    gen_f = features(generated, net, batch_size=batch_size, progress=progress)
    real_f = features(real, net, batch_size=batch_size, progress=progress)
    result = score_sample_features(gen_f, real_f, seed=seed, max_pairs=max_pairs)
    log.info("generative scores: %s", result)
    return result
