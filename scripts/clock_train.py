"""Train one clock model (resumable: a killed run continues from its last epoch when rerun)."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("seed", "clock.train", "clock.models.{model}")
OUTPUTS = ("out", "state")  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--split", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--state", required=True, type=Path, help="resume state, kept outside the outputs")
    ap.add_argument("--curriculum-data", nargs="*", type=Path, default=[],
                    help="generated clock folders of a rotation curriculum (recipes with curriculum)")
    ap.add_argument("--init-from", type=Path, default=None,
                    help="model.keras of the clock model the recipe's init_from names (its starting weights)")
    ap.add_argument("--init-from-reader", type=Path, default=None,
                    help="the reader folder the recipe's init_from_reader names (its starting weights)")


def main(args, p):
    from idl.clock.train import train_clock_model

    train_clock_model(
        data_dir=args.data,
        split_dir=args.split,
        out_dir=args.out,
        state_dir=args.state,
        model_cfg=p[f"clock.models.{args.model}"],
        train_cfg=p["clock.train"],
        seed=p["seed"],
        curriculum_dirs=args.curriculum_data,
        init_from=args.init_from,
        init_from_reader=args.init_from_reader,
    )


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
