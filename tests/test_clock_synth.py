"""The synthetic clock generator: deterministic, complete, and its hands read the label."""
import math

import numpy as np
import pytest

from idl.clock import synth
from idl.clock.course_data import load_course_data, load_dial_turn
from idl.clock.labels import to_minutes

SIZE = 64


@pytest.fixture(scope="module")
def small_set():
    return synth.generate(1, size=SIZE, seed=11, workers=1, progress=False)


def test_shapes_dtypes_and_labels_sorted_and_complete(small_set):
    images, labels = small_set
    assert images.shape == (720, SIZE, SIZE) and images.dtype == np.uint8
    assert labels.shape == (720, 2) and labels.dtype == np.int64
    np.testing.assert_array_equal(to_minutes(labels), np.arange(720))
    labels2 = synth.time_labels(3)
    np.testing.assert_array_equal(to_minutes(labels2), np.repeat(np.arange(720), 3))


def test_same_seed_same_bytes_whatever_the_workers(small_set):
    images, labels = small_set
    images2, labels2 = synth.generate(1, size=SIZE, seed=11, workers=2, progress=False)
    assert images.tobytes() == images2.tobytes()
    np.testing.assert_array_equal(labels, labels2)


def test_other_seed_other_images(small_set):
    images, _ = small_set
    rng = np.random.default_rng([12, 5])
    assert not np.array_equal(synth.render_clock(0, 5, rng, SIZE), images[5])
    # row i of seed s is render_clock with default_rng([s, i]): one image can be remade alone
    np.testing.assert_array_equal(synth.render_clock(0, 5, np.random.default_rng([11, 5]), SIZE),
                                  images[5])


def test_images_are_varied_pictures_not_constant(small_set):
    images, _ = small_set
    assert all(img.std() > 10 for img in images[:50])
    # scale, position, lighting and rotation vary from image to image
    assert images.reshape(720, -1).mean(axis=1).std() > 5
    assert len({img.tobytes() for img in images}) == 720


def test_same_time_same_rng_is_identical_other_time_differs():
    a = synth.render_clock(4, 20, np.random.default_rng(3), SIZE)
    b = synth.render_clock(4, 20, np.random.default_rng(3), SIZE)
    c = synth.render_clock(9, 45, np.random.default_rng(3), SIZE)
    np.testing.assert_array_equal(a, b)
    diff = np.abs(a.astype(int) - c.astype(int)) > 40
    # only the hands moved: some pixels change a lot, most do not change at all
    assert 10 < diff.sum() < 0.2 * diff.size


def _along(dial: np.ndarray, angle_deg: float, r: float) -> int:
    """Gray value of the frontal dial at radius fraction r, clockwise from 12."""
    side = dial.shape[0]
    c, R = side / 2, 0.49 * side
    a = math.radians(angle_deg)
    return int(dial[round(c - r * R * math.cos(a)), round(c + r * R * math.sin(a))])


@pytest.mark.parametrize("hour, minute", [(3, 40), (9, 17), (0, 0), (6, 33), (11, 52)])
def test_hands_point_at_the_labelled_time(hour, minute):
    dial = synth.frontal_dial(hour, minute, size=100)
    minute_angle = minute * 6
    hour_angle = (hour * 60 + minute) / 2  # the hour hand advances with the minutes
    # the minute hand reaches past the numerals; the hour hand stops inside them
    assert _along(dial, minute_angle, 0.72) < 100
    assert _along(dial, minute_angle + 180, 0.72) > 180
    assert _along(dial, hour_angle, 0.42) < 100
    if abs((hour_angle - minute_angle + 180) % 360 - 180) > 20:
        assert _along(dial, hour_angle, 0.72) > 180  # the hour hand is the shorter one


def test_frontal_dial_has_dark_rim_and_white_face():
    dial = synth.frontal_dial(2, 10, size=100)
    rim = [_along(dial, a, 0.95) for a in range(0, 360, 7)]
    face = [_along(dial, a + 3, 0.25) for a in range(0, 360, 30)]
    assert max(rim) < 80
    assert np.median(face) > 200


