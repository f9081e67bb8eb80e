"""Fashion-MNIST or CIFAR-10 as arrays (.npz), and the seeded 90/10 train/validation split."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("seed", "basics.val_fraction")
OUTPUTS = ("data", "split")  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--dataset", required=True, choices=["fashion_mnist", "cifar10"])
    ap.add_argument("--raw", required=True, type=Path)
    ap.add_argument("--data", required=True, type=Path, help="output .npz")
    ap.add_argument("--split", required=True, type=Path, help="output folder of index files")


def main(args, p):
    from idl.basics.data import prepare_arrays

    prepare_arrays(args.dataset, args.raw, args.data, args.split, p["basics.val_fraction"], p["seed"])


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
