"""Clock recipes: the report's architectures from a few knobs, every kind trains, encodings round-trip."""
import dataclasses
from pathlib import Path

import keras
import numpy as np
import pytest

from idl.clock import recipes
from idl.clock.labels import cse_minutes, from_minutes, to_minutes
from idl.clock.tables import TABLE8_NOTES
from idl.clock.recipes import (
    KINDS,
    Recipe,
    build_model,
    compile_kwargs,
    decode_minutes,
    describe,
    hand_decode,
    joint_decode,
    targets,
    true_classes,
)
from idl.models.specs import (
    CONV_STACK,
    FIDUCIAL_CLASSIFIER,
    FINAL_CLASSIFIER,
    FINAL_REGRESSOR,
    classifier_spec,
    regressor_spec,
)
from idl.params import read_yaml

R = Recipe.from_params  # the one way to a checked recipe

DAY = from_minutes(np.arange(720))  # every minute of the dial as [hour, minute] rows
KIND_RECIPES = {k: R(v) for k, v in {
    "classify": {"kind": "classify", "n_classes": 24, "preset": "final"},
    "regress": {"kind": "regress", "preset": "final"},
    "regress_angle": {"kind": "regress_angle", "preset": "final"},
    "multihead": {"kind": "multihead", "preset": "final"},
    "multihead_angle": {"kind": "multihead_angle", "preset": "final", "augment_rotation": True},
}.items()}


def _report_table8() -> dict[int, dict]:
    """Table 8 as the report lists it (the known answer): each model changes its predecessor named here."""
    m = {0: {"kind": "classify", "n_classes": 12, "preset": "fiducial", "lr_halving_epochs": 40}}
    m[1] = {**m[0], "batch_size": 256}
    m[2] = {**m[0], "batch_size": 512, "batch_norm": "between_stacks"}
    m[3] = {**m[0], "batch_norm": "all"}  # "we return to a batch size of 32"
    m[4] = {**m[3], "dropout": 0.5}
    m[5] = {**m[4], "conv_filters": 64}
    m[6] = {**m[5], "lr_halving_epochs": 20}
    m[7] = {**m[5], "lr_halving_epochs": 10}
    m[8] = {**m[6], "conv_repeat": 2}
    m[9] = {**m[8], "pool1_strides": 2, "dense_units": 360}  # = Table 7 (preset final)
    return m


TABLE8 = {i: R(r) for i, r in _report_table8().items()}
#: The Table 8 recipes the pipeline trains, from params.yaml: t8_m0 ... t8_m8, and final_nc12 as model 9.
MODELS = read_yaml(Path(__file__).resolve().parents[1] / "params.yaml")["clock"]["models"]
PIPELINE_T8 = {i: R(MODELS[f"t8_m{i}" if i < 9 else "final_nc12"]) for i in range(10)}


# ------------------------------------------------------------------ architecture

def test_classifier_spec_reproduces_tables_6_and_7_exactly():
    assert classifier_spec() == FIDUCIAL_CLASSIFIER
    assert classifier_spec("final") == FINAL_CLASSIFIER
    assert regressor_spec("final") == FINAL_REGRESSOR  # Table 9


def test_table8_walks_from_table6_to_table7():
    specs = {i: classifier_spec(**r.arch(), n_classes=12) for i, r in TABLE8.items()}
    assert specs[0] == FIDUCIAL_CLASSIFIER
    assert specs[9] == FINAL_CLASSIFIER
    assert specs[1] == specs[0] and specs[7] == specs[6] == specs[5]  # training-only changes
    kinds = lambda s: [k for k, _ in s]  # noqa: E731
    # model 2: one BatchNorm, between the two conv stacks
    assert kinds(specs[2]) == ["conv", "maxpool", "bn", "conv", "maxpool", "flatten",
                               "dropout", "dense", "dropout", "dense", "output"]
    # model 8: duplicated Conv2D layers
    assert kinds(specs[8])[:4] == ["conv", "conv", "maxpool", "bn"]
    assert [TABLE8[i].batch_size or 32 for i in range(10)] == [32, 256, 512] + [32] * 7
    assert [TABLE8[i].lr_halving_epochs for i in range(10)] == [40] * 6 + [20, 10, 20, 20]
    assert sorted(TABLE8_NOTES) == list(range(10))
    assert describe(TABLE8[9]) == "classification, n_c = 12, Table 7"  # knobs of Table 7 read as Table 7
    assert describe(R({"kind": "classify", "n_classes": 12, "preset": "final"})) == "classification, n_c = 12, Table 7"


