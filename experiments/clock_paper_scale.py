"""Tell the time at paper scale: 18,000 generated 150x150 clocks, several approaches side by side.

The pipeline (``snakemake``/``dvc repro``) trains every clock recipe of ``params.yaml``
one after the other, which at paper scale needs a GPU for hours. This script is the
measured, time-boxed version of that run, made for one GPU (KERAS_BACKEND=jax) and a
fixed wall-clock budget, with the pipeline's own pieces:

* data: ``idl.clock.synth`` with ``data.clock.synthetic`` from params.yaml (25 clocks per
  minute, 150x150, any rotation: the defaults of the pipeline);
* split: ``idl.clock.course_data.split_indices`` with ``clock.split`` and ``seed``;
* models, targets, losses and decoding: ``idl.clock.recipes`` on ``clock.models`` recipes;
* optimizer: ``idl.training.make_optimizer`` (Nadam, rate halving every N epochs);
* scores: ``idl.clock.scoring.score`` on the held-out test split (any rotation).

What it adds is a **rotation curriculum** (``NAME@curriculum``): the *same* training
clocks (same times, tilt, background, lighting: the generator's random stream is shared)
first with the dial upright, then turned progressively further, until the last phase
trains on exactly the test distribution. Under uniform rotation the hands' direction in
the image carries no information about the time by itself, only together with the
numerals, so a network starting from scratch sees no gradient towards either; upright
clocks give it the hands first. Only a generator can do this (the course data has no
upright copies), so it is marked as such wherever its numbers are shown.

Candidates train in parallel, one process each, sharing the GPU; each stops at the end
of the first epoch past ``--minutes`` (or at ``--epochs``) and is then scored. Run::

    KERAS_BACKEND=jax python experiments/clock_paper_scale.py --out /tmp/paper \\
        --minutes 6 multihead_angle multihead_angle@curriculum

Outputs in ``--out``: ``summary.json`` and ``summary.md`` (one row per candidate:
epochs, training minutes, accuracy, CSE mean / median / 90th percentile), and per
candidate ``metrics.json``, ``history.csv``, ``learning_curves.png``,
``test_predictions.png`` and ``log.txt``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

#: (max_rotation_deg, most epochs) phases of the curriculum; the last phase runs until the end.
#: A phase ends early once the training (hour) accuracy of an epoch reaches ADVANCE_AT.
CURRICULUM = ((0, 12), (45, 6), (90, 6), (135, 6), (180, None))
ADVANCE_AT = 0.9
CURRICULUM_TAG = "@curriculum"


def _params() -> dict:
    import yaml

    with open(ROOT / "params.yaml") as f:
        return yaml.safe_load(f)


def parse_curriculum(text: str) -> tuple[tuple[int, int | None], ...]:
    """``"0:6,30:3,180"`` -> ((0, 6), (30, 3), (180, None)); the last phase has no end."""
    phases = []
    parts = [p for p in text.split(",") if p.strip()]
    for i, part in enumerate(parts):
        rot, _, epochs = part.partition(":")
        last = i == len(parts) - 1
        if not rot.strip().isdigit() or not 0 <= int(rot) <= 180:
            raise ValueError(f"curriculum phase {part!r}: rotation must be an integer 0-180")
        if last:
            if int(rot) != 180:
                raise ValueError("the last curriculum phase must be 180 (the test distribution)")
            phases.append((180, None))
        else:
            if not epochs.strip().isdigit() or int(epochs) < 1:
                raise ValueError(f"curriculum phase {part!r}: give ROTATION:EPOCHS with EPOCHS >= 1")
            phases.append((int(rot), int(epochs)))
    if not phases:
        raise ValueError("empty curriculum")
    return tuple(phases)


class Curriculum:
    """Which phase training is in: the next phase starts after a phase's epoch cap, or as
    soon as an epoch's training accuracy reaches ``advance_at`` (None: caps only)."""

    def __init__(self, phases, advance_at: float | None = ADVANCE_AT):
        self.phases, self.advance_at = tuple(phases), advance_at
        self.phase, self.epochs_in_phase = 0, 0

    @property
    def rotation(self) -> int:
        return self.phases[self.phase][0]

    def end_epoch(self, accuracy: float | None) -> bool:
        """Record one finished epoch; True if the next epoch starts a new phase."""
        self.epochs_in_phase += 1
        cap = self.phases[self.phase][1]
        if cap is None:
            return False
        done = self.epochs_in_phase >= cap or (
            self.advance_at is not None and accuracy is not None and accuracy >= self.advance_at)
        if done:
            self.phase, self.epochs_in_phase = self.phase + 1, 0
        return done


