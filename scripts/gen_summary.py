"""One table of every generative model on every dataset, and a chart of the distribution scores."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ()
OUTPUTS = ("out",)  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--scores", nargs="+", type=Path, required=True, help="every model's scores.json")
    ap.add_argument("--out", required=True, type=Path)


def main(args, p):
    from idl.generative.summary import write_summary

    write_summary(args.scores, args.out)


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
