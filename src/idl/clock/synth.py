"""Synthetic "tell the time" clocks in the course's data format.

The course data (18,000 photograph-like images of one wall clock) may be
unavailable; this generator makes images that look like it, so the whole clock
pipeline can run and be tested without it. It draws one clock model (dark rim,
white face, numerals 1-12, minute ticks, an hour hand that advances with the
minutes and a longer, thinner minute hand) and then varies what the real data
varies: in-plane rotation over the full circle, perspective tilt, scale and
position, lighting, glare, a wood/carpet/plaster background and sensor noise.

Every image draws its randomness from ``np.random.default_rng([seed, row])``, so
the output depends only on ``seed`` and never on how many processes render it.
"""
from __future__ import annotations

import functools
import logging
import math
import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from tqdm import tqdm

from idl.clock.course_data import TURN_FILE, write_course_data
from idl.io import save_npy
from idl.clock.labels import MINUTES_PER_DIAL

log = logging.getLogger(__name__)

SUPERSAMPLE = 2  # draw and warp at 2x, then box-downsample: cheap antialiasing


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


@functools.lru_cache(maxsize=8)
def _dial(size: int) -> _Dial:
    side = size * SUPERSAMPLE
    c, R = side / 2.0, 0.49 * side
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
    font = _font(max(6, round(0.20 * R)))
    for numeral in range(1, 13):
        x, y = _polar(c, R, numeral * 30, 0.60)
        draw.text((x, y), str(numeral), fill=30, font=font, anchor="mm",
                  stroke_width=round(R / 150), stroke_fill=30)  # bolder, as on wall clocks

    alpha = Image.new("L", (side, side), 0)
    ImageDraw.Draw(alpha).ellipse([c - R, c - R, c + R, c + R], fill=255)
    return _Dial(face=face, alpha=alpha, center=c, radius=R)


def _hand(center: float, R: float, angle: float, length: float, width: float,
          tail: float, dx: float = 0.0, dy: float = 0.0) -> list[tuple[float, float]]:
    """A tapered, pointed hand as a polygon (fractions of the radius)."""
    a = math.radians(angle)
    ux, uy = math.sin(a), -math.cos(a)  # along the hand
    vx, vy = -uy, ux                    # across it
    pts = [(-tail, 0.5 * width), (length * 0.93, 0.22 * width), (length, 0.0),
           (length * 0.93, -0.22 * width), (-tail, -0.5 * width)]
    return [(center + dx + R * (s * ux + t * vx), center + dy + R * (s * uy + t * vy))
            for s, t in pts]


def _draw_hands(face: Image.Image, dial: _Dial, hour: int, minute: int,
                rng: np.random.Generator | None) -> None:
    draw = ImageDraw.Draw(face)
    c, R = dial.center, dial.radius
    minute_angle = minute * 6.0
    hour_angle = ((hour % 12) * 60 + minute) / MINUTES_PER_DIAL * 360.0
    hands = [(hour_angle, 0.50, 0.075, 0.13), (minute_angle, 0.80, 0.045, 0.16)]
    if rng is not None:  # hands stand off the face: their shadow falls a little beside them
        sa = rng.uniform(0, 2 * math.pi)
        sd = rng.uniform(0.01, 0.035) * R
        shadow = int(rng.integers(150, 200))
        for angle, length, width, tail in hands:
            draw.polygon(_hand(c, R, angle, length, width, tail,
                               sd * math.cos(sa), sd * math.sin(sa)), fill=shadow)
    for angle, length, width, tail in hands:
        draw.polygon(_hand(c, R, angle, length, width, tail), fill=18)
    cap = 0.05 * R
    draw.ellipse([c - cap, c - cap, c + cap, c + cap], fill=12)


def frontal_dial(hour: int, minute: int, size: int = 150) -> np.ndarray:
    """The clock seen straight on, 12 at the top, no lighting or background.

    Drawn at ``2 * size`` pixels (the resolution the renderer warps from); the
    dial's centre is the image centre and its rim radius is ``0.49`` of the side.
    Useful to check and show what the hands encode.
    """
    dial = _dial(size)
    face = dial.face.copy()
    _draw_hands(face, dial, hour, minute, None)
    return np.asarray(face)


