"""Tables 3, 4 and 5 (ours beside the report's), an overview figure of every Task 1 run, and each run's learning curves."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("basics.runs",)
OUTPUTS = ("out", "curves")  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--metrics", nargs="+", type=Path, required=True, help="Fashion-MNIST runs' metrics.json")
    ap.add_argument("--cifar", nargs="+", type=Path, required=True, help="CIFAR-10 ranks' metrics.json")
    ap.add_argument("--ranking", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--curves", nargs="*", type=Path, default=[],
                    help="learning-curve figures to draw, one per --metrics then --cifar file, in that order")


def main(args, p):
    from idl.basics.summary import write_summary

    write_summary(args.metrics, args.cifar, args.ranking, args.out, p["basics.runs"], args.curves)


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
