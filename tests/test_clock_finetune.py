"""Course-format data with no turn record: a model trained on generated clocks (or the shipped
reader) is fine-tuned on it through the DAG (recipe keys init_from or init_from_reader + train_on)."""
import json

import numpy as np
import pytest
import yaml

from pipeline import Project

BASE, TUNED = "multihead_angle_upright", "upright_course"
TARGET = f"results/clock/models/{TUNED}/metrics.json"


def _orientation_and_reading_weights(path):
    import keras

    import idl.models.clock  # noqa: F401 - registers the custom layers

    model = keras.saving.load_model(path, compile=False)
    turn = {w.path: np.array(w) for layer in model.layers if layer.name.startswith("turn")
            for w in layer.weights}
    rest = {w.path: np.array(w) for layer in model.layers if not layer.name.startswith("turn")
            for w in layer.weights}
    return turn, rest


@pytest.mark.slow
def test_an_upright_model_is_fine_tuned_on_a_folder_without_turn_record(tmp_path):
    from idl.clock.course_data import TURN_FILE
    from idl.clock.synth import write

    course = tmp_path / "course"  # as the course hands it out: images.npy and labels.npy only
    write(course, per_minute=1, size=48, seed=7, workers=1, progress=False)
    (course / TURN_FILE).unlink()

    p = Project(tmp_path / "proj", clock_models=[BASE])
    tuned = {"kind": "multihead_angle", "preset": "final", "upright": True, "hour_hand": True,
             "init_from": BASE, "train_on": "course", "epochs": 1}
    extra = {"clock": {"external": {"course": str(course)}, "models": {TUNED: tuned}},
             "profiles": {"demo": {"clock": {"train": {"epochs": 1}},
                                   "data": {"clock": {"synthetic": {"per_minute": 1, "size": 48}}}}}}
    (p.path / "course.yaml").write_text(yaml.safe_dump(extra))
    config = ("--configfile", "params.yaml", "course.yaml")

    planned = p.snakemake_planned(TARGET, *config)
    assert {f"clock_train[{BASE}]", f"clock_train[{TUNED}]", "clock_split_external[course]"} <= planned
    p.snakemake(TARGET, *config)

    log = (p.path / f"logs/clock/train_{TUNED}.log").read_text()
    assert f"started from results/clock/models/{BASE}/model.keras" in log
    assert f"has no {TURN_FILE}" in log
    # the orientation network is the generated-clock model's, untouched; the reading network learned
    base_turn, base_rest = _orientation_and_reading_weights(p.path / f"results/clock/models/{BASE}/model.keras")
    tuned_turn, tuned_rest = _orientation_and_reading_weights(p.path / f"results/clock/models/{TUNED}/model.keras")
    assert base_turn and base_turn.keys() == tuned_turn.keys()
    assert all(np.array_equal(base_turn[k], tuned_turn[k]) for k in base_turn)
    shared = base_rest.keys() & tuned_rest.keys()
    assert shared and any(not np.array_equal(base_rest[k], tuned_rest[k]) for k in shared)

    # trained and tested on the course folder's own split: 720 rows, a tenth of them for the test
    split = p.path / "results/clock/splits/course"
    assert sum(len(np.load(split / f"{part}.npy")) for part in ("train", "val", "test")) == 720
    metrics = json.loads((p.path / TARGET).read_text())
    assert metrics["n"] == len(np.load(split / "test.npy")) and metrics["data"] == str(course)
    assert "turn_error_deg" not in metrics  # nothing to compare the orientation with
    assert p.snakemake_planned(TARGET, *config) == set()


def _course_folder(path, size):
    """Clocks as the course hands them out: images.npy and labels.npy only."""
    from idl.clock.course_data import TURN_FILE
    from idl.clock.synth import write

    write(path, per_minute=1, size=size, seed=7, workers=1, progress=False)
    (path / TURN_FILE).unlink()
    return path


