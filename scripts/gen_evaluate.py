"""Score one trained generative model (reconstruction error, distance to the real images, diversity)
and draw its figures (reconstructions, samples, interpolation, loss curves)."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("seed", "generative.evaluate", "generative.models.{gen}")
OUTPUTS = ("scores", "figures")  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--gen", required=True, help="recipe name under generative.models")
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--model", required=True, type=Path, help="model.keras")
    ap.add_argument("--history", required=True, type=Path)
    ap.add_argument("--data", required=True, type=Path, help="prepared dataset folder (images.npy)")
    ap.add_argument("--split", required=True, type=Path)
    ap.add_argument("--scores", required=True, type=Path)
    ap.add_argument("--figures", required=True, type=Path)


def main(args, p):
    from idl.generative.evaluate import evaluate_generative

    evaluate_generative(args.model, args.history, args.data, args.split, args.scores, args.figures,
                        name=args.gen, dataset=args.dataset, recipe=p[f"generative.models.{args.gen}"],
                        eval_cfg=p["generative.evaluate"], seed=p["seed"])


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
