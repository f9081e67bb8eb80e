"""The clock generator's settings (``data.clock.synthetic``): what a set of synthetic clocks may
look like and how it is posed, checked, naming the key and what is wrong.

Apart from :mod:`idl.clock.synth` (the drawing, with numpy and Pillow) so that checking
``params.yaml``, which every ``snakemake`` call does, loads no image code.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field, fields
from numbers import Integral
from typing import Mapping

# The looks a clock can have. The first of each is the course's clock (the generator's original look).
DIALS = ("classic", "thin", "square")  # rim shape and width, face shade, tick style
NUMERALS = ("arabic", "roman", "segment", "ticks")  # "ticks": no numerals, the ticks alone
HANDS = ("classic", "baton", "arrow")
BACKGROUNDS = ("wood", "carpet", "plaster")


@dataclass(frozen=True)
class Style:
    """What one clock looks like: its dial design, numerals and hands."""

    dial: str = "classic"
    numerals: str = "arabic"
    hands: str = "classic"

    def __str__(self) -> str:
        return f"{self.dial}/{self.numerals}/{self.hands}"


@dataclass(frozen=True)
class Jitter:
    """How far an image may stray from its view (views mode): uniform, either way."""

    turn_deg: float = 2.0   # in-plane turn of the dial
    tilt_deg: float = 2.0   # perspective tilt
    scale: float = 0.03     # relative size of the dial
    shift: float = 0.02     # position, as a fraction of the image side
    light: float = 0.05     # relative brightness


@dataclass(frozen=True)
class Settings:
    """Every knob of the generator but the number and size of the images (``data.clock.synthetic``)."""

    max_rotation_deg: float = 180.0
    max_tilt_deg: float = 50.0
    views: int | None = None       # None: every image its own pose (hard); K: K seeded views reused
    view_jitter: Jitter = field(default_factory=Jitter)
    dials: tuple[str, ...] = ("classic",)
    numerals: tuple[str, ...] = ("arabic",)
    hands: tuple[str, ...] = ("classic",)
    heldout_style: Style | None = None  # never drawn for these clocks
    second_hand: float = 0.0       # probability that a clock has a second hand
    blur: tuple[float, float] = (0.0, 0.0)  # Gaussian blur sigma, pixels of the output, drawn uniformly
    jpeg_quality: tuple[int, int] | None = None  # JPEG round trip at a quality drawn from this range
    backgrounds: tuple[str, ...] = BACKGROUNDS
    glare: float = 0.8             # probability of a glare patch on the glass

    def styles(self) -> list[Style]:
        """The styles these clocks are drawn in: every allowed combination but the held-out one."""
        return [s for s in itertools.starmap(Style, itertools.product(self.dials, self.numerals, self.hands))
                if s != self.heldout_style]


def settings_from(cfg: dict) -> Settings:
    """:class:`Settings` from ``data.clock.synthetic``-style keys (lists, mappings), checked.

    Errors name the key and what is wrong. Keys for the number and size of images
    (``per_minute``, ``size``) are not settings and are refused here.
    """
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(cfg) - known)
    if unknown:
        raise ValueError(f"unknown generator setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    kw = dict(cfg)
    if "view_jitter" in kw:
        jitter = kw["view_jitter"]
        if isinstance(jitter, Jitter):
            pass
        elif isinstance(jitter, dict):
            bad = sorted(set(jitter) - {f.name for f in fields(Jitter)})
            if bad:
                raise ValueError(f"view_jitter: unknown key(s) {', '.join(bad)} "
                                 f"(known: {', '.join(f.name for f in fields(Jitter))})")
            kw["view_jitter"] = Jitter(**{k: float(v) for k, v in jitter.items()})
        else:
            raise ValueError(f"view_jitter must be a mapping, got {jitter!r}")
    for key in ("dials", "numerals", "hands", "backgrounds"):
        if key in kw:
            if isinstance(kw[key], str):
                raise ValueError(f"{key} must be a list of names, got the string {kw[key]!r}")
            kw[key] = tuple(kw[key])
    for key in ("blur", "jpeg_quality"):
        if kw.get(key) is not None:
            kw[key] = tuple(kw[key])
    held = kw.get("heldout_style")
    if isinstance(held, dict):
        bad = sorted(set(held) - {"dial", "numerals", "hands"})
        if bad:
            raise ValueError(f"heldout_style: unknown key(s) {', '.join(bad)} (known: dial, numerals, hands)")
        kw["heldout_style"] = Style(**held)
    settings = Settings(**kw)
    check_settings(settings)
    return settings


def _check_range(key: str, value, low: float, high: float, integer: bool = False) -> None:
    if not (isinstance(value, tuple) and len(value) == 2):
        raise ValueError(f"{key} must be a [low, high] pair, got {value!r}")
    lo, hi = value
    if integer and not all(isinstance(v, Integral) for v in value):
        raise ValueError(f"{key} must be whole numbers, got {value!r}")
    if not low <= lo <= hi <= high:
        raise ValueError(f"{key} must satisfy {low:g} <= low <= high <= {high:g}, got {list(value)}")


def check_settings(s: Settings) -> None:
    """Refuse settings the generator cannot honour, naming the key and what is wrong."""
    if not 0 <= s.max_rotation_deg <= 180:
        raise ValueError(f"max_rotation_deg must be between 0 and 180, got {s.max_rotation_deg}")
    if not 0 <= s.max_tilt_deg < 90:
        raise ValueError(f"max_tilt_deg must be between 0 and 90 (exclusive), got {s.max_tilt_deg}")
    if s.views is not None and (isinstance(s.views, bool) or not isinstance(s.views, Integral)
                                or s.views < 1):
        raise ValueError(f"views must be a whole number of at least 1 (or null: every image its own pose), "
                         f"got {s.views!r}")
    j = s.view_jitter
    for name, limit in (("turn_deg", 180), ("tilt_deg", 90), ("scale", 0.5), ("shift", 0.5), ("light", 0.9)):
        value = getattr(j, name)
        if not 0 <= value <= limit:
            raise ValueError(f"view_jitter.{name} must be between 0 and {limit:g}, got {value}")
    for key, allowed in (("dials", DIALS), ("numerals", NUMERALS), ("hands", HANDS), ("backgrounds", BACKGROUNDS)):
        chosen = getattr(s, key)
        if not chosen:
            raise ValueError(f"{key} must name at least one of {', '.join(allowed)}")
        bad = [c for c in chosen if c not in allowed]
        if bad:
            raise ValueError(f"{key}: unknown {', '.join(map(repr, bad))} (choose from {', '.join(allowed)})")
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"{key} names a style twice: {list(chosen)}")
    if s.heldout_style is not None:
        for key, allowed in (("dial", DIALS), ("numerals", NUMERALS), ("hands", HANDS)):
            value = getattr(s.heldout_style, key)
            if value not in allowed:
                raise ValueError(f"heldout_style.{key}: unknown {value!r} (choose from {', '.join(allowed)})")
    if not s.styles():
        raise ValueError(f"dials x numerals x hands allow only the held-out style {s.heldout_style}: "
                         "allow at least one other")
    if not 0 <= s.second_hand <= 1:
        raise ValueError(f"second_hand is a probability, between 0 and 1, got {s.second_hand}")
    if not 0 <= s.glare <= 1:
        raise ValueError(f"glare is a probability, between 0 and 1, got {s.glare}")
    _check_range("blur", s.blur, 0.0, 10.0)
    if s.jpeg_quality is not None:
        _check_range("jpeg_quality", s.jpeg_quality, 1, 100, integer=True)


def generated_set_settings(base: Mapping, generate: Mapping) -> tuple[dict, int]:
    """The generator's keys and the image side of clocks generated for a ``clock.external`` entry
    (``{generate: {images: N, ...}}``): ``base`` (``data.clock.synthetic``) with the entry's other keys
    in place of its own (a key given replaces the whole value: ``view_jitter`` too). ``images``
    says how many, so ``per_minute`` has no place there; ``size`` may change."""
    if "per_minute" in generate:
        raise ValueError("per_minute: a generated set says how many clocks with `images`; remove it")
    cfg = {**base, **{k: v for k, v in generate.items() if k != "images"}}
    cfg.pop("per_minute", None)
    size = cfg.pop("size")
    return cfg, size
