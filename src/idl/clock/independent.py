"""Course-format clocks from a second renderer that shares no code with :mod:`idl.clock.synth`.

Issue 17 asks that the shipped reader be scored on clocks "from a renderer outside this project,
with every pose drawn at random". None can be downloaded here, so this module is the nearest
thing: written apart from the generator, it imports nothing from this project, draws with
matplotlib's Agg rasteriser (vector paths, antialiased, glyph outlines of matplotlib's own DejaVu
fonts) instead of the generator's Pillow drawing, and has its own dials, numerals, hands, lighting
and noise. Every clock gets its own random pose: the whole dial turned by any angle, foreshortened
by a tilt of up to 55 degrees about a random axis, scaled and shifted. No two clocks share a view.
A reader scored on these is scored on drawing it has never seen, not on the generator's habits.

    images, looks = render_set(labels, size=75, seed=0)  # (N, 75, 75) uint8, the course's layout,
                                                         # and what each clock shows (its pose, numerals, ...)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Supersampling: each clock is drawn at this many times its side, then averaged down.
_SUPERSAMPLE = 3
_ROMAN = ("XII", "I", "II", "III", "IIII", "V", "VI", "VII", "VIII", "IX", "X", "XI")
_FONTS = ("DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono")


@dataclass(frozen=True)
class Pose:
    """Where the dial sits in the picture: ``turn`` degrees clockwise at which its 12 lies,
    foreshortened by ``tilt`` degrees about an axis at ``axis`` degrees, ``scale`` times the
    picture's half side, its centre shifted by ``shift`` (fractions of the half side)."""

    turn: float = 0.0
    tilt: float = 0.0
    axis: float = 0.0
    scale: float = 0.85
    shift: tuple[float, float] = (0.0, 0.0)


def random_pose(rng: np.random.Generator) -> Pose:
    """Any turn, any tilt axis, a tilt of up to 55 degrees, a dial filling 60-92 % of the picture."""
    scale = rng.uniform(0.6, 0.92)
    room = 0.97 - scale
    return Pose(turn=rng.uniform(0, 360), tilt=rng.uniform(0, 55), axis=rng.uniform(0, 180),
                scale=scale, shift=tuple(rng.uniform(-room, room, size=2)))


def _dial_transform(pose: Pose):
    """Dial coordinates (unit circle, 12 at +y) to picture coordinates ([-1, 1] squared, y up)."""
    from matplotlib.transforms import Affine2D

    return (Affine2D().rotate_deg(-pose.turn)
            .rotate_deg(-pose.axis).scale(1.0, np.cos(np.radians(pose.tilt))).rotate_deg(pose.axis)
            .scale(pose.scale).translate(*pose.shift))


def _direction(clockwise_deg: float) -> np.ndarray:
    a = np.radians(clockwise_deg)
    return np.array([np.sin(a), np.cos(a)])


def _hand(angle: float, length: float, width: float, tail: float, tip: str) -> np.ndarray:
    """A hand's outline in dial coordinates: pointing at ``angle`` degrees clockwise from 12."""
    d = _direction(angle)
    n = np.array([d[1], -d[0]])
    if tip == "arrow":
        body = length * 0.8
        pts = [-tail * d + n * width / 2, body * d + n * width / 2, body * d + n * width * 1.6,
               length * d, body * d - n * width * 1.6, body * d - n * width / 2, -tail * d - n * width / 2]
    elif tip == "taper":
        pts = [-tail * d + n * width / 2, length * d + n * width / 6, length * d - n * width / 6,
               -tail * d - n * width / 2]
    else:  # a plain bar
        pts = [-tail * d + n * width / 2, length * d + n * width / 2, length * d - n * width / 2,
               -tail * d - n * width / 2]
    return np.array(pts)


