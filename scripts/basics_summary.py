"""Tables 3, 4 and 5 (ours beside the report's) and an overview figure of every Task 1 run."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("basics.runs",)
OUTPUTS = ("out",)  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--metrics", nargs="+", type=Path, required=True, help="Fashion-MNIST runs' metrics.json")
    ap.add_argument("--cifar", nargs="+", type=Path, required=True, help="CIFAR-10 ranks' metrics.json")
    ap.add_argument("--ranking", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)


def main(args, p):
    from idl.basics_stages import write_summary

    write_summary(args.metrics, args.cifar, args.ranking, args.out, p["basics.runs"])


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
