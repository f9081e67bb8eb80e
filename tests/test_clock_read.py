"""The shipped clock reader: a tiny trained model exported by the real stage script
(scripts/clock_reader.py), read back by `python -m idl.clock.read` on pictures and images.npy files
with the times recipes.predict gives on the same images prepared the training way (a known answer),
and the refusals: tampered weights, a missing reader, bad input."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml
from PIL import Image, ImageOps

from idl.clock import read as R
from idl.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
SIZE = 48
RECIPE = {"kind": "multihead_angle", "preset": "fiducial", "conv_filters": 8, "dense_units": 16}
TIME = re.compile(r"(0[1-9]|1[0-2]):[0-5]\d")


def _env():
    import keras

    # the same backend as this process, so the subprocess reads with the same numbers
    return dict(os.environ, KERAS_BACKEND=keras.backend.backend(), TF_CPP_MIN_LOG_LEVEL="3")


def _clocks(seed: int, n: int):
    from idl.clock.synth import render_clock

    minutes = np.random.default_rng(seed).integers(0, 720, n)
    images = np.stack([render_clock(int(m // 60), int(m % 60), np.random.default_rng([seed, i]), SIZE)
                       for i, m in enumerate(minutes)])
    return images, np.stack([minutes // 60, minutes % 60], axis=1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A multihead_angle model trained for one epoch on 24 generated 48x48 clocks, exported as a
    reader by the real stage script."""
    import keras

    from idl.clock import recipes

    tmp = tmp_path_factory.mktemp("reader")
    keras.utils.set_random_seed(0)
    recipe = recipes.Recipe.from_params(RECIPE)
    x, labels = _clocks(1, 24)
    model = recipes.build_model(recipe, (SIZE, SIZE, 1))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), run_eagerly=True, **recipes.compile_kwargs(recipe))
    model.fit(x[..., None], recipes.targets(recipe, labels), epochs=1, batch_size=8, verbose=0)
    trained = tmp / "models" / "tiny"
    trained.mkdir(parents=True)
    model.save(trained / "model.keras")

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["clock"]["models"]["tiny"] = RECIPE
    (tmp / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    folder = trained / "reader"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "clock_reader.py"), "--params", str(tmp / "params.yaml"),
         "--model", "tiny", "--trained", str(trained), "--out", str(folder), "--log", str(tmp / "reader.log")],
        capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return SimpleNamespace(tmp=tmp, recipe=recipe, model=model, folder=folder, trained=trained)


def _expected(tiny, images, quarter_turns=False):
    from idl.clock import recipes

    return R.format_times(recipes.predict(tiny.recipe, tiny.model, images, quarter_turns=quarter_turns)["minutes"])


