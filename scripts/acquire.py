"""Acquire one dataset into resources/raw/DATASET: download (checksummed, cached), Kaggle,
a local archive/folder, or the generated offline stand-in (``source: synthetic``)."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("seed", "data.mirror", "data.{dataset}")
OUTPUTS = ("out",)  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--out", required=True, type=Path)


def main(args, p):
    cfg = p[f"data.{args.dataset}"]
    if cfg["source"] == "synthetic":
        if args.dataset == "clock":
            from idl.clock import synth
            from idl.io import atomic_dir, write_json

            with atomic_dir(args.out) as tmp:
                synth.write(tmp, seed=p["seed"], **cfg["synthetic"])
                write_json(tmp / "SOURCE.json", {"name": "clock", "source": "synthetic", "seed": p["seed"], **cfg["synthetic"]})
        else:
            from idl.data import demo_data

            demo_data.make_raw(args.dataset, args.out, seed=p["seed"], **cfg["synthetic"])
        return
    from idl.data.acquire import acquire

    checksums = cfg.get("checksums")
    if cfg.get("sha256"):  # the clock data: pin the images the course serves
        checksums = {"images.npy": f"sha256:{cfg['sha256']}"}
    acquire(
        args.dataset,
        args.out,
        local=cfg["local"],
        mirror=p["data.mirror"],
        url=cfg.get("url"),
        checksums=checksums,
    )


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
