"""Score every trained clock model (or those clock.heldout.models names) on the held-out-style clocks: each model's metrics.json and
predictions.csv as the scoring of a clock.external folder writes them (idl.clock.evaluate), in one
process (one start-up for every model, which keeps the demo fast), and summary.json."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("clock.models", "clock.heldout.models")
OUTPUTS = ("out",)  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--models", required=True, type=Path, help="folder holding each model's results folder")
    ap.add_argument("--data", required=True, type=Path, help="the held-out-style clocks")
    ap.add_argument("--out", required=True, type=Path, help="folder for <model>/metrics.json, predictions.csv and summary.json")


def main(args, p):
    from idl.clock.evaluate import evaluate_clock_model
    from idl.io import write_json

    summary = {}
    chosen = p["clock.heldout.models"]
    for name, recipe in sorted(p["clock.models"].items()):
        if chosen is not None and name not in chosen:
            continue
        metrics = evaluate_clock_model(
            name=name, trained_dir=args.models / name, data_dir=args.data, split_dir=None, model_cfg=recipe,
            metrics_path=args.out / name / "metrics.json", predictions_path=args.out / name / "predictions.csv",
            grid_path=None,
        )
        summary[name] = {"accuracy": metrics.get("accuracy"), "cse_mean": metrics["cse_mean"],
                         "cse_median": metrics["cse_median"],
                         "cse_mean_quarter_turns": metrics["quarter_turns"]["cse_mean"], "n": metrics["n"]}
    write_json(args.out / "summary.json", {"data": str(args.data), "models": summary})


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
