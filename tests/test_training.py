"""train(): outputs, schedule, early stopping, resume, reproducibility; evaluation; plots."""
import dataclasses
import logging

import keras
import numpy as np
import pandas as pd
import pytest

import idl.training
from idl.clock.evaluate import class_targets, evaluate_classifier
from idl.plots import compare_curves, learning_curves
from idl.io import read_history
from idl.training import TrainSettings, train

RNG = np.random.default_rng(0)
X = RNG.integers(0, 256, (64, 8, 8, 1), dtype=np.uint8)
Y = RNG.integers(0, 3, 64)


def tiny_model():
    inputs = keras.Input((8, 8, 1))
    h = keras.layers.Rescaling(1 / 255)(inputs)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(8, activation="relu")(h)
    h = keras.layers.Dropout(0.2)(h)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(h))


SETTINGS = TrainSettings(epochs=4, batch_size=16, learning_rate=1e-2, lr_halving_epochs=1, patience=None, seed=0,
                         progress=False)


def run(tmp_path, data=(X, Y, X[:16], Y[:16]), model=tiny_model, callbacks=(), **settings):
    """train() into tmp_path with :data:`SETTINGS`, changed where ``settings`` say."""
    return train(model, *data, dataclasses.replace(SETTINGS, **settings), out_dir=tmp_path / "out",
                 state_dir=tmp_path / "state", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                 callbacks=list(callbacks))


class Interrupt(keras.callbacks.Callback):
    """Stands in for Ctrl-C at the end of a given epoch (0-based)."""

    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def test_trains_writes_outputs_and_halves_learning_rate(tmp_path):
    hist = run(tmp_path, epochs=5, lr_halving_epochs=2)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["history.csv", "model.keras"]  # no temp files left
    assert not (tmp_path / "state").exists()  # cleared: a rerun starts fresh
    saved = pd.read_csv(out / "history.csv")
    assert list(saved.columns) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"]
    assert saved["epoch"].tolist() == [0, 1, 2, 3, 4]
    pd.testing.assert_frame_equal(saved, hist, check_dtype=False)
    # halves every 2 epochs (smoothly, as ExponentialDecay does)
    np.testing.assert_allclose(saved["learning_rate"], 1e-2 * 0.5 ** (saved["epoch"] / 2), rtol=1e-5)
    model = keras.models.load_model(out / "model.keras")
    assert model.predict(X[:2], verbose=0).shape == (2, 3)


def test_early_stopping_stops_on_flat_training_loss(tmp_path):
    # learning rate 0 and identical samples: the training loss never improves.
    data = (np.zeros_like(X), np.zeros_like(Y), None, None)
    hist = run(tmp_path, data=data, learning_rate=0.0, epochs=20, patience=2,
               model=lambda: keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                                               keras.layers.Dense(3, activation="softmax")]))
    assert hist["epoch"].tolist() == [0, 1, 2]  # best at 0, no improvement for 2 epochs
    assert hist["loss"].nunique() == 1


def test_killed_run_resumes_from_its_last_finished_epoch(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, callbacks=[Interrupt(at_epoch=1)])
    assert not (tmp_path / "out").exists()  # no output from an unfinished run
    state_csv = tmp_path / "state" / "history.csv"
    assert read_history(state_csv)["epoch"].tolist() == [0, 1]
    # a row from beyond where the resumed run will end (an older attempt's) is dropped
    last = state_csv.read_text().splitlines()[-1]
    with state_csv.open("a") as f:
        f.write("7" + last[last.index(","):] + "\n")

    rec = Recorder()
    hist = run(tmp_path, callbacks=[rec])
    assert rec.epochs == [2, 3]  # only the remaining epochs ran
    assert hist["epoch"].tolist() == [0, 1, 2, 3]
    # the optimizer's step counter came back too: the schedule carries on
    np.testing.assert_allclose(hist["learning_rate"], 1e-2 * 0.5 ** np.arange(4), rtol=1e-5)
    assert (tmp_path / "out" / "model.keras").exists()


@pytest.mark.parametrize("cut_at", [1, 3])
def test_a_kill_while_the_backup_is_written_resumes_from_the_one_before(tmp_path, monkeypatch, caplog, cut_at):
    """Slurm's SIGTERM at a time limit can land while an epoch's backup is being written."""
    save_weights, calls = keras.Model.save_weights, []

    def cut_short(self, filepath, *args, **kwargs):  # that epoch's backup: half written, then killed
        calls.append(filepath)
        save_weights(self, filepath, *args, **kwargs)
        if len(calls) == cut_at:
            with open(filepath, "r+b") as f:
                f.truncate(f.seek(0, 2) // 2)
            raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "save_weights", cut_short)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path)
    monkeypatch.undo()
    done = cut_at - 1  # epochs whose backup was written whole
    backup = tmp_path / "state" / "backup"
    assert [p.name for p in backup.iterdir()] == [f"epoch-{done:05d}.weights.h5"] * (done > 0)  # no partial file
    rec = Recorder()
    with caplog.at_level(logging.INFO, logger="idl.training"):
        hist = run(tmp_path, callbacks=[rec])
    assert rec.epochs == list(range(done, 4))  # the epoch whose backup was cut short is trained again
    assert ("resuming from training state" in caplog.text) == (done > 0)
    assert hist["epoch"].tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(hist["learning_rate"], 1e-2 * 0.5 ** np.arange(4), rtol=1e-5)


