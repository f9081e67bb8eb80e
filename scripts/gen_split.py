"""Split a prepared image dataset into training and held-out images (index files, seeded)."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("seed", "generative.test_fraction")
OUTPUTS = ("out",)  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--data", required=True, type=Path, help="prepared dataset folder (images.npy)")
    ap.add_argument("--out", required=True, type=Path)


def main(args, p):
    from idl.generative.data import write_split

    write_split(args.data, args.out, p["generative.test_fraction"], p["seed"])


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