# ------------------------------------------------------------------------ data

def make_data(work: Path, rotations, per_minute: int, size: int, seed: int, max_tilt: float) -> None:
    """images_rot{R}.npy for every rotation, labels.npy and the split (generated once)."""
    from idl.clock import synth
    from idl.clock.course_data import save_split, split_indices

    work.mkdir(parents=True, exist_ok=True)
    p = _params()
    labels = None
    for rot in sorted(set(rotations)):
        path = work / f"images_rot{rot}.npy"
        if path.exists():
            continue
        t = time.perf_counter()
        images, labels = synth.generate(per_minute, size=size, seed=seed, progress=False,
                                        max_rotation_deg=rot, max_tilt_deg=max_tilt)
        np.save(work / "tmp.npy", images)
        os.replace(work / "tmp.npy", path)
        print(f"generated {len(images)} clocks {size}x{size}, rotation <= {rot} deg, "
              f"in {time.perf_counter() - t:.1f} s", flush=True)
    if labels is None:
        from idl.clock.synth import time_labels
        labels = time_labels(per_minute)
    np.save(work / "labels.npy", labels)
    if not (work / "images.npy").exists():  # the folder doubles as course data (the test distribution)
        os.link(work / "images_rot180.npy", work / "images.npy")
    f = p["clock"]["split"]
    save_split(work / "split", split_indices(labels, fractions=(f["train"], f["val"], f["test"]), seed=p["seed"]))


# ----------------------------------------------------------------------- worker