def _fit_one_step(recipe, size, eager=True):
    """One model.fit step on 8 random images; eager by default (tracing a graph per model is slow)."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8, size, size, 1), dtype=np.uint8)
    labels = from_minutes(rng.integers(0, 720, 8))
    model = build_model(recipe, (size, size, 1))
    assert isinstance(model.layers[1], keras.layers.Rescaling)
    model.compile(optimizer=keras.optimizers.Nadam(), run_eagerly=eager, **compile_kwargs(recipe))
    before = [w.copy() for w in model.get_weights()]
    hist = model.fit(x, targets(recipe, labels), epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(hist.history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    return model, x


def test_params_yaml_holds_the_reports_table8():
    """params.yaml is the one place the pipeline's Table 8 recipes are written; they are the report's."""
    for i in range(9):
        assert PIPELINE_T8[i] == TABLE8[i], i
    # model 9 is trained as final_nc12: Table 7's preset, the same network and training
    assert classifier_spec(**PIPELINE_T8[9].arch(), n_classes=12) == classifier_spec(**TABLE8[9].arch(), n_classes=12)
    assert recipes.PRESET_TRAINING["final"]["lr_halving_epochs"] == TABLE8[9].lr_halving_epochs
    assert PIPELINE_T8[9].batch_size == TABLE8[9].batch_size is None


@pytest.mark.parametrize("i", sorted(PIPELINE_T8))
def test_every_table8_model_builds_and_trains(i):
    model, _ = _fit_one_step(PIPELINE_T8[i], 75)
    assert model.output_shape == (None, 12)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_builds_and_trains(kind):
    recipe = KIND_RECIPES[kind]
    model, x = _fit_one_step(recipe, 75)
    pred = recipes.predict(recipe, model, x[..., 0])
    assert pred["minutes"].shape == (8,)
    assert np.all((pred["minutes"] >= 0) & (pred["minutes"] < 720))
    if kind in ("regress", "regress_angle"):
        assert pred["classes"] is None
    else:
        assert pred["classes"].shape == (8,)


def test_final_preset_at_150_has_table_9_shape_and_heads():
    model, _ = _fit_one_step(R({"kind": "multihead", "preset": "final"}), 150, eager=False)  # as train() runs it
    assert sorted(model.output_names) == ["hour", "minute"]
    assert model.get_layer("hour").units == 12 and model.get_layer("minute").units == 1
    assert model.get_layer("flatten1").output.shape[1] == 7 * 7 * 64  # Table 7's 7x7 maps
    # the minute head is Table 9's dense stack: 6 dense layers of 360, 3 BatchNorms
    head = [layer for layer in model.layers if layer.name.startswith("minute_")]
    assert sum(isinstance(l, keras.layers.Dense) for l in head) == 6
    assert sum(isinstance(l, keras.layers.BatchNormalization) for l in head) == 3
    assert all(l.rate == 0.3 for l in head if isinstance(l, keras.layers.Dropout))
    assert all(l.rate == 0.5 for l in model.layers if l.name.startswith("hour_") and isinstance(l, keras.layers.Dropout))
    assert len([l for l in model.layers if isinstance(l, keras.layers.Conv2D)]) == len(
        [s for s in CONV_STACK if s[0] == "conv"])  # one shared trunk


def test_rotation_augmentation_only_in_training_and_survives_saving(tmp_path):
    recipe = KIND_RECIPES["multihead_angle"]
    model = build_model(recipe, (75, 75, 1))
    rot = model.get_layer("augment_rotation")
    assert isinstance(rot, keras.layers.RandomRotation) and model.layers.index(rot) == 2
    assert not any(isinstance(l, keras.layers.RandomRotation)
                   for l in build_model(KIND_RECIPES["multihead"], (75, 75, 1)).layers)
    x = np.random.default_rng(1).integers(0, 256, (4, 75, 75, 1), dtype=np.uint8)
    a, b = model.predict(x, verbose=0), model.predict(x, verbose=0)
    np.testing.assert_array_equal(a["hour"], b["hour"])
    np.testing.assert_array_equal(a["minute"], b["minute"])
    img = x.astype("float32") / 255
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(rot(img, training=False)), img)
    assert not np.allclose(keras.ops.convert_to_numpy(rot(img, training=True)), img)
    model.save(tmp_path / "model.keras")
    again = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(recipes.predict(recipe, again, x)["minutes"], recipes.predict(recipe, model, x)["minutes"])


# ---------------------------------------------------------------------- encodings

def _perfect_outputs(recipe, labels):
    """What a perfect model would output: one-hot classes, exact regression targets."""
    y = targets(recipe, labels)
    one_hot = lambda ids, n: np.eye(n)[ids]  # noqa: E731
    kind = recipe.kind
    if kind == "classify":
        return one_hot(y, recipe.n_classes)
    if kind in ("regress", "regress_angle"):
        return y
    return {"hour": one_hot(y["hour"], 12), "minute": y["minute"]}


@pytest.mark.parametrize("kind", KINDS)
def test_encodings_round_trip_over_a_full_day(kind):
    recipe = KIND_RECIPES[kind]
    minutes = to_minutes(DAY)
    decoded = decode_minutes(recipe, _perfect_outputs(recipe, DAY))
    assert np.all((decoded >= 0) & (decoded < 720))
    err = cse_minutes(minutes, decoded)
    if kind == "classify":
        assert err.max() <= 720 / 24 / 2  # at most half an interval
        assert np.array_equal(true_classes(recipe, DAY), np.arange(720) * 24 // 720)
    else:
        assert err.max() < 1e-3
    if kind.startswith("multihead"):
        assert np.array_equal(true_classes(recipe, DAY), DAY[:, 0])


@pytest.mark.parametrize("n_classes", [12, 48, 720])
def test_classes_read_back_as_interval_centres(n_classes):
    recipe = R({"kind": "classify", "n_classes": n_classes})
    decoded = decode_minutes(recipe, _perfect_outputs(recipe, DAY))
    assert cse_minutes(to_minutes(DAY), decoded).max() <= 360 / n_classes
    assert decoded[0] == 360 / n_classes  # class 0 is read as the centre of its interval


def test_regression_targets_are_hours_and_wrap_at_12():
    r = R({"kind": "regress"})
    assert targets(r, np.array([[2, 30]]))[0] == pytest.approx(2.5)
    np.testing.assert_allclose(decode_minutes(r, np.array([[12.01], [-0.1], [11.99]])), [0.6, 714, 719.4], atol=1e-9)


def test_angle_regression_has_no_jump_between_719_and_0():
    r = R({"kind": "regress_angle"})
    y = targets(r, from_minutes(np.array([719, 0, 1])))
    assert np.linalg.norm(y[0] - y[1]) < 0.01 and np.linalg.norm(y[1] - y[2]) < 0.01
    d = decode_minutes(r, y)
    np.testing.assert_allclose(cse_minutes([719, 0, 1], d), 0, atol=1e-4)
    assert decode_minutes(r, 3 * y[:1])[0] == pytest.approx(719)  # any length of (sin, cos)


def test_multihead_minute_is_clipped_to_the_predicted_hour():
    r = R({"kind": "multihead"})
    hour = np.eye(12)[[3, 3, 3]]
    np.testing.assert_allclose(decode_minutes(r, {"hour": hour, "minute": np.array([[61.2], [-2.0], [29.6]])}),
                               [239, 180, 210])


def _hours(**p):
    """Hour-class probabilities from {class: probability} keyword pairs like h2=0.3."""
    out = np.zeros((1, 12))
    for k, v in p.items():
        out[0, int(k[1:])] = v
    return out


def _angle(m):
    return np.array([[np.sin(2 * np.pi * m / 60), np.cos(2 * np.pi * m / 60)]])


def test_joint_decoding_2_59_leaning_to_class_3_is_2_59():
    r = R({"kind": "multihead_angle"})
    # the hand sits at the 2/3 boundary; the hour head leans to class 3, the minute says 59
    assert decode_minutes(r, {"hour": _hours(h2=0.3, h3=0.7), "minute": _angle(59)})[0] == pytest.approx(179)
    # the naive reading (arg-max hour + minute) would be 3:59, an hour off
    naive = decode_minutes(R({"kind": "multihead"}), {"hour": _hours(h2=0.3, h3=0.7), "minute": np.array([[59.0]])})
    assert naive[0] == 239
    # at 3:00 the minute head reading 59 (1 min off) with the head leaning to 3 gives 2:59: 1 minute off, not 59
    assert cse_minutes(180, decode_minutes(r, {"hour": _hours(h2=0.45, h3=0.55), "minute": _angle(59)}))[0] \
        == pytest.approx(1)
    # a fully confident class keeps its hour for every minute, including the exact tie at :00
    for m in (0, 1, 30, 59, 59.9):
        assert joint_decode(_hours(h3=1.0), np.array([m]))[0] == pytest.approx(180 + m)


def test_joint_decoding_wraps_between_11_59_and_0_00():
    r = R({"kind": "multihead_angle"})
    split = _hours(h11=0.5, h0=0.5)  # hand at 12 o'clock
    assert decode_minutes(r, {"hour": split, "minute": _angle(59)})[0] == pytest.approx(719)
    assert cse_minutes(0, decode_minutes(r, {"hour": split, "minute": _angle(0.5)}))[0] == pytest.approx(0.5)
    lean0 = _hours(h0=0.7, h11=0.3)  # leaning to class 0, but the minute says 11:59
    assert decode_minutes(r, {"hour": lean0, "minute": _angle(59.5)})[0] == pytest.approx(719.5)
    lean11 = _hours(h11=0.8, h0=0.2)  # leaning to 11, but the minute says just after 12
    assert decode_minutes(r, {"hour": lean11, "minute": _angle(1)})[0] == pytest.approx(1)
    assert decode_minutes(r, {"hour": _hours(h11=1.0), "minute": _angle(59)})[0] == pytest.approx(719)
    assert decode_minutes(r, {"hour": _hours(h0=1.0), "minute": _angle(0)})[0] == pytest.approx(0, abs=1e-9)


# ------------------------------------------------------------------------ recipes

def test_unknown_recipe_key_is_rejected_by_name():
    with pytest.raises(ValueError, match="unknown clock recipe key 'conv_filter'"):
        R({"kind": "classify", "conv_filter": 64})


@pytest.mark.parametrize("bad, word", [
    ({"kind": "clasify"}, "kind"),
    ({"kind": "classify", "n_classes": 25}, "n_classes"),
    ({"kind": "regress", "n_classes": 12}, "n_classes"),
    ({"kind": "classify", "preset": "best"}, "preset"),
    ({"kind": "classify", "batch_norm": "some"}, "batch_norm"),
    ({"kind": "classify", "dropout": 1.0}, "dropout"),
    ({"kind": "classify", "conv_filters": 0}, "conv_filters"),
    ({"kind": "classify", "augment_rotation": "yes"}, "augment_rotation"),
    ({"kind": "multihead", "loss_weights": [1.0]}, "loss_weights"),
    ({"kind": "classify", "loss_weights": [0.5, 0.5]}, "loss_weights"),
    ({"kind": "classify", "batch_size": 0}, "batch_size"),
    ({"kind": "classify", "lr_halving_epochs": -1}, "lr_halving_epochs"),
])
def test_bad_values_are_rejected_by_name(bad, word):
    with pytest.raises(ValueError, match=word):
        R(bad)


def test_defaults_are_filled_and_the_recipe_is_frozen():
    r = R({"kind": "multihead"})
    assert r.preset == "final" and r.loss_weights == (0.99, 0.01) and r.augment_rotation is False
    assert r.dropout is None  # each head keeps its table's dropout (0.5 hour, 0.3 minute)
    assert R({"kind": "classify"}).n_classes == 12 and R({"kind": "classify"}).dropout == 0.5  # final's
    assert R({"kind": "multihead", "preset": "final"}) == r  # the same settings, the same recipe
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.kind = "regress"
    with pytest.raises(ValueError, match="must be a mapping"):
        R(r)  # built once, from the parameters
    kw = compile_kwargs(R({"kind": "multihead"}))
    assert kw["loss_weights"] == {"hour": 0.99, "minute": 0.01} and kw["metrics"] == {"hour": ["accuracy"]}
    assert compile_kwargs(R({"kind": "regress"}))["loss"] == "mean_absolute_error"


def test_describe_names_the_approach():
    assert describe(KIND_RECIPES["classify"]) == "classification, n_c = 24, Table 7"
    assert "joint decoding" in describe(KIND_RECIPES["multihead_angle"])
    assert "rotation augmentation" in describe(KIND_RECIPES["multihead_angle"])
    assert describe(TABLE8[7]).endswith("LR halves every 10 epochs")
    assert "batch 256" in describe(TABLE8[1])


def _hand(minutes):
    """(sin, cos) of the hour hand at ``minutes`` past 12:00 (period 720)."""
    a = 2 * np.pi * np.asarray(minutes, dtype=np.float64) / 720
    return np.stack([np.sin(a), np.cos(a)], axis=-1)


def test_hour_hand_decoding_takes_the_hour_from_the_hand_and_the_minute():
    # the hand a little before the 3 (2:57.5): the minute says on which side of the 3 it is
    assert hand_decode(_hand([177.5, 177.5]), np.array([59.0, 1.0])).tolist() == pytest.approx([179, 181])
    # the hand read 20 minutes late still gives the right hour; the minute head gives the minute
    assert hand_decode(_hand([200.0]), np.array([2.0]))[0] == pytest.approx(182)
    # wrap-around at 12: the hand just before 12 with the minute just after, and the reverse
    assert hand_decode(_hand([719.0]), np.array([0.5]))[0] == pytest.approx(0.5)
    assert hand_decode(_hand([1.0]), np.array([59.5]))[0] == pytest.approx(719.5)
    # the vector's length does not matter
    assert hand_decode(3 * _hand([420.0]), np.array([0.0]))[0] == pytest.approx(420)
    # in a model's outputs the hand overrides a confident but wrong hour class (2:58 read as class 3)
    out = {"hour": _hours(h3=1.0), "minute": _angle(58), "hour_hand": _hand([178.5])}
    assert decode_minutes(R({"kind": "multihead_angle"}), out)[0] == pytest.approx(178)
    out = {"hour": _hours(h3=1.0), "minute": np.array([[58.2]]), "hour_hand": _hand([178.5])}
    assert decode_minutes(R({"kind": "multihead"}), out)[0] == pytest.approx(178)  # the minute rounded, as without
    # without the hand, the same outputs give the class's hour
    assert decode_minutes(R({"kind": "multihead_angle"}), {"hour": _hours(h3=1.0), "minute": _angle(58)})[0] \
        == pytest.approx(238)


# ------------------------------------------------------------- reading four quarter turns

def test_average_outputs_averages_dial_readings_on_the_circle():
    avg = recipes.average_outputs
    # regress (hours): 11:54 and 0:06 agree on 12:00, not 6:00
    hours = avg(R({"kind": "regress"}), [np.array([[11.9]]), np.array([[0.1]])])
    assert min(hours[0, 0], 12 - hours[0, 0]) == pytest.approx(0.0, abs=1e-9)
    # multihead: minute 59 and 1 -> 0; the hour probabilities are averaged
    out = avg(R({"kind": "multihead"}), [{"hour": np.eye(12)[[3]], "minute": np.array([[59.0]])},
                                      {"hour": np.eye(12)[[4]], "minute": np.array([[1.0]])}])
    np.testing.assert_allclose(out["hour"][0, 3:5], [0.5, 0.5])
    assert min(out["minute"][0, 0], 60 - out["minute"][0, 0]) == pytest.approx(0.0, abs=1e-9)
    # (sin, cos) vectors and class probabilities: plain means
    vec = avg(R({"kind": "regress_angle"}), [np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]])])
    np.testing.assert_allclose(vec, [[0.5, 0.5]])
    probs = avg(R({"kind": "classify", "n_classes": 24}), [np.eye(24)[[1]], np.eye(24)[[2]]])
    np.testing.assert_allclose(probs[0, :3], [0.0, 0.5, 0.5])
    # the hour hand's (sin, cos) is averaged with the rest
    angle = R({"kind": "multihead_angle"})
    hand = avg(angle, [{"hour": np.eye(12)[[3]], "minute": _angle(0), "hour_hand": _hand([180])},
                       {"hour": np.eye(12)[[3]], "minute": _angle(0), "hour_hand": _hand([190])}])
    assert decode_minutes(angle, hand)[0] == pytest.approx(180)
    np.testing.assert_allclose(hand["hour_hand"], (_hand([180]) + _hand([190])) / 2)


class CornerReader:
    """A stand-in model that reads 5:00 only when the bright mark is top-left, else has no idea."""

    def predict(self, x, batch_size=None, verbose=0):
        sure = x[:, 0, 0, 0] == 255
        return np.where(sure[:, None], np.eye(12)[5], np.full(12, 1 / 12))


def test_quarter_turns_read_every_turn_of_a_picture_alike():
    upright = np.zeros((1, 8, 8), dtype=np.uint8)
    upright[0, 0, 0] = 255
    turned = np.concatenate([np.rot90(upright, k, axes=(1, 2)) for k in range(4)])
    recipe = R({"kind": "classify", "n_classes": 12})
    plain = recipes.predict(recipe, CornerReader(), turned)
    assert plain["classes"].tolist() == [5, 0, 0, 0]  # only the upright copy is read
    four = recipes.predict(recipe, CornerReader(), turned, quarter_turns=True)
    assert four["classes"].tolist() == [5, 5, 5, 5]
    np.testing.assert_allclose(four["minutes"], 5 * 60 + 30)  # the centre of class 5
    with pytest.raises(ValueError, match="square"):
        recipes.predict(recipe, CornerReader(), np.zeros((1, 8, 9), dtype=np.uint8), quarter_turns=True)


def test_quarter_turns_reuse_the_plain_reading_instead_of_reading_view_zero_again():
    class Counting(CornerReader):
        calls = 0

        def predict(self, x, batch_size=None, verbose=0):
            Counting.calls += 1
            return super().predict(x)

    upright = np.zeros((1, 8, 8), dtype=np.uint8)
    upright[0, 0, 0] = 255
    turned = np.concatenate([np.rot90(upright, k, axes=(1, 2)) for k in range(4)])
    recipe = R({"kind": "classify", "n_classes": 12})
    plain = recipes.predict(recipe, Counting(), turned)
    fresh = recipes.predict(recipe, Counting(), turned, quarter_turns=True)
    Counting.calls = 0
    reused = recipes.predict(recipe, Counting(), turned, quarter_turns=True, unturned_outputs=plain["outputs"])
    assert Counting.calls == 3  # only the three turned views are read
    np.testing.assert_array_equal(reused["outputs"], fresh["outputs"])
    assert reused["classes"].tolist() == [5, 5, 5, 5]


# ------------------------------------------------------------------ upright reading

def test_turn_upright_puts_a_turned_mark_back_on_top():
    from idl.models.clock import TurnUpright

    img = np.zeros((1, 15, 15, 1), dtype=np.float32)
    img[0, 1:4, 6:9, 0] = 1.0  # a mark at 12 o'clock
    for k, deg in ((1, 270), (2, 180), (3, 90)):  # np.rot90 turns counter-clockwise: 12 lands at 360 - 90 k
        turned = np.rot90(img, k, axes=(1, 2)).copy()
        a = np.radians(deg)
        direction = np.array([[np.sin(a), np.cos(a)]], dtype=np.float32) * 3.0  # any length
        np.testing.assert_allclose(np.asarray(TurnUpright()([turned, direction])), img, atol=1e-5)
    layer = TurnUpright.from_config(TurnUpright(fill_mode="nearest", name="u").get_config())
    assert layer.fill_mode == "nearest" and layer.name == "u"


def test_upright_recipe_learns_the_turn_and_reads_the_turned_picture(tmp_path):
    recipe = R({"kind": "multihead_angle", "upright": True, "learning_rate": 1e-3})
    assert recipe.upright is True and recipe.learning_rate == 1e-3
    assert "turned upright first" in describe(recipe) and "learning rate 0.001" in describe(recipe)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8, 75, 75, 1), dtype=np.uint8)
    labels = from_minutes(rng.integers(0, 720, 8))
    turns = np.array([0, 90, 180, 270, 45, 135, 225, 315], dtype=np.float64)
    y = targets(recipe, labels, turns)
    np.testing.assert_allclose(y["turn"][:4], [[0, 1], [1, 0], [0, -1], [-1, 0]], atol=1e-7)
    with pytest.raises(ValueError, match="dial's turn"):
        targets(recipe, labels)
    model = build_model(recipe, (75, 75, 1))
    assert set(model.output) == {"hour", "minute", "turn"}
    kw = compile_kwargs(recipe)
    assert kw["loss"]["turn"] == "mean_absolute_error" and kw["loss_weights"]["turn"] > 0
    model.compile(optimizer=keras.optimizers.Nadam(), run_eagerly=True, **kw)
    hist = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(hist.history["turn_loss"][0])
    model.save(tmp_path / "m.keras")  # reloads without custom objects: TurnUpright is registered
    again = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(recipes.predict(recipe, again, x[..., 0])["minutes"],
                               recipes.predict(recipe, model, x[..., 0])["minutes"], atol=1e-4)


def test_hour_hand_recipe_trains_four_outputs_and_reads_back(tmp_path):
    recipe = R({"kind": "multihead_angle", "upright": True, "hour_hand": True})
    assert "hour from an hour-hand angle head" in describe(recipe)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (8, 75, 75, 1), dtype=np.uint8)
    minutes = np.array([0, 59, 60, 179, 181, 359, 661, 719])
    y = targets(recipe, from_minutes(minutes), np.zeros(8))
    # the hand's target decodes back to the time, with the minute target
    np.testing.assert_allclose(hand_decode(y["hour_hand"], minutes % 60), minutes, atol=1e-3)
    model = build_model(recipe, (75, 75, 1))
    assert set(model.output) == {"hour", "minute", "turn", "hour_hand"}
    kw = compile_kwargs(recipe)
    assert kw["loss"]["hour_hand"] == "mean_absolute_error" and kw["loss_weights"]["hour_hand"] > 0
    model.compile(optimizer=keras.optimizers.Nadam(), run_eagerly=True, **kw)
    hist = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(hist.history["hour_hand_loss"][0])
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    pred = recipes.predict(recipe, again, x[..., 0])
    assert set(pred["outputs"]) == {"hour", "minute", "turn", "hour_hand"}
    np.testing.assert_allclose(pred["minutes"], decode_minutes(recipe, pred["outputs"]))
    np.testing.assert_allclose(pred["minutes"], recipes.predict(recipe, model, x[..., 0])["minutes"], atol=1e-4)


@pytest.mark.parametrize("bad, word", [
    ({"kind": "classify", "upright": True}, "multi-head"),
    ({"kind": "regress_angle", "hour_hand": True}, "multi-head"),
    ({"kind": "multihead", "hour_hand": 1}, "hour_hand"),
    ({"kind": "multihead", "upright": "yes"}, "upright"),
    ({"kind": "multihead", "upright": True, "curriculum": True}, "excludes"),
    ({"kind": "multihead", "upright": True, "augment_rotation": True}, "excludes"),
    ({"kind": "multihead", "learning_rate": 0}, "learning_rate"),
])
def test_bad_upright_settings_are_rejected_by_name(bad, word):
    with pytest.raises(ValueError, match=word):
        R(bad)


def test_training_upright_without_turns_names_the_file_and_writes_nothing(tmp_path):
    from idl.clock.course_data import save_split, split_indices, write_course_data
    from idl.clock.train import train_clock_model
    from idl.errors import DataError

    labels = from_minutes(np.arange(0, 720, 24))
    write_course_data(tmp_path / "course", np.zeros((len(labels), 75, 75), dtype=np.uint8), labels)
    save_split(tmp_path / "split", split_indices(labels, seed=0))
    train_cfg = {"epochs": 1, "batch_size": 8, "learning_rate": 1e-3, "lr_halving_epochs": 20, "patience": 5}
    with pytest.raises(DataError, match=r"course/dial_turn.npy: file not found.*course data does not"):
        train_clock_model(tmp_path / "course", tmp_path / "split", tmp_path / "out", tmp_path / "state",
                          {"kind": "multihead_angle", "upright": True}, train_cfg, seed=0)
    assert not (tmp_path / "out").exists()


def test_the_evaluate_stage_scores_the_quarter_turn_reading_beside_the_plain_one():
    from idl.clock.evaluate import score_quarter_turns

    upright = np.zeros((1, 8, 8), dtype=np.uint8)
    upright[0, 0, 0] = 255
    turned = np.concatenate([np.rot90(upright, k, axes=(1, 2)) for k in range(4)])
    recipe = R({"kind": "classify", "n_classes": 12})
    true_min = np.full(4, 5 * 60 + 30)
    four = score_quarter_turns(recipe, CornerReader(), turned, true_min, np.full(4, 5))
    assert four == {"accuracy": 1.0, "cse_mean": 0.0, "cse_median": 0.0, "cse_p90": 0.0}
    # pictures that a quarter turn would not map onto themselves get no such score
    assert score_quarter_turns(recipe, CornerReader(), np.zeros((1, 8, 9), dtype=np.uint8), true_min[:1],
                               np.full(1, 5)) is None


def test_init_from_must_name_another_model_without_a_circle():
    base = {"kind": "multihead_angle"}
    recipes.check_init_from({"a": base, "b": {**base, "init_from": "a"}, "c": {**base, "init_from": "b"}})
    with pytest.raises(ValueError, match=r"clock.models.b.init_from: no clock model named 'z'"):
        recipes.check_init_from({"a": base, "b": {**base, "init_from": "z"}})
    with pytest.raises(ValueError, match=r"circle \(a -> b -> a\)"):
        recipes.check_init_from({"a": {**base, "init_from": "b"}, "b": {**base, "init_from": "a"}})


def test_training_keys_of_a_recipe_are_checked():
    r = recipes.Recipe.from_params({"kind": "classify", "epochs": 3, "patience": 2, "max_minutes": 1.5,
                                    "init_from": "other"})
    assert (r.epochs, r.patience, r.max_minutes, r.init_from) == (3, 2, 1.5, "other")
    for key, bad in (("epochs", 0), ("patience", True), ("max_minutes", -1), ("init_from", 3)):
        with pytest.raises(ValueError, match=key):
            recipes.Recipe.from_params({"kind": "classify", key: bad})
