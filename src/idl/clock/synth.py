"""Synthetic "tell the time" clocks in the course's data format.

The course data (18,000 photograph-like images of one wall clock) may be
unavailable; this generator makes images that look like it, so the whole clock
pipeline can run and be tested without it. It draws a clock (a rim, a face,
numerals, ticks, an hour hand that advances with the minutes and a longer,
thinner minute hand) and then varies what the real data varies: in-plane
rotation, perspective tilt, scale and position, lighting, glare, a
wood/carpet/plaster background and sensor noise.

Two ways to pose the clocks (:class:`Settings`):

- ``views=None``, the *hard* setting: every image draws its own pose and scene,
  so the dial may be turned any way in any picture.
- ``views=K``, *course-like*: one seeded set of K views (turn, tilt, distance,
  scale and position, wall, light, glare) is drawn once from the seed, and row
  ``i`` is seen in view ``i % K``, strayed from it by a little jitter. The course's
  own data looks like this: a few poses photographed for every minute.

And what the clock looks like: a *style* is a (dial, numerals, hands)
combination (:data:`DIALS`, :data:`NUMERALS`, :data:`HANDS`); each image picks
one of the allowed combinations, never the held-out one. A second hand, blur
and JPEG artefacts are optional. ``classic`` / ``arabic`` / ``classic`` in the
hard setting with no extras is the generator as it was before styles existed,
byte for byte.

Every image draws its randomness from ``np.random.default_rng([seed, row])``
(pose, scene, noise) and ``default_rng([seed, row, 1])`` (style and extras); view
``k`` from ``default_rng([seed, k, 2])``. So the output depends only on the
seed and the settings, never on how many processes render it.
"""
from __future__ import annotations

import functools
import io
import logging
import math
import multiprocessing
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from tqdm import tqdm

from idl.clock.course_data import TURN_FILE, write_course_data
from idl.io import save_npy
from idl.clock.labels import MINUTES_PER_DIAL
from idl.clock.synth_settings import (  # noqa: F401 (the generator's settings, used from here too)
    BACKGROUNDS, DIALS, HANDS, NUMERALS, Jitter, Settings, Style, check_settings, generated_set_settings,
    settings_from,
)

log = logging.getLogger(__name__)

SUPERSAMPLE = 2  # draw and warp at 2x, then box-downsample: cheap antialiasing

_BACKGROUND_P = (0.45, 0.35, 0.20)  # how often each wall is drawn when all are allowed

_STYLE_STREAM = 1  # default_rng([seed, row, 1]): the style and the extras of row `row`
_VIEW_STREAM = 2   # default_rng([seed, k, 2]): view k


# ---------------------------------------------------------------------------------------------------
# The dial: drawn once per output size and style, and reused


@dataclass(frozen=True)
class _Dial:
    """The static part of the clock, drawn once per output size and reused."""

    face: Image.Image   # L: rim, face, ticks, numerals; 0 outside the dial
    alpha: Image.Image  # L: 255 on the dial, 0 outside
    center: float       # pixel coordinate of the dial centre (both axes)
    radius: float       # outer rim radius in pixels


def _polar(center: float, radius: float, angle_deg: float, r: float) -> tuple[float, float]:
    """Point at fraction ``r`` of the radius, ``angle_deg`` clockwise from 12 (y points down)."""
    a = math.radians(angle_deg)
    return center + r * radius * math.sin(a), center - r * radius * math.cos(a)


def _font(px: int) -> ImageFont.ImageFont:
    """Pillow's bundled scalable font; the bitmap fallback only if FreeType is missing."""
    try:
        return ImageFont.load_default(size=px)
    except (TypeError, ImportError, OSError):  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


# Stroke glyphs in a box of height 1 (y down): (width, [segments]). No system font is needed.
_ROMAN = {
    "I": (0.22, [((0.11, 0.0), (0.11, 1.0))]),
    "V": (0.62, [((0.0, 0.0), (0.31, 1.0)), ((0.31, 1.0), (0.62, 0.0))]),
    "X": (0.62, [((0.0, 0.0), (0.62, 1.0)), ((0.62, 0.0), (0.0, 1.0))]),
}
_SEGMENTS = {  # seven-segment digits: a top, b upper right, c lower right, d bottom, e lower left, f upper left, g middle
    "a": ((0.0, 0.0), (1.0, 0.0)), "b": ((1.0, 0.0), (1.0, 0.5)), "c": ((1.0, 0.5), (1.0, 1.0)),
    "d": ((0.0, 1.0), (1.0, 1.0)), "e": ((0.0, 0.5), (0.0, 1.0)), "f": ((0.0, 0.0), (0.0, 0.5)),
    "g": ((0.0, 0.5), (1.0, 0.5)),
}
_DIGIT_SEGMENTS = {"0": "abcdef", "1": "bc", "2": "abdeg", "3": "abcdg", "4": "bcfg", "5": "acdfg",
                   "6": "acdefg", "7": "abc", "8": "abcdefg", "9": "abcdfg"}