def test_a_damaged_backup_says_which_file_and_what_to_do(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, callbacks=[Interrupt(at_epoch=1)])
    (saved,) = (tmp_path / "state" / "backup").iterdir()
    saved.write_bytes(saved.read_bytes()[:1000])  # damaged on disk after it was written
    with pytest.raises(ValueError, match=rf"{saved.name} cannot be loaded.*delete .*state"):
        run(tmp_path)


def test_resumed_early_stopping_remembers_its_patience(tmp_path):
    data = (np.zeros_like(X), np.zeros_like(Y), None, None)
    kw = dict(data=data, learning_rate=0.0, epochs=20, patience=3,
              model=lambda: keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                                              keras.layers.Dense(3, activation="softmax")]))
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, callbacks=[Interrupt(at_epoch=1)], **kw)
    hist = run(tmp_path, **kw)
    assert hist["epoch"].tolist() == [0, 1, 2, 3]  # as without the interruption


def test_repeated_epoch_after_kill_is_kept_once(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss\n0,1.0\n1,0.9\n1,0.8\n2,0.7\n")
    assert read_history(path)["loss"].tolist() == [1.0, 0.8, 0.7]


def test_state_from_different_settings_is_discarded(tmp_path, caplog):
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, callbacks=[Interrupt(at_epoch=1)])
    rec = Recorder()
    with caplog.at_level(logging.WARNING, logger="idl.training"):
        hist = run(tmp_path, learning_rate=5e-3, callbacks=[rec])
    assert rec.epochs == [0, 1, 2, 3]  # started over
    assert hist["epoch"].tolist() == [0, 1, 2, 3]
    assert hist["learning_rate"].iloc[0] == pytest.approx(5e-3)
    assert "discarding training state" in caplog.text and "learning_rate" in caplog.text


def test_same_seed_gives_same_history(tmp_path):
    a = run(tmp_path / "a", epochs=2, seed=7)
    b = run(tmp_path / "b", epochs=2, seed=7)
    c = run(tmp_path / "c", epochs=2, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.array_equal(a["loss"], c["loss"])


class FixedModel:
    """Stands in for a trained classifier: predict returns given probabilities."""

    def __init__(self, probs):
        self.probs = np.asarray(probs, dtype=np.float32)

    def predict(self, x, batch_size=None, verbose=0):
        assert x.shape[-1] == 1  # images got their channel axis
        return self.probs


def test_evaluate_classifier_known_answer():
    labels = np.array([[0, 10], [3, 0], [11, 50], [6, 29]])  # 10, 180, 710, 389 minutes
    probs = np.eye(12)[[0, 4, 0, 6]] * 0.9 + 0.1 / 12  # predicted classes 0, 4, 0, 6
    metrics, pred = evaluate_classifier(FixedModel(probs), np.zeros((4, 5, 5), np.uint8), labels, 12)
    np.testing.assert_allclose(pred, [30, 270, 30, 390])  # class centres
    # CSE: 20, 90, 40 (11:50 vs 00:30 across 12), 1
    assert metrics == pytest.approx({"accuracy": 0.5, "cse_mean": 37.75, "cse_median": 30.0,
                                     "cse_p90": 75.0, "n": 4})


def test_evaluate_classifier_refuses_wrong_n_classes():
    with pytest.raises(ValueError, match="n_c=24"):
        evaluate_classifier(FixedModel(np.ones((2, 12))), np.zeros((2, 5, 5), np.uint8),
                            np.array([[0, 0], [1, 0]]), 24)


def test_class_targets_are_sparse_ids():
    labels = np.array([[0, 10], [11, 59], [6, 0]])
    assert class_targets(labels, 12).tolist() == [0, 11, 6]
    assert class_targets(labels, 720).tolist() == [10, 719, 360]


def test_learning_curves_png_and_no_partial_file(tmp_path):
    hist = pd.DataFrame({"epoch": [0, 1, 2], "loss": [1.0, 0.8, 0.7], "val_loss": [1.1, 0.9, 0.9],
                         "accuracy": [0.3, 0.5, 0.6], "val_accuracy": [0.3, 0.4, 0.5]})
    path = tmp_path / "fig" / "curves.png"
    learning_curves(hist, path, "tiny")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    compare_curves({"a": hist, "b": hist}, tmp_path / "cmp.png", "runs")
    assert (tmp_path / "cmp.png").stat().st_size > 0
    with pytest.raises(ValueError, match="mae"):
        learning_curves(hist, tmp_path / "bad.png", "bad", metrics=("mae",))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp.png", "fig"]


def test_curriculum_phases_are_found_and_drawn(tmp_path):
    from idl.plots import phase_starts

    hist = pd.DataFrame({"epoch": range(6), "loss": [3, 2, 2.5, 1.5, 1.0, 0.8],
                         "max_rotation_deg": [0, 0, 45, 45, 180, 180]})
    assert phase_starts(hist) == [(1, 0.0), (3, 45.0), (5, 180.0)]
    assert phase_starts(hist.drop(columns="max_rotation_deg")) == []
    learning_curves(hist, tmp_path / "phases.png", "curriculum", metrics=("loss",))
    assert (tmp_path / "phases.png").stat().st_size > 0


def test_run_killed_while_writing_its_outputs_does_not_train_again(tmp_path, monkeypatch):
    from pathlib import Path

    real = idl.training.atomic_path

    def killed_at_outputs(path):
        if Path(path).parent == tmp_path / "killed" / "out":
            raise KeyboardInterrupt
        return real(path)

    monkeypatch.setattr(idl.training, "atomic_path", killed_at_outputs)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "killed")
    state = tmp_path / "killed" / "state"
    assert (state / "last.keras").exists() and (state / "completed.json").exists()
    monkeypatch.setattr(idl.training, "atomic_path", real)
    rec = Recorder()
    hist = run(tmp_path / "killed", callbacks=[rec])
    assert rec.epochs == []  # nothing trained again
    assert hist["epoch"].tolist() == [0, 1, 2, 3]
    # the written model is the finished one: it predicts as an uninterrupted run's does (CPU, same seed)
    run(tmp_path / "whole")
    got = keras.models.load_model(tmp_path / "killed" / "out" / "model.keras").predict(X[:8], verbose=0)
    want = keras.models.load_model(tmp_path / "whole" / "out" / "model.keras").predict(X[:8], verbose=0)
    np.testing.assert_allclose(got, want, rtol=1e-6)


