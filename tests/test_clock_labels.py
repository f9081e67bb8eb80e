import numpy as np
import pytest

from idl.clock import labels as L


def test_cse_known_answers():
    # 11:55 vs 00:05 is ten minutes, either way round
    assert L.cse_minutes(11 * 60 + 55, 5) == 10
    assert L.cse_minutes(5, 11 * 60 + 55) == 10
    true = np.array([0, 0, 360, 719, 100])
    pred = np.array([0, 360, 0, 0, 99.5])
    np.testing.assert_allclose(L.cse_minutes(true, pred), [0, 360, 360, 1, 0.5])


def test_minutes_round_trip():
    hm = np.array([[h, m] for h in range(12) for m in range(60)])
    minutes = L.to_minutes(hm)
    np.testing.assert_array_equal(minutes, np.arange(720))
    np.testing.assert_array_equal(L.from_minutes(minutes), hm)


@pytest.mark.parametrize("n_c", [12, 24, 48, 720])
def test_classes_cover_dial_and_read_back_as_centres(n_c):
    minutes = np.arange(720)
    cls = L.to_class(minutes, n_c)
    assert cls.min() == 0 and cls.max() == n_c - 1
    assert np.all(np.bincount(cls) == 720 // n_c)
    centres = L.class_to_minutes(cls, n_c)
    # perfect classification leaves at most half an interval of error
    assert L.cse_minutes(minutes, centres).max() <= 720 / n_c / 2


def test_report_examples_for_classes():
    # n_c = 24: class 0 is read back as 00:15
    assert L.class_to_minutes(0, 24) == 15
    # class_label = int((hours*60 + minutes) * n_c / 720)
    assert L.to_class(L.to_minutes(np.array([[3, 59]])), 12)[0] == 3


def test_bad_n_classes():
    with pytest.raises(ValueError, match="divide 720"):
        L.to_class(np.arange(3), 7)


def test_angle_round_trip_including_wrap():
    minutes = np.array([0, 1, 359.5, 360, 718, 719, 719.9])
    np.testing.assert_allclose(L.cse_minutes(L.from_angle(L.to_angle(minutes)), minutes), 0, atol=1e-9)
    # 719 and 0 are neighbours in the encoding, not opposite ends
    assert np.linalg.norm(L.to_angle(719) - L.to_angle(0)) < 0.01
