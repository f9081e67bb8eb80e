"""Task 3's CAE, VAE and GAN: Table 10/11 shapes, training steps, train(), save/load, JAX."""
import json
import os
import subprocess
import sys
import textwrap
from functools import partial

import keras
import numpy as np
import pandas as pd
import pytest

from idl.models.generative import (
    CAE, GAN, KINDS, VAE, build_generative, compile_generative, decoder, encoder, resamplings,
)
from idl.training import TrainSettings, train

RNG = np.random.default_rng(0)
X8 = RNG.random((8, 8, 8, 3), dtype=np.float32)  # side 8: one up/downsampling, fast
X32 = RNG.random((16, 32, 32, 3), dtype=np.float32)
FILTERS = 4

HISTORY_COLUMNS = {
    "cae": ["epoch", "loss", "val_loss", "learning_rate"],
    "vae": ["epoch", "loss", "kl_loss", "reconstruction_loss", "val_loss", "val_kl_loss",
            "val_reconstruction_loss", "learning_rate"],
    "gan": ["epoch", "loss", "d_loss", "g_loss", "learning_rate"],
}


def count(model, cls):
    return sum(type(layer) is cls for layer in model.layers)


@pytest.mark.parametrize("side, n", [(32, 3), (64, 4)])
def test_encoder_and_decoder_follow_tables_10_and_11(side, n):
    assert resamplings((side, side, 3)) == n
    enc = encoder((side, side, 3), 7, filters=FILTERS)
    assert enc.output_shape == (None, 7)
    assert count(enc, keras.layers.Conv2D) == 1 + n  # input conv + n_down
    assert enc.layers[-1].activation.__name__ == "sigmoid"
    assert enc.get_layer("encoder_flatten").output.shape == (None, 2 * 2 * FILTERS)  # halved 1 + n times
    dec = decoder(5, (side, side, 3), filters=FILTERS)
    assert dec.output_shape == (None, side, side, 3)
    assert count(dec, keras.layers.Conv2DTranspose) == n
    assert dec.get_layer("decoder_reshape").output.shape == (None, 4, 4, 64)
    assert dec.layers[-1].activation.__name__ == "sigmoid"


def test_sides_that_are_not_4_times_a_power_of_2_are_refused():
    with pytest.raises(ValueError, match=r"\(48, 48, 3\).*4 \* 2\*\*n"):
        decoder(8, (48, 48, 3))
    with pytest.raises(ValueError, match=r"\(32, 64, 3\)"):
        encoder((32, 64, 3), 8)
    with pytest.raises(ValueError, match=r"\(48, 48, 3\)"):
        build_generative("vae", (48, 48, 3))
    with pytest.raises(ValueError, match="n_up=3"):
        decoder(8, (64, 64, 3), n_up=3)
    with pytest.raises(ValueError, match="unknown generative model kind 'dcgan'"):
        build_generative("dcgan", (32, 32, 3))


def test_factory_defaults_and_common_api():
    models = {k: build_generative(k, (32, 32, 3), filters=FILTERS) for k in KINDS}
    assert [type(m) for m in models.values()] == [CAE, VAE, GAN]
    assert {k: m.latent_dim for k, m in models.items()} == {"cae": 256, "vae": 32, "gan": 32}
    for kind, m in models.items():
        images = m.decode(np.zeros((2, m.latent_dim), np.float32))
        assert images.shape == (2, 32, 32, 3) and images.min() >= 0 and images.max() <= 1
    # the workflow tells the models apart by what they can do
    assert [hasattr(m, "reconstruct") for m in models.values()] == [True, True, False]
    assert [hasattr(m, "sample") for m in models.values()] == [False, True, True]
    assert [hasattr(m, "encode") for m in models.values()] == [True, True, False]
    vae, gan = models["vae"], models["gan"]
    assert vae.reconstruct(X32[:3]).shape == (3, 32, 32, 3)
    assert vae.encode(X32[:3]).shape == (3, 32)
    for m in (vae, gan):  # seeded: same seed, same images
        np.testing.assert_array_equal(m.sample(4, seed=1), m.sample(4, seed=1))
        assert not np.array_equal(m.sample(4, seed=1), m.sample(4, seed=2))


