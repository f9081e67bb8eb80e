"""Score a trained clock model on the held-out test split: accuracy and common-sense error."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("clock.models.{model}",)


def add_arguments(ap):
    ap.add_argument("--model", required=True)
    ap.add_argument("--trained", required=True, type=Path, help="folder with model.keras and history.csv")
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--split", required=True, type=Path)
    ap.add_argument("--metrics", required=True, type=Path)
    ap.add_argument("--figure", required=True, type=Path)


def main(args, p):
    from idl.clock.train import evaluate_clock_model

    evaluate_clock_model(
        name=args.model,
        trained_dir=args.trained,
        data_dir=args.data,
        split_dir=args.split,
        model_cfg=p[f"clock.models.{args.model}"],
        metrics_path=args.metrics,
        figure_path=args.figure,
    )


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__)
