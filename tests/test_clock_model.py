"""The clock classifiers are the report's Tables 6 and 7, for every n_c and image size."""
import keras
import numpy as np
import pytest
from keras_layers import layer_rows

from idl.models.clock import clock_classifier, prepare_images
from idl.models.layers import build_from_spec
from idl.models.specs import FIDUCIAL_CLASSIFIER, FINAL_CLASSIFIER, FINAL_REGRESSOR, spec_rows


def _layers(model):
    return layer_rows(model)


# Table 7, written out by hand from the report.
TABLE_7 = [
    ("Conv2D", 64, (4, 4), (2, 2), "relu"),
    ("Conv2D", 64, (4, 4), (2, 2), "relu"),
    ("MaxPooling2D", (4, 4), (2, 2)),
    ("BatchNormalization",),
    ("Conv2D", 64, (2, 2), (1, 1), "relu"),
    ("Conv2D", 64, (2, 2), (1, 1), "relu"),
    ("MaxPooling2D", (2, 2), (2, 2)),
    ("BatchNormalization",),
    ("Flatten",),
    ("Dropout", 0.5),
    ("Dense", 360, "relu"),
    ("BatchNormalization",),
    ("Dropout", 0.5),
    ("Dense", 360, "relu"),
    ("BatchNormalization",),
    ("Dense", 12, "softmax"),
]

# Table 6, written out by hand from the report.
TABLE_6 = [
    ("Conv2D", 32, (4, 4), (2, 2), "relu"),
    ("MaxPooling2D", (4, 4), (4, 4)),
    ("Conv2D", 32, (2, 2), (1, 1), "relu"),
    ("MaxPooling2D", (2, 2), (2, 2)),
    ("Flatten",),
    ("Dropout", 0.15),
    ("Dense", 144, "relu"),
    ("Dropout", 0.15),
    ("Dense", 144, "relu"),
    ("Dense", 12, "softmax"),
]


def test_final_classifier_is_table_7():
    model = clock_classifier()
    assert _layers(model) == TABLE_7
    counts = {k: sum(type(l).__name__ == k for l in model.layers) for k in ("Conv2D", "BatchNormalization", "Dense", "Dropout")}
    assert counts == {"Conv2D": 4, "BatchNormalization": 4, "Dense": 3, "Dropout": 2}
    # the report: "the dense layers now have 7x7 (flattened) images to work with"
    assert model.get_layer("flatten1").output.shape[1] == 7 * 7 * 64


def test_fiducial_classifier_is_table_6():
    model = clock_classifier(spec=FIDUCIAL_CLASSIFIER)
    assert _layers(model) == TABLE_6
    assert model.get_layer("flatten1").output.shape[1] == 8 * 8 * 32  # "down from 8x8"


def test_model_rescales_uint8_pixels_first():
    model = clock_classifier(input_shape=(75, 75))
    rescale = model.layers[1]
    assert isinstance(rescale, keras.layers.Rescaling)
    assert rescale.scale == pytest.approx(1 / 255)
    assert model.input_shape == (None, 75, 75, 1)


def test_regressor_has_table_9_size():
    # Table 9's caption: "The model contains 1.9 million trainable weights".
    model = build_from_spec(FINAL_REGRESSOR, (150, 150, 1), "regressor")
    assert 1.85e6 < model.count_params() < 1.95e6
    assert model.output_shape == (None, 1)


@pytest.mark.parametrize("size", [150, 75])
@pytest.mark.parametrize("n_classes", [12, 24, 48, 720])
@pytest.mark.parametrize("spec", [FINAL_CLASSIFIER, FIDUCIAL_CLASSIFIER], ids=["final", "fiducial"])
def test_builds_and_trains_for_every_n_c_and_size(spec, n_classes, size):
    rng = np.random.default_rng(0)
    x = prepare_images(rng.integers(0, 256, (4, size, size), dtype=np.uint8))
    y = rng.integers(0, n_classes, 4)
    model = clock_classifier(n_classes, (size, size, 1), spec)
    assert model.output_shape == (None, n_classes)
    assert model.layers[-1].get_config()["activation"] == "softmax"
    model.compile(optimizer="nadam", loss="sparse_categorical_crossentropy", run_eagerly=True)
    before = [w.copy() for w in model.get_weights()]
    loss = float(model.train_on_batch(x, y))
    assert np.isfinite(loss)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    probs = model.predict(x, verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_too_small_images_are_refused_by_name():
    with pytest.raises(ValueError, match="too small"):
        clock_classifier(12, (20, 20, 1))


def test_unknown_layer_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind 'conv3d'"):
        build_from_spec([("conv3d", {}), ("output", {"units": 2})], (8, 8, 1), "bad")


def test_two_builds_have_the_same_layer_names():
    a, b = clock_classifier(), clock_classifier()
    assert [l.name for l in a.layers] == [l.name for l in b.layers]


def test_prepare_images_adds_channel_axis_and_keeps_uint8():
    x = np.zeros((3, 5, 6), np.uint8)
    y = prepare_images(x)
    assert y.shape == (3, 5, 6, 1) and y.dtype == np.uint8
    assert prepare_images(y).shape == (3, 5, 6, 1)
    with pytest.raises(ValueError, match="shape"):
        prepare_images(np.zeros(5))


def test_spec_rows_use_report_notation():
    assert spec_rows(FINAL_CLASSIFIER)[0] == ("Conv2D", "n=64, kernel_size=4, strides=2")
    assert spec_rows(FINAL_CLASSIFIER)[-1] == ("Dense (output)", "n=12, activation=softmax")
