"""The synthetic clock generator: deterministic, complete, and its hands read the label."""
import math
from dataclasses import replace

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


# --- the views mode, styles and extras (issue 17) ---------------------------------------------------

# sha256 (first 16 hex digits) and turn of rows of seed 3 at 40x40, rendered by the generator as it
# was before views and styles existed (render_clock_turned at commit 10798ff): the hard setting with
# the classic style must still give these bytes
BEFORE_STYLES = {0: ("4e0431e6763783f2", 209.5783329831724), 100: ("13e0b475eb942b40", 141.36218181923468),
                 359: ("d86a546923c66302", 173.2056598437101), 719: ("38d9735b54f4d6a6", 62.53142037008636)}


def _sha(image: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(image.tobytes()).hexdigest()[:16]


def test_hard_classic_setting_gives_the_bytes_of_the_generator_before_styles():
    classic = synth.settings_from({"views": None, "dials": ["classic"], "numerals": ["arabic"], "hands": ["classic"],
                                   "heldout_style": {"dial": "square", "numerals": "roman", "hands": "arrow"}})
    for row, (digest, turn) in BEFORE_STYLES.items():
        hour, minute = divmod(row, 60)
        image, got_turn, look = synth.render_row(row, hour, minute, 3, 40, classic)
        assert (_sha(image), got_turn) == (digest, turn)
        assert look.style == synth.Style()
        assert _sha(synth.render_clock_turned(hour, minute, np.random.default_rng([3, row]), 40)[0]) == digest
    image, turn = synth.render_clock_turned(7, 41, np.random.default_rng([3, 9]), 40, 45, 10)
    assert (_sha(image), turn) == ("ee0e1f39028a6e63", 41.760208274627026)


BASE = synth.Settings()
# every style and view parameter, set away from its default
CHANGES = {
    "dial thin": {"dials": ("thin",)}, "dial square": {"dials": ("square",)},
    "numerals roman": {"numerals": ("roman",)}, "numerals segment": {"numerals": ("segment",)},
    "numerals ticks": {"numerals": ("ticks",)},
    "hands baton": {"hands": ("baton",)}, "hands arrow": {"hands": ("arrow",)},
    "second hand": {"second_hand": 1.0}, "blur": {"blur": (1.0, 2.0)}, "jpeg": {"jpeg_quality": (5, 20)},
    "backgrounds": {"backgrounds": ("plaster",)}, "glare": {"glare": 0.0},
    "views": {"views": 10},
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_each_parameter_changes_the_pictures_and_is_deterministic(change):
    settings = replace(BASE, **CHANGES[change])
    rows = [0, 5, 17]  # several rows: a row without glare would not show the glare knob
    base = [synth.render_row(r, 2, 10 + r, 4, 48, BASE)[0] for r in rows]
    new = [synth.render_row(r, 2, 10 + r, 4, 48, settings)[0] for r in rows]
    again = [synth.render_row(r, 2, 10 + r, 4, 48, settings)[0] for r in rows]
    assert all(np.array_equal(a, b) for a, b in zip(new, again))
    assert any(not np.array_equal(a, b) for a, b in zip(base, new))
    other_seed = [synth.render_row(r, 2, 10 + r, 5, 48, settings)[0] for r in rows]
    assert all(not np.array_equal(a, b) for a, b in zip(new, other_seed))


@pytest.mark.parametrize("key, value", [("turn_deg", 5), ("tilt_deg", 5), ("scale", 0.1), ("shift", 0.05),
                                        ("light", 0.2)])
def test_each_view_jitter_moves_the_image_off_its_view(key, value):
    zero = synth.Jitter(0, 0, 0, 0, 0)
    still = synth.Settings(views=4, view_jitter=zero)
    moved = replace(still, view_jitter=replace(zero, **{key: value}))
    a = synth.render_row(9, 1, 2, 0, 48, still)
    b = synth.render_row(9, 1, 2, 0, 48, moved)
    assert not np.array_equal(a[0], b[0])
    np.testing.assert_array_equal(b[0], synth.render_row(9, 1, 2, 0, 48, moved)[0])
    turned = abs((a[1] - b[1] + 180) % 360 - 180)
    assert (0 < turned <= value) if key == "turn_deg" else turned == 0


def test_views_mode_reuses_the_same_view_across_minutes():
    k = 6
    still = synth.Settings(views=k, view_jitter=synth.Jitter(0, 0, 0, 0, 0))
    times = synth.spread_labels(60)  # 60 rows, every 12th minute
    _, _, turns = synth.generate(None, size=24, seed=8, workers=1, progress=False, with_turn=True, settings=still,
                                 labels=times)
    # row i is seen in view i % k: without jitter, the same turn to the bit
    assert len(np.unique(turns)) == k
    np.testing.assert_array_equal(turns, np.tile(turns[:k], 60 // k))
    # the same view at another time: the same wall and dial, only the hands and the noise differ
    a = synth.render_row(1, 3, 0, 8, 48, still)[0].astype(int)
    b = synth.render_row(1 + k, 9, 30, 8, 48, still)[0].astype(int)
    hard_b = synth.render_row(1 + k, 9, 30, 8, 48, synth.Settings())[0].astype(int)
    assert np.median(np.abs(a - b)) < 8 < np.median(np.abs(a - hard_b))
    # with the default jitter each image stays within its view's turn, give or take the jitter
    _, _, jittered = synth.generate(None, size=24, seed=8, workers=1, progress=False, with_turn=True,
                                    views=k, labels=times)
    off = (jittered - np.tile(turns[:k], 60 // k) + 180) % 360 - 180
    assert 0 < np.abs(off).max() <= synth.Jitter().turn_deg + 1e-3
    # the hard setting draws every pose anew
    _, _, hard = synth.generate(None, size=24, seed=8, workers=1, progress=False, with_turn=True, labels=times)
    assert len(np.unique(hard)) == 60


def test_views_mode_keeps_the_turn_record_and_the_rotation_limit():
    _, _, turns = synth.generate(1, size=32, seed=2, workers=1, progress=False, with_turn=True, views=5,
                                 max_rotation_deg=20)
    signed = (turns + 180) % 360 - 180
    assert np.abs(signed).max() <= 20 + 1e-4
    # row i's recorded turn is where render_row draws its 12 (the image and the record agree)
    _, turn, _ = synth.render_row(7, 0, 7, 2, 32, synth.Settings(views=5, max_rotation_deg=20))
    assert turn == pytest.approx(turns[7], abs=1e-4)


def test_styles_are_drawn_per_row_and_the_heldout_style_never():
    held = synth.Style("square", "roman", "arrow")
    settings = synth.Settings(dials=synth.DIALS, numerals=synth.NUMERALS, hands=synth.HANDS, heldout_style=held)
    assert held not in settings.styles() and len(settings.styles()) == 3 * 4 * 3 - 1
    _, _, styles = synth.generate(1, size=16, seed=1, workers=2, progress=False, with_style=True, settings=settings)
    assert held not in styles
    assert len(set(styles)) == 35  # 720 rows: every other combination shows up
    again = [synth.render_row(r, 0, r, 1, 16, settings)[2].style for r in (3, 300, 600)]
    assert again == [styles[3], styles[300], styles[600]]


def test_the_pipelines_training_clocks_never_have_the_heldout_style():
    from idl.params import read_yaml, resolve
    from pathlib import Path

    raw = read_yaml(Path(__file__).resolve().parents[1] / "params.yaml")
    for profile in ("paper", "demo"):
        cfg = resolve({**raw, "profile": profile})["data"]["clock"]["synthetic"]
        settings = synth.settings_from({k: v for k, v in cfg.items() if k not in ("per_minute", "size")})
        assert settings.heldout_style is not None and settings.heldout_style not in settings.styles()
        assert settings.views is not None  # the course-like stand-in


@pytest.mark.parametrize("hands", synth.HANDS)
def test_every_hand_style_points_at_the_labelled_time(hands):
    for hour, minute in [(3, 40), (9, 17), (6, 33)]:
        dial = synth.frontal_dial(hour, minute, size=100, style=synth.Style(hands=hands))
        minute_angle, hour_angle = minute * 6, (hour * 60 + minute) / 2
        assert _along(dial, minute_angle, 0.72) < 100
        assert _along(dial, minute_angle + 180, 0.72) > 150
        assert _along(dial, hour_angle, 0.40) < 100


@pytest.mark.parametrize("bad, key", [
    ({"views": 0}, "views"), ({"dials": ["round"]}, "dials"), ({"numerals": "roman"}, "numerals"),
    ({"blur": [3, 1]}, "blur"), ({"jpeg_quality": [0, 50]}, "jpeg_quality"), ({"second_hand": 2}, "second_hand"),
    ({"view_jitter": {"turn": 3}}, "view_jitter"), ({"view_jitter": {"tilt_deg": -1}}, "view_jitter.tilt_deg"),
    ({"heldout_style": {"dial": "classic", "numerals": "arabic", "hands": "classic"}}, "held-out style"),
    ({"per_minute": 3}, "per_minute"),
])
def test_bad_settings_name_the_key(bad, key):
    with pytest.raises(ValueError, match=key):
        synth.settings_from(bad)


def test_style_and_view_sheets_write_pngs(tmp_path):
    from idl.clock.styles import write_sheets

    settings = synth.Settings(views=4, heldout_style=synth.Style("thin", "segment", "baton"))
    write_sheets(settings, 0, 32, tmp_path / "styles.png", tmp_path / "views.png")
    for name in ("styles.png", "views.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
