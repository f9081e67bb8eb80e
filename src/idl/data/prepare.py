"""The prepare stage of a generative-model dataset: pick its files, downsample, draw Figure 4."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from idl.data.arrays import load_npy
from idl.data.images import before_after_figure, prepare_images, read_manifest, select_files, tinyhero_pattern
from idl.data.sources import DATASETS
from idl.errors import DataError


def file_pattern(name: str, cfg: dict) -> str:
    """The glob (relative to the raw folder) of the images a dataset's config selects."""
    if name == "tinyhero":
        return tinyhero_pattern(cfg["direction"])
    layout = DATASETS[name].layout
    group = cfg["group"]
    if group not in layout:
        raise DataError(f"prepare.{name}.group: unknown group '{group}'; choose one of {sorted(layout)}")
    return layout[group][0]


def prepare_dataset(name: str, raw_dir: Path, out_dir: Path, figure_path: Path, cfg: dict) -> dict:
    files = select_files(raw_dir, file_pattern(name, cfg))
    background = tuple(cfg.get("background", (255, 255, 255)))
    summary = prepare_images(
        files,
        out_dir,
        size=cfg["size"],
        background=background,
        max_bad_fraction=cfg["max_bad_fraction"],
        root=raw_dir,
    )
    images = load_npy(Path(out_dir) / "images.npy", mmap=True, fix="rerun the prepare_images stage")

    sources = read_manifest(out_dir)[:8]
    before_after_figure([Path(raw_dir) / s for s in sources], np.asarray(images[: len(sources)]), figure_path,
                        n=len(sources), background=background)
    return summary
