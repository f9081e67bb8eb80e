"""TensorFlow against JAX on the CPU: what decides the default Keras backend (issue 16).

Three figures per backend, measured in one run, one after the other on the same machine:

1. **start-up**: a fresh Python process that imports Keras and fits a small CNN for one batch,
   which every training and evaluation job of the DAG pays once (the demo runs about 60 of them);
   median of ``--repeat`` runs after one warm-up;
2. **paper-scale step**: milliseconds per training image of the Table 7 classifier and of the
   README's headline clock reader (upright reading with an hour-hand head) on 150x150 clocks,
   batch 32, after the first (compiling) epoch: what a paper-scale CPU run pays per epoch;
3. **demo**: the wall time of the whole demo DAG (``./run demo``'s command in a fresh copy of the
   project), unless ``--no-demo``.

    python benchmarks/bench_backends.py [--repeat 3] [--no-demo]

The ratio column is JAX / TensorFlow (below 1: JAX is faster).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_bookkeeping import build_demo

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("tensorflow", "jax")

STARTUP = """
import keras, numpy as np
m = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3), keras.layers.Flatten(),
                      keras.layers.Dense(10, activation="softmax")])
m.compile("adam", "sparse_categorical_crossentropy")
m.fit(np.zeros((32, 28, 28, 1)), np.zeros(32), epochs=1, verbose=0)
"""

STEP = """
import sys, time
sys.path.insert(0, {src!r})
import numpy as np
from idl.clock import recipes
rng = np.random.default_rng(0)
n = {n}
labels = np.stack([rng.integers(0, 12, n), rng.integers(0, 60, n)], 1)
x = rng.integers(0, 256, (n, 150, 150, 1), dtype=np.uint8)
for name, params in {recipes_!r}:
    r = recipes.Recipe.from_params(params)
    model = recipes.build_model(r, x.shape[1:])
    model.compile(optimizer="nadam", **recipes.compile_kwargs(r))
    y = recipes.targets(r, labels, rng.uniform(0, 360, n) if r.upright else None)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # compiles
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    print(name, 1000 * (time.perf_counter() - t0) / n, flush=True)
"""
MODELS = [("Table 7 classifier", {"kind": "classify", "preset": "final"}),
          ("headline reader", {"kind": "multihead_angle", "preset": "final", "upright": True, "hour_hand": True})]


def _env(backend: str) -> dict:
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", DVC_NO_ANALYTICS="1")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def startup(backend: str, repeat: int) -> float:
    times = []
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", STARTUP], env=_env(backend), check=True, capture_output=True)
        if i:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def step_times(backend: str, n: int) -> dict[str, float]:
    code = STEP.format(src=str(ROOT / "src"), n=n, recipes_=MODELS)
    out = subprocess.run([sys.executable, "-c", code], env=_env(backend), check=True, capture_output=True,
                         text=True).stdout
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in out.strip().splitlines()}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="timed start-ups per backend (median reported)")
    ap.add_argument("--images", type=int, default=640, help="training images per timed epoch (150x150)")
    ap.add_argument("--no-demo", action="store_true", help="skip the demo DAG (minutes per backend)")
    ap.add_argument("--keep", type=Path, default=None, metavar="DIR",
                    help="build the demos in DIR/<backend> and keep them (default: a temporary folder)")
    args = ap.parse_args(argv)

    rows: dict[str, dict[str, float]] = {}
    for backend in BACKENDS:
        print(f"{backend}: start-up...", flush=True)
        row = {"start-up s": startup(backend, args.repeat)}
        print(f"{backend}: paper-scale steps...", flush=True)
        row.update({f"{k} ms/img": v for k, v in step_times(backend, args.images).items()})
        rows[backend] = row
        print(f"{backend}: " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()), flush=True)
    if not args.no_demo:
        with tempfile.TemporaryDirectory() as tmp:
            for backend in BACKENDS:
                where = (args.keep or Path(tmp)) / backend
                print(f"{backend}: the demo DAG...", flush=True)
                rows[backend]["demo s"] = build_demo(where, KERAS_BACKEND=backend)
                print(f"{backend}: demo {rows[backend]['demo s']:.0f} s", flush=True)

    print(f"\n{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; start-up: median of {args.repeat}; "
          f"steps: {args.images} images of 150x150, batch 32, after a compiling epoch")
    print(f"{'figure':<34} {'tensorflow':>11} {'jax':>9} {'jax/tf':>7}")
    for key in rows["tensorflow"]:
        tf, jx = rows["tensorflow"][key], rows["jax"][key]
        print(f"{key:<34} {tf:11.2f} {jx:9.2f} {jx / tf:7.2f}")
    demo = "demo s" in rows["tensorflow"]
    faster = [b for b in BACKENDS if all(rows[b][k] <= rows[o][k] for o in BACKENDS for k in rows[b])]
    print("\nfaster on every figure:", faster[0] if faster else "neither" + ("" if demo else " (demo not run)"))


if __name__ == "__main__":
    main()