@pytest.mark.slow
def test_the_shipped_reader_is_fine_tuned_on_a_folder_without_turn_record(tmp_path):
    """A user with the course data and no GPU: no model trained first, the shipped reader is the start."""
    from idl.clock.course_data import TURN_FILE
    from idl.clock.read import SHIPPED, load_reader

    course = _course_folder(tmp_path / "course", size=75)  # the shipped reader's side
    p = Project(tmp_path / "proj", clock_models=[BASE])  # not trained: nothing asks for it
    shipped = "src/idl/clock/shipped"
    tuned = {"kind": "multihead_angle", "preset": "final", "upright": True, "hour_hand": True,
             "augment_quarter_turns": True, "init_from_reader": shipped, "train_on": "course", "epochs": 1}
    extra = {"clock": {"external": {"course": str(course)}, "models": {TUNED: tuned}},
             "profiles": {"demo": {"clock": {"train": {"epochs": 1}}}}}
    (p.path / "course.yaml").write_text(yaml.safe_dump(extra))
    config = ("--configfile", "params.yaml", "course.yaml")

    planned = p.snakemake_planned(TARGET, *config)
    assert f"clock_train[{TUNED}]" in planned and not any(job.startswith("clock_data") for job in planned)
    p.snakemake(TARGET, *config)

    log = (p.path / f"logs/clock/train_{TUNED}.log").read_text()
    assert f"starting from the reader in {shipped}" in log and f"has no {TURN_FILE}" in log
    start = {w.path: np.array(w) for w in load_reader(SHIPPED).model.weights}
    turn, rest = _orientation_and_reading_weights(p.path / f"results/clock/models/{TUNED}/model.keras")
    assert turn and all(np.array_equal(start[k], v) for k, v in turn.items())  # orientation: the reader's
    assert any(not np.array_equal(start[k], v) for k, v in rest.items() if k in start)  # reading: trained
    assert p.snakemake_planned(TARGET, *config) == set()

    # the reader's weights are an input: other weights there retrain the model, and damaged ones
    # are refused by their SHA-256 before anything is written
    weights = p.path / shipped / "reader.weights.h5"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    assert f"clock_train[{TUNED}]" in p.snakemake_planned(TARGET, *config)
    failed = p.snakemake(TARGET, *config, check=False)
    assert failed.returncode != 0
    assert "SHA-256 mismatch" in (p.path / f"logs/clock/train_{TUNED}.log").read_text()
    assert not (p.path / f"results/clock/models/{TUNED}/model.keras").exists()


def test_init_from_reader_is_checked_before_anything_runs(tmp_path):
    from idl.checks import check_reader_folder
    from idl.clock.read import SHIPPED
    from idl.clock.recipes import Recipe

    check_reader_folder(str(SHIPPED))
    with pytest.raises(ValueError, match=f"{tmp_path / 'nothing'}: no such folder"):
        check_reader_folder(str(tmp_path / "nothing"))
    (tmp_path / "reader.json").write_text("{}")
    with pytest.raises(ValueError, match="not a clock reader description"):
        check_reader_folder(str(tmp_path))
    with pytest.raises(ValueError, match="init_from .* or init_from_reader .*not both"):
        Recipe.from_params({"kind": "multihead", "init_from": "a", "init_from_reader": str(SHIPPED)})
    assert Recipe.from_params({"kind": "multihead", "init_from_reader": "x"}).starts_from == "x"


def test_train_on_must_name_an_external_folder():
    from idl.clock.recipes import Recipe, check_train_on

    models = {"m": {"kind": "classify", "train_on": "course"}}
    with pytest.raises(ValueError, match=r"clock.models.m.train_on: no clock.external folder named 'course'"):
        check_train_on(models, {})
    check_train_on(models, {"course": "/data/A1_data_75"})
    with pytest.raises(ValueError, match="'train_on' must name a clock.external folder"):
        Recipe.from_params({"kind": "classify", "train_on": 3})
