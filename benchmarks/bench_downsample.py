"""Draft-mode JPEG downsampling vs full decode + resize, on the same files, same run.

Why: the cat (AFHQ 512x512) and pistachio (600x600) sets are thousands of large
JPEGs that end up 32x32; letting libjpeg decode at 1/8 scale (``Image.draft``)
should make preparation several times faster while giving (almost) the same pixels.

    python benchmarks/bench_downsample.py                       # 200 synthetic 512x512 JPEGs
    python benchmarks/bench_downsample.py --dir DIR --pattern '*.png'

PNG (e.g. TinyHeroes sprites) has no draft mode, so expect a ratio of ~1 there.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from idl.data.images import load_downsampled, select_files


def make_afhq_like(folder: Path, n: int, side: int = 512, seed: int = 0) -> list[Path]:
    """Photo-like JPEGs (smooth colour fields plus fur-like noise), quality 90 like AFHQ."""
    rng = np.random.default_rng(seed)
    files = []
    for i in range(n):
        base = Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8))
        arr = np.asarray(base.resize((side, side), Image.Resampling.BICUBIC), dtype=np.int16)
        arr = arr + rng.normal(0, 12, (side, side, 1)).astype(np.int16)
        path = folder / f"{i}.jpg"
        Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path, quality=90)
        files.append(path)
    return files


def time_mode(files: list[Path], size: int, use_draft: bool) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    out = np.stack([load_downsampled(f, size, use_draft=use_draft) for f in files])
    return time.perf_counter() - t0, out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", type=Path, help="folder of real images (default: synthetic 512x512 JPEGs)")
    ap.add_argument("--pattern", default="*.jpg", help="glob inside --dir (default *.jpg)")
    ap.add_argument("-n", type=int, default=200, help="number of images (synthetic count, or first n of --dir)")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3, help="timed passes per mode; the best is reported")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        if args.dir is None:
            files = make_afhq_like(Path(tmp), args.n)
            source = f"{len(files)} synthetic 512x512 JPEGs"
        else:
            files = select_files(args.dir, args.pattern)[: args.n]
            source = f"{len(files)} files {args.dir}/{args.pattern}"
        with Image.open(files[0]) as im:
            source += f" (first: {im.format} {im.mode} {im.size[0]}x{im.size[1]})"
            is_jpeg = im.format in ("JPEG", "MPO")

        for f in files:  # warm the page cache so both modes read from memory
            f.read_bytes()
        best = {True: float("inf"), False: float("inf")}
        outs = {}
        for _ in range(args.repeat):  # interleave modes so load from other users hits both alike
            for use_draft in (True, False):
                t, outs[use_draft] = time_mode(files, args.size, use_draft)
                best[use_draft] = min(best[use_draft], t)

    n = len(files)
    diff = np.abs(outs[True].astype(int) - outs[False].astype(int))
    print(f"source: {source}; output {args.size}x{args.size}; best of {args.repeat} passes each")
    print(f"draft decode + BOX resize : {n / best[True]:8.1f} images/s")
    print(f"full  decode + BOX resize : {n / best[False]:8.1f} images/s")
    print(f"speed-up (draft / full)   : {best[False] / best[True]:8.2f}x")
    print(f"pixel difference          : mean {diff.mean():.2f}, max {diff.max()} grey levels (of 255)")
    if not is_jpeg:
        print("note: these are not JPEGs; Pillow has no draft mode for them, so a ratio of ~1 is expected.")


if __name__ == "__main__":
    main()
