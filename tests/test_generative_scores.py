"""Scores for Task 3's generative models: known answers for SSIM, Fréchet distance and diversity."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from idl.generative import scores as S


def blocky(n, side=32, block=4, seed=0):
    """Smooth-ish images in [0, 1]: random colour blocks, more image-like than white noise."""
    rng = np.random.default_rng(seed)
    cells = rng.random((n, side // block, side // block, 3))
    return np.repeat(np.repeat(cells, block, axis=1), block, axis=2).astype(np.float32)


def noisy(x, sd, seed=1):
    rng = np.random.default_rng(seed)
    return np.clip(x + sd * rng.standard_normal(x.shape), 0, 1).astype(np.float32)


@pytest.fixture(scope="module")
def net32():
    return S.FeatureNet((32, 32, 3), seed=0)


# ------------------------------------------------------------------ reconstruction

def test_mse_known_answer():
    a = np.full((2, 32, 32, 3), 0.5, np.float32)
    b = a.copy()
    b[1] += 0.25
    np.testing.assert_allclose(S.mse(a, b), [0.0, 0.0625], rtol=1e-6)


def test_ssim_identical_is_one_and_symmetric():
    x = blocky(4)
    y = noisy(x, 0.1)
    np.testing.assert_allclose(S.ssim(x, x), 1.0, atol=1e-10)
    np.testing.assert_allclose(S.ssim(x, y), S.ssim(y, x), atol=1e-12)


def test_ssim_drops_with_noise():
    x = blocky(4)
    values = [S.ssim(x, noisy(x, sd)).mean() for sd in (0.0, 0.05, 0.1, 0.2, 0.4)]
    assert values[0] == pytest.approx(1.0)
    assert all(later < earlier for earlier, later in zip(values, values[1:])), values


def test_ssim_constant_images_match_formula():
    mu_a, mu_b = 0.3, 0.7
    a = np.full((1, 32, 32, 3), mu_a, np.float32)
    b = np.full((1, 32, 32, 3), mu_b, np.float32)
    c1 = (0.01 * 1.0) ** 2
    mu_a, mu_b = float(a[0, 0, 0, 0]), float(b[0, 0, 0, 0])  # the float32 values actually stored
    expected = (2 * mu_a * mu_b + c1) / (mu_a**2 + mu_b**2 + c1)
    assert S.ssim(a, b)[0] == pytest.approx(expected, abs=1e-9)


def test_ssim_matches_tensorflow_reference():
    tf = pytest.importorskip("tensorflow")
    x = blocky(3, side=64, block=8)
    y = noisy(x, 0.15)
    reference = tf.image.ssim(x, y, max_val=1.0).numpy()
    np.testing.assert_allclose(S.ssim(x, y), reference, atol=2e-5)


def test_score_reconstructions_plain_numbers():
    x = blocky(5)
    perfect = S.score_reconstructions(x, x)
    assert perfect == {"n": 5, "mse_mean": 0.0, "ssim_mean": pytest.approx(1.0)}
    worse = S.score_reconstructions(x, noisy(x, 0.2))
    assert worse["mse_mean"] > 0 and worse["ssim_mean"] < 0.9
    assert all(type(v) in (int, float) for v in worse.values())


@pytest.mark.parametrize(
    "images, match",
    [
        ((np.zeros((2, 32, 32, 3), np.uint8)), "dtype uint8.*divide uint8 pixels by 255"),
        ((np.zeros((2, 32, 32), np.float32)), r"shape \(2, 32, 32\).*\(n, height, width, 3\)"),
        ((np.full((2, 32, 32, 3), 2.0, np.float32)), r"values in \[2, 2\]; expected \[0, 1\]"),
        ((np.full((2, 32, 32, 3), np.nan, np.float32)), "NaN"),
    ],
)
def test_bad_images_say_what_is_wrong(images, match):
    with pytest.raises(ValueError, match=match):
        S.score_reconstructions(images, images)


def test_mismatched_pairs_rejected():
    with pytest.raises(ValueError, match="originals has shape .* but reconstructions has shape"):
        S.score_reconstructions(blocky(3), blocky(2))


# ------------------------------------------------------------------ feature net

@pytest.mark.parametrize("side, n_layers", [(32, 4), (64, 5)])
def test_feature_net_is_table_10_encoder(side, n_layers):
    net = S.FeatureNet((side, side, 3))
    assert net.n_down == n_layers - 1 and net.dim == 128 * n_layers
    convs = [l for l in net.model.layers if type(l).__name__ == "Conv2D"]
    assert len(convs) == n_layers
    for conv in convs:
        c = conv.get_config()
        assert (c["filters"], tuple(c["kernel_size"]), tuple(c["strides"]), c["padding"], c["activation"]) == (
            128, (3, 3), (2, 2), "same", "relu")
    assert convs[-1].output.shape[1:3] == (2, 2)
    f = S.features(blocky(3, side=side, block=8), net)
    assert f.shape == (3, 128 * n_layers) and f.dtype == np.float64
    assert np.all(f >= 0)  # channel means of ReLU outputs


def test_feature_net_same_seed_same_features(net32):
    x = blocky(20)
    again = S.FeatureNet((32, 32, 3), seed=0)
    for w1, w2 in zip(net32.model.get_weights(), again.model.get_weights()):
        np.testing.assert_array_equal(w1, w2)
    np.testing.assert_allclose(S.features(x, net32), S.features(x, again), rtol=0, atol=0)
    np.testing.assert_allclose(S.features(x, net32, batch_size=7), S.features(x, net32), rtol=1e-5, atol=1e-7)
    other = S.FeatureNet((32, 32, 3), seed=1)
    assert not np.allclose(S.features(x, other), S.features(x, net32))


def test_feature_net_weights_are_he_normal(net32):
    kernel = net32.model.get_layer("conv1").get_weights()[0]
    fan_in = 3 * 3 * 128
    assert kernel.std() == pytest.approx(np.sqrt(2 / fan_in), rel=0.02)
    assert np.abs(kernel).max() <= 2 * np.sqrt(2 / fan_in) / 0.87962566103423978 + 1e-6


def test_features_reject_wrong_image_size(net32):
    with pytest.raises(ValueError, match=r"shape \(64, 64, 3\) but the feature net was built for \(32, 32, 3\)"):
        S.features(blocky(2, side=64), net32)
    with pytest.raises(ValueError, match="power of two"):
        S.FeatureNet((28, 28, 3))


# ------------------------------------------------------------------ Fréchet distance

def test_frechet_identical_sets_zero_even_when_singular():
    rng = np.random.default_rng(0)
    for n, d in ((500, 20), (30, 512)):  # full-rank and rank-deficient covariances
        f = rng.gamma(2.0, size=(n, d))
        scale = np.trace(np.cov(f, rowvar=False))
        assert 0.0 <= S.frechet_distance(f, f) <= 1e-6 * scale


def test_frechet_shift_known_answer_and_growth():
    f = np.random.default_rng(0).standard_normal((200, 16))
    shift = np.zeros(16)
    shift[3] = 1.0
    dists = [S.frechet_distance(f, f + k * shift) for k in (0.5, 1.0, 2.0)]
    np.testing.assert_allclose(dists, [0.25, 1.0, 4.0], rtol=1e-9)


def test_frechet_one_dimensional_closed_form():
    rng = np.random.default_rng(0)
    a = rng.normal(1.0, 2.0, size=(400, 1))
    b = rng.normal(-0.5, 0.5, size=(300, 1))
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert S.frechet_distance(a, b) == pytest.approx(expected, rel=1e-10)


def test_frechet_matches_sqrtm_formula():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((300, 12))
    b = rng.standard_normal((250, 12)) @ rng.standard_normal((12, 12)) * 0.4 + 0.3
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    diff = a.mean(0) - b.mean(0)
    expected = diff @ diff + np.trace(ca + cb - 2 * scipy.linalg.sqrtm(ca @ cb).real)
    assert S.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert S.frechet_distance(b, a) == pytest.approx(expected, rel=1e-9)


def test_frechet_rejects_mismatched_features():
    with pytest.raises(ValueError, match="feat_a has 3 features but feat_b has 4"):
        S.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="feat_b holds 1 samples"):
        S.frechet_distance(np.zeros((5, 3)), np.zeros((1, 3)))


# ------------------------------------------------------------------ diversity

def test_diversity_copies_zero_identical_one():
    f = np.random.default_rng(0).random((50, 8))
    copies = np.repeat(f[:1], 50, axis=0)
    assert S.diversity(copies) == 0.0
    assert S.relative_diversity(copies, f) == 0.0
    assert S.relative_diversity(f, f) == 1.0
    assert S.diversity(2 * f) == pytest.approx(2 * S.diversity(f))


def test_diversity_known_answer_and_sampled_pairs_deterministic():
    square = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert S.diversity(square) == pytest.approx((4 * 1 + 2 * np.sqrt(2)) / 6)
    f = np.random.default_rng(0).random((400, 8))  # 79,800 pairs
    exact = S.diversity(f)
    sampled = S.diversity(f, max_pairs=5000)
    assert sampled == S.diversity(f, max_pairs=5000)
    assert sampled == pytest.approx(exact, rel=0.02)
    assert S.diversity(np.repeat(f[:1], 400, axis=0), max_pairs=5000) == 0.0


def test_relative_diversity_undefined_for_identical_reference():
    f = np.random.default_rng(0).random((10, 4))
    with pytest.raises(ValueError, match="reference_feat has zero diversity"):
        S.relative_diversity(f, np.ones((10, 4)))


# ------------------------------------------------------------------ score_samples

def test_score_samples_identical_noisy_and_collapsed(net32):
    real = blocky(120, seed=0)
    half_a, _ = S.split_halves(real, seed=0)  # the half the samples are compared with
    same = S.score_samples(half_a, real, net32)
    assert set(same) == {"frechet", "frechet_real_floor", "relative_diversity", "n_generated", "n_real"}
    assert same["frechet"] == pytest.approx(0.0, abs=1e-9)
    assert same["frechet_real_floor"] > 0.0
    assert S.score_samples(half_a, real, net32) == same  # seeded split: reproducible
    assert S.score_samples(real, real, net32)["relative_diversity"] == 1.0

    other_real = blocky(120, seed=7)
    fresh = S.score_samples(other_real, real, net32)
    with_noise = S.score_samples(noisy(other_real, 0.3), real, net32)
    assert with_noise["frechet"] > fresh["frechet"] > 0.0

    collapsed = S.score_samples(np.repeat(real[:1], 40, axis=0), real, net32)
    assert collapsed["relative_diversity"] == 0.0
    assert collapsed["frechet"] > fresh["frechet"]


def test_score_samples_64_and_validation():
    net = S.FeatureNet((64, 64, 3), seed=3)
    real = blocky(16, side=64, block=8)
    out = S.score_samples(noisy(real, 0.1), real, net)
    assert out["frechet"] > 0 and 0 < out["relative_diversity"]
    with pytest.raises(ValueError, match="real holds 3 images; at least 4"):
        S.score_samples(real, real[:3], net)
    with pytest.raises(ValueError, match=r"generated images have shape \(32, 32, 3\)"):
        S.score_samples(blocky(8), real, net)
