"""Acquire one dataset into resources/raw/DATASET: download (checksummed, cached), Kaggle, or a
local archive/folder. Generated stand-ins (``source: synthetic``) are scripts/generate_data.py's."""
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
        from idl.errors import ParamsError

        raise ParamsError(f"data.{args.dataset}.source is synthetic, so the dataset is generated (rule "
                          "generate_data, scripts/generate_data.py), not acquired. If DVC ran this stage, its "
                          "dvc.yaml was written for parameters that download it: run `./run dvcgen` (python -m "
                          "idl.dvcgen) to write it for these parameters, then `dvc repro` again")
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
