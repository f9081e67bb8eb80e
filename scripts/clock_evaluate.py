"""Score a trained clock model on clock images: the held-out test split of the pipeline's data,
or every row of any images.npy/labels.npy folder (the real course data, another generator's...)."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("clock.models.{model}",)
OUTPUTS = ("metrics", "predictions", "grid", "curves")  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--model", required=True, help="name under clock.models (its recipe)")
    ap.add_argument("--trained", required=True, type=Path, help="folder with model.keras and history.csv")
    ap.add_argument("--data", required=True, type=Path, help="folder with images.npy and labels.npy")
    ap.add_argument("--split", type=Path, default=None, help="score only the test split of this split folder")
    ap.add_argument("--metrics", required=True, type=Path)
    ap.add_argument("--predictions", required=True, type=Path)
    ap.add_argument("--grid", required=True, type=Path, help="figure: test images, true and predicted time")
    ap.add_argument("--curves", type=Path, default=None, help="figure: learning curves from history.csv")


def main(args, p):
    from idl.clock.evaluate import evaluate_clock_model

    evaluate_clock_model(
        name=args.model,
        trained_dir=args.trained,
        data_dir=args.data,
        split_dir=args.split,
        model_cfg=p[f"clock.models.{args.model}"],
        metrics_path=args.metrics,
        predictions_path=args.predictions,
        grid_path=args.grid,
        curves_path=args.curves,
    )


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