def _draw(ax, hour: int, minute: int, pose: Pose, rng: np.random.Generator) -> dict:
    """Draw one clock on ``ax`` (limits [-1, 1]): background, dial, numerals, hands; returns what
    was drawn (face, ticks, numerals, font, hands, second hand)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import Circle, PathPatch, Polygon
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    # background: a grey level with a linear ramp in a random direction
    g = np.linspace(-1, 1, 32)
    ramp_dir = _direction(rng.uniform(0, 360))
    ramp = rng.uniform(0.1, 0.7) + rng.uniform(0, 0.3) * (ramp_dir[0] * g[None, :] + ramp_dir[1] * g[:, None])
    ax.imshow(np.clip(ramp, 0, 1), cmap="gray", vmin=0, vmax=1, extent=(-1, 1, -1, 1), origin="lower",
              interpolation="bilinear", zorder=0)

    to_pic = _dial_transform(pose) + ax.transData
    dark_face = rng.random() < 0.2
    face = rng.uniform(0.05, 0.25) if dark_face else rng.uniform(0.75, 1.0)
    ink = rng.uniform(0.85, 1.0) if dark_face else rng.uniform(0.0, 0.2)
    rim = rng.uniform(0.02, 0.12)
    ax.add_patch(Circle((0, 0), 1.0, facecolor=str(rng.uniform(0, 0.6)), edgecolor="none",
                        transform=to_pic, zorder=1))
    ax.add_patch(Circle((0, 0), 1.0 - rim, facecolor=str(face), edgecolor="none", transform=to_pic, zorder=2))
    inner = 1.0 - rim

    # ticks: none, hours only, or hours and minutes
    ticks = rng.choice(["none", "hours", "all"])
    if ticks != "none":
        step = 6 if ticks == "all" else 30
        for k in range(360 // step):
            major = (k * step) % 30 == 0
            d = _direction(k * step)
            out_r, in_r = inner * 0.97, inner * (0.86 if major else 0.93)
            w = (0.035 if major else 0.012) * inner
            n = np.array([d[1], -d[0]]) * w / 2
            ax.add_patch(Polygon([in_r * d + n, out_r * d + n, out_r * d - n, in_r * d - n], closed=True,
                                 facecolor=str(ink), edgecolor="none", transform=to_pic, zorder=3))

    # numerals: none, Arabic in one of three fonts, or Roman
    numerals = str(rng.choice(["none", "arabic", "roman"], p=[0.25, 0.5, 0.25]))
    family = None
    if numerals != "none":
        family = _FONTS[rng.integers(len(_FONTS))]
        font = FontProperties(family=family, weight=rng.choice(["normal", "bold"]))
        height = inner * rng.uniform(0.16, 0.24)
        width = inner * 0.3  # the widest numeral (Roman VIII) no wider than this
        radius = inner * rng.uniform(0.68, 0.76)
        for k in range(12):
            text = _ROMAN[k] if numerals == "roman" else str(12 if k == 0 else k)
            path = TextPath((0, 0), text, size=1.0, prop=font)
            box = path.get_extents()
            centre = radius * _direction(30 * k)
            place = (Affine2D().translate(-(box.x0 + box.x1) / 2, -(box.y0 + box.y1) / 2)
                     .scale(min(height / max(box.height, 1e-6), width / max(box.width, 1e-6))).translate(*centre))
            ax.add_patch(PathPatch(place.transform_path(path), facecolor=str(ink), edgecolor="none",
                                   transform=to_pic, zorder=4))

    # hands: the hour hand short and wide, the minute hand long and thin, one shape for both
    tip = rng.choice(["bar", "taper", "arrow"])
    hand_ink = str(ink if rng.random() < 0.8 else rng.uniform(0.3, 0.6) * (1 - ink) + ink * 0.4)
    tail = rng.uniform(0.0, 0.18) * inner
    for angle, length, width in ((30 * (hour % 12) + minute / 2, rng.uniform(0.45, 0.6), rng.uniform(0.06, 0.1)),
                                 (6 * minute, rng.uniform(0.75, 0.92), rng.uniform(0.03, 0.055))):
        ax.add_patch(Polygon(_hand(angle, length * inner, width * inner, tail, tip), closed=True,
                             facecolor=hand_ink, edgecolor="none", transform=to_pic, zorder=5))
    second_hand = bool(rng.random() < 0.4)
    if second_hand:  # at a random second
        ax.add_patch(Polygon(_hand(rng.uniform(0, 360), 0.9 * inner, 0.012 * inner, 0.2 * inner, "bar"),
                             closed=True, facecolor=str(rng.uniform(0.2, 0.7)), edgecolor="none",
                             transform=to_pic, zorder=6))
    ax.add_patch(Circle((0, 0), inner * rng.uniform(0.03, 0.07), facecolor=hand_ink, edgecolor="none",
                        transform=to_pic, zorder=7))
    return {"face": "dark" if dark_face else "light", "ticks": str(ticks), "numerals": numerals, "font": family,
            "hands": str(tip), "second_hand": second_hand}


def render(hour: int, minute: int, rng: np.random.Generator, size: int = 75, pose: Pose | None = None) -> np.ndarray:
    """One clock showing ``hour``:``minute`` as a (size, size) uint8 grayscale picture; its pose is
    drawn from ``rng`` unless given, and so are its look, lighting and noise."""
    return render_with_look(hour, minute, rng, size, pose)[0]


def render_with_look(hour: int, minute: int, rng: np.random.Generator, size: int = 75,
                     pose: Pose | None = None) -> tuple[np.ndarray, dict]:
    """:func:`render`, and what it drew: the pose and the look (see ``_draw``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not (0 <= hour < 12 and 0 <= minute < 60):
        raise ValueError(f"no such time on a 12-hour dial: {hour}:{minute:02d}")
    pose = random_pose(rng) if pose is None else pose
    side = size * _SUPERSAMPLE
    fig = Figure(figsize=(1, 1), dpi=side)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_axis_off()
    look = {"turn": round(pose.turn, 2), "tilt": round(pose.tilt, 2), **_draw(ax, hour, minute, pose, rng)}
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba(), dtype=np.float32)[:side, :side]
    grey = rgba[..., :3].mean(axis=2) / 255.0
    grey = grey.reshape(size, _SUPERSAMPLE, size, _SUPERSAMPLE).mean(axis=(1, 3))
    # lighting (a second ramp), contrast and sensor noise
    y, x = np.mgrid[-1:1:size * 1j, -1:1:size * 1j]
    light = _direction(rng.uniform(0, 360))
    grey = grey * (1 + rng.uniform(0, 0.35) * (light[0] * x + light[1] * y)) * rng.uniform(0.7, 1.1)
    grey = grey + rng.normal(0, rng.uniform(0.0, 0.04), size=grey.shape)
    return np.clip(np.round(grey * 255), 0, 255).astype(np.uint8), look


def render_set(labels: np.ndarray, size: int = 75, seed: int = 0, progress: bool = False) -> tuple[np.ndarray, list[dict]]:
    """The clocks showing ``labels`` (rows of ``[hour, minute]``), one seeded stream per row, so a
    row's picture depends on the seed and its index alone; and each one's look (:func:`render_with_look`)."""
    rows = range(len(labels))
    if progress:
        from tqdm.auto import tqdm

        rows = tqdm(rows, desc="independent clocks", unit="clock")
    out, looks = np.empty((len(labels), size, size), dtype=np.uint8), []
    for k in rows:
        out[k], look = render_with_look(int(labels[k][0]), int(labels[k][1]), np.random.default_rng([seed, k]), size)
        looks.append(look)
    return out, looks
