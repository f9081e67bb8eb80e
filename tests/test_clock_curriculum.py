"""The rotation curriculum: its settings, phases, batches, training through train() and resume."""
import dataclasses
import json

import numpy as np
import pytest

from idl.clock import recipes
from idl.clock.curriculum import (
    DEFAULT_PHASES,
    Curriculum,
    CurriculumPlan,
    curriculum_dataset,
    epoch_accuracy,
    quarter_turn,
    rotations,
    validate_curriculum,
)
from idl.clock.train import curriculum_images
from idl.errors import DataError
from idl.io import read_history
from idl.training import TrainSettings, train

from test_training import Interrupt, Recorder, tiny_model

N = 40
ROTS = (0, 90, 180)
# every image holds its own row index in pixel 0 and its rotation in pixel 1, so a batch says
# which rows and which phase it came from
IMAGES = {}
for _rot in ROTS:
    _a = np.zeros((N, 8, 8, 1), dtype=np.uint8)
    _a[:, 0, 0, 0] = np.arange(N)
    _a[:, 0, 1, 0] = _rot
    IMAGES[_rot] = _a
Y = np.arange(N) % 3
SHORT = validate_curriculum({"phases": [[0, 1], [90, 1], [180, None]], "advance_at": None})


def test_settings_defaults_and_errors():
    assert validate_curriculum(None) is None and validate_curriculum(False) is None
    assert validate_curriculum(True) == CurriculumPlan(DEFAULT_PHASES, 0.9, False)
    given = {"phases": [[0, 3], [180, None]], "advance_at": None, "quarter_turns": True}
    c = validate_curriculum(given)
    assert c == CurriculumPlan(((0, 3), (180, None)), None, True)
    assert c.to_params() == given  # as params.yaml writes it
    assert rotations(c) == [0] and rotations(None) == []
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.advance_at = 0.5
    for bad, words in [
        ({"phases": [[0, 3], [90, 3]]}, "last curriculum phase must be [180, null]"),
        ({"phases": [[0, 3], [180, 5]]}, "last curriculum phase"),
        ({"phases": [[90, 3], [45, 3], [180, None]]}, "rotations must increase"),
        ({"phases": [[0, 0], [180, None]]}, "epochs must be a positive integer"),
        ({"phases": [[200, 2], [180, None]]}, "rotation must be an integer 0-180"),
        ({"phases": []}, "non-empty list"),
        ({"advance_at": 1.5}, "advance_at"),
        ({"stages": []}, "unknown curriculum key 'stages'"),
        ({"quarter_turns": "yes"}, "quarter_turns must be true or false"),
        ("yes", "true, false or a mapping"),
    ]:
        with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
            validate_curriculum(bad)


def test_phases_end_at_their_cap_or_early_on_accuracy_and_replay_matches():
    plan = validate_curriculum({"phases": [[0, 3], [90, 2], [180, None]], "advance_at": 0.9})
    c = Curriculum(plan)
    accs = [0.5, 0.95, 0.1, 0.2, 0.99, 0.99]
    seen = []
    for acc in accs:
        seen.append(c.rotation)
        c.end_epoch(acc)
    # 0: two epochs (the second reaches 0.9); 90: its cap of 2; 180 to the end
    assert seen == [0, 0, 90, 90, 180, 180]
    again = Curriculum(plan)
    again.replay(accs)
    assert (again.phase, again.epochs_in_phase, again.rotation) == (c.phase, c.epochs_in_phase, 180)
    assert epoch_accuracy({"hour_accuracy": 0.4, "accuracy": 0.1}) == 0.4
    assert epoch_accuracy({"accuracy": 0.3}) == 0.3 and epoch_accuracy({"loss": 1.0}) is None


def test_batches_come_from_the_current_phase_with_matching_targets():
    data = curriculum_dataset(IMAGES, {"hour": Y, "minute": Y * 2.0}, batch_size=16, curriculum=SHORT, seed=0)
    assert len(data) == 3 and data.num_rows == N

    def epoch_rows():
        rows = []
        for i in range(len(data)):
            x, y = data[i]
            assert set(x[:, 0, 1, 0]) == {data.state.rotation}  # every image of the phase's rotation
            r = x[:, 0, 0, 0].astype(int)
            np.testing.assert_array_equal(y["hour"], Y[r])  # targets follow their rows
            np.testing.assert_array_equal(y["minute"], Y[r] * 2.0)
            rows.extend(r)
        return rows

    (advance,) = data.callbacks
    first = epoch_rows()
    assert sorted(first) == list(range(N))  # each row once per epoch
    advance.on_epoch_end(0, {})
    assert data.state.rotation == 90
    second = epoch_rows()
    assert sorted(second) == list(range(N)) and second != first  # reshuffled
    with pytest.raises(ValueError, match="rotated up to"):
        curriculum_dataset({0: IMAGES[0], 180: IMAGES[180]}, Y, 16, SHORT, seed=0)


# long caps, but any epoch with some accuracy ends its phase: only the history tells a resumed run
# that it is past the first two phases
EARLY = validate_curriculum({"phases": [[0, 5], [90, 5], [180, None]], "advance_at": 0.01})


