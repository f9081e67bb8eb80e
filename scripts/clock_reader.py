"""Export a trained clock model as a reader: its weights alone (reader.weights.h5, no optimizer state)
and reader.json (its recipe, image size, the weights' SHA-256), for `python -m idl.clock.read`."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("clock.models.{model}",)
OUTPUTS = ("out",)  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--model", required=True, help="name under clock.models (its recipe)")
    ap.add_argument("--trained", required=True, type=Path, help="folder with the trained model.keras")
    ap.add_argument("--out", required=True, type=Path, help="reader folder to write")


def main(args, p):
    from idl.clock.read import export_reader

    export_reader(args.trained / "model.keras", p[f"clock.models.{args.model}"], args.out, name=args.model)


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
