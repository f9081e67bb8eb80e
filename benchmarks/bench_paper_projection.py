"""Paper-scale wall time of the whole DAG, projected from each model family's measured per-image time.

Each family's model is built as the pipeline builds it (same builders, same compile) and trained on
a SAMPLE of random data of the right shape, once by a plain ``model.fit`` (no callbacks) and once
through the pipeline's stage function (``idl.basics.train.train_run``,
``idl.clock.train.train_clock_model``, ``idl.generative.train.train_generative``: ``idl.training.train``
with its CSV log, backup, data fingerprint, saves and, for the headline clock reader, its quarter-turn
``PyDataset``) in a temporary folder, a timer callback appended to train()'s callbacks. Families:

    fmnist_mlp, fmnist_cnn  Table 1 MLP / Table 2 CNN (5 conv, 2 dropout, Adam) on 28x28x1
    cifar_cnn               the Table 2 CNN on CIFAR-10's 32x32x3
    clock_t7                Table 7 classifier {kind: classify, preset: final} on 150x150x1 uint8
    clock_headline          clock.models.multihead_angle_upright (upright, hour hand, quarter turns)
    cae, vae, gan           generative.models' recipes on 32x32x3

Per-image time: the median step interval of the steady epochs (the first, compiling epoch and each
epoch's first step left out) over the batch size, robust to a loaded machine's stalls; what an epoch
spends outside its steps (set-up, the callbacks' epoch-end work) is a per-epoch constant. The
timer's batch hooks make Keras run steps synchronously; the pipeline's BackupAndRestore already does.

Projection (training jobs only, one after another on one device, the pipeline path's numbers), per
job of params.yaml (profile paper): epochs x (train steps x s/step + validation steps x s/val step +
per-epoch constant) + fixed cost (the first epoch's compile beyond a steady one, plus the call's
time outside epochs, measured on the sample). Sizes: Fashion-MNIST 60,000 and CIFAR-10 50,000 less
basics.val_fraction; clocks 720 x data.clock.synthetic.per_minute (18,000, the course's count too)
cut by clock.split; data.<name>.synthetic for the generative sets (5,153 cats, 1,232 pistachios, 912
sprites: the real counts) less generative.test_fraction. Epochs: basics.train.epochs (10 runs + 3
CIFAR-10 runs); each clock recipe's own or clock.train.epochs, an UPPER BOUND (early stopping may end
them sooner); each generative recipe's. Clock recipes with upright/hour_hand/curriculum are timed as
clock_headline, the rest as clock_t7, Task 1 CNNs as the 5-conv dropout CNN: approximations (3-conv
CNNs, Table 8's 32-filter and batch-256/512 models are cheaper, the 128-filter curriculum one
dearer). Validation is measured (1/3 of a step where none ran). Not included: data acquisition and
preparation, clock generation, evaluation, figure and report stages, process start-up.

    python benchmarks/bench_paper_projection.py [--sample 256] [--families fmnist_cnn gan] [--epochs 2]
    KERAS_BACKEND=jax python benchmarks/bench_paper_projection.py --sample 2048 --epochs 3   # on a GPU
"""
from __future__ import annotations

import argparse, contextlib, logging, math, os, statistics, sys, tempfile, time  # noqa: E401
from functools import partial
from pathlib import Path

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # JAX: take GPU memory as needed
import keras  # noqa: E402
import numpy as np  # noqa: E402

import idl.training  # noqa: E402
from idl.io import save_npy  # noqa: E402
from idl.params import read_yaml, resolve  # noqa: E402

PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"
HEADLINE = "multihead_angle_upright"
FAMILIES = ("fmnist_mlp", "fmnist_cnn", "cifar_cnn", "clock_t7", "clock_headline", "cae", "vae", "gan")