def test_uint8_images_are_read_as_0_to_255():
    cae = build_generative("cae", (8, 8, 3), latent_dim=6, filters=FILTERS)
    as_uint8 = (X8 * 255).round().astype(np.uint8)
    np.testing.assert_allclose(cae.reconstruct(as_uint8), cae.reconstruct(as_uint8 / np.float32(255)), atol=1e-6)


def changed(before, after):
    return [not np.allclose(b, a) for b, a in zip(before, after)]


@pytest.mark.parametrize("kind", KINDS)
def test_one_training_step_updates_every_weight_with_finite_losses(kind):
    model = build_generative(kind, (8, 8, 3), filters=FILTERS, seed=0)
    compile_generative(model, 1)
    before = [w.copy() for w in model.get_weights()]
    if kind == "gan":
        g0, d0 = model.generator.get_weights(), model.discriminator.get_weights()
    logs = model.train_on_batch(X8, X8 if kind == "cae" else None, return_dict=True)
    assert all(changed(before, model.get_weights()))
    assert all(np.isfinite(v) for v in logs.values())
    assert set(logs) == {c for c in HISTORY_COLUMNS[kind] if c not in ("epoch", "learning_rate") and "val_" not in c}
    if kind == "gan":  # both networks learned, each with its own optimizer
        assert all(changed(g0, model.generator.get_weights()))
        assert all(changed(d0, model.discriminator.get_weights()))
        assert int(model.d_optimizer.iterations) == int(model.g_optimizer.iterations) == 1
        assert logs["loss"] == pytest.approx(logs["d_loss"] + logs["g_loss"], rel=1e-5)


def test_gan_compile_refuses_a_shared_optimizer_and_a_loss():
    gan = build_generative("gan", (8, 8, 3), filters=FILTERS)
    opt = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="separate optimizer"):
        gan.compile(d_optimizer=opt, g_optimizer=opt)
    with pytest.raises(TypeError, match="loss="):
        gan.compile(loss="mse")
    with pytest.raises(TypeError, match="CAE, VAE or GAN"):
        compile_generative(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), 1)


def run_train(tmp_path, kind, model, epochs=2, callbacks=(), compile_model=None):
    settings = TrainSettings(epochs=epochs, batch_size=6, learning_rate=None, lr_halving_epochs=None, patience=None,
                             seed=0, progress=False)
    y = X32 if kind == "cae" else None
    x_val = None if kind == "gan" else X32[:4]
    return train(model, X32, y, x_val, None if kind != "cae" else x_val, settings,
                 out_dir=tmp_path / "out", state_dir=tmp_path / "state", callbacks=list(callbacks),
                 compile_model=compile_model or partial(compile_generative, learning_rate=1e-3))


@pytest.mark.parametrize("kind", KINDS)
def test_train_writes_model_and_history_and_the_model_loads_back(tmp_path, kind):
    model = build_generative(kind, (32, 32, 3), latent_dim=8, filters=FILTERS, seed=0)
    hist = run_train(tmp_path, kind, model)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["history.csv", "model.keras"]
    saved = pd.read_csv(out / "history.csv")
    assert list(saved.columns) == HISTORY_COLUMNS[kind]
    assert saved["epoch"].tolist() == [0, 1] and np.isfinite(saved.drop(columns="epoch").to_numpy()).all()
    pd.testing.assert_frame_equal(saved, hist, check_dtype=False)

    loaded = keras.models.load_model(out / "model.keras")
    assert type(loaded) is type(model) and loaded.latent_dim == 8 and loaded.image_shape == (32, 32, 3)
    z = np.random.default_rng(1).standard_normal((3, 8)).astype(np.float32)
    np.testing.assert_allclose(loaded.decode(z), model.decode(z), atol=1e-6)
    if kind == "gan":  # calling a GAN gives the discriminator's verdict
        np.testing.assert_allclose(loaded.predict(X32[:3], verbose=0), model.predict(X32[:3], verbose=0), atol=1e-6)
    else:
        np.testing.assert_allclose(loaded.reconstruct(X32[:3]), model.reconstruct(X32[:3]), atol=1e-6)
        np.testing.assert_allclose(loaded.encode(X32[:3]), model.encode(X32[:3]), atol=1e-6)
    # the optimizer state came back: training can go on where it stopped
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 2 * 3
    if kind == "gan":
        for name in ("d_optimizer", "g_optimizer"):
            for a, b in zip(getattr(loaded, name).variables, getattr(model, name).variables):
                np.testing.assert_allclose(np.asarray(a), np.asarray(b))
        assert loaded.d_optimizer.beta_1 == 0.5 and float(loaded.g_optimizer.learning_rate) == pytest.approx(1e-3)


class Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            raise KeyboardInterrupt


def test_killed_gan_run_resumes_with_both_optimizers(tmp_path):
    factory = lambda: build_generative("gan", (32, 32, 3), latent_dim=8, filters=FILTERS)  # noqa: E731
    with pytest.raises(KeyboardInterrupt):
        run_train(tmp_path, "gan", factory, epochs=3, callbacks=[Interrupt()])
    assert not (tmp_path / "out").exists()
    epochs = []
    rec = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs.append(epoch))
    # a fresh partial (another memory address) with the same settings still resumes
    hist = run_train(tmp_path, "gan", factory, epochs=3, callbacks=[rec],
                     compile_model=partial(compile_generative, learning_rate=1e-3))
    assert epochs == [1, 2] and hist["epoch"].tolist() == [0, 1, 2]
    loaded = keras.models.load_model(tmp_path / "out" / "model.keras")
    assert int(loaded.d_optimizer.iterations) == int(loaded.g_optimizer.iterations) == 3 * 3


JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    import keras, numpy as np
    from idl.models.generative import KINDS, build_generative, compile_generative
    from idl.training import TrainSettings, train
    assert keras.backend.backend() == "jax"
    out_root = sys.argv[1]
    x = np.random.default_rng(0).random((8, 8, 8, 3), dtype=np.float32)
    result = {}
    for kind in KINDS:
        model = build_generative(kind, (8, 8, 3), latent_dim=4, filters=4, seed=0)
        before = [w.copy() for w in model.get_weights()]
        settings = TrainSettings(epochs=1, batch_size=4, learning_rate=None, lr_halving_epochs=None, patience=None,
                                 progress=False)
        hist = train(model, x, x if kind == "cae" else None, x[:4] if kind == "vae" else None, None, settings,
                     out_dir=f"{out_root}/{kind}", state_dir=f"{out_root}/{kind}_state",
                     compile_model=compile_generative)
        loaded = keras.models.load_model(f"{out_root}/{kind}/model.keras")
        z = np.ones((2, 4), np.float32)
        result[kind] = {
            "columns": list(hist.columns),
            "finite": bool(np.isfinite(hist.drop(columns="epoch").to_numpy()).all()),
            "all_changed": all(not np.allclose(b, a) for b, a in zip(before, model.get_weights())),
            "same_after_load": bool(np.allclose(loaded.decode(z), model.decode(z), atol=1e-6)),
            "iterations": int(loaded.optimizer.iterations),
        }
    print("RESULT" + json.dumps(result))
""")


def test_models_train_save_and_load_on_jax(tmp_path):
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", JAX_SCRIPT, str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1]
    result = json.loads(line[len("RESULT"):])
    expected = dict(HISTORY_COLUMNS, cae=["epoch", "loss", "learning_rate"])
    for kind in KINDS:
        r = result[kind]
        assert r["columns"] == expected[kind], kind
        assert r["finite"] and r["all_changed"] and r["same_after_load"], (kind, r)
        assert r["iterations"] == 2, kind  # 8 images, batches of 4