def test_write_round_trip(tmp_path):
    synth.write(tmp_path / "clocks", per_minute=1, size=32, seed=2, workers=1, progress=False)
    images, labels = load_course_data(tmp_path / "clocks")
    expected, expected_labels, turns = synth.generate(1, size=32, seed=2, workers=1, progress=False,
                                                      with_turn=True)
    np.testing.assert_array_equal(images, expected)
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_array_equal(load_dial_turn(tmp_path / "clocks", len(labels)), turns)
    assert turns.min() >= 0 and turns.max() < 360 and turns.std() > 60  # any turn of the dial


def test_turn_is_the_rendered_rotation_and_zero_when_upright():
    _, _, upright = synth.generate(1, size=32, seed=2, workers=1, progress=False, with_turn=True,
                                   max_rotation_deg=0)
    assert np.all(upright == 0)
    # row i's turn is the angle render_clock_turned draws for it: one row remade alone agrees
    _, _, turns = synth.generate(1, size=32, seed=2, workers=2, progress=False, with_turn=True)
    image, turn = synth.render_clock_turned(0, 7, np.random.default_rng([2, 7]), 32)
    assert turn == pytest.approx(turns[7], abs=1e-4)


def test_missing_or_bad_turn_record_names_the_file(tmp_path):
    from idl.errors import DataError

    with pytest.raises(DataError, match="dial_turn.npy: file not found.*course data does not"):
        load_dial_turn(tmp_path, 3)
    np.save(tmp_path / "dial_turn.npy", np.zeros(2, dtype=np.float32))
    with pytest.raises(DataError, match="expected 3 float dial turns"):
        load_dial_turn(tmp_path, 3)


@pytest.mark.parametrize("kwargs", [{"per_minute": 0}, {"per_minute": 1, "size": 8},
                                    {"per_minute": 1, "seed": -1},
                                    {"per_minute": 1, "workers": 0}])
def test_generate_refuses_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        synth.generate(progress=False, **kwargs)


def test_contact_sheet_writes_png(tmp_path, small_set):
    from idl.clock.figures import contact_sheet
    images, labels = small_set
    out = tmp_path / "fig" / "sheet.png"
    contact_sheet(images, labels, out, n=6, title="synthetic")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in out.parent.iterdir()] == ["sheet.png"]


def _where_twelve_points(max_rotation_deg, max_tilt_deg, seed):
    """Angle (degrees from straight up) of 12 o'clock seen from the dial centre, and how far the
    rim is from a circle (relative spread of its distances to the centre) in one rendered view."""
    dial = synth._dial(48)
    front, _, turn = synth._view_homographies(dial, 96.0, np.random.default_rng(seed), max_rotation_deg,
                                              max_tilt_deg)

    def to_image(x, y):
        p = front @ np.array([x, y, 1.0])
        return p[:2] / p[2]

    c, r = dial.center, dial.radius
    centre = to_image(c, c)
    dx, dy = to_image(c, c - r) - centre
    rim = np.array([np.linalg.norm(to_image(c + r * np.cos(a), c + r * np.sin(a)) - centre)
                    for a in np.linspace(0, 2 * np.pi, 16, endpoint=False)])
    angle = np.degrees(np.arctan2(dx, -dy))
    if max_tilt_deg == 0:  # seen straight on, the recorded turn is exactly where the 12 points
        assert abs((turn - angle + 180) % 360 - 180) < 1e-6
    return angle, rim.std() / rim.mean()


def test_rotation_and_tilt_knobs_limit_the_view():
    upright = [_where_twelve_points(0, 0, s) for s in range(20)]
    assert all(abs(angle) < 1e-6 and roundness < 1e-6 for angle, roundness in upright)
    near_top = [_where_twelve_points(30, 0, s)[0] for s in range(40)]
    assert max(abs(a) for a in near_top) <= 30 + 1e-6 and max(abs(a) for a in near_top) > 15
    anywhere = [_where_twelve_points(180, 50, s) for s in range(40)]
    assert max(abs(a) for a, _ in anywhere) > 120  # 12 may be at the bottom
    assert max(r for _, r in anywhere) > 0.05  # tilted: the dial is an ellipse


def test_knob_values_are_checked():
    with pytest.raises(ValueError, match="max_rotation_deg"):
        synth.generate(1, size=32, max_rotation_deg=200, progress=False)
    with pytest.raises(ValueError, match="max_tilt_deg"):
        synth.generate(1, size=32, max_tilt_deg=90, progress=False)