class FakeClock:
    """The training budget's clock, advancing ``step`` seconds at every call."""

    def __init__(self, step):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def test_budget_stops_training_and_counts_every_attempt(tmp_path, monkeypatch):
    # every epoch takes 10 (fake) seconds; a 30-second budget allows three epochs in all
    monkeypatch.setattr(idl.training, "_now", FakeClock(10))
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, epochs=10, max_minutes=0.5, callbacks=[Interrupt(at_epoch=1)])
    history = run(tmp_path, epochs=10, max_minutes=0.5)
    # the resumed attempt knew 20 seconds were spent: one more epoch, not three
    assert list(history["epoch"]) == [0, 1, 2]
    assert (tmp_path / "out" / "model.keras").exists()
    assert not (tmp_path / "state").exists()


def named_model(extra_head=False):
    inputs = keras.Input((8, 8, 1))
    h = keras.layers.Flatten(name="flat")(keras.layers.Rescaling(1 / 255, name="scale")(inputs))
    h = keras.layers.Dense(8, activation="relu", name="hidden")(h)
    out = keras.layers.Dense(3, activation="softmax", name="out")(h)
    if extra_head:
        return keras.Model(inputs, [out, keras.layers.Dense(2, name="extra")(h)])
    return keras.Model(inputs, out)


def test_init_weights_copies_matching_layers_and_names_fresh_ones(tmp_path):
    source = named_model()
    source.save(tmp_path / "source.keras")
    model = named_model(extra_head=True)
    fresh = idl.training.init_weights(model, tmp_path / "source.keras")
    assert fresh == ["extra"]
    for name in ("hidden", "out"):
        for a, b in zip(model.get_layer(name).get_weights(), source.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)


def test_init_weights_refuses_a_model_with_nothing_in_common(tmp_path):
    tiny_model().save(tmp_path / "other.keras")  # Keras' own layer names: none is "hidden" or "out"
    with pytest.raises(ValueError, match="no layer matches"):
        idl.training.init_weights(named_model(), tmp_path / "other.keras")


def test_training_from_another_models_weights_starts_where_it_ended(tmp_path):
    first = train(named_model, X, Y, X[:16], Y[:16], SETTINGS, out_dir=tmp_path / "a", state_dir=tmp_path / "sa",
                  loss="sparse_categorical_crossentropy")
    second = train(named_model, X, Y, X[:16], Y[:16], dataclasses.replace(SETTINGS, epochs=1),
                   out_dir=tmp_path / "b", state_dir=tmp_path / "sb", loss="sparse_categorical_crossentropy",
                   init_from=tmp_path / "a" / "model.keras")
    fresh = train(named_model, X, Y, X[:16], Y[:16], dataclasses.replace(SETTINGS, epochs=1),
                  out_dir=tmp_path / "c", state_dir=tmp_path / "sc", loss="sparse_categorical_crossentropy")
    # the warm start's first epoch is close to where the first run ended, far from a fresh start's
    end = first["loss"].iloc[-1]
    assert abs(second["loss"].iloc[0] - end) < abs(fresh["loss"].iloc[0] - end)