def test_the_stage_writes_weights_alone_and_a_description(tiny):
    import h5py
    import keras

    assert sorted(p.name for p in tiny.folder.iterdir()) == ["reader.json", "reader.weights.h5"]
    meta = json.loads((tiny.folder / "reader.json").read_text())
    weights = tiny.folder / "reader.weights.h5"
    assert meta["format"] == "idl-clock-reader" and meta["format_version"] == 1
    assert meta["model"] == "tiny" and meta["recipe"] == RECIPE and meta["image_size"] == SIZE
    assert meta["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert meta["keras_version"] == keras.__version__
    with h5py.File(weights, "r") as f:  # the trained model had an optimizer: none of it is shipped
        names = []
        f.visit(names.append)
    assert names and not any("optimizer" in n for n in names)
    # the reader rebuilt from its recipe reads exactly as the trained model
    reader = R.load_reader(tiny.folder)
    x = _clocks(2, 4)[0][..., None]
    got, want = reader.model.predict(x, verbose=0), tiny.model.predict(x, verbose=0)
    assert sorted(got) == sorted(want) and all(np.array_equal(got[k], want[k]) for k in want)


def test_reading_pictures_and_an_images_npy_gives_predicts_times_in_order(tiny):
    clocks, _ = _clocks(3, 6)
    tmp = tiny.tmp
    # a 96 x 120 RGB photo: clock 0 at twice the size, between two bands of noise that the centre
    # crop cuts off; box-filtered back to 48x48 it is clock 0 exactly
    big = np.repeat(np.repeat(clocks[0], 2, axis=0), 2, axis=1)
    noise = np.random.default_rng(0).integers(0, 256, (12, 96), dtype=np.uint8)
    photo = np.concatenate([noise, big, noise[::-1]])
    Image.fromarray(np.stack([photo] * 3, axis=-1), "RGB").save(tmp / "photo.png")
    # images.npy of another side: clocks 1-4 at 96x96
    np.save(tmp / "images.npy", np.repeat(np.repeat(clocks[1:5], 2, axis=1), 2, axis=2))
    # a grayscale JPEG at the model's size, read as any JPEG decoder reads it
    Image.fromarray(clocks[5], "L").save(tmp / "clock.jpg", quality=95)
    decoded = np.asarray(Image.open(tmp / "clock.jpg").convert("L"))
    prepared = np.concatenate([clocks[:5], decoded[None]])

    proc = subprocess.run(
        [sys.executable, "-m", "idl.clock.read", str(tmp / "photo.png"), str(tmp / "images.npy"),
         str(tmp / "clock.jpg"), "--reader", str(tiny.folder)],
        capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    expected = _expected(tiny, prepared)
    assert len(set(expected)) >= 3  # the model tells these clocks apart, so the order is checked too
    assert lines == expected and all(TIME.fullmatch(line) for line in lines)


def test_run_read_clock_prints_only_the_times_and_keeps_the_errors(tiny):
    """``./run read-clock`` as a user runs it (no TF_CPP_MIN_LOG_LEVEL): TensorFlow's start-up lines,
    which no log level silences, are left out of stderr; an error still reaches the user."""
    clocks, _ = _clocks(4, 2)
    for i, clock in enumerate(clocks):
        Image.fromarray(clock, "L").save(tiny.tmp / f"run{i}.png")
    env = _env()
    del env["TF_CPP_MIN_LOG_LEVEL"]
    paths = [str(tiny.tmp / "run0.png"), str(tiny.tmp / "run1.png")]
    done = subprocess.run([str(ROOT / "run"), "read-clock", *paths, "--reader", str(tiny.folder)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == _expected(tiny, clocks)
    assert "absl::InitializeLog" not in done.stderr and "oneDNN custom operations" not in done.stderr, done.stderr
    missing = tiny.tmp / "no-such.png"
    done = subprocess.run([str(ROOT / "run"), "read-clock", str(missing), "--reader", str(tiny.folder)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1 and done.stdout == ""
    assert f"error: {missing}: file not found" in done.stderr


def test_quarter_turns_and_the_same_side_npy_in_process(tiny, capsys):
    clocks, _ = _clocks(4, 5)
    np.save(tiny.tmp / "same.npy", clocks)
    assert R.main([str(tiny.tmp / "same.npy"), "--reader", str(tiny.folder), "--quarter-turns"]) == 0
    assert capsys.readouterr().out.splitlines() == _expected(tiny, clocks, quarter_turns=True)


def test_save_model_writes_a_keras_model_the_scoring_stage_loads(tiny, capsys):
    from idl.models.clock import load_model

    out = tiny.tmp / "scored" / "model.keras"
    assert R.main(["--reader", str(tiny.folder), "--save-model", str(out)]) == 0
    assert capsys.readouterr().out == ""
    x = _clocks(5, 3)[0][..., None]
    got, want = load_model(out).predict(x, verbose=0), tiny.model.predict(x, verbose=0)
    assert all(np.array_equal(got[k], want[k]) for k in want)


def test_other_data_of_another_side_is_scored_as_the_reader_reads_it_and_the_own_split_is_not_resized(tiny, tmp_path):
    """clock.external data (the course's 150x150 clocks, say) is scored by a model trained on another
    side, prepared as the reader prepares pictures; the model's own split of another side is refused."""
    import pandas as pd

    from idl.clock import recipes
    from idl.clock.course_data import save_split, write_course_data
    from idl.clock.evaluate import evaluate_clock_model

    clocks, labels = _clocks(6, 8)
    external = tmp_path / "course"
    write_course_data(external, np.repeat(np.repeat(clocks, 2, axis=1), 2, axis=2), labels)  # 96x96
    out = tmp_path / "scores"
    kwargs = dict(name="tiny", trained_dir=tiny.trained, data_dir=external, model_cfg=RECIPE,
                  metrics_path=out / "metrics.json", predictions_path=out / "predictions.csv", grid_path=None)
    metrics = evaluate_clock_model(split_dir=None, **kwargs)
    assert metrics["resized_from"] == [96, 96] and metrics["n"] == 8
    predicted = pd.read_csv(out / "predictions.csv")["pred_minutes"].to_numpy()
    # box-filtered back to 48x48, each 96x96 clock is the clock itself
    assert np.allclose(predicted, recipes.predict(tiny.recipe, tiny.model, clocks)["minutes"])

    split = tmp_path / "split"
    save_split(split, {"train": np.arange(4), "val": np.arange(4, 6), "test": np.arange(6, 8)})
    (out / "metrics.json").unlink()
    with pytest.raises(DataError, match=r"images are 96x96 but model tiny was trained on 48x48; retrain"):
        evaluate_clock_model(split_dir=split, **kwargs)
    assert not (out / "metrics.json").exists()


def test_tampered_weights_are_refused_before_loading(tiny, tmp_path, capsys):
    folder = tmp_path / "reader"
    shutil.copytree(tiny.folder, folder)
    weights = folder / "reader.weights.h5"
    expected = json.loads((folder / "reader.json").read_text())["weights_sha256"]
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 1
    weights.write_bytes(bytes(data))
    found = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(DataError, match="SHA-256 mismatch") as err:
        R.load_reader(folder)
    assert str(weights) in str(err.value) and expected in str(err.value) and found in str(err.value)
    np.save(tmp_path / "x.npy", np.zeros((1, SIZE, SIZE), np.uint8))
    assert R.main([str(tmp_path / "x.npy"), "--reader", str(folder)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "SHA-256 mismatch" in captured.err and found in captured.err
    # a Git LFS pointer in place of the weights says so
    weights.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:" + expected + "\nsize 1\n")
    with pytest.raises(DataError, match="git lfs pull"):
        R.load_reader(folder)


def test_a_missing_reader_says_how_to_make_one(tmp_path, monkeypatch, capsys):
    picture = tmp_path / "clock.png"
    Image.new("L", (60, 60), 128).save(picture)
    proc = subprocess.run([sys.executable, "-m", "idl.clock.read", str(picture), "--reader", str(tmp_path / "none")],
                          capture_output=True, text=True, env=_env(), timeout=120)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "Traceback" not in proc.stderr and str(tmp_path / "none") in proc.stderr
    assert "snakemake --cores 1 results/clock/models/<model>/reader" in proc.stderr
    # the default, the shipped folder, before its files are added
    monkeypatch.setattr(R, "SHIPPED", tmp_path / "shipped")
    (tmp_path / "shipped").mkdir()
    assert R.main([str(picture)]) == 1
    err = capsys.readouterr().err
    assert "the shipped clock reader" in err and "results/clock/models/<model>/reader" in err


def test_a_bad_description_is_refused(tiny, tmp_path):
    folder = tmp_path / "reader"
    shutil.copytree(tiny.folder, folder)
    meta = json.loads((folder / "reader.json").read_text())
    for text, words in [
        ("{not json", "not valid JSON"),
        ('{"format": "idl-clock-reader", "format": "other"}', "given twice"),
        (json.dumps({**meta, "format_version": 99}), "newer than this project reads"),
        (json.dumps({**meta, "weights_sha256": "abc"}), "64 lowercase hex"),
        (json.dumps({**meta, "recipe": {"kind": "nonsense"}}), "recipe cannot be built"),
        (json.dumps({**meta, "recipe": {**RECIPE, "dense_units": 32}}), "do not fit the model"),
    ]:
        (folder / "reader.json").write_text(text)
        with pytest.raises(DataError, match=words) as err:
            R.load_reader(folder)
        assert str(folder) in str(err.value)
    (folder / "reader.json").unlink()
    with pytest.raises(DataError, match="reader.json: not found"):
        R.load_reader(folder)


def test_bad_input_names_the_file_and_exits_without_a_traceback(tiny, tmp_path, capsys):
    good = tmp_path / "good.png"
    Image.new("L", (60, 60), 128).save(good)
    (tmp_path / "text.png").write_text("<html>not found</html>")
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[:40])
    np.save(tmp_path / "floats.npy", np.zeros((2, SIZE, SIZE), np.float32))
    np.save(tmp_path / "flat.npy", np.zeros((SIZE, SIZE), np.uint8))
    np.save(tmp_path / "empty.npy", np.zeros((0, SIZE, SIZE), np.uint8))
    np.save(tmp_path / "pickle.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    for name, words in [("missing.png", "file not found"), ("text.png", "not a PNG or JPEG"),
                        ("cut.png", "cannot decode image"), ("floats.npy", "expected \\(N, H, W\\) uint8"),
                        ("flat.npy", "expected \\(N, H, W\\) uint8"), ("empty.npy", "holds no images"),
                        ("pickle.npy", "never loaded"), ("missing.npy", "file not found")]:
        assert R.main([str(good), str(tmp_path / name), "--reader", str(tiny.folder)]) == 1, name
        captured = capsys.readouterr()
        assert captured.out == "", name
        assert str(tmp_path / name) in captured.err and re.search(words, captured.err), (name, captured.err)


def test_pictures_of_any_mode_and_orientation_are_prepared_like_the_training_images(tmp_path):
    clock = _clocks(6, 1)[0][0]
    # EXIF orientations 1-8 are applied as Pillow's exif_transpose applies them
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        path = tmp_path / f"turned{orientation}.png"
        Image.fromarray(clock, "L").save(path, exif=exif)
        upright = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("L"))
        assert np.array_equal(R.read_picture(path, SIZE), upright), orientation
    # RGBA onto white, 16-bit by its depth, palette: all as grayscale at the model's side
    rgba = np.zeros((SIZE, SIZE, 4), np.uint8)
    rgba[..., 3] = 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "clear.png")
    assert (R.read_picture(tmp_path / "clear.png", SIZE) == 255).all()
    Image.fromarray(clock.astype(np.uint16) * 257).save(tmp_path / "deep.png")
    assert np.array_equal(R.read_picture(tmp_path / "deep.png", SIZE), clock)
    palette = Image.fromarray(clock).convert("L")
    palette = Image.frombytes("P", palette.size, palette.tobytes())
    palette.putpalette([v for i in range(256) for v in (i, i, i)])
    palette.save(tmp_path / "palette.png")
    assert np.array_equal(R.read_picture(tmp_path / "palette.png", SIZE), clock)
    # an image.npy row of another, non-square size is cropped and box-filtered like a picture
    wide = np.random.default_rng(1).integers(0, 256, (50, 80), dtype=np.uint8)
    Image.fromarray(wide, "L").save(tmp_path / "wide.png")
    np.save(tmp_path / "wide.npy", wide[None])
    assert np.array_equal(R.read_npy(tmp_path / "wide.npy", SIZE)[0], R.read_picture(tmp_path / "wide.png", SIZE))


def test_the_export_refuses_a_model_of_another_recipe_and_keeps_the_upright_kind(tiny, tmp_path):
    from idl.clock import recipes

    out = tmp_path / "reader"
    with pytest.raises(DataError, match="Retrain it"):
        R.export_reader(tiny.trained / "model.keras", {**RECIPE, "dense_units": 32}, out, name="tiny")
    assert list(tmp_path.iterdir()) == []  # nothing half-written
    # the headline model's kind: an orientation network (a custom layer) and an hour-hand head
    upright = {**RECIPE, "upright": True, "hour_hand": True, "augment_quarter_turns": True}
    model = recipes.build_model(recipes.Recipe.from_params(upright), (SIZE, SIZE, 1))
    model.save(tmp_path / "model.keras")
    meta = R.export_reader(tmp_path / "model.keras", upright, out, name="upright")
    assert meta["recipe"] == upright
    reader = R.load_reader(out)
    x = _clocks(7, 3)[0][..., None]
    got, want = reader.model.predict(x, verbose=0), model.predict(x, verbose=0)
    assert sorted(got) == ["hour", "hour_hand", "minute", "turn"]
    assert all(np.array_equal(got[k], want[k]) for k in want)
    assert R.read_times(reader, x[..., 0]) == R.format_times(
        recipes.predict(reader.recipe, model, x[..., 0])["minutes"])


def test_times_are_printed_on_a_12_hour_dial():
    assert R.format_times([0, 0.4, 59.6, 61, 719.4, 719.6, 600]) == [
        "12:00", "12:00", "01:00", "01:01", "11:59", "12:00", "10:00"]
