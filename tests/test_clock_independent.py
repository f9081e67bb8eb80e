"""The second clock renderer (idl.clock.independent): its own code, seeded, every pose its own, and
hands that show the time asked for."""
import ast
from pathlib import Path

import numpy as np
import pytest

from idl.clock import independent
from idl.clock.synth import spread_labels


def test_it_shares_no_code_with_the_project():
    """What it draws owes nothing to the generator: it imports nothing from idl."""
    tree = ast.parse(Path(independent.__file__).read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0]
    assert names and not [n for n in names if n == "idl" or n.startswith("idl.")]
    assert not any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(tree))


def test_a_set_is_deterministic_per_seed_and_every_clock_has_its_own_pose():
    labels = spread_labels(12)
    a, looks = independent.render_set(labels, size=40, seed=3)
    assert a.shape == (12, 40, 40) and a.dtype == np.uint8
    again, looks_again = independent.render_set(labels, size=40, seed=3)
    assert np.array_equal(a, again) and looks == looks_again
    assert not np.array_equal(a, independent.render_set(labels, size=40, seed=4)[0])
    assert len({img.tobytes() for img in a}) == 12
    assert len(looks) == 12 and {look["numerals"] for look in looks} <= {"none", "arabic", "roman"}
    assert len({look["turn"] for look in looks}) == 12
    poses = [independent.random_pose(np.random.default_rng([0, k])) for k in range(400)]
    turns = np.array([p.turn for p in poses])
    assert np.histogram(turns, bins=4, range=(0, 360))[0].min() > 60  # any turn, not a few views
    assert max(p.tilt for p in poses) > 45 and min(p.tilt for p in poses) < 5
    assert all(abs(p.shift[0]) + p.scale <= 0.97 and abs(p.shift[1]) + p.scale <= 0.97 for p in poses)


def _hands_differ(hour_a, hour_b, pose, size=75):
    """Where two clocks that differ only in the hour (same look, same noise) differ: in the picture's
    right, left, top and bottom, a quarter of the half side from the centre."""
    a = independent.render(hour_a, 0, np.random.default_rng(7), size, pose).astype(int)
    b = independent.render(hour_b, 0, np.random.default_rng(7), size, pose).astype(int)
    c, r = size // 2, round(0.25 * size / 2)
    spots = {"right": (c, c + r), "left": (c, c - r), "top": (c - r, c), "bottom": (c + r, c)}
    return {name: abs(a[y, x] - b[y, x]) for name, (y, x) in spots.items()}


@pytest.mark.parametrize("turn, hour_hand_at", [(0, ("right", "left")), (90, ("bottom", "top"))])
def test_the_hour_hand_points_where_the_time_and_the_turn_say(turn, hour_hand_at):
    """3:00 against 9:00: the pictures differ along the 3 and the 9, nowhere else; turned 90 degrees
    clockwise (the 12 at the picture's right), the 3 is at the bottom."""
    diff = _hands_differ(3, 9, independent.Pose(turn=turn))
    others = set(diff) - set(hour_hand_at)
    assert min(diff[k] for k in hour_hand_at) > 40 and max(diff[k] for k in others) < 10, diff


def test_an_impossible_time_is_refused():
    with pytest.raises(ValueError, match="12:00"):
        independent.render(12, 0, np.random.default_rng(0))