_SEGMENT_WIDTH = 0.5


def _glyphs(numerals: str, number: int) -> list[tuple[float, list]]:
    """The stroke glyphs of ``number`` in a stroke style: roman or seven-segment."""
    if numerals == "roman":
        text = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"][number - 1]
        return [_ROMAN[ch] for ch in text]
    w = _SEGMENT_WIDTH
    return [(w, [((x0 * w, y0), (x1 * w, y1)) for (x0, y0), (x1, y1) in (_SEGMENTS[s] for s in _DIGIT_SEGMENTS[ch])])
            for ch in str(number)]


def _draw_stroke_numeral(draw: ImageDraw.ImageDraw, numerals: str, number: int, x: float, y: float,
                         height: float, fill: int) -> None:
    """A numeral drawn as line strokes, centred on (x, y), ``height`` pixels tall."""
    glyphs = _glyphs(numerals, number)
    gap = 0.12 if numerals == "roman" else 0.22
    width = sum(w for w, _ in glyphs) + gap * (len(glyphs) - 1)
    stroke = max(1, round(height * (0.13 if numerals == "roman" else 0.15)))
    left, top = x - 0.5 * width * height, y - 0.5 * height
    pos = 0.0
    for w, segments in glyphs:
        for (x0, y0), (x1, y1) in segments:
            draw.line([(left + (pos + x0) * height, top + y0 * height),
                       (left + (pos + x1) * height, top + y1 * height)], fill=fill, width=stroke)
        pos += w + gap
    if numerals == "roman":  # serifs: a bar across the top and the bottom of the numeral, as on clock faces
        for yy in (top, top + height):
            draw.line([(left - 0.06 * height, yy), (left + (width + 0.06) * height, yy)], fill=fill,
                      width=max(1, stroke // 2 + 1))


def _classic_face(side: int, c: float, R: float) -> Image.Image:
    """Dark rim with a lighter bevel, white face shaded near the rim, 60 line ticks."""
    face = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(face)

    def disc(r: float, fill: int) -> None:
        draw.ellipse([c - r * R, c - r * R, c + r * R, c + r * R], fill=fill)

    disc(1.0, 28)     # dark rim
    disc(0.965, 62)   # a lighter bevel, so the rim reads as a solid ring
    disc(0.93, 22)
    disc(0.895, 238)  # white face
    # the face is a little darker near the rim, where the rim shades it
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    rr = np.hypot(xx - c + 0.5, yy - c + 0.5) / R
    shade = np.clip(1.0 - 0.10 * np.clip((rr - 0.70) / 0.195, 0.0, 1.0) ** 2, 0.0, 1.0)
    arr = np.asarray(face, dtype=np.float32)
    arr = np.where(rr < 0.895, arr * shade, arr)
    face = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L")
    draw = ImageDraw.Draw(face)
    for tick in range(60):
        hour_tick = tick % 5 == 0
        inner, width = (0.74, 0.032) if hour_tick else (0.815, 0.011)
        p0 = _polar(c, R, tick * 6, inner)
        p1 = _polar(c, R, tick * 6, 0.865)
        draw.line([p0, p1], fill=30, width=max(1, round(width * R)))
    return face


def _thin_face(side: int, c: float, R: float) -> Image.Image:
    """A thin light metal bezel, a cream face, dots for ticks (large ones at the hours)."""
    face = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(face)
    for r, fill in ((1.0, 150), (0.985, 205), (0.965, 120), (0.955, 226)):
        draw.ellipse([c - r * R, c - r * R, c + r * R, c + r * R], fill=fill)
    for tick in range(60):
        dot = (0.040 if tick % 5 == 0 else 0.014) * R
        x, y = _polar(c, R, tick * 6, 0.86)
        draw.ellipse([x - dot, y - dot, x + dot, y + dot], fill=30)
    return face


def _square_face(side: int, c: float, R: float) -> Image.Image:
    """A dark rounded-square case with a wide bezel, a light gray round face, bars at the hours only."""
    face = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(face)
    draw.rounded_rectangle([c - R, c - R, c + R, c + R], radius=0.3 * R, fill=40)
    draw.rounded_rectangle([c - 0.95 * R, c - 0.95 * R, c + 0.95 * R, c + 0.95 * R], radius=0.27 * R, fill=75)
    draw.ellipse([c - 0.90 * R, c - 0.90 * R, c + 0.90 * R, c + 0.90 * R], fill=208)
    for hour in range(12):
        draw.line([_polar(c, R, hour * 30, 0.72), _polar(c, R, hour * 30, 0.86)], fill=30,
                  width=max(1, round(0.05 * R)))
    return face


@functools.lru_cache(maxsize=64)
def _dial(size: int, dial: str = "classic", numerals: str = "arabic") -> _Dial:
    side = size * SUPERSAMPLE
    c, R = side / 2.0, 0.49 * side
    face = {"classic": _classic_face, "thin": _thin_face, "square": _square_face}[dial](side, c, R)
    draw = ImageDraw.Draw(face)
    if numerals == "arabic":
        font = _font(max(6, round(0.20 * R)))
        for numeral in range(1, 13):
            x, y = _polar(c, R, numeral * 30, 0.60)
            draw.text((x, y), str(numeral), fill=30, font=font, anchor="mm",
                      stroke_width=round(R / 150), stroke_fill=30)  # bolder, as on wall clocks
    elif numerals in ("roman", "segment"):
        for numeral in range(1, 13):
            x, y = _polar(c, R, numeral * 30, 0.60)
            _draw_stroke_numeral(draw, numerals, numeral, x, y, 0.15 * R, 30)

    alpha = Image.new("L", (side, side), 0)
    if dial == "square":
        ImageDraw.Draw(alpha).rounded_rectangle([c - R, c - R, c + R, c + R], radius=0.3 * R, fill=255)
    else:
        ImageDraw.Draw(alpha).ellipse([c - R, c - R, c + R, c + R], fill=255)
    return _Dial(face=face, alpha=alpha, center=c, radius=R)


# ---------------------------------------------------------------------------------------------------
# The hands

# (length, width, tail) as fractions of the radius: hour hand, minute hand
_HAND_SIZES = {
    "classic": ((0.50, 0.075, 0.13), (0.80, 0.045, 0.16)),
    "baton": ((0.52, 0.065, 0.0), (0.82, 0.038, 0.0)),
    "arrow": ((0.50, 0.040, 0.16), (0.80, 0.026, 0.22)),
}


def _hand(center: float, R: float, angle: float, length: float, width: float,
          tail: float, dx: float = 0.0, dy: float = 0.0) -> list[tuple[float, float]]:
    """A tapered, pointed hand as a polygon (fractions of the radius)."""
    return _to_image(center, R, angle, dx, dy,
                     [(-tail, 0.5 * width), (length * 0.93, 0.22 * width), (length, 0.0),
                      (length * 0.93, -0.22 * width), (-tail, -0.5 * width)])


def _to_image(center: float, R: float, angle: float, dx: float, dy: float,
              pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points (along, across) in radii of a hand pointing ``angle`` degrees clockwise from 12, in pixels."""
    a = math.radians(angle)
    ux, uy = math.sin(a), -math.cos(a)  # along the hand
    vx, vy = -uy, ux                    # across it
    return [(center + dx + R * (s * ux + t * vx), center + dy + R * (s * uy + t * vy)) for s, t in pts]


def _disc_points(s0: float, radius: float, n: int = 16) -> list[tuple[float, float]]:
    return [(s0 + radius * math.cos(2 * math.pi * k / n), radius * math.sin(2 * math.pi * k / n)) for k in range(n)]


def _hand_polygons(shape: str, center: float, R: float, angle: float, length: float, width: float,
                   tail: float, dx: float = 0.0, dy: float = 0.0) -> list[list[tuple[float, float]]]:
    """The polygons of one hand of a hand style."""
    if shape == "classic":
        return [_hand(center, R, angle, length, width, tail, dx, dy)]
    if shape == "baton":  # a plain bar with a square end
        w = 0.5 * width
        return [_to_image(center, R, angle, dx, dy, [(-0.05, w), (length, w), (length, -w), (-0.05, -w)])]
    # arrow: a thin shaft, an arrow head at the tip, a counterweight disc on the tail
    w, head = 0.5 * width, 0.14 * length
    shaft = [(-tail, w), (length - head, w), (length - head, -w), (-tail, -w)]
    tip = [(length - head - 0.02, 1.7 * width), (length, 0.0), (length - head - 0.02, -1.7 * width)]
    weight = _disc_points(-tail, 1.6 * width)
    return [_to_image(center, R, angle, dx, dy, p) for p in (shaft, tip, weight)]


@dataclass(frozen=True)
class _HandShadow:
    angle: float   # direction the shadow falls, radians
    distance: float  # how far, in radii
    gray: int


def _draw_hands(face: Image.Image, dial: _Dial, hour: int, minute: int,
                shadow: _HandShadow | None, hands: str = "classic", second_angle: float | None = None) -> None:
    draw = ImageDraw.Draw(face)
    c, R = dial.center, dial.radius
    minute_angle = minute * 6.0
    hour_angle = ((hour % 12) * 60 + minute) / MINUTES_PER_DIAL * 360.0
    (hl, hw, ht), (ml, mw, mt) = _HAND_SIZES[hands]
    drawn = [(hour_angle, hl, hw, ht), (minute_angle, ml, mw, mt)]
    if shadow is not None:  # hands stand off the face: their shadow falls a little beside them
        sd = shadow.distance * R
        for angle, length, width, tail in drawn:
            for poly in _hand_polygons(hands, c, R, angle, length, width, tail,
                                       sd * math.cos(shadow.angle), sd * math.sin(shadow.angle)):
                draw.polygon(poly, fill=shadow.gray)
    for angle, length, width, tail in drawn:
        for poly in _hand_polygons(hands, c, R, angle, length, width, tail):
            draw.polygon(poly, fill=18)
    if second_angle is not None:  # a thin, lighter hand (red on a real clock) with a tail
        draw.polygon(_to_image(c, R, second_angle, 0, 0, [(-0.22, 0.008), (0.88, 0.006), (0.88, -0.006),
                                                          (-0.22, -0.008)]), fill=85)
    cap = 0.05 * R
    draw.ellipse([c - cap, c - cap, c + cap, c + cap], fill=12)


def frontal_dial(hour: int, minute: int, size: int = 150, style: Style = Style()) -> np.ndarray:
    """The clock seen straight on, 12 at the top, no lighting or background.

    Drawn at ``2 * size`` pixels (the resolution the renderer warps from); the
    dial's centre is the image centre and its rim radius is ``0.49`` of the side.
    Useful to check and show what the hands encode.
    """
    dial = _dial(size, style.dial, style.numerals)
    face = dial.face.copy()
    _draw_hands(face, dial, hour, minute, None, style.hands)
    return np.asarray(face)


# ---------------------------------------------------------------------------------------------------
# The pose and the scene


@dataclass(frozen=True)
class _Scene:
    """Everything about one picture but the clock's time and look: pose, wall, light, glare, noise level.

    Drawn in the order the original renderer drew it, so the hard setting's images are unchanged.
    """

    hand_shadow: _HandShadow
    theta: float        # in-plane turn, radians (the 12's direction, clockwise from the top)
    tilt: float         # radians
    axis: float         # in-plane tilt axis, radians
    distance: float     # camera distance, in dial radii
    depth: float        # case depth, in dial radii
    radius_out: float   # dial radius in output pixels (at the supersampled side)
    cx: float
    cy: float
    light: float        # direction of the light, radians
    background: np.ndarray
    shadow_shift: float
    shadow_blur: float
    shadow_strength: float
    case_gray: float
    clock_gain: float
    glare: tuple | None  # (gx, gy, angle, su, sv, strength)
    gradient: float
    gain: float
    noise: float


def _draw_scene(rng: np.random.Generator, size: int, max_rotation_deg: float, max_tilt_deg: float,
                backgrounds: tuple[str, ...] = BACKGROUNDS, glare_p: float = 0.8) -> _Scene:
    side = size * SUPERSAMPLE
    hand_shadow = _HandShadow(rng.uniform(0, 2 * math.pi), rng.uniform(0.01, 0.035), int(rng.integers(150, 200)))
    theta = rng.uniform(0, 2 * math.pi)
    if max_rotation_deg < 180:
        theta = (theta / math.pi - 1.0) * math.radians(max_rotation_deg)
    tilt = math.radians(rng.uniform(0, max_tilt_deg))
    axis = rng.uniform(0, math.pi)
    distance = rng.uniform(2.5, 7.0)
    depth = rng.uniform(0.08, 0.16)
    radius_out = rng.uniform(0.30, 0.47) * side
    slack = max(0.0, 0.5 * side - 0.85 * radius_out)
    cx, cy = 0.5 * side + rng.uniform(-slack, slack, size=2)
    light = rng.uniform(0, 2 * math.pi)
    background = _background(rng, size, backgrounds)
    shadow_shift = rng.uniform(0.0, 0.06) * size
    shadow_blur = rng.uniform(1.0, max(1.0, 0.05 * size))  # (below 20 pixels the range was empty)
    shadow_strength = rng.uniform(0.2, 0.6)
    case_gray = rng.uniform(25, 70)
    clock_gain = rng.uniform(0.75, 1.05)
    glare = None
    if rng.random() < glare_p:  # specular glare on the glass: a bright, soft, elongated patch
        gx, gy = rng.uniform(-0.5, 0.5, size=2)
        ga = rng.uniform(0, math.pi)
        su, sv = rng.uniform(0.12, 0.45), rng.uniform(0.04, 0.18)
        glare = (gx, gy, ga, su, sv, rng.uniform(0.3, 0.95))
    gradient = rng.uniform(0.0, 0.35)
    gain = rng.uniform(0.55, 1.15)
    noise = rng.uniform(1.0, 6.0)
    return _Scene(hand_shadow, theta, tilt, axis, distance, depth, radius_out, cx, cy, light, background,
                  shadow_shift, shadow_blur, shadow_strength, case_gray, clock_gain, glare, gradient, gain, noise)


@functools.lru_cache(maxsize=256)
def _view(seed: int, k: int, size: int, max_rotation_deg: float, max_tilt_deg: float,
          backgrounds: tuple[str, ...], glare_p: float) -> _Scene:
    """View ``k`` of the views mode: drawn from the seed alone, the same for every row that uses it."""
    scene = _draw_scene(np.random.default_rng([seed, k, _VIEW_STREAM]), size, max_rotation_deg, max_tilt_deg,
                        backgrounds, glare_p)
    scene.background.setflags(write=False)  # shared by every image of the view
    return scene


def _jittered(view: _Scene, rng: np.random.Generator, jitter: Jitter, size: int,
              max_rotation_deg: float, max_tilt_deg: float) -> _Scene:
    """The view strayed a little for one image; sensor noise is the image's own."""
    side = size * SUPERSAMPLE
    theta = view.theta + math.radians(rng.uniform(-jitter.turn_deg, jitter.turn_deg))
    if max_rotation_deg < 180:
        limit = math.radians(max_rotation_deg)
        theta = min(max(theta, -limit), limit)
    tilt = min(max(view.tilt + math.radians(rng.uniform(-jitter.tilt_deg, jitter.tilt_deg)), 0.0),
               math.radians(max_tilt_deg))
    radius_out = view.radius_out * (1.0 + rng.uniform(-jitter.scale, jitter.scale))
    dx, dy = rng.uniform(-jitter.shift, jitter.shift, size=2) * side
    return replace(view, theta=theta, tilt=tilt, radius_out=radius_out, cx=view.cx + dx, cy=view.cy + dy,
                   gain=view.gain * (1.0 + rng.uniform(-jitter.light, jitter.light)),
                   noise=rng.uniform(1.0, 6.0))


def _homographies(dial: _Dial, out_side: float, scene: _Scene) -> tuple[np.ndarray, np.ndarray, float]:
    """3x3 maps from dial pixels to output pixels for the face and for the case's back, and the turn.

    The dial plane is turned about the viewing axis (any angle: 12 may be at the
    bottom), then tilted about an in-plane axis and seen through a pinhole camera
    ``distance`` radii away, which makes the circle an ellipse with a nearer,
    larger side. A tilt below 90 degrees never mirrors the dial, so the hands
    still read the labelled time. The second map is the same disc pushed back by
    the case depth: where it peeks out from under the face, the case's side shows.
    The turn is returned in degrees clockwise, 0 <= turn < 360: where the 12 points
    in the picture (before the tilt).
    """
    c, R = dial.center, dial.radius
    theta, tilt, axis, distance = scene.theta, scene.tilt, scene.axis, scene.distance
    ct, st = math.cos(theta), math.sin(theta)
    spin = np.array([[ct, -st, 0], [st, ct, 0], [0, 0, 1]])
    k = np.array([math.cos(axis), math.sin(axis), 0.0])  # Rodrigues rotation about k
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    tilt_m = np.eye(3) + math.sin(tilt) * kx + (1 - math.cos(tilt)) * (kx @ kx)
    rot = tilt_m @ spin
    f = scene.radius_out * distance
    camera = np.array([[f, 0, scene.cx], [0, f, scene.cy], [0, 0, 1.0]])
    normalise = np.array([[1 / R, 0, -c / R], [0, 1 / R, -c / R], [0, 0, 1.0]])
    maps = []
    for push in (0.0, scene.depth):  # +z of the dial points away from the camera, into the wall
        origin = np.array([0.0, 0.0, distance]) + push * rot[:, 2]
        plane = np.column_stack([rot[:, 0], rot[:, 1], origin])
        maps.append(camera @ plane @ normalise)
    return maps[0], maps[1], math.degrees(theta) % 360.0


def _view_homographies(dial: _Dial, out_side: float, rng: np.random.Generator,
                       max_rotation_deg: float = 180.0, max_tilt_deg: float = 50.0) -> tuple[np.ndarray, np.ndarray, float]:
    """:func:`_homographies` of a pose drawn from ``rng`` as the renderer draws it (rotation and tilt
    limited by ``max_rotation_deg`` (< 180: 12 stays within that many degrees of the top) and
    ``max_tilt_deg``); ``out_side`` is the supersampled side."""
    scene = _draw_scene(rng, round(out_side) // SUPERSAMPLE, max_rotation_deg, max_tilt_deg)
    return _homographies(dial, out_side, scene)


def _pil_coeffs(homography: np.ndarray) -> tuple[float, ...]:
    """Pillow's PERSPECTIVE data: the output-to-input map, normalised."""
    inverse = np.linalg.inv(homography)
    return tuple((inverse / inverse[2, 2]).ravel()[:8])


def _smooth_noise(rng: np.random.Generator, size: int, cells: int | tuple[int, int]) -> np.ndarray:
    """Value noise: a coarse random grid upsampled bicubically, roughly in [0, 1]."""
    cy, cx = (cells, cells) if isinstance(cells, int) else cells
    grid = rng.random((cy + 1, cx + 1), dtype=np.float32)
    img = Image.fromarray(grid, "F").resize((size, size), Image.BICUBIC)
    return np.asarray(img, dtype=np.float32)


@functools.lru_cache(maxsize=8)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates scaled to [-1, 1]."""
    t = np.linspace(-1.0, 1.0, size, dtype=np.float32)
    xx, yy = np.meshgrid(t, t)
    xx.setflags(write=False)  # shared by every render: guard against in-place edits
    yy.setflags(write=False)
    return xx, yy


def _background(rng: np.random.Generator, size: int, allowed: tuple[str, ...] = BACKGROUNDS) -> np.ndarray:
    """A wood, carpet or plaster texture as float32 gray values (one of ``allowed``)."""
    xx, yy = _grid(size)
    if allowed == BACKGROUNDS:
        kind = BACKGROUNDS[rng.choice(3, p=list(_BACKGROUND_P))]
    else:  # one draw either way; the walls allowed keep their relative frequencies
        p = np.array([_BACKGROUND_P[BACKGROUNDS.index(a)] for a in allowed])
        kind = allowed[rng.choice(len(allowed), p=p / p.sum())]
    base = rng.uniform(50, 190)
    if kind == "wood":  # planks of long, fine grain lines, gently bent
        a = rng.uniform(0, math.pi)
        along = xx * math.cos(a) + yy * math.sin(a)
        across = -xx * math.sin(a) + yy * math.cos(a)
        warp = _smooth_noise(rng, size, 3) * rng.uniform(0.02, 0.08)
        planks = (across + warp) * rng.uniform(1.0, 3.5) + rng.random()
        plank = np.floor(planks)
        edge = np.minimum(planks - plank, plank + 1 - planks)
        plank_id = plank.astype(np.int64) % 16
        profile = np.convolve(rng.standard_normal(1024), np.ones(3) / 3, mode="same")
        pos = ((across + 1.5 * warp) * rng.uniform(90, 180) + plank_id * 61.0
               + 4 * along ** 2 * rng.uniform(-1, 1)) % 1024
        grain = np.interp(pos.ravel(), np.arange(1024), profile).reshape(size, size)
        tex = (0.45 * grain + 0.6 * rng.standard_normal(16)[plank_id]
               + 0.8 * (_smooth_noise(rng, size, (2, 6)) - 0.5)
               - 2.5 * np.exp(-(edge / 0.012) ** 2))
        contrast = rng.uniform(12, 30)
    elif kind == "carpet":  # dense fibre speckle with soft blotches
        fibres = rng.standard_normal((size, size)).astype(np.float32)
        fibres = 0.6 * fibres + 0.4 * np.roll(fibres, 1, axis=int(rng.integers(2)))
        tex = 0.9 * fibres + 1.4 * (_smooth_noise(rng, size, int(rng.integers(4, 12))) - 0.5)
        contrast = rng.uniform(10, 25)
    else:  # painted plaster: gentle mottling
        tex = (_smooth_noise(rng, size, int(rng.integers(3, 8)))
               + 0.5 * _smooth_noise(rng, size, 20) - 0.75) * 2.0
        tex += 0.15 * rng.standard_normal((size, size)).astype(np.float32)
        contrast = rng.uniform(8, 20)
    return base + contrast * tex


def _gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of a float image, edges repeated."""
    radius = max(1, math.ceil(3 * sigma))
    t = np.arange(-radius, radius + 1, dtype=np.float32)
    kernel = np.exp(-0.5 * (t / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(img, radius, mode="edge")
    rows = sum(w * padded[:, i:i + img.shape[1]] for i, w in enumerate(kernel))
    return sum(w * rows[i:i + img.shape[0], :] for i, w in enumerate(kernel))


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img, "L").save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("L"), dtype=np.uint8)


# ---------------------------------------------------------------------------------------------------
# One image


@dataclass(frozen=True)
class Look:
    """One image's style and extras (drawn by :func:`draw_look`)."""

    style: Style = Style()
    second_angle: float | None = None  # degrees clockwise from 12; None: no second hand
    blur: float = 0.0
    jpeg_quality: int | None = None


def draw_look(settings: Settings, rng: np.random.Generator) -> Look:
    """An image's style (one of ``settings.styles()``) and extras, from its own stream."""
    styles = settings.styles()
    style = styles[int(rng.integers(len(styles)))]
    second = float(rng.uniform(0, 360)) if rng.random() < settings.second_hand else None
    blur = float(rng.uniform(*settings.blur))
    quality = int(rng.integers(settings.jpeg_quality[0], settings.jpeg_quality[1] + 1)) \
        if settings.jpeg_quality is not None else None
    return Look(style, second, blur, quality)


def _render(hour: int, minute: int, rng: np.random.Generator, size: int, scene: _Scene, look: Look) -> tuple[np.ndarray, float]:
    dial = _dial(size, look.style.dial, look.style.numerals)
    side = size * SUPERSAMPLE
    face = dial.face.copy()
    _draw_hands(face, dial, hour, minute, scene.hand_shadow, look.style.hands, look.second_angle)

    front, back, turn = _homographies(dial, side, scene)
    layer = Image.merge("LA", (face, dial.alpha))
    layer = layer.transform((side, side), Image.PERSPECTIVE, _pil_coeffs(front), Image.BILINEAR)
    layer = layer.reduce(SUPERSAMPLE)
    # the face is black outside the dial, so it is already alpha-premultiplied
    clock, alpha = (np.asarray(ch, dtype=np.float32) for ch in layer.split())
    alpha = alpha / 255.0
    # the case's back, straight at 1x: it is a soft dark blob, aliasing does not show
    to_1x = np.diag([1.0 / SUPERSAMPLE, 1.0 / SUPERSAMPLE, 1.0])
    case_img = dial.alpha.transform((size, size), Image.PERSPECTIVE,
                                    _pil_coeffs(to_1x @ back), Image.BILINEAR)
    case = np.asarray(case_img, dtype=np.float32) / 255.0

    xx, yy = _grid(size)
    lx, ly = math.cos(scene.light), math.sin(scene.light)

    bg = scene.background.copy()
    # the clock's soft shadow on the wall, cast away from the light
    shift = scene.shadow_shift
    shadow_img = case_img.transform(
        (size, size), Image.AFFINE, (1, 0, shift * lx, 0, 1, shift * ly), Image.BILINEAR)
    shadow_img = shadow_img.filter(ImageFilter.BoxBlur(scene.shadow_blur))
    bg *= 1.0 - scene.shadow_strength * np.asarray(shadow_img, dtype=np.float32) / 255.0
    bg += (scene.case_gray - bg) * case

    img = bg * (1.0 - alpha) + clock * scene.clock_gain

    if scene.glare is not None:  # specular glare on the glass: a bright, soft, elongated patch
        gx, gy, ga, su, sv, strength = scene.glare
        u = (xx - gx) * math.cos(ga) + (yy - gy) * math.sin(ga)
        v = -(xx - gx) * math.sin(ga) + (yy - gy) * math.cos(ga)
        glare = np.exp(-0.5 * ((u / su) ** 2 + (v / sv) ** 2)) * strength
        img += (255.0 - img) * glare * alpha

    gradient = 1.0 + scene.gradient * (xx * lx + yy * ly)
    img *= gradient * scene.gain
    if look.blur > 0:  # out of focus or moving: before the sensor adds its noise
        img = _gaussian_blur(img, look.blur)
    img += rng.normal(0.0, scene.noise, size=img.shape).astype(np.float32)
    out = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    if look.jpeg_quality is not None:
        out = _jpeg(out, look.jpeg_quality)
    return out, turn


def render_clock(hour: int, minute: int, rng: np.random.Generator, size: int = 150,
                 max_rotation_deg: float = 180.0, max_tilt_deg: float = 50.0) -> np.ndarray:
    """One grayscale ``size`` x ``size`` uint8 image of the classic clock showing ``hour:minute``."""
    return render_clock_turned(hour, minute, rng, size, max_rotation_deg, max_tilt_deg)[0]


def render_clock_turned(hour: int, minute: int, rng: np.random.Generator, size: int = 150,
                        max_rotation_deg: float = 180.0, max_tilt_deg: float = 50.0) -> tuple[np.ndarray, float]:
    """:func:`render_clock`'s image and the dial's turn: degrees clockwise from the top at which its 12 lies.

    The hard setting's classic clock: every random draw comes from ``rng``.
    """
    scene = _draw_scene(rng, size, max_rotation_deg, max_tilt_deg)
    return _render(hour, minute, rng, size, scene, Look())


def render_row(row: int, hour: int, minute: int, seed: int, size: int,
               settings: Settings = Settings()) -> tuple[np.ndarray, float, Look]:
    """Row ``row`` of a generated set: its image, its dial's turn and its look.

    What :func:`generate` makes for that row, remade alone.
    """
    rng = np.random.default_rng([seed, row])
    look = draw_look(settings, np.random.default_rng([seed, row, _STYLE_STREAM]))
    if settings.views is None:
        scene = _draw_scene(rng, size, settings.max_rotation_deg, settings.max_tilt_deg, settings.backgrounds,
                            settings.glare)
    else:
        view = _view(seed, row % settings.views, size, settings.max_rotation_deg, settings.max_tilt_deg,
                     settings.backgrounds, settings.glare)
        scene = _jittered(view, rng, settings.view_jitter, size, settings.max_rotation_deg, settings.max_tilt_deg)
    image, turn = _render(hour, minute, rng, size, scene, look)
    return image, turn, look


# ---------------------------------------------------------------------------------------------------
# Whole sets


def time_labels(per_minute: int) -> np.ndarray:
    """``[hour, minute]`` rows sorted by time, ``per_minute`` rows per minute (course order)."""
    return _labels(np.repeat(np.arange(MINUTES_PER_DIAL, dtype=np.int64), per_minute))


def spread_labels(n: int) -> np.ndarray:
    """``[hour, minute]`` rows of ``n`` times spread evenly over the 12 hours, sorted."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return _labels(np.arange(n, dtype=np.int64) * MINUTES_PER_DIAL // n)


def _labels(minutes: np.ndarray) -> np.ndarray:
    return np.stack([minutes // 60, minutes % 60], axis=1)


def _render_rows(job: tuple) -> tuple[int, np.ndarray, np.ndarray, list[Style]]:
    """Render rows ``start:stop`` (their times given), their dials' turns and styles; runs in a worker process."""
    start, labels, size, seed, settings = job
    out = np.empty((len(labels), size, size), dtype=np.uint8)
    turns = np.empty(len(labels), dtype=np.float32)
    styles = []
    for k, (hour, minute) in enumerate(labels):
        out[k], turns[k], look = render_row(start + k, int(hour), int(minute), seed, size, settings)
        styles.append(look.style)
    return start, out, turns, styles


def _settings(settings: Settings | None, max_rotation_deg: float, max_tilt_deg: float, options: dict) -> Settings:
    if settings is None:
        settings = settings_from({"max_rotation_deg": max_rotation_deg, "max_tilt_deg": max_tilt_deg, **options})
    elif options:
        raise ValueError(f"give the generator's settings either as settings= or as keywords, not both: {sorted(options)}")
    else:
        check_settings(settings)
    return settings


def generate(per_minute: int | None, size: int = 150, seed: int = 0, workers: int | None = None,
             progress: bool = True, max_rotation_deg: float = 180.0,
             max_tilt_deg: float = 50.0, with_turn: bool = False, with_style: bool = False,
             settings: Settings | None = None, labels: np.ndarray | None = None,
             **options) -> tuple[np.ndarray, ...]:
    """Render ``720 * per_minute`` clocks, rows sorted by time like the course data.

    ``workers=None`` uses every core, ``workers=1`` renders in this process; the
    images are identical either way. ``max_rotation_deg`` / ``max_tilt_deg`` limit
    the dial's in-plane rotation and perspective tilt (easier variants); the other
    keys of :class:`Settings` (``views``, ``dials``, ...) may be given as keywords too,
    or all of them at once as ``settings``. ``labels`` (``[hour, minute]`` rows, e.g.
    :func:`spread_labels`) replaces ``per_minute``'s times. ``with_turn`` also returns
    each dial's turn (float32 degrees clockwise at which its 12 lies, the generator's
    record that :data:`TURN_FILE` holds); ``with_style`` then each row's :class:`Style` (a list).
    """
    if labels is None:
        if per_minute is None or per_minute < 1:
            raise ValueError(f"per_minute must be at least 1, got {per_minute}")
        labels = time_labels(per_minute)
    elif per_minute is not None:
        raise ValueError("give per_minute or labels, not both")
    labels = np.asarray(labels, dtype=np.int64)
    if labels.ndim != 2 or labels.shape[1] != 2 or len(labels) == 0:
        raise ValueError(f"labels must be [hour, minute] rows, got shape {labels.shape}")
    if size < 16:
        raise ValueError(f"size must be at least 16 pixels, got {size}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1 (or None for every core), got {workers}")
    settings = _settings(settings, max_rotation_deg, max_tilt_deg, options)
    n = len(labels)
    workers = min(workers or os.cpu_count() or 1, n)
    chunk = max(1, min(64, math.ceil(n / (workers * 8))))
    jobs = [(s, labels[s:s + chunk], size, seed, settings) for s in range(0, n, chunk)]
    images = np.empty((n, size, size), dtype=np.uint8)
    turns = np.empty(n, dtype=np.float32)
    styles: list = [None] * n
    mode = "hard: every image its own pose" if settings.views is None else f"{settings.views} views"
    log.info("rendering %d synthetic clocks of %dx%d (%s, %d style(s)) with %d worker(s)", n, size, size, mode,
             len(settings.styles()), workers)
    with tqdm(total=n, desc="synthetic clocks", unit="img", disable=not progress) as bar:
        if workers == 1:
            results = map(_render_rows, jobs)
            pool = None
        else:
            pool = multiprocessing.Pool(workers)
            results = pool.imap_unordered(_render_rows, jobs)
        try:
            for start, block, block_turns, block_styles in results:
                images[start:start + len(block)] = block
                turns[start:start + len(block)] = block_turns
                styles[start:start + len(block)] = block_styles
                bar.update(len(block))
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()
    return (images, labels) + ((turns,) if with_turn else ()) + ((styles,) if with_style else ())


def write(directory: str | os.PathLike, per_minute: int | None, size: int = 150, seed: int = 0,
          workers: int | None = None, progress: bool = True, max_rotation_deg: float = 180.0,
          max_tilt_deg: float = 50.0, settings: Settings | None = None, labels: np.ndarray | None = None,
          **options) -> None:
    """Generate a synthetic dataset: ``images.npy``/``labels.npy`` and each dial's turn in :data:`TURN_FILE`
    (arguments as :func:`generate`'s)."""
    images, labels, turns = generate(per_minute, size=size, seed=seed, workers=workers, progress=progress,
                                     max_rotation_deg=max_rotation_deg, max_tilt_deg=max_tilt_deg, with_turn=True,
                                     settings=settings, labels=labels, **options)
    write_course_data(directory, images, labels)
    save_npy(Path(directory) / TURN_FILE, turns)
