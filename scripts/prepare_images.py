"""Downsample one image dataset (cats, pistachios, TinyHeroes) to compact uint8 arrays with a
manifest of each row's source file, and draw the before/after downsampling figure (Figure 4)."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("prepare.{dataset}",)
OUTPUTS = ("out", "figure")  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--dataset", required=True, choices=["afhq", "pistachio", "tinyhero"])
    ap.add_argument("--raw", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--figure", required=True, type=Path)


def main(args, p):
    from idl.data.prepare import prepare_dataset

    prepare_dataset(args.dataset, args.raw, args.out, args.figure, p[f"prepare.{args.dataset}"])


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