class EpochParts(keras.callbacks.Callback):
    """Per epoch: the step intervals of training and validation (each from the previous batch's end, the
    first batch of each left out), and the seconds of the training part, the validation pass and the
    epoch-end work after them (the other callbacks': CSV log, backup). Its batch hooks make Keras run
    steps synchronously; the pipeline's BackupAndRestore (a batch hook too) already does."""

    rows: list[dict]

    def on_train_begin(self, logs=None):
        self.rows = []

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = self._last = time.perf_counter()
        self._row = {"steps": [], "vsteps": [], "n": 0, "nv": 0, "val": 0.0}

    def on_train_batch_end(self, batch, logs=None):
        now, r = time.perf_counter(), self._row
        if r["n"]:
            r["steps"].append(now - self._last)
        r["n"], self._last, self._train_end = r["n"] + 1, now, now

    def on_test_begin(self, logs=None):
        self._v0 = self._vlast = time.perf_counter()

    def on_test_end(self, logs=None):
        self._row["val"] = time.perf_counter() - self._v0

    def on_test_batch_end(self, batch, logs=None):
        now, r = time.perf_counter(), self._row
        if r["nv"]:
            r["vsteps"].append(now - self._vlast)
        r["nv"], self._vlast = r["nv"] + 1, now

    def on_epoch_end(self, epoch, logs=None):
        r, now = self._row, time.perf_counter()
        r.update(total=now - self._t0, train=self._train_end - self._t0, end=now - self._train_end - r["val"])
        self.rows.append(r)


def summarise(rows: list[dict], n: int, call: float) -> dict:
    """Steady (epochs 2..) seconds per step, per-epoch constants, and the job's fixed cost."""
    later = rows[1:]
    step = statistics.median(s for r in later for s in r["steps"])
    vsteps = [s for r in later for s in r["vsteps"]]
    vstep = statistics.median(vsteps) if vsteps else (later[0]["val"] / later[0]["nv"] if later[0]["nv"] else None)
    med = lambda f: statistics.median(f(r) for r in later)  # noqa: E731
    tot = med(lambda r: r["total"])
    return {"bs": math.ceil(n / rows[0]["n"]), "step": step, "vstep": vstep,
            "const": max(0.0, med(lambda r: r["train"] - r["n"] * step + r["val"] - r["nv"] * (vstep or 0) + r["end"])),
            "end": med(lambda r: r["end"]), "fixed": rows[0]["total"] - tot + call - sum(r["total"] for r in rows)}


def no_determinism() -> None:
    """train() switches TensorFlow op determinism on for good; a plain fit runs without it."""
    if keras.backend.backend() == "tensorflow":
        from tensorflow.python.framework import config as tf_config  # benchmark only: no public 'off'

        getattr(tf_config, "disable_op_determinism", lambda: None)()


def basics_job(run, shape, tmp, n, nv, P, epochs, timer):
    """(plain, pipeline) callables for one Task 1 run on random uint8 images of ``shape``."""
    from idl.basics.train import train_run
    from idl.models.keras_basics import build_run_model, optimizer

    rng, bs, seed = np.random.default_rng(0), int(P["basics"]["train"]["batch_size"]), int(P["seed"])
    x, y = rng.integers(0, 256, (n + nv, *shape), dtype=np.uint8), rng.integers(0, 10, n + nv).astype(np.int64)
    np.savez(tmp / "arrays.npz", x_train=x, y_train=y, x_test=x[n:], y_test=y[n:])
    save_npy(tmp / "split" / "train.npy", np.arange(n))
    save_npy(tmp / "split" / "val.npy", np.arange(n, n + nv))

    def plain():
        model = build_run_model(run, shape)
        model.compile(optimizer=optimizer(run["optimizer"]), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x[:n], y[:n], validation_data=(x[n:], y[n:]), epochs=epochs, batch_size=bs, shuffle=True,
                  callbacks=[timer], verbose=0)
    return plain, lambda: train_run("bench", run, tmp / "arrays.npz", tmp / "split", tmp / "out", tmp / "state",
                                    {"epochs": epochs, "batch_size": bs}, seed)


