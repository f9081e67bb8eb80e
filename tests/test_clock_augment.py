"""Quarter-turn augmentation: the turn target follows the picture, batches cover every row, training runs."""
import json

import numpy as np
import pytest

from idl.clock import recipes
from idl.clock.augment import quarter_turn, quarter_turn_dataset, turn_targets
from idl.clock.labels import from_angle, from_minutes, to_angle

S = 21  # odd: the centre pixel stays put under every quarter turn
C = S // 2


def mark_angle(img: np.ndarray) -> float:
    """Degrees clockwise from the top of the one bright (255) pixel, seen from the centre."""
    (y,), (x,) = np.nonzero(img == 255)
    return float(np.degrees(np.arctan2(x - C, -(y - C))) % 360)


def marked(rng, n):
    """Images with a bright mark at a random place (the dial's 12) and the row number in the centre."""
    x = np.zeros((n, S, S, 1), dtype=np.uint8)
    for i in range(n):
        while True:
            r, c = rng.integers(0, S, 2)
            if (r, c) != (C, C):
                break
        x[i, r, c, 0] = 255
        x[i, C, C, 0] = i
    return x


def test_the_turn_target_follows_the_turned_mark():
    rng = np.random.default_rng(0)
    x = marked(rng, 12)
    turns = np.array([mark_angle(a[..., 0]) for a in x])
    for k in range(4):
        ks = np.full(len(x), k)
        turned = quarter_turn(x, ks)
        found = np.array([mark_angle(a[..., 0]) for a in turned])
        want = from_angle(turn_targets(to_angle(turns, 360.0), ks), 360.0)
        np.testing.assert_allclose(np.cos(np.radians(found - want)), 1.0, atol=1e-9)
    # known answers: a 12 at 30 degrees lies at 300 after one counter-clockwise turn, 210 after two
    np.testing.assert_allclose(from_angle(turn_targets(to_angle(np.full(4, 30.0), 360.0), np.arange(4)), 360.0),
                               [30, 300, 210, 120], atol=1e-9)
    with pytest.raises(ValueError, match="one number of quarter turns per image"):
        quarter_turn(x, np.zeros(3, dtype=int))


def test_batches_cover_every_row_once_with_its_own_targets_and_turn():
    rng = np.random.default_rng(1)
    n = 37
    x = marked(rng, n)
    labels = from_minutes(rng.integers(0, 720, n))
    recipe = recipes.Recipe.from_params({"kind": "multihead_angle", "upright": True, "augment_quarter_turns": True})
    y = recipes.targets(recipe, labels, np.array([mark_angle(a[..., 0]) for a in x]))
    data = quarter_turn_dataset(x, y, batch_size=8, seed=3, turn_key=recipes.TURN)
    assert len(data) == 5 and data.num_rows == n
    (epoch_cb,) = data.callbacks

    def one_epoch():
        rows, ks = [], []
        for i in range(len(data)):
            xb, yb = data[i]
            for img, hour, turn in zip(xb[..., 0], yb["hour"], yb["turn"]):
                row = int(img[C, C])
                rows.append(row)
                assert hour == y["hour"][row]  # every target is its own row's
                # the turn target says where the mark lies in the turned picture
                assert abs(np.cos(np.radians(mark_angle(img) - from_angle(turn, 360.0))) - 1) < 1e-9
                ks.append(round(((from_angle(y["turn"][row], 360.0) - from_angle(turn, 360.0)) % 360) / 90) % 4)
        return rows, ks

    rows, ks = one_epoch()
    assert sorted(rows) == list(range(n)) and set(ks) == {0, 1, 2, 3}
    first = [data[i][0] for i in range(len(data))]
    np.testing.assert_array_equal(data[0][0], first[0])  # repeatable within the epoch
    epoch_cb.on_epoch_end(0)
    rows2, ks2 = one_epoch()
    assert sorted(rows2) == list(range(n)) and (rows2 != rows or ks2 != ks)  # a new order and new turns
    second = [data[i][0] for i in range(len(data))]
    # a run resumed at epoch 1 sees the same batches as one that went through epoch 0
    again = quarter_turn_dataset(x, y, batch_size=8, seed=3, turn_key=recipes.TURN)
    again.callbacks[0].on_epoch_begin(1)
    for i in range(len(again)):
        np.testing.assert_array_equal(again[i][0], second[i])
    assert json.dumps(data.describe())  # the training state can record it
    with pytest.raises(ValueError, match="no 'turn' entry"):
        quarter_turn_dataset(x, y["hour"], batch_size=8, seed=3, turn_key=recipes.TURN)


@pytest.mark.parametrize("bad, word", [
    ({"kind": "classify", "augment_quarter_turns": "yes"}, "augment_quarter_turns"),
    ({"kind": "multihead", "augment_quarter_turns": True, "curriculum": True}, "exclude each other"),
])
def test_bad_quarter_turn_settings_are_rejected_by_name(bad, word):
    with pytest.raises(ValueError, match=word):
        recipes.Recipe.from_params(bad)


def test_an_upright_recipe_trains_on_turned_pictures_through_the_training_entry_point(tmp_path, monkeypatch):
    from idl.clock import augment
    from idl.clock.course_data import TURN_FILE, save_split, split_indices, write_course_data
    from idl.clock.train import train_clock_model

    recipe = {"kind": "multihead_angle", "upright": True, "augment_quarter_turns": True}
    assert "quarter-turn augmentation" in recipes.describe(recipes.Recipe.from_params(recipe))
    assert recipes.Recipe.from_params({"kind": "classify"}).augment_quarter_turns is False
    rng = np.random.default_rng(2)
    labels = from_minutes(np.arange(0, 720, 24))
    write_course_data(tmp_path / "course", rng.integers(0, 256, (len(labels), 75, 75), dtype=np.uint8), labels)
    np.save(tmp_path / "course" / TURN_FILE, rng.uniform(0, 360, len(labels)))
    save_split(tmp_path / "split", split_indices(labels, seed=0))
    train_cfg = {"epochs": 2, "batch_size": 8, "learning_rate": 1e-3, "lr_halving_epochs": 20, "patience": None}
    made = []

    def spy(x, y, batch_size, seed, turn_key=None):
        made.append((len(x), batch_size, turn_key))
        return quarter_turn_dataset(x, y, batch_size, seed, turn_key)

    monkeypatch.setattr(augment, "quarter_turn_dataset", spy)
    history = train_clock_model(tmp_path / "course", tmp_path / "split", tmp_path / "out", tmp_path / "state",
                                recipe, train_cfg, seed=0)
    assert len(history) == 2 and np.isfinite(history["turn_loss"]).all()
    assert (tmp_path / "out" / "model.keras").exists()
    n_train = len(np.load(tmp_path / "split" / "train.npy"))
    assert made == [(n_train, 8, recipes.TURN)]  # the training rows, turned with their turn targets

    # each epoch logs the validation clocks' mean common-sense error, read as the evaluate stage reads
    # them: the last epoch's is the saved model's
    import keras

    from idl.clock.labels import cse_minutes, to_minutes

    model = keras.saving.load_model(tmp_path / "out" / "model.keras")
    va = np.load(tmp_path / "split" / "val.npy")
    read = recipes.predict(recipes.Recipe.from_params(recipe), model, np.load(tmp_path / "course" / "images.npy")[va])
    assert history["val_cse"].iloc[-1] == pytest.approx(cse_minutes(to_minutes(labels[va]), read["minutes"]).mean())
    assert (history["val_cse"] >= 0).all() and (history["val_cse"] <= 360).all()
