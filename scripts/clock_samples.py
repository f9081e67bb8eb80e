"""Contact sheet of clock images with their labels (what the data looks like)."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("seed",)
OUTPUTS = ("out",)  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)


def main(args, p):
    from idl.clock.course_data import load_course_data
    from idl.clock.figures import contact_sheet

    images, labels = load_course_data(args.data)
    contact_sheet(images, labels, args.out, n=24, seed=p["seed"], title=f"clock data: {args.data}")


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
