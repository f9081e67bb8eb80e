"""Train one generative model (CAE, VAE or GAN recipe) on one dataset's training split (resumable)."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("seed", "generative.models.{gen}")
OUTPUTS = ("out", "state")  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--gen", required=True, help="recipe name under generative.models")
    ap.add_argument("--data", required=True, type=Path, help="prepared dataset folder (images.npy)")
    ap.add_argument("--split", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--state", required=True, type=Path, help="resume state, kept outside the outputs")


def main(args, p):
    from idl.generative.train import train_generative

    train_generative(args.data, args.split, args.out, args.state, p[f"generative.models.{args.gen}"], p["seed"])


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