def train_candidate(name: str, work: Path, out: Path, args) -> dict:
    import keras

    from idl.clock import recipes
    from idl.clock.course_data import load_split
    from idl.clock.figures import prediction_grid
    from idl.clock.labels import to_minutes
    from idl.clock.scoring import score
    from idl.plots import learning_curves
    from idl.training import make_optimizer

    p = _params()
    recipe_name, curriculum = (name[: -len(CURRICULUM_TAG)], True) if name.endswith(CURRICULUM_TAG) else (name, False)
    recipe = recipes.validate_recipe(json.loads(args.recipes).get(recipe_name) or p["clock"]["models"][recipe_name])
    cfg = dict(p["clock"]["train"])
    for key in ("batch_size", "lr_halving_epochs"):
        if recipe.get(key) is not None:
            cfg[key] = recipe[key]
    if args.learning_rate:
        cfg["learning_rate"] = args.learning_rate
    if args.halving:
        cfg["lr_halving_epochs"] = args.halving
    if args.batch_size:
        cfg["batch_size"] = args.batch_size
    phases = parse_curriculum(args.curriculum) if curriculum else ((180, None),)

    labels = np.load(work / "labels.npy")
    split = load_split(work / "split")
    images = {rot: np.load(work / f"images_rot{rot}.npy", mmap_mode="r") for rot, _ in phases}
    images.setdefault(180, np.load(work / "images_rot180.npy", mmap_mode="r"))
    tr, va, te = split["train"], split["val"], split["test"]
    y = recipes.targets(recipe, labels)
    x_train = {rot: np.ascontiguousarray(im[tr])[..., None] for rot, im in images.items()}
    x_val = np.ascontiguousarray(images[180][va])[..., None]
    y_train = keras.tree.map_structure(lambda a: a[tr], y)
    y_val = keras.tree.map_structure(lambda a: a[va], y)

    state = Curriculum(phases, args.advance_at)

    class CurriculumData(keras.utils.PyDataset):
        """Batches of the training clocks at the current phase's rotation, reshuffled each epoch."""

        def __init__(self):
            super().__init__()
            self.epoch = 0
            self._order()

        def _order(self):
            self.order = np.random.default_rng([p["seed"], self.epoch]).permutation(len(tr))

        def __len__(self):
            return int(np.ceil(len(tr) / cfg["batch_size"]))

        def __getitem__(self, i):
            rows = np.sort(self.order[i * cfg["batch_size"]:(i + 1) * cfg["batch_size"]])
            return x_train[state.rotation][rows], keras.tree.map_structure(lambda a: a[rows], y_train)

        def on_epoch_end(self):
            self.epoch += 1
            self._order()

    class Deadline(keras.callbacks.Callback):
        def __init__(self, seconds):
            super().__init__()
            self.seconds, self.start, self.epoch_seconds = seconds, time.perf_counter(), []
            self._t = None

        def on_epoch_begin(self, epoch, logs=None):
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_seconds.append(time.perf_counter() - self._t)
            logs["max_rotation_deg"] = state.rotation
            acc = logs.get("hour_accuracy", logs.get("accuracy"))
            if state.end_epoch(None if acc is None else float(acc)):
                print(f"curriculum: epoch {epoch + 1} ends rotation <= {logs['max_rotation_deg']}; "
                      f"next: <= {state.rotation} deg", flush=True)
            if time.perf_counter() - self.start > self.seconds:
                self.model.stop_training = True

    keras.utils.set_random_seed(p["seed"])
    data = CurriculumData()
    model = recipes.build_model(recipe, x_val.shape[1:])
    model.compile(optimizer=make_optimizer("nadam", cfg["learning_rate"], cfg["lr_halving_epochs"], len(data)),
                  **recipes.compile_kwargs(recipe))
    out.mkdir(parents=True, exist_ok=True)
    deadline = Deadline(args.minutes * 60)
    hist = model.fit(data, validation_data=(x_val, y_val), epochs=args.epochs, verbose=2,
                     callbacks=[deadline, keras.callbacks.CSVLogger(str(out / "history.csv"))])
    train_seconds = time.perf_counter() - deadline.start
    model.save(out / "model.keras")

    x_test = np.ascontiguousarray(images[180][te])
    pred = recipes.predict(recipe, model, x_test)
    true_min = to_minutes(labels[te])
    metrics = score(true_min, pred["minutes"], recipes.true_classes(recipe, labels[te]), pred["classes"])
    history = hist.history
    import pandas as pd

    frame = pd.read_csv(out / "history.csv")
    learning_curves(frame, out / "learning_curves.png", title=f"{name} (paper scale)",
                    metrics=["loss"] + [c for c in frame.columns if c.endswith("accuracy") and not c.startswith("val_")])
    prediction_grid(x_test, true_min, pred["minutes"], out / "test_predictions.png", title=f"{name}, test split")
    metrics.update({
        "candidate": name, "approach": recipes.describe(recipe) + (", rotation curriculum" if curriculum else ""),
        "epochs": len(history["loss"]), "train_minutes": round(train_seconds / 60, 2),
        "median_epoch_seconds": round(float(np.median(deadline.epoch_seconds)), 2),
        "n_train": int(len(tr)), "n_test": int(len(te)), "image_size": int(x_val.shape[1]),
        "batch_size": cfg["batch_size"], "learning_rate": cfg["learning_rate"],
        "lr_halving_epochs": cfg["lr_halving_epochs"],
        "curriculum": [list(ph) for ph in phases] if curriculum else None,
        "backend": keras.backend.backend(), "keras": keras.__version__,
    })
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float))
    return metrics


# ----------------------------------------------------------------------- driver