def clock_job(cfg, tmp, n, nv, P, epochs, timer):
    """(plain, pipeline) for one clock recipe on random 150x150 uint8 clocks (plain: no augmentation)."""
    from idl.clock import recipes
    from idl.clock.course_data import TURN_FILE, save_split, write_course_data
    from idl.clock.train import training_settings, train_clock_model
    from idl.models.clock import prepare_images

    rng, seed, size = np.random.default_rng(0), int(P["seed"]), int(P["data"]["clock"]["synthetic"]["size"])
    total = n + nv + 1  # one test row: a split has three non-empty parts
    imgs, turns = rng.integers(0, 256, (total, size, size), dtype=np.uint8), rng.uniform(0, 360, total)
    labels = np.stack([rng.integers(0, 12, total), rng.integers(0, 60, total)], axis=1)
    write_course_data(tmp / "data", imgs, labels)
    save_npy(tmp / "data" / TURN_FILE, turns)
    save_split(tmp / "split", {"train": np.arange(n), "val": np.arange(n, n + nv), "test": np.array([total - 1])})
    train_cfg = {**P["clock"]["train"], "epochs": epochs, "patience": None, "max_minutes": None}
    recipe = recipes.Recipe.from_params(cfg)
    s = training_settings(recipe, train_cfg, seed)

    def plain():
        x, y = prepare_images(imgs), recipes.targets(recipe, labels, turns)
        take = (lambda a, i: {k: v[i] for k, v in a.items()} if isinstance(a, dict) else a[i])
        model = recipes.build_model(recipe, x.shape[1:])
        opt = idl.training.make_optimizer("nadam", s.learning_rate, s.lr_halving_epochs, math.ceil(n / s.batch_size))
        model.compile(optimizer=opt, **recipes.compile_kwargs(recipe))
        model.fit(x[:n], take(y, slice(0, n)), validation_data=(x[n:n + nv], take(y, slice(n, n + nv))),
                  epochs=epochs, batch_size=s.batch_size, shuffle=True, callbacks=[timer], verbose=0)
    return plain, lambda: train_clock_model(tmp / "data", tmp / "split", tmp / "out", tmp / "state", cfg, train_cfg,
                                            seed)


def gen_job(kind, tmp, n, nv, P, epochs, timer):
    """(plain, pipeline) for one generative recipe on random 32x32x3 images."""
    from idl.generative.data import load_images
    from idl.generative.train import _factory, train_generative
    from idl.models.generative import compile_generative

    recipe, seed = {**P["generative"]["models"][kind], "epochs": epochs}, int(P["seed"])
    images = np.random.default_rng(0).integers(0, 256, (n + nv, 32, 32, 3), dtype=np.uint8)
    save_npy(tmp / "prep" / "images.npy", images)
    save_npy(tmp / "split" / "train.npy", np.arange(n))
    save_npy(tmp / "split" / "test.npy", np.arange(n, n + nv))

    def plain():
        x = load_images(tmp / "prep")
        model = _factory(recipe, x.shape[1:])()
        compile_generative(model, math.ceil(n / recipe["batch_size"]), learning_rate=recipe.get("learning_rate"))
        cae = recipe["kind"] == "cae"
        val = None if recipe["kind"] == "gan" else (x[n:], x[n:] if cae else None)
        model.fit(x[:n], x[:n] if cae else None, validation_data=val, epochs=epochs, batch_size=recipe["batch_size"],
                  shuffle=True, callbacks=[timer], verbose=0)
    return plain, lambda: train_generative(tmp / "prep", tmp / "split", tmp / "out", tmp / "state", recipe, seed)


def family_job(name, P):
    runs = P["basics"]["runs"]
    cnn = runs.get("cnn_adam_c5_d2", {"arch": "cnn", "optimizer": "adam", "conv_layers": 5, "dropout_layers": 2})
    return {"fmnist_mlp": partial(basics_job, runs.get("mlp_adam", {"arch": "mlp", "optimizer": "adam"}), (28, 28, 1)),
            "fmnist_cnn": partial(basics_job, cnn, (28, 28, 1)), "cifar_cnn": partial(basics_job, cnn, (32, 32, 3)),
            "clock_t7": partial(clock_job, {"kind": "classify", "preset": "final"}),
            "clock_headline": partial(clock_job, P["clock"]["models"][HEADLINE]),
            "cae": partial(gen_job, "cae"), "vae": partial(gen_job, "vae"), "gan": partial(gen_job, "gan")}[name]