def test_quarter_turns_turn_only_the_last_phase_and_keep_the_targets():
    # an asymmetric mark: a bright top-left corner; where it lands tells the turn
    marked = {rot: a.copy() for rot, a in IMAGES.items()}
    for a in marked.values():
        a[:, 0, 0, 0] = 255
        a[:, 7, 7, 0] = np.arange(N)  # the row, in the opposite corner
    turns = dataclasses.replace(SHORT, quarter_turns=True)
    data = curriculum_dataset(marked, Y, batch_size=40, curriculum=turns, seed=0)
    (advance,) = data.callbacks
    x, _ = data[0]
    assert (x[:, 0, 0, 0] == 255).all()  # upright phase: untouched
    advance.on_epoch_end(0, {})
    advance.on_epoch_end(1, {})
    assert data.state.rotation == 180
    x, y = data[0]
    corners = {(0, 0): 0, (0, 7): 1, (7, 7): 2, (7, 0): 3}  # np.rot90 turns counter-clockwise
    found = []
    for img, target in zip(x[..., 0], y):
        (where,) = [c for c in corners if img[c] == 255]
        found.append(corners[where])
        opposite = (7 - where[0], 7 - where[1])
        assert Y[img[opposite]] == target  # the turned image keeps its own target
    assert set(found) == {0, 1, 2, 3}  # all four turns occur
    again, _ = data[0]
    np.testing.assert_array_equal(again, x)  # drawn from the seed, epoch and batch: repeatable
    with pytest.raises(ValueError, match="square"):
        quarter_turn(np.zeros((2, 4, 5)), np.zeros(2, dtype=int))


def run_curriculum(tmp_path, callbacks=(), curriculum=SHORT):
    data = curriculum_dataset(IMAGES, Y, batch_size=16, curriculum=curriculum, seed=0,
                              history_path=tmp_path / "state" / "history.csv")
    settings = TrainSettings(epochs=4, batch_size=16, learning_rate=1e-2, lr_halving_epochs=None, patience=None,
                             seed=0, progress=False)
    return train(tiny_model, data, None, IMAGES[180][:16], Y[:16], settings, out_dir=tmp_path / "out",
                 state_dir=tmp_path / "state", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                 callbacks=list(callbacks))


def test_train_follows_the_curriculum_and_a_killed_run_resumes_in_its_phase(tmp_path):
    whole = run_curriculum(tmp_path / "whole")
    assert whole["max_rotation_deg"].tolist() == [0, 90, 180, 180]

    with pytest.raises(KeyboardInterrupt):
        run_curriculum(tmp_path / "killed", callbacks=[Interrupt(at_epoch=1)], curriculum=EARLY)
    history = read_history(tmp_path / "killed" / "state" / "history.csv")
    assert history["max_rotation_deg"].tolist() == [0, 90] and (history["accuracy"] >= 0.01).all()
    rec = Recorder()
    resumed = run_curriculum(tmp_path / "killed", callbacks=[rec], curriculum=EARLY)
    assert rec.epochs == [2, 3]
    # the resumed run replayed the two early phase ends from the history
    assert resumed["max_rotation_deg"].tolist() == [0, 90, 180, 180]


def test_recipe_key_and_its_conflicts():
    Recipe = recipes.Recipe
    r = Recipe.from_params({"kind": "multihead_angle", "curriculum": True})
    assert r.curriculum.phases[-1] == (180, None)
    assert recipes.describe(r).endswith("; rotation curriculum")
    turned = Recipe.from_params({"kind": "multihead_angle", "curriculum": {"quarter_turns": True}})
    assert recipes.describe(turned).endswith("; rotation curriculum with quarter turns")
    assert Recipe.from_params({"kind": "classify"}).curriculum is None
    with pytest.raises(ValueError, match="augment_rotation and curriculum exclude each other"):
        Recipe.from_params({"kind": "multihead_angle", "curriculum": True, "augment_rotation": True})
    with pytest.raises(ValueError, match="clock recipe: the last curriculum phase"):
        Recipe.from_params({"kind": "classify", "curriculum": {"phases": [[0, 2]]}})


def _folder(path, rot, labels, size=8):
    from idl.clock.course_data import write_course_data

    write_course_data(path, np.full((len(labels), size, size), rot, dtype=np.uint8), labels)
    (path / "SOURCE.json").write_text(json.dumps({"max_rotation_deg": rot}))
    return path


def test_curriculum_folders_must_hold_the_training_rows(tmp_path):
    labels = np.stack([np.arange(6) % 12, np.arange(6) * 7 % 60], axis=1)
    recipe = recipes.Recipe.from_params({"kind": "classify", "curriculum": {"phases": [[0, 1], [180, None]]}})
    rows = np.array([1, 3])
    got = curriculum_images(recipe, [_folder(tmp_path / "r0", 0, labels)], labels, (8, 8, 1), rows)
    assert list(got) == [0] and got[0].shape == (2, 8, 8, 1)
    other = labels.copy()
    other[0, 1] += 1
    with pytest.raises(DataError, match="r1.*not the training data's rows"):
        curriculum_images(recipe, [_folder(tmp_path / "r1", 0, other)], labels, (8, 8, 1), rows)
    with pytest.raises(DataError, match="r2.*not the training data's rows"):
        curriculum_images(recipe, [_folder(tmp_path / "r2", 0, labels, size=9)], labels, (8, 8, 1), rows)
    with pytest.raises(DataError, match=r"rotations \[0\] but got generated clocks for \[\]"):
        curriculum_images(recipe, [], labels, (8, 8, 1), rows)
    (tmp_path / "r3").mkdir()
    with pytest.raises(DataError, match="r3: not a curriculum data folder"):
        curriculum_images(recipe, [tmp_path / "r3"], labels, (8, 8, 1), rows)