def summary_table(rows: list[dict]) -> str:
    lines = ["| candidate | approach | epochs | train min | accuracy | CSE mean | median | p90 |",
             "|---|---|---|---|---|---|---|---|"]
    for m in rows:
        acc = "n/a" if m.get("accuracy") is None else f"{m['accuracy']:.3f}"
        lines.append(f"| {m['candidate']} | {m['approach']} | {m['epochs']} | {m['train_minutes']:.1f} | {acc} | "
                     f"{m['cse_mean']:.2f} | {m['cse_median']:.2f} | {m['cse_p90']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("candidates", nargs="*", help="clock.models names, NAME@curriculum for the rotation curriculum")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=None, help="generated data (default OUT/data); reused if present")
    ap.add_argument("--minutes", type=float, default=6.0, help="training wall-clock budget per candidate")
    ap.add_argument("--epochs", type=int, default=1000, help="epoch cap (the budget usually stops first)")
    ap.add_argument("--per-minute", type=int, default=None, help="default: data.clock.synthetic.per_minute")
    ap.add_argument("--size", type=int, default=None, help="default: data.clock.synthetic.size")
    ap.add_argument("--curriculum", default=",".join(f"{r}:{n}" if n else f"{r}" for r, n in CURRICULUM))
    ap.add_argument("--advance-at", type=float, default=ADVANCE_AT,
                    help="training accuracy that ends a curriculum phase early (default %(default)s)")
    ap.add_argument("--learning-rate", type=float, default=None, help="default: clock.train.learning_rate")
    ap.add_argument("--halving", type=float, default=None, help="default: clock.train.lr_halving_epochs")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--recipe", action="append", default=[], metavar="NAME=JSON",
                    help='an extra candidate recipe, e.g. wide=\'{"kind": "multihead_angle", "conv_filters": 128}\'')
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--recipes", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    work = args.work or args.out / "data"
    extra = json.loads(args.recipes)
    for item in args.recipe:
        name, _, text = item.partition("=")
        try:
            extra[name] = json.loads(text)
        except json.JSONDecodeError as exc:
            ap.error(f"--recipe {item!r}: not NAME=JSON ({exc})")

    if args.worker:
        train_candidate(args.worker, work, args.out / args.worker.replace("@", "_"), args)
        return 0

    if not args.candidates:
        ap.error("name at least one candidate")
    p = _params()
    synthetic = p["data"]["clock"]["synthetic"]
    phases = parse_curriculum(args.curriculum)
    rotations = {180} | ({r for r, _ in phases} if any(c.endswith(CURRICULUM_TAG) for c in args.candidates) else set())
    for c in args.candidates:
        base = c[: -len(CURRICULUM_TAG)] if c.endswith(CURRICULUM_TAG) else c
        if base not in p["clock"]["models"] and base not in extra:
            ap.error(f"unknown candidate {c!r}; clock.models has {', '.join(p['clock']['models'])}")
    make_data(work, rotations, args.per_minute or synthetic["per_minute"], args.size or synthetic["size"],
              p["seed"], synthetic["max_tilt_deg"])

    share = 0.9 / len(args.candidates)
    procs = []
    for c in args.candidates:
        d = args.out / c.replace("@", "_")
        d.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, XLA_PYTHON_CLIENT_MEM_FRACTION=f"{share:.2f}", PYTHONUNBUFFERED="1")
        cmd = [sys.executable, __file__, "--worker", c, "--recipes", json.dumps(extra), "--out", str(args.out),
               "--work", str(work), "--minutes", str(args.minutes), "--epochs", str(args.epochs),
               "--curriculum", args.curriculum, "--advance-at", str(args.advance_at)]
        for flag, value in (("--learning-rate", args.learning_rate), ("--halving", args.halving),
                            ("--batch-size", args.batch_size)):
            if value:
                cmd += [flag, str(value)]
        procs.append((c, subprocess.Popen(cmd, env=env, stdout=open(d / "log.txt", "w"), stderr=subprocess.STDOUT)))
        print(f"started {c} (pid {procs[-1][1].pid})", flush=True)
    rows, failed = [], []
    for c, proc in procs:
        rc = proc.wait()
        mpath = args.out / c.replace("@", "_") / "metrics.json"
        if rc == 0 and mpath.exists():
            rows.append(json.loads(mpath.read_text()))
        else:
            failed.append(c)
            print(f"{c} failed (exit {rc}); see {mpath.parent / 'log.txt'}", flush=True)
    table = summary_table(rows)
    (args.out / "summary.json").write_text(json.dumps(rows, indent=2, default=float))
    (args.out / "summary.md").write_text(table + "\n")
    print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