def _view_homographies(dial: _Dial, out_side: float, rng: np.random.Generator,
                       max_rotation_deg: float = 180.0, max_tilt_deg: float = 50.0) -> tuple[np.ndarray, np.ndarray, float]:
    """3x3 maps from dial pixels to output pixels for the face and for the case's back, and the turn.

    The dial plane is turned about the viewing axis (any angle: 12 may be at the
    bottom), then tilted about an in-plane axis and seen through a pinhole camera
    ``distance`` radii away, which makes the circle an ellipse with a nearer,
    larger side. A tilt below 90 degrees never mirrors the dial, so the hands
    still read the labelled time. The second map is the same disc pushed back by
    the case depth: where it peeks out from under the face, the case's side shows.
    ``max_rotation_deg`` (< 180: 12 stays within that many degrees of the top) and
    ``max_tilt_deg`` make easier variants; the random stream is the same, so the
    defaults give the same images as before the knobs existed. The turn is returned in
    degrees clockwise, 0 <= turn < 360: where the 12 points in the picture (before the tilt).
    """
    c, R = dial.center, dial.radius
    theta = rng.uniform(0, 2 * math.pi)
    if max_rotation_deg < 180:
        theta = (theta / math.pi - 1.0) * math.radians(max_rotation_deg)
    tilt = math.radians(rng.uniform(0, max_tilt_deg))
    axis = rng.uniform(0, math.pi)
    distance = rng.uniform(2.5, 7.0)
    depth = rng.uniform(0.08, 0.16)
    radius_out = rng.uniform(0.30, 0.47) * out_side
    slack = max(0.0, 0.5 * out_side - 0.85 * radius_out)
    cx, cy = 0.5 * out_side + rng.uniform(-slack, slack, size=2)

    ct, st = math.cos(theta), math.sin(theta)
    spin = np.array([[ct, -st, 0], [st, ct, 0], [0, 0, 1]])
    k = np.array([math.cos(axis), math.sin(axis), 0.0])  # Rodrigues rotation about k
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    tilt_m = np.eye(3) + math.sin(tilt) * kx + (1 - math.cos(tilt)) * (kx @ kx)
    rot = tilt_m @ spin
    f = radius_out * distance
    camera = np.array([[f, 0, cx], [0, f, cy], [0, 0, 1.0]])
    normalise = np.array([[1 / R, 0, -c / R], [0, 1 / R, -c / R], [0, 0, 1.0]])
    maps = []
    for push in (0.0, depth):  # +z of the dial points away from the camera, into the wall
        origin = np.array([0.0, 0.0, distance]) + push * rot[:, 2]
        plane = np.column_stack([rot[:, 0], rot[:, 1], origin])
        maps.append(camera @ plane @ normalise)
    return maps[0], maps[1], math.degrees(theta) % 360.0


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


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A wood, carpet or plaster texture as float32 gray values."""
    xx, yy = _grid(size)
    kind = rng.choice(3, p=[0.45, 0.35, 0.20])
    base = rng.uniform(50, 190)
    if kind == 0:  # wood: planks of long, fine grain lines, gently bent
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
    elif kind == 1:  # carpet: dense fibre speckle with soft blotches
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


def render_clock(hour: int, minute: int, rng: np.random.Generator, size: int = 150,
                 max_rotation_deg: float = 180.0, max_tilt_deg: float = 50.0) -> np.ndarray:
    """One grayscale ``size`` x ``size`` uint8 image of the clock showing ``hour:minute``."""
    return render_clock_turned(hour, minute, rng, size, max_rotation_deg, max_tilt_deg)[0]


def render_clock_turned(hour: int, minute: int, rng: np.random.Generator, size: int = 150,
                        max_rotation_deg: float = 180.0, max_tilt_deg: float = 50.0) -> tuple[np.ndarray, float]:
    """:func:`render_clock`'s image and the dial's turn: degrees clockwise from the top at which its 12 lies."""
    dial = _dial(size)
    side = size * SUPERSAMPLE
    face = dial.face.copy()
    _draw_hands(face, dial, hour, minute, rng)

    front, back, turn = _view_homographies(dial, side, rng, max_rotation_deg, max_tilt_deg)
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
    light = rng.uniform(0, 2 * math.pi)
    lx, ly = math.cos(light), math.sin(light)

    bg = _background(rng, size)
    # the clock's soft shadow on the wall, cast away from the light
    shift = rng.uniform(0.0, 0.06) * size
    shadow_img = case_img.transform(
        (size, size), Image.AFFINE, (1, 0, shift * lx, 0, 1, shift * ly), Image.BILINEAR)
    shadow_img = shadow_img.filter(ImageFilter.BoxBlur(rng.uniform(1.0, 0.05 * size)))
    bg *= 1.0 - rng.uniform(0.2, 0.6) * np.asarray(shadow_img, dtype=np.float32) / 255.0
    bg += (rng.uniform(25, 70) - bg) * case

    img = bg * (1.0 - alpha) + clock * rng.uniform(0.75, 1.05)

    if rng.random() < 0.8:  # specular glare on the glass: a bright, soft, elongated patch
        gx, gy = rng.uniform(-0.5, 0.5, size=2)
        ga = rng.uniform(0, math.pi)
        u = (xx - gx) * math.cos(ga) + (yy - gy) * math.sin(ga)
        v = -(xx - gx) * math.sin(ga) + (yy - gy) * math.cos(ga)
        su, sv = rng.uniform(0.12, 0.45), rng.uniform(0.04, 0.18)
        glare = np.exp(-0.5 * ((u / su) ** 2 + (v / sv) ** 2)) * rng.uniform(0.3, 0.95)
        img += (255.0 - img) * glare * alpha

    gradient = 1.0 + rng.uniform(0.0, 0.35) * (xx * lx + yy * ly)
    img *= gradient * rng.uniform(0.55, 1.15)
    img += rng.normal(0.0, rng.uniform(1.0, 6.0), size=img.shape).astype(np.float32)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8), turn


def time_labels(per_minute: int) -> np.ndarray:
    """``[hour, minute]`` rows sorted by time, ``per_minute`` rows per minute (course order)."""
    minutes = np.repeat(np.arange(MINUTES_PER_DIAL, dtype=np.int64), per_minute)
    return np.stack([minutes // 60, minutes % 60], axis=1)


def _render_rows(job: tuple) -> tuple[int, np.ndarray, np.ndarray]:
    """Render rows ``start:stop`` and their dials' turns; runs in a worker process."""
    start, stop, per_minute, size, seed, max_rotation_deg, max_tilt_deg = job
    out = np.empty((stop - start, size, size), dtype=np.uint8)
    turns = np.empty(stop - start, dtype=np.float32)
    for i in range(start, stop):
        hour, minute = divmod(i // per_minute, 60)
        out[i - start], turns[i - start] = render_clock_turned(
            hour, minute, np.random.default_rng([seed, i]), size, max_rotation_deg, max_tilt_deg)
    return start, out, turns


def generate(per_minute: int, size: int = 150, seed: int = 0, workers: int | None = None,
             progress: bool = True, max_rotation_deg: float = 180.0,
             max_tilt_deg: float = 50.0, with_turn: bool = False) -> tuple[np.ndarray, ...]:
    """Render ``720 * per_minute`` clocks, rows sorted by time like the course data.

    ``workers=None`` uses every core, ``workers=1`` renders in this process; the
    images are identical either way. ``max_rotation_deg`` / ``max_tilt_deg`` limit
    the dial's in-plane rotation and perspective tilt (easier variants). ``with_turn``
    also returns each dial's turn (float32 degrees clockwise at which its 12 lies, the
    generator's record that :data:`TURN_FILE` holds) as a third array.
    """
    if per_minute < 1:
        raise ValueError(f"per_minute must be at least 1, got {per_minute}")
    if size < 16:
        raise ValueError(f"size must be at least 16 pixels, got {size}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    if not 0 <= max_rotation_deg <= 180:
        raise ValueError(f"max_rotation_deg must be between 0 and 180, got {max_rotation_deg}")
    if not 0 <= max_tilt_deg < 90:
        raise ValueError(f"max_tilt_deg must be between 0 and 90 (exclusive), got {max_tilt_deg}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1 (or None for every core), got {workers}")
    labels = time_labels(per_minute)
    n = len(labels)
    workers = min(workers or os.cpu_count() or 1, n)
    chunk = max(1, min(64, math.ceil(n / (workers * 8))))
    jobs = [(s, min(s + chunk, n), per_minute, size, seed, max_rotation_deg, max_tilt_deg)
            for s in range(0, n, chunk)]
    images = np.empty((n, size, size), dtype=np.uint8)
    turns = np.empty(n, dtype=np.float32)
    log.info("rendering %d synthetic clocks of %dx%d with %d worker(s)", n, size, size, workers)
    with tqdm(total=n, desc="synthetic clocks", unit="img", disable=not progress) as bar:
        if workers == 1:
            results = map(_render_rows, jobs)
            pool = None
        else:
            pool = multiprocessing.Pool(workers)
            results = pool.imap_unordered(_render_rows, jobs)
        try:
            for start, block, block_turns in results:
                images[start:start + len(block)] = block
                turns[start:start + len(block)] = block_turns
                bar.update(len(block))
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()
    return (images, labels, turns) if with_turn else (images, labels)


def write(directory: str | os.PathLike, per_minute: int, size: int = 150, seed: int = 0,
          workers: int | None = None, progress: bool = True, max_rotation_deg: float = 180.0,
          max_tilt_deg: float = 50.0) -> None:
    """Generate a synthetic dataset: ``images.npy``/``labels.npy`` and each dial's turn in :data:`TURN_FILE`."""
    images, labels, turns = generate(per_minute, size=size, seed=seed, workers=workers, progress=progress,
                                     max_rotation_deg=max_rotation_deg, max_tilt_deg=max_tilt_deg, with_turn=True)
    write_course_data(directory, images, labels)
    save_npy(Path(directory) / TURN_FILE, turns)
