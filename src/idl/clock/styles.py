"""Contact sheets of what the clock generator can draw: every dial, numeral and hand style, the
extras (second hand, blur, JPEG), the held-out style, and the views mode against the hard setting.

Each sheet renders a few dozen clocks through :func:`idl.clock.synth.render_row`, the generator's
own path for one row, so what it shows is what a generated set with those settings holds.
"""
from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from idl.clock import synth
from idl.plots import image_rows

SHOWN_TIME = (10, 8)  # the classic display time: both hands clear of each other and of the 12


def _cell(settings: synth.Settings, seed: int, size: int, row: int, minute: int) -> np.ndarray:
    hour, m = divmod(minute, 60)
    return synth.render_row(row, hour, m, seed, size, settings)[0]


def style_rows(settings: synth.Settings, seed: int, size: int) -> list:
    """Rows of the style sheet: each dial, numeral and hand style, the extras, the held-out style.

    Every clock is upright and nearly frontal (so the style is what differs) and in the hard
    setting's scenes; each varies one thing from the classic look.
    """
    base = replace(settings, views=None, max_rotation_deg=0.0, max_tilt_deg=min(15.0, settings.max_tilt_deg),
                   dials=("classic",), numerals=("arabic",), hands=("classic",), heldout_style=None,
                   second_hand=0.0, blur=(0.0, 0.0), jpeg_quality=None)
    minute = SHOWN_TIME[0] * 60 + SHOWN_TIME[1]

    def one(caption: str, row: int, **change) -> tuple[np.ndarray, str]:
        return _cell(replace(base, **change), seed, size, row, minute), caption

    rows = [
        ("dials", [one(d, k, dials=(d,)) for k, d in enumerate(synth.DIALS)]),
        ("numerals", [one(n, k, numerals=(n,)) for k, n in enumerate(synth.NUMERALS)]),
        ("hands", [one(h, k, hands=(h,)) for k, h in enumerate(synth.HANDS)]),
        ("backgrounds", [one(b, k, backgrounds=(b,)) for k, b in enumerate(synth.BACKGROUNDS)]),
        ("extras", [one("second hand", 0, second_hand=1.0), one("blur 1.2 px", 0, blur=(1.2, 1.2)),
                    one("JPEG quality 12", 0, jpeg_quality=(12, 12)), one("no glare", 0, glare=0.0)]),
    ]
    held = settings.heldout_style
    if held is not None:
        rows.append(("held out", [one(str(held), k, dials=(held.dial,), numerals=(held.numerals,),
                                      hands=(held.hands,)) for k in range(3)]))
    return rows


def view_rows(settings: synth.Settings, seed: int, size: int, n: int = 8) -> list:
    """Rows of the views sheet: one time in the first views, one view at several times (its jitter),
    and the hard setting's poses; in the settings' own styles."""
    views = settings.views or 10
    course_like = replace(settings, views=views)
    hard = replace(settings, views=None)
    minute = SHOWN_TIME[0] * 60 + SHOWN_TIME[1]
    times = np.linspace(0, 719, n).astype(int)
    return [
        (f"views 0-{min(n, views) - 1}", [(_cell(course_like, seed, size, k, minute), f"view {k}, 10:08")
                                          for k in range(min(n, views))]),
        ("view 0, jittered", [(_cell(course_like, seed, size, views * (k + 1), int(t)),
                               f"{t // 60:02d}:{t % 60:02d}") for k, t in enumerate(times)]),
        ("hard: any pose", [(_cell(hard, seed, size, k, int(t)), f"{t // 60:02d}:{t % 60:02d}")
                            for k, t in enumerate(times)]),
    ]


def _sheet(rows: list, path: str | os.PathLike, title: str) -> None:
    image_rows({name: [image for image, _ in cells] for name, cells in rows}, path, title, cell=1.5,
               captions={name: [caption for _, caption in cells] for name, cells in rows})


def write_sheets(settings: synth.Settings, seed: int, size: int, styles_path: str | os.PathLike,
                 views_path: str | os.PathLike) -> None:
    """The style sheet and the views sheet as PNGs."""
    _sheet(style_rows(settings, seed, size), styles_path,
           "clock styles: each row changes one thing from the classic look")
    jitter = settings.view_jitter
    _sheet(view_rows(settings, seed, size), views_path,
           f"views mode ({settings.views or 10} views, jitter: turn {jitter.turn_deg:g} deg, tilt "
           f"{jitter.tilt_deg:g} deg, scale {jitter.scale:g}, shift {jitter.shift:g}, light "
           f"{jitter.light:g}) against the hard setting")
