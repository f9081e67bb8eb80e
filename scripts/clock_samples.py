"""Contact sheets: clock images of the data with their labels (what the models are given), and what
the generator can draw (results/clock/figures/styles.png: every style and extra; views.png: the views
mode against the hard setting), in data.clock.synthetic's settings."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("seed", "data.clock.synthetic")
OUTPUTS = ("out", "styles", "views")  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--styles", required=True, type=Path, help="figure: the generator's styles and extras")
    ap.add_argument("--views", required=True, type=Path, help="figure: the views mode against the hard setting")


def main(args, p):
    from idl.clock import synth
    from idl.clock.course_data import load_course_data
    from idl.clock.figures import contact_sheet
    from idl.clock.styles import write_sheets

    images, labels = load_course_data(args.data)
    contact_sheet(images, labels, args.out, n=24, seed=p["seed"], title=f"clock data: {args.data}")
    cfg = p["data.clock.synthetic"]
    settings = synth.settings_from({k: v for k, v in cfg.items() if k not in ("per_minute", "size")})
    write_sheets(settings, p["seed"], cfg["size"], args.styles, args.views)


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
