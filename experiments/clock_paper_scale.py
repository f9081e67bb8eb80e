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

* an upright recipe's orientation targets: the generator's record of each dial's turn;
* a recipe's rotation curriculum: ``idl.clock.curriculum`` (the recipe key ``curriculum``),
  on the generator's clocks with ``max_rotation_deg`` limited, as the pipeline's
  ``clock_curriculum_data`` rule makes them.

What it leaves out, for speed: the per-epoch checkpoints of ``idl.training.train`` (about
0.4 s an epoch on an H100, see ``benchmarks/bench_clock_training.py``), so a killed run
starts over. Candidates train in parallel, one process each, sharing the GPU; each stops at
the end of the first epoch past ``--minutes`` (or at ``--epochs``) and is then scored. Run::

    KERAS_BACKEND=jax python experiments/clock_paper_scale.py --out /tmp/paper \\
        --minutes 6 multihead multihead_angle_curriculum

A candidate is a ``clock.models`` name, or a name given a recipe with
``--recipe NAME='{"kind": ..., ...}'`` (JSON).

``--resume-from OUT`` goes on training each candidate from an earlier run's saved model (with
its optimizer state, so the learning-rate schedule continues), appending to its history; the
summary counts the epochs and minutes of both runs.

``--init-from DIR`` starts each candidate from the weights of another model
(``DIR/model.keras``, e.g. an earlier run's candidate without the ``hour_hand`` head):
layers of the same name and shape take its weights, new layers start fresh, and so do the
optimizer and its schedule (set them with ``--learning-rate`` / ``--halving``). The
summary counts the epochs and minutes that made the starting model.

Outputs in ``--out``: ``summary.json`` and ``summary.md`` (one row per candidate:
epochs, training minutes, accuracy, CSE mean / median / 90th percentile, and the mean CSE
when each test clock is read at four quarter turns with the outputs averaged), and per
candidate ``metrics.json``, ``history.csv``, ``learning_curves.png``,
``test_predictions.png`` and ``log.txt``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

def _params() -> dict:
    """params.yaml as written (the pipeline validates it; this script reads known keys only)."""
    import yaml

    with open(ROOT / "params.yaml") as f:
        return yaml.safe_load(f)


# ------------------------------------------------------------------------ data

def make_data(work: Path, rotations, per_minute: int, size: int, seed: int, max_tilt: float) -> None:
    """images_rot{R}.npy for every rotation, labels.npy and the split (generated once)."""
    from idl.clock import synth
    from idl.clock.course_data import save_split, split_indices

    work.mkdir(parents=True, exist_ok=True)
    p = _params()
    labels = synth.time_labels(per_minute)  # what generate() labels its rows with
    for rot in sorted(set(rotations)):
        path = work / f"images_rot{rot}.npy"
        if path.exists() and (work / f"dial_turn_rot{rot}.npy").exists():
            shape = np.load(path, mmap_mode="r").shape
            if shape != (len(labels), size, size):
                raise SystemExit(f"{path}: holds {shape[0]} clocks of {shape[1]}x{shape[2]}, not {len(labels)} of "
                                 f"{size}x{size}; give the same --per-minute/--size or another --work folder")
            continue
        t = time.perf_counter()
        images, _, turns = synth.generate(per_minute, size=size, seed=seed, progress=False,
                                          max_rotation_deg=rot, max_tilt_deg=max_tilt, with_turn=True)
        np.save(work / "tmp.npy", turns)
        os.replace(work / "tmp.npy", work / f"dial_turn_rot{rot}.npy")
        np.save(work / "tmp.npy", images)
        os.replace(work / "tmp.npy", path)
        print(f"generated {len(images)} clocks {size}x{size}, rotation <= {rot} deg, "
              f"in {time.perf_counter() - t:.1f} s", flush=True)
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
    from idl.clock.curriculum import FULL, curriculum_dataset, epoch_accuracy, rotations
    from idl.clock.scoring import score
    from idl.clock.evaluate import curve_metrics, score_quarter_turns
    from idl.clock.train import training_settings
    from idl.io import write_json
    from idl.models.clock import load_model
    from idl.plots import learning_curves
    from idl.training import make_optimizer
    import pandas as pd

    p = _params()
    recipe = recipes.Recipe.from_params(json.loads(args.recipes).get(name) or p["clock"]["models"][name])
    # the command line's training settings win over the recipe's and clock.train's
    given = {k: v for k, v in (("learning_rate", args.learning_rate), ("lr_halving_epochs", args.halving),
                               ("batch_size", args.batch_size)) if v}
    settings = dataclasses.replace(training_settings(recipe, p["clock"]["train"], p["seed"]), **given)

    labels = np.load(work / "labels.npy")
    split = load_split(work / "split")
    tr, va, te = split["train"], split["val"], split["test"]
    images = {rot: np.load(work / f"images_rot{rot}.npy", mmap_mode="r")
              for rot in [*rotations(recipe.curriculum), FULL]}
    y = recipes.targets(recipe, labels, np.load(work / f"dial_turn_rot{FULL}.npy") if recipe.upright else None)
    x_train = {rot: np.ascontiguousarray(im[tr])[..., None] for rot, im in images.items()}
    x_val = np.ascontiguousarray(images[FULL][va])[..., None]
    y_train = keras.tree.map_structure(lambda a: a[tr], y)
    y_val = keras.tree.map_structure(lambda a: a[va], y)
    before = Path(args.resume_from) / name if args.resume_from else None
    if before is not None and not (before / "model.keras").exists():
        raise SystemExit(f"{before}: no model.keras to resume {name} from")
    if recipe.curriculum:
        data = curriculum_dataset(x_train, y_train, settings.batch_size, recipe.curriculum, p["seed"],
                                  history_path=before / "history.csv" if before else None)
        fit_data, callbacks, steps = {"x": data}, list(data.callbacks), len(data)
    elif recipe.augment_quarter_turns:
        from idl.clock.augment import quarter_turn_dataset

        data = quarter_turn_dataset(x_train[FULL], y_train, settings.batch_size, p["seed"],
                                    turn_key=recipes.turning_target(recipe))
        fit_data, callbacks, steps = {"x": data}, list(data.callbacks), len(data)
    else:
        fit_data = {"x": x_train[FULL], "y": y_train, "batch_size": settings.batch_size, "shuffle": True}
        callbacks, steps = [], int(np.ceil(len(tr) / settings.batch_size))

    class Deadline(keras.callbacks.Callback):
        def __init__(self, seconds):
            super().__init__()
            self.seconds, self.start, self.epoch_seconds = seconds, time.perf_counter(), []
            self._t = None
            self._rot = None

        def on_epoch_begin(self, epoch, logs=None):
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_seconds.append(time.perf_counter() - self._t)
            rot = logs.get("max_rotation_deg")
            if rot is not None and rot != self._rot:
                print(f"epoch {epoch + 1}: rotation <= {rot:g} deg, training accuracy "
                      f"{epoch_accuracy(logs):.3f}", flush=True)
                self._rot = rot
            if time.perf_counter() - self.start > self.seconds:
                self.model.stop_training = True

    keras.utils.set_random_seed(p["seed"])
    out.mkdir(parents=True, exist_ok=True)
    done_epochs, done_minutes, first = 0, 0.0, 0  # first: the epoch the optimizer's schedule is at
    if before is not None:
        # the saved model carries its optimizer state, so the learning-rate schedule goes on
        # where it stopped: the same as one longer run, up to the order of the batches
        import shutil

        model = load_model(before / "model.keras")
        shutil.copyfile(before / "history.csv", out / "history.csv.tmp")
        os.replace(out / "history.csv.tmp", out / "history.csv")
        first = len(pd.read_csv(out / "history.csv"))
        done_epochs, done_minutes = effort(before, required=True)
        print(f"resuming {name} from {before} after {done_epochs} epochs ({done_minutes:.1f} min)", flush=True)
    else:
        model = recipes.build_model(recipe, x_val.shape[1:])
        if args.init_from:
            init = init_weights(model, Path(args.init_from))
            done_epochs, done_minutes = init["epochs"], init["train_minutes"]
        model.compile(optimizer=make_optimizer("nadam", settings.learning_rate, settings.lr_halving_epochs, steps),
                      **recipes.compile_kwargs(recipe))
    deadline = Deadline(args.minutes * 60)
    # the curriculum's callback first: the rotation it logs reaches the CSV
    hist = model.fit(**fit_data, validation_data=(x_val, y_val), epochs=first + args.epochs, verbose=2,
                     initial_epoch=first,
                     callbacks=[*callbacks, deadline,
                                keras.callbacks.CSVLogger(str(out / "history.csv"), append=before is not None)])
    train_seconds = time.perf_counter() - deadline.start + 60 * done_minutes
    model.save(out / "model.keras")

    x_test = np.ascontiguousarray(images[FULL][te])
    pred = recipes.predict(recipe, model, x_test)
    true_min = to_minutes(labels[te])
    true_cls = recipes.true_classes(recipe, labels[te])
    metrics = score(true_min, pred["minutes"], true_cls, pred["classes"])
    # the same model reading each test clock turned 0/90/180/270 degrees, outputs averaged
    metrics["quarter_turns"] = score_quarter_turns(recipe, model, x_test, true_min, true_cls, pred["outputs"])
    metrics.update(error_breakdown(recipe, pred["outputs"], true_min, pred["minutes"],
                                   np.load(work / f"dial_turn_rot{FULL}.npy")[te] if recipe.upright else None))
    history = hist.history
    frame = pd.read_csv(out / "history.csv")
    learning_curves(frame, out / "learning_curves.png", title=f"{name} (paper scale)",
                    metrics=curve_metrics(frame.columns))
    prediction_grid(x_test, true_min, pred["minutes"], out / "test_predictions.png", title=f"{name}, test split")
    metrics.update({
        "candidate": name, "approach": recipes.describe(dataclasses.replace(recipe, **given)),
        "epochs": done_epochs + len(history["loss"]), "resumed_from": str(before) if before else None,
        "initialised_from": init if args.init_from else None,
        "train_minutes": round(train_seconds / 60, 2),
        "median_epoch_seconds": round(float(np.median(deadline.epoch_seconds)), 2),
        "n_train": int(len(tr)), "n_test": int(len(te)), "image_size": int(x_val.shape[1]),
        "batch_size": settings.batch_size, "learning_rate": settings.learning_rate,
        "lr_halving_epochs": settings.lr_halving_epochs,
        "curriculum": None if recipe.curriculum is None else recipe.curriculum.to_params(),
        "backend": keras.backend.backend(), "keras": keras.__version__,
    })
    write_json(out / "metrics.json", metrics)
    return metrics


def effort(run_dir: Path, required: bool = False) -> tuple[int, float]:
    """Epochs and training minutes that made an earlier run's model: from its metrics.json, which
    counts any model that run started from in turn (else its history.csv's rows; 0 where absent).
    ``required``: the metrics.json and its minutes must be there (a run to resume)."""
    import pandas as pd

    metrics, history = run_dir / "metrics.json", run_dir / "history.csv"
    earlier = json.loads(metrics.read_text()) if required or metrics.exists() else {}
    rows = len(pd.read_csv(history)) if history.exists() else 0
    return int(earlier.get("epochs", rows)), float(earlier["train_minutes"] if required else
                                                   earlier.get("train_minutes", 0.0))


def init_weights(model, source: Path) -> dict:
    """Copy ``source/model.keras``'s weights into ``model``, layer by layer where name and shapes match.

    Returns the source's epochs and training minutes (:func:`effort`) and the layers that start
    fresh.
    """
    from idl.models.clock import load_model

    path = source / "model.keras"
    if not path.exists():
        raise SystemExit(f"{source}: no model.keras to start from")
    old = {layer.name: layer for layer in load_model(path).layers}
    copied, fresh = [], []
    for layer in model.layers:
        src = old.get(layer.name)
        if layer.weights and src is not None and [w.shape for w in src.weights] == [w.shape for w in layer.weights]:
            layer.set_weights(src.get_weights())
            copied.append(layer.name)
        elif layer.weights:
            fresh.append(layer.name)
    if not copied:
        raise SystemExit(f"{path}: no layer matches the candidate's by name and shape; nothing to start from")
    epochs, minutes = effort(source)
    print(f"starting from {path} ({epochs} epochs, {minutes:.1f} min): {len(copied)} layers copied, "
          f"fresh: {', '.join(fresh) or 'none'}", flush=True)
    return {"path": str(source), "epochs": epochs, "train_minutes": minutes, "fresh_layers": fresh}


def error_breakdown(recipe, outputs, true_min, pred_min, turns=None) -> dict:
    """Where the CSE comes from: hour errors (30 minutes or more); for upright models, the turn found
    (``turns``: the dials' true turns); for hour-hand models, the CSE had the hour come from the hour
    classes instead (what the hand head gains)."""
    from idl.clock import recipes
    from idl.clock.labels import cse_minutes, from_angle

    cse = cse_minutes(true_min, pred_min)
    wrong = cse >= 30
    hours_off = np.rint(((pred_min - true_min + 360) % 720 - 360) / 60).astype(int)[wrong]
    out = {"hour_errors": {
        "rate": float(wrong.mean()),
        "share_of_cse": float(cse[wrong].sum() / cse.sum()) if cse.sum() > 0 else 0.0,
        "cse_mean_without": float(cse[~wrong].mean()) if (~wrong).any() else None,
        "one_hour_off": int(np.sum(np.abs(hours_off) == 1)),
        "six_hours_off": int(np.sum(np.abs(hours_off) == 6)),
    }}
    if recipe.upright:
        found = from_angle(np.asarray(outputs[recipes.TURN]), 360.0)
        err = np.abs((found - turns + 180) % 360 - 180)
        out["turn_error_deg"] = {"median": float(np.median(err)), "p90": float(np.percentile(err, 90)),
                                 "over_30": float(np.mean(err > 30))}
    if recipe.hour_hand:
        by_class = recipes.decode_minutes(recipe, {k: v for k, v in outputs.items() if k != recipes.HOUR_HAND})
        out["cse_mean_hour_from_classes"] = float(cse_minutes(true_min, by_class).mean())
    return out


# ----------------------------------------------------------------------- driver

def summary_table(rows: list[dict]) -> str:
    lines = ["| candidate | approach | epochs | train min | accuracy | CSE mean | median | p90 | "
             "CSE mean, read at 4 quarter turns |",
             "|---|---|---|---|---|---|---|---|---|"]
    for m in rows:
        acc = "n/a" if m.get("accuracy") is None else f"{m['accuracy']:.3f}"
        lines.append(f"| {m['candidate']} | {m['approach']} | {m['epochs']} | {m['train_minutes']:.1f} | {acc} | "
                     f"{m['cse_mean']:.2f} | {m['cse_median']:.2f} | {m['cse_p90']:.2f} | "
                     f"{m['quarter_turns']['cse_mean']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("candidates", nargs="*", help="clock.models names (or names given by --recipe)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=None, help="generated data (default OUT/data); reused if present")
    ap.add_argument("--minutes", type=float, default=6.0, help="training wall-clock budget per candidate")
    ap.add_argument("--epochs", type=int, default=1000, help="epoch cap (the budget usually stops first)")
    ap.add_argument("--per-minute", type=int, default=None, help="default: data.clock.synthetic.per_minute")
    ap.add_argument("--size", type=int, default=None, help="default: data.clock.synthetic.size")
    ap.add_argument("--learning-rate", type=float, default=None, help="default: clock.train.learning_rate")
    ap.add_argument("--halving", type=float, default=None, help="default: clock.train.lr_halving_epochs")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--recipe", action="append", default=[], metavar="NAME=JSON",
                    help='an extra candidate recipe, e.g. wide=\'{"kind": "multihead_angle", "conv_filters": 128}\'')
    ap.add_argument("--resume-from", type=Path, default=None, metavar="OUT",
                    help="go on training each candidate from OUT/NAME/model.keras (an earlier run's --out); "
                         "--minutes and --epochs are then what this run adds")
    ap.add_argument("--init-from", type=Path, default=None, metavar="DIR",
                    help="start every candidate from DIR/model.keras's weights (layers matched by name and "
                         "shape; new layers and the optimizer start fresh)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--recipes", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.resume_from and args.init_from:
        ap.error("--resume-from goes on with the same model; --init-from starts a new one: give one of them")
    work = args.work or args.out / "data"
    extra = json.loads(args.recipes)
    for item in args.recipe:
        name, _, text = item.partition("=")
        try:
            extra[name] = json.loads(text)
        except json.JSONDecodeError as exc:
            ap.error(f"--recipe {item!r}: not NAME=JSON ({exc})")

    if args.worker:
        train_candidate(args.worker, work, args.out / args.worker, args)
        return 0

    if not args.candidates:
        ap.error("name at least one candidate")
    p = _params()
    synthetic = p["data"]["clock"]["synthetic"]
    from idl.clock.curriculum import FULL, rotations
    from idl.clock.recipes import Recipe

    needed = {FULL}
    for c in args.candidates:
        if c not in p["clock"]["models"] and c not in extra:
            ap.error(f"unknown candidate {c!r}; clock.models has {', '.join(p['clock']['models'])}")
        try:
            needed |= set(rotations(Recipe.from_params(extra.get(c) or p["clock"]["models"][c]).curriculum))
        except ValueError as exc:
            ap.error(f"candidate {c}: {exc}")
    make_data(work, needed, args.per_minute or synthetic["per_minute"], args.size or synthetic["size"],
              p["seed"], synthetic["max_tilt_deg"])

    share = 0.9 / len(args.candidates)
    procs = []
    for c in args.candidates:
        d = args.out / c
        d.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, XLA_PYTHON_CLIENT_MEM_FRACTION=f"{share:.2f}", PYTHONUNBUFFERED="1")
        cmd = [sys.executable, __file__, "--worker", c, "--recipes", json.dumps(extra), "--out", str(args.out),
               "--work", str(work), "--minutes", str(args.minutes), "--epochs", str(args.epochs)]
        if args.resume_from:
            cmd += ["--resume-from", str(args.resume_from)]
        if args.init_from:
            cmd += ["--init-from", str(args.init_from)]
        for flag, value in (("--learning-rate", args.learning_rate), ("--halving", args.halving),
                            ("--batch-size", args.batch_size)):
            if value:
                cmd += [flag, str(value)]
        procs.append((c, subprocess.Popen(cmd, env=env, stdout=open(d / "log.txt", "w"), stderr=subprocess.STDOUT)))
        print(f"started {c} (pid {procs[-1][1].pid})", flush=True)
    rows, failed = [], []
    for c, proc in procs:
        rc = proc.wait()
        mpath = args.out / c / "metrics.json"
        if rc == 0 and mpath.exists():
            rows.append(json.loads(mpath.read_text()))
        else:
            failed.append(c)
            print(f"{c} failed (exit {rc}); see {mpath.parent / 'log.txt'}", flush=True)
    table = summary_table(rows)
    from idl.io import write_json, write_text

    write_json(args.out / "summary.json", rows)
    write_text(args.out / "summary.md", table + "\n")
    print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
