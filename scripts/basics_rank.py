"""Rank the Fashion-MNIST runs (validation accuracy, or loss) and write the best three."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("basics.rank_by",)
OUTPUTS = ("out",)  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--metrics", nargs="+", type=Path, required=True)
    ap.add_argument("--out", required=True, type=Path)


def main(args, p):
    from idl.basics.rank import rank

    rank(args.metrics, args.out, p["basics.rank_by"])


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
