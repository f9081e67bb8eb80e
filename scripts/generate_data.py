"""Generate the offline stand-in of one dataset into resources/raw/DATASET (``source: synthetic``):
the demo's data, made by the project itself, in the layout its download would have."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("seed", "data.{dataset}")
OUTPUTS = ("out",)  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--out", required=True, type=Path)


def main(args, p):
    from idl.errors import ParamsError

    cfg = p[f"data.{args.dataset}"]
    if cfg["source"] != "synthetic":
        raise ParamsError(f"data.{args.dataset}.source is {cfg['source']!r}: scripts/acquire.py acquires it")
    if args.dataset == "clock":
        from idl.clock import synth
        from idl.io import atomic_dir, write_json

        try:
            settings = synth.settings_from({k: v for k, v in cfg["synthetic"].items() if k not in ("per_minute", "size")})
        except ValueError as exc:
            raise ParamsError(f"data.clock.synthetic: {exc}") from None
        with atomic_dir(args.out) as tmp:
            synth.write(tmp, cfg["synthetic"]["per_minute"], size=cfg["synthetic"]["size"], seed=p["seed"],
                        settings=settings)
            write_json(tmp / "SOURCE.json", {"name": "clock", "source": "synthetic", "seed": p["seed"], **cfg["synthetic"]})
    else:
        from idl.data import demo_data

        demo_data.make_raw(args.dataset, args.out, seed=p["seed"], **cfg["synthetic"])


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
