"""Generate the held-out-style clocks (clock.heldout): data.clock.synthetic's views, size, extras and
seed, every clock in data.clock.synthetic.heldout_style, the style no training clock is drawn in."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("seed", "data.clock.synthetic", "clock.heldout.images")
OUTPUTS = ("out",)  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--out", required=True, type=Path)


def main(args, p):
    from idl.clock import synth
    from idl.errors import ParamsError
    from idl.io import atomic_dir, write_json

    cfg = dict(p["data.clock.synthetic"])
    n = p["clock.heldout.images"]
    held = cfg["heldout_style"]
    if n is None or held is None:
        raise ParamsError("clock.heldout.images and data.clock.synthetic.heldout_style must both be set "
                          "for the held-out-style clocks")
    per_minute, size = cfg.pop("per_minute"), cfg.pop("size")
    cfg.update(dials=[held["dial"]], numerals=[held["numerals"]], hands=[held["hands"]], heldout_style=None)
    settings = synth.settings_from(cfg)
    with atomic_dir(args.out) as tmp:
        synth.write(tmp, None, size=size, seed=p["seed"], settings=settings, labels=synth.spread_labels(n))
        write_json(tmp / "SOURCE.json", {"name": "clock", "source": "synthetic", "purpose": "heldout_style",
                                         "seed": p["seed"], "images": n, "size": size,
                                         "training_per_minute": per_minute, **cfg})


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
