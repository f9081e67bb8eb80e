"""Train one Task 1 run on Fashion-MNIST, scored on the validation split and the official test set."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("seed", "basics.train", "basics.runs.{run}")
OUTPUTS = ("out", "state")  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--run", required=True, help="name under basics.runs")
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--split", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--state", required=True, type=Path)


def main(args, p):
    from idl.basics.train import train_run

    train_run(args.run, p[f"basics.runs.{args.run}"], args.data, args.split, args.out, args.state,
              p["basics.train"], p["seed"])


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