def measure(name, P, n, nv, epochs, plain_first: bool) -> dict:
    """Steady per-image times of both paths; the pipeline's through its stage function, timer appended.
    Which path goes first alternates between families, so a neighbour's load hits both alike."""
    out = {}
    with tempfile.TemporaryDirectory(prefix=f"bench_proj_{name}_") as tmp:
        for path in ("plain", "pipeline") if plain_first else ("pipeline", "plain"):
            timer, real, folder = EpochParts(), idl.training.train, Path(tmp) / path
            folder.mkdir()
            plain, pipe = family_job(name, P)(folder, n, nv, P, epochs, timer)
            keras.backend.clear_session()
            start = time.perf_counter()
            if path == "plain":
                no_determinism()
                keras.utils.set_random_seed(int(P["seed"]))
                plain()
            else:
                idl.training.train = lambda *a, callbacks=(), **k: real(*a, callbacks=[*callbacks, timer], **k)
                try:
                    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # fit's verbose=2
                        pipe()
                finally:
                    idl.training.train = real
            call = time.perf_counter() - start
            out[path] = summarise(timer.rows, n, call)
    return out


def jobs(P):
    """(task, family, what, n_train, n_val, epochs) for every training job of the paper-scale DAG."""
    vf = float(P["basics"]["val_fraction"])
    ep = int(P["basics"]["train"]["epochs"])
    for name, run in P["basics"]["runs"].items():
        yield "Task 1", f"fmnist_{run['arch']}", name, 60000 - round(60000 * vf), round(60000 * vf), ep
    for k in (1, 2, 3):
        yield "Task 1", "cifar_cnn", f"cifar10 rank {k}", 50000 - round(50000 * vf), round(50000 * vf), ep
    n_clk, frac = 720 * int(P["data"]["clock"]["synthetic"]["per_minute"]), P["clock"]["split"]
    for name, r in P["clock"]["models"].items():
        fam = "clock_headline" if (r.get("upright") or r.get("hour_hand") or r.get("curriculum")) else "clock_t7"
        yield ("Task 2", fam, name, round(n_clk * frac["train"]), round(n_clk * frac["val"]),
               int(r.get("epochs") or P["clock"]["train"]["epochs"]))
    sizes = {"afhq": "n_cat", "pistachio": "n_kirmizi", "tinyhero": "n_per_direction"}
    for ds in P["generative"]["datasets"]:
        n = int(P["data"][ds]["synthetic"][sizes[ds]])
        n_test = round(n * float(P["generative"]["test_fraction"]))
        for m, r in P["generative"]["models"].items():
            yield "Task 3", r["kind"], f"{m} on {ds}", n - n_test, 0 if r["kind"] == "gan" else n_test, int(r["epochs"])


def epoch_s(m, n_train, n_val):
    """Seconds of one epoch of n_train + n_val images: steps, validation steps, per-epoch constants."""
    vstep = m["vstep"] if m["vstep"] is not None else m["step"] / 3  # unmeasured: a forward pass ~ 1/3 step
    return math.ceil(n_train / m["bs"]) * m["step"] + math.ceil(n_val / m["bs"]) * vstep * bool(n_val) + m["const"]


