"""Images per second of the synthetic clock generator at 150x150, one core vs all cores.

Run on demand: ``python benchmarks/bench_clock_synth.py [--n 1440] [--size 150]``.
``--n`` is rounded up to whole minutes of the dial (multiples of 720).
"""
from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np

from idl.clock import synth


def images_per_second(per_minute: int, size: int, workers: int) -> float:
    start = time.perf_counter()
    images, _ = synth.generate(per_minute, size=size, seed=0, workers=workers, progress=False)
    return len(images) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1440, help="images per run (default 1440)")
    parser.add_argument("--size", type=int, default=150, help="image side in pixels (default 150)")
    args = parser.parse_args()
    per_minute = max(1, math.ceil(args.n / 720))
    cores = os.cpu_count() or 1
    synth.render_clock(0, 0, np.random.default_rng(0), args.size)  # draw the cached dial first
    one = images_per_second(per_minute, args.size, 1)
    print(f"{720 * per_minute} images of {args.size}x{args.size}")
    print(f"workers=1:  {one:8.1f} images/s")
    if cores > 1:
        all_ = images_per_second(per_minute, args.size, cores)
        print(f"workers={cores}:  {all_:8.1f} images/s")
        print(f"speed-up:   {all_ / one:8.2f}x on {cores} cores")


if __name__ == "__main__":
    main()
