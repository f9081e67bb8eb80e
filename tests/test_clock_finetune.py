"""Course-format data with no turn record: a model trained on generated clocks is fine-tuned on it
through the DAG (recipe keys init_from + train_on)."""
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


def test_train_on_must_name_an_external_folder():
    from idl.clock.recipes import Recipe, check_train_on

    models = {"m": {"kind": "classify", "train_on": "course"}}
    with pytest.raises(ValueError, match=r"clock.models.m.train_on: no clock.external folder named 'course'"):
        check_train_on(models, {})
    check_train_on(models, {"course": "/data/A1_data_75"})
    with pytest.raises(ValueError, match="'train_on' must name a clock.external folder"):
        Recipe.from_params({"kind": "classify", "train_on": 3})
