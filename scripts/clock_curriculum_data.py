"""Generate the training clocks with the dial turned at most ROTATION degrees from upright, for a
rotation curriculum: the generator's own settings and seed, so the rows (times) are the training
data's and, when the training data is generated too, only the dial's turn differs."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("seed", "data.clock.synthetic")
OUTPUTS = ("out",)  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--rotation", required=True, type=int, help="max_rotation_deg, 0-179")
    ap.add_argument("--out", required=True, type=Path)


def main(args, p):
    from idl.clock import synth
    from idl.io import atomic_dir, write_json

    cfg = {**p["data.clock.synthetic"], "max_rotation_deg": args.rotation}
    with atomic_dir(args.out) as tmp:
        synth.write(tmp, seed=p["seed"], **cfg)
        write_json(tmp / "SOURCE.json", {"name": "clock", "source": "synthetic", "purpose": "curriculum",
                                         "seed": p["seed"], **cfg})


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
