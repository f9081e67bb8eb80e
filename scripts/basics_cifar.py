"""Train the Fashion-MNIST run of a given rank (read from the ranking file) on CIFAR-10."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("seed", "basics.train", "basics.runs")
OUTPUTS = ("out", "state")  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--rank", required=True, type=int)
    ap.add_argument("--ranking", required=True, type=Path)
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--split", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--state", required=True, type=Path)


def main(args, p):
    from idl.basics.rank import ranked_run
    from idl.basics.train import train_run

    name, recipe = ranked_run(args.ranking, args.rank, p["basics.runs"])
    train_run(name, recipe, args.data, args.split, args.out, args.state, p["basics.train"], p["seed"])


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