def ms_img(m, key):
    return "n/a" if m[key] is None else f"{1e3 * m[key] / m['bs']:.2f}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=256, help="training images per family (default 256)")
    ap.add_argument("--val-sample", type=int, default=None, help="validation images (default max(64, sample/4))")
    ap.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    ap.add_argument("--epochs", type=int, default=2, help="epochs per timing fit, the first left out (default 2)")
    ap.add_argument("--params", type=Path, default=PARAMS)
    args = ap.parse_args(argv)
    if args.epochs < 2 or args.sample < 64:
        ap.error("--epochs must be at least 2 (the first compiles) and --sample at least 64 (two batches)")
    logging.basicConfig(level=logging.WARNING)
    P, nv = resolve(read_yaml(args.params), str(args.params)), args.val_sample or max(64, args.sample // 4)
    if P["profile"] != "paper":
        ap.error(f"{args.params} has profile {P['profile']!r}; the projection is for profile: paper")
    device = idl.training.describe_device()
    short = device.split(", on ")[-1]
    print(f"{device}; {os.cpu_count()} CPUs; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} at start")
    print(f"sample: {args.sample} training + {nv} validation random images per family, {args.epochs} epochs per "
          f"path (plain first for every other family), steady = epochs 2..{args.epochs}\n")
    started, M = time.perf_counter(), {}
    for i, fam in enumerate(args.families):
        M[fam] = measure(fam, P, args.sample, nv, args.epochs, plain_first=i % 2 == 0)
        print(f"  measured {fam} ({time.perf_counter() - started:.0f} s so far)", file=sys.stderr)
    ref: dict[str, tuple[int, int]] = {}  # each family's first paper-scale job: its epoch is the one shown
    for _, fam, _, n, n_val, _ in jobs(P):
        ref.setdefault(fam, (n, n_val))
    print("| family | device | plain ms/img | pipeline ms/img | pipeline/plain | val ms/img | pipeline s/epoch fixed "
          "(of it epoch-end) | paper epoch: images | plain s | pipeline s | pipeline/plain |")
    print("|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for fam, m in M.items():
        p, q = m["plain"], m["pipeline"]
        ep, eq = epoch_s(p, *ref[fam]), epoch_s(q, *ref[fam])
        print(f"| {fam} | {short} | {ms_img(p, 'step')} | {ms_img(q, 'step')} | {q['step'] / p['step']:.2f} "
              f"| {ms_img(q, 'vstep')} | {q['const']:.2f} ({q['end']:.2f}) | {ref[fam][0]:,}+{ref[fam][1]:,} "
              f"| {ep:.1f} | {eq:.1f} | {eq / ep:.2f} |")
    groups: dict[tuple, list] = {}
    for task, fam, what, n, n_val, epochs in jobs(P):
        groups.setdefault((task, fam, n, n_val, epochs), []).append(what)
    print("\n| task | family (timed as) | jobs | which | train+val images | epochs | projected h (pipeline path) |")
    print("|---|---|---:|---|---|---:|---:|")
    per_task: dict[str, float] = {}
    for (task, fam, n, n_val, epochs), names in groups.items():
        which = ", ".join(names) if len(names) <= 2 else f"{names[0]} ... {names[-1]}"
        if fam not in M:
            print(f"| {task} | {fam} | {len(names)} | {which} | {n:,}+{n_val:,} | {epochs} | not measured |")
            continue
        q = M[fam]["pipeline"]
        hours = len(names) * (epochs * epoch_s(q, n, n_val) + q["fixed"]) / 3600
        per_task[task] = per_task.get(task, 0.0) + hours
        print(f"| {task} | {fam} | {len(names)} | {which} | {n:,}+{n_val:,} | {epochs} | {hours:.2f} |")
    for task, hours in per_task.items():
        print(f"| **{task}** | | | | | | **{hours:.2f}** |")
    total = sum(per_task.values())
    print(f"| **all measured** | | | | | | **{total:.2f}** |")
    print(f"\nprojected paper-scale DAG, training jobs run one after another on {short}: {total:.1f} h "
          f"(clock epochs are an upper bound: early stopping may end them sooner)")
    if "gpu" in short.lower() or "cuda" in short.lower():
        print(f"goal: <= 2 h on one H200 -> {'met' if total <= 2 else 'NOT met'} by this projection on {short}")
    else:
        print(f"goal: <= 2 h on one H200 -> not decidable here.\nTHIS IS A CPU PROJECTION: no GPU was available "
              f"({short}); rerun on the GPU: KERAS_BACKEND=jax python {Path(__file__).name} --sample 2048 --epochs 3")
    print(f"benchmark took {time.perf_counter() - started:.0f} s; load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} at end")


if __name__ == "__main__":
    main()
