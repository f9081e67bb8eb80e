"""The report's clock tables (Table 8, the n_c sweep, all approaches) and figures (Figure 3,
error histograms, error by hour), rebuilt from every trained model's results."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("clock.models",)
OUTPUTS = ("out",)  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--models", required=True, type=Path, help="folder of per-model result folders")
    ap.add_argument("--out", required=True, type=Path)


def main(args, p):
    from idl.clock.summary import write_summary

    write_summary(args.models, args.out, p["clock.models"])


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
