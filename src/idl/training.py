"""The project's one training entry point: seeded, resumable, written atomically.

Every model of the project is trained through :func:`train` so that all of them
share the report's recipe (Nadam, a learning rate halving every
``lr_halving_epochs`` epochs, early stopping on the *training* loss) and the same
guarantees:

* **Resume.** A run killed part-way (Ctrl-C, out of time on a cluster) continues
  from its last finished epoch when rerun with the same settings. The state lives
  in ``state_dir`` (outside the declared outputs, so no workflow engine deletes it):
  ``backup/`` (the weights and optimizer state, incl. its step counter, after the last
  finished epoch, in one file named by that epoch and renamed into place whole, so a kill
  while it is written leaves the one before), ``last.keras`` (the finished model, written once when training
  ends, so a run killed while writing its outputs does not train again),
  ``history.csv`` (one row per finished epoch, appended) and ``settings.json``.
  State written under different settings is discarded, never resumed.
  Early stopping's counters are rebuilt from the saved history, so a resumed run
  stops where an uninterrupted one would; dropout masks and batch order after the
  resume point differ from an uninterrupted run (Keras does not save RNG state).
* **Outputs.** ``out_dir/model.keras`` and ``out_dir/history.csv`` appear only
  when training has finished, each written atomically; then ``state_dir`` is
  cleared so a later rerun with changed parameters starts fresh.
* **Reproducibility.** The same seed gives the same history on the same machine
  (on TensorFlow op determinism is switched on). Pass a zero-argument model
  factory instead of a model to have the initial weights seeded too.

How to train (epochs, batch, optimizer and its schedule, early stopping, seed) is one frozen
:class:`TrainSettings`, so every caller states the same things the same way.

Threads: TensorFlow fixes its thread pools when it first runs an op, so a command
line should call :func:`configure_threads` before building any model; the
``threads`` setting only works if nothing has run yet.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import json
import logging
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import keras
import numpy as np
import pandas as pd

from idl.io import atomic_path, read_history, sha256_file, write_json

log = logging.getLogger(__name__)

OPTIMIZERS = {
    "nadam": keras.optimizers.Nadam,
    "adam": keras.optimizers.Adam,
    "sgd": keras.optimizers.SGD,
    "rmsprop": keras.optimizers.RMSprop,
}

# Files train() keeps in state_dir; only these are ever deleted there.
_BACKUP, _LAST, _HISTORY, _SETTINGS, _DONE, _CLOCK = (
    "backup", "last.keras", "history.csv", "settings.json", "completed.json", "training_time.json")
#: The history a run in progress appends to, inside its state folder (read on resume).
STATE_HISTORY = _HISTORY


# --------------------------------------------------------------------------- setup

def _is_tensorflow() -> bool:
    return keras.backend.backend() == "tensorflow"


def threads_from_env() -> int | None:
    """Snakemake exports a rule's ``threads`` as OMP_NUM_THREADS; under DVC it is unset (all cores)."""
    value = os.environ.get("OMP_NUM_THREADS")
    return int(value) if value and value.isdigit() and int(value) > 0 else None


def configure_threads(n: int | None) -> bool:
    """Limit the backend's CPU threads to ``n`` (None: leave the default).

    Call it first thing in a command line: TensorFlow refuses once it has run an op.
    Returns True if the setting took effect; other backends only log.
    """
    if not n:
        return False
    if not _is_tensorflow():
        log.info("threads=%d requested; the %s backend is left at its default", n, keras.backend.backend())
        return False
    import tensorflow as tf  # infrastructure only: thread pools have no Keras API

    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(n))
        tf.config.threading.set_inter_op_parallelism_threads(int(n))
    except RuntimeError as exc:
        log.warning("could not set threads=%d (%s); call configure_threads() before building models", n, exc)
        return False
    log.info("TensorFlow limited to %d intra-op and %d inter-op threads", n, n)
    return True


def describe_device() -> str:
    """The Keras backend and the devices it computes on: the line a stage log gives, so a user
    can see that training really runs on the GPU."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        devices = ", ".join(f"{d.platform}:{d.id} ({d.device_kind})" for d in jax.devices())
    elif backend == "tensorflow":
        import tensorflow as tf  # infrastructure only: device listing has no Keras API

        devices = ", ".join(d.name for d in tf.config.list_logical_devices("GPU")) or "CPU only"
    else:
        devices = "its default device"
    return f"Keras {keras.__version__}, {backend} backend, on {devices}"


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and the backend; on TensorFlow also make ops deterministic."""
    keras.utils.set_random_seed(int(seed))
    if _is_tensorflow():
        import tensorflow as tf  # infrastructure only: determinism switch has no Keras API

        tf.config.experimental.enable_op_determinism()


def lr_schedule(learning_rate: float, lr_halving_epochs: float | None, steps_per_epoch: int):
    """The report's schedule: the rate halves every ``lr_halving_epochs`` epochs (smoothly).

    ``None`` gives a constant rate.
    """
    if lr_halving_epochs is None:
        return float(learning_rate)
    if lr_halving_epochs <= 0:
        raise ValueError(f"lr_halving_epochs must be positive, got {lr_halving_epochs}")
    return keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate=float(learning_rate),
        decay_steps=float(lr_halving_epochs) * int(steps_per_epoch),
        decay_rate=0.5,
    )


def make_optimizer(name: str, learning_rate: float | None, lr_halving_epochs: float | None, steps_per_epoch: int):
    """Optimizer ``name`` with default parameters except the (scheduled) learning rate.

    ``learning_rate=None`` takes that optimizer's own Keras default.
    """
    try:
        cls = OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; known: {sorted(OPTIMIZERS)}") from None
    if learning_rate is None:
        learning_rate = inspect.signature(cls).parameters["learning_rate"].default
    return cls(learning_rate=lr_schedule(learning_rate, lr_halving_epochs, steps_per_epoch))


# ------------------------------------------------------------------- fingerprints

def _is_py_dataset(x) -> bool:
    return isinstance(x, keras.utils.PyDataset)


def _n_rows(x) -> int:
    if _is_py_dataset(x):
        return int(x.num_rows)
    return len(keras.tree.flatten(x)[0])


def describe_data(x) -> Any:
    """Shapes, dtypes and a content hash of (nested) arrays: data changes void a backup.

    A ``PyDataset`` describes itself (its ``describe()``).
    """
    if x is None:
        return None
    if _is_py_dataset(x):
        return x.describe()

    def one(a):
        a = np.ascontiguousarray(a)
        return {"shape": list(a.shape), "dtype": str(a.dtype), "blake2b": hashlib.blake2b(a.data, digest_size=16).hexdigest()}

    return keras.tree.map_structure(one, x)


def _describe(obj) -> Any:
    """JSON-able description of a loss/metric spec (strings, objects, nested)."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, dict):
        return {str(k): _describe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_describe(v) for v in obj]
    if isinstance(obj, functools.partial):
        # by what it calls and with what: its repr holds a memory address, which would make
        # every later process see other settings and never resume
        return {"partial": _describe(obj.func), "args": _describe(list(obj.args)),
                "keywords": _describe(dict(obj.keywords))}
    desc = {"class": type(obj).__name__}
    if hasattr(obj, "get_config"):
        try:
            desc["config"] = json.loads(json.dumps(obj.get_config(), default=str))
        except Exception:  # noqa: BLE001 - a description is best effort
            pass
    elif callable(obj):
        desc["class"] = getattr(obj, "__name__", desc["class"])
    return desc


def _walk_layers(layer):
    for sub in getattr(layer, "layers", []):
        yield sub
        yield from _walk_layers(sub)


def model_fingerprint(model: keras.Model) -> str:
    """Hash of a model's architecture, independent of Keras' auto-generated names."""
    parts = []
    for layer in [model, *_walk_layers(model)]:
        try:
            config = dict(layer.get_config())
            config.pop("name", None)
            if layer is model:  # functional configs list layers by name: keep classes only
                config = {k: v for k, v in config.items() if k not in ("layers", "input_layers", "output_layers")}
        except Exception:  # noqa: BLE001 - subclassed models may not have a config
            config = {}
        weights = [list(w.shape) for w in layer.weights] if layer is not model else []
        parts.append([type(layer).__name__, config, weights])
    parts.append([list(w.shape) for w in model.weights])
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ------------------------------------------------------------------------ history

# ---------------------------------------------------------------------- callbacks

class _EpochLog(keras.callbacks.Callback):
    """Adds the learning rate at the start of each epoch, and ``epoch_metrics(model)``, to its logs;
    notes the last epoch.

    The last epoch lets train() drop history rows a killed earlier attempt wrote
    beyond the point where the resumed run ended.
    """

    last_epoch: int | None = None

    def __init__(self, epoch_metrics=None):
        super().__init__()
        self._epoch_metrics = epoch_metrics

    def on_epoch_begin(self, epoch, logs=None):
        self._lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self._lr
            if self._epoch_metrics is not None:
                logs.update({k: float(v) for k, v in self._epoch_metrics(self.model).items()})
        self.last_epoch = int(epoch)


def _backups(folder: Path) -> list[Path]:
    """The backups in ``folder``, oldest first (after a clean run, one)."""
    return sorted(Path(folder).glob("epoch-*.weights.h5"))


class _Backup(keras.callbacks.Callback):
    """Keras's ``BackupAndRestore``, but a kill at any moment leaves a backup that loads.

    Keras writes its backup in place (weights, then a separate file with the epoch), so a SIGTERM
    while it writes, as Slurm sends at a time limit, leaves a file it cannot load and a run that
    cannot resume. Here each epoch's weights and optimizer state go to one new file named by the
    epoch (``epoch-00007.weights.h5``: seven epochs done), renamed into place once complete; the
    older one is then removed.
    """

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = Path(folder)

    def on_train_begin(self, logs=None):
        saved = _backups(self.folder)
        if not saved:
            return
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        try:
            self.model.load_weights(saved[-1])
        except (OSError, ValueError) as exc:
            raise ValueError(f"the training backup {saved[-1]} cannot be loaded ({str(exc)[:300]}); "
                             f"delete {self.folder.parent} to train from the start") from exc
        # fit() starts from here (BackupAndRestore does the same)
        self.model._initial_epoch = int(saved[-1].name.split("-")[1].split(".")[0])

    def on_epoch_end(self, epoch, logs=None):
        with atomic_path(self.folder / f"epoch-{epoch + 1:05d}.weights.h5") as tmp:
            self.model.save_weights(tmp)
        for old in _backups(self.folder)[:-1]:
            old.unlink()


class _ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """EarlyStopping that, on resume, replays the saved epochs to rebuild its counters."""

    def __init__(self, history_path: Path, **kwargs):
        super().__init__(**kwargs)
        self._history_path = history_path

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        # _Backup runs first and sets the epoch fit() resumes from.
        start = int(getattr(self.model, "_initial_epoch", None) or 0)
        if start and self._history_path.exists():
            past = read_history(self._history_path)
            try:
                for row in past[past["epoch"] < start].to_dict("records"):
                    super().on_epoch_end(int(row["epoch"]), row)
            except ValueError as exc:  # direction of a custom monitor unknown before training
                log.warning("early stopping restarts its patience count on resume: %s", exc)
                super().on_train_begin(logs)
            self.model.stop_training = False


_now = time.monotonic  # the budget's clock (tests replace it)


class _Budget(keras.callbacks.Callback):
    """Stops training at the end of the first epoch past ``max_minutes`` of training time.

    The time counts every attempt of the run: it is kept in ``path`` (updated each epoch, in the
    state folder), so a run resumed after a kill or a time limit goes on with what is left.
    """

    def __init__(self, path: Path, max_minutes: float | None):
        super().__init__()
        self.path, self.max_minutes = path, max_minutes
        self.seconds = json.loads(path.read_text())["seconds"] if path.exists() else 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = _now()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += _now() - self._start
        write_json(self.path, {"seconds": round(self.seconds, 3)})
        if self.max_minutes is not None and self.seconds >= 60 * self.max_minutes:
            self.model.stop_training = True
            log.info("stopping after epoch %d: the training budget of %g minutes is used (%.1f minutes)",
                     epoch + 1, self.max_minutes, self.seconds / 60)


def init_weights(model: keras.Model, source: str | Path | keras.Model) -> list[str]:
    """Copy the weights of ``source`` (a model, or the path of a saved one) into ``model``, layer by
    layer, where a layer of the same name has weights of the same shapes; returns the names of the
    layers that keep their fresh weights. Raises ``ValueError`` if no layer matches (not a model to
    start from). Custom layers load because building ``model`` imported the module that registers them."""
    loaded = source if isinstance(source, keras.Model) else keras.models.load_model(source, compile=False)
    path = getattr(source, "name", None) if isinstance(source, keras.Model) else source
    old = {layer.name: layer for layer in _walk_layers(loaded)}
    copied, fresh = [], []
    for layer in _walk_layers(model):
        if not layer.weights or hasattr(layer, "layers"):  # leaves only: a nested model's are walked
            continue
        src = old.get(layer.name)
        if src is not None and [tuple(w.shape) for w in src.weights] == [tuple(w.shape) for w in layer.weights]:
            layer.set_weights(src.get_weights())
            copied.append(layer.name)
        else:
            fresh.append(layer.name)
    if not copied:
        raise ValueError(f"{path}: no layer matches this model's by name and shape, so there is nothing to "
                         "start from; name a model of the same architecture")
    log.info("started from %s: %d layers copied, fresh: %s", path, len(copied), ", ".join(fresh) or "none")
    return fresh


def weights_digest(model: keras.Model) -> str:
    """SHA-256 of ``model``'s weights (names, shapes, dtypes and values, in order): what a run that
    starts from it started from."""
    h = hashlib.sha256()
    for w in model.weights:
        a = np.ascontiguousarray(keras.ops.convert_to_numpy(w))
        h.update(f"{w.path}:{a.shape}:{a.dtype};".encode())
        h.update(a.tobytes())
    return h.hexdigest()


# -------------------------------------------------------------------------- state

def _clear_state(state_dir: Path) -> None:
    for name in (_BACKUP, _LAST, _HISTORY, _SETTINGS, _DONE, _CLOCK):
        p = state_dir / name
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)
    try:
        state_dir.rmdir()
    except OSError:
        pass  # not empty (someone else's files) or already gone


def _prepare_state(state_dir: Path, settings: dict) -> None:
    """Keep state from a run with the same settings; discard anything else."""
    settings = json.loads(json.dumps(settings))  # normalise as it will read back
    path = state_dir / _SETTINGS
    has_state = any((state_dir / n).exists() for n in (_BACKUP, _LAST, _HISTORY, _DONE))
    if path.exists() or has_state:
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            old = None
        if old != settings:
            changed = sorted(k for k in settings if old is None or old.get(k) != settings[k])
            log.warning("discarding training state in %s: it was made with different settings (%s)",
                        state_dir, ", ".join(changed) or "unreadable settings.json")
            _clear_state(state_dir)
        elif _backups(state_dir / _BACKUP):
            log.info("resuming from training state in %s", state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    write_json(path, settings)


# -------------------------------------------------------------------------- train

@dataclass(frozen=True)
class TrainSettings:
    """How :func:`train` trains, whatever the model and data.

    ``learning_rate=None`` takes the optimizer's Keras default; ``lr_halving_epochs=None``
    keeps the rate constant; ``patience=None`` disables early stopping (on
    ``early_stopping_monitor``). ``max_minutes`` is a wall-clock budget: training stops at the end
    of the first epoch past it (counted over every attempt of a resumed run), and the run is then
    finished. ``threads``, ``progress`` and ``max_minutes`` change how a run goes, not what each
    epoch computes, so they are left out of the resume check: a run stopped by its budget and
    rerun with a bigger one goes on, but its outputs are then already written, and the workflow
    reruns it only if asked to.
    """

    epochs: int
    batch_size: int
    learning_rate: float | None
    lr_halving_epochs: float | None
    optimizer: str = "nadam"
    early_stopping_monitor: str = "loss"
    patience: int | None = 5
    seed: int = 0
    threads: int | None = None
    progress: bool = True
    max_minutes: float | None = None


def train(
    model: keras.Model | Callable[[], keras.Model],
    x_train,
    y_train,
    x_val,
    y_val,
    settings: TrainSettings,
    *,
    out_dir: str | Path,
    state_dir: str | Path,
    loss=None,
    metrics: Sequence | dict | None = None,
    loss_weights=None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    compile_model: Callable[[keras.Model, int], None] | None = None,
    init_from: str | Path | keras.Model | None = None,
    epoch_metrics: Callable[[keras.Model], dict] | None = None,
) -> pd.DataFrame:
    """Train ``model`` the report's way, as ``settings`` say; write ``model.keras`` and ``history.csv``.

    ``model`` may be a zero-argument factory, called after seeding so the initial weights are
    reproducible too. ``loss``, ``metrics`` and ``loss_weights`` go to ``model.compile``.
    ``callbacks`` are run after the project's own (tests use them to interrupt a run).
    ``compile_model(model, steps_per_epoch)`` replaces the report's compile step for models that
    bring their own losses and optimizers (the generative models); ``loss``, ``metrics``,
    ``settings.optimizer`` and ``settings.learning_rate`` are then unused. ``x_train`` may also be a
    ``keras.utils.PyDataset`` (``y_train`` None) that batches and shuffles itself and has
    ``num_rows`` and ``describe()``; its ``callbacks`` attribute, if any, runs before the project's
    own, so what they log is in the history (the clock curriculum, :mod:`idl.clock.curriculum`).
    ``init_from``: a model, or a saved one (``.keras``), whose weights the new model starts from,
    layer by layer where names and shapes match (:func:`init_weights`); the optimizer and its
    schedule start fresh.
    ``epoch_metrics(model)``: more scores after each epoch, ``{name: value}``, logged with Keras'
    own (the clock models' common-sense error on the validation set).
    Returns the history, one row per epoch (columns epoch, loss, metrics, val_*, learning_rate).
    """
    out_dir, state_dir = Path(out_dir), Path(state_dir)
    if settings.threads:
        configure_threads(settings.threads)
    log.info("training with %s", describe_device())
    set_seed(settings.seed)
    if not isinstance(model, keras.Model):
        model = model()
    n_train = _n_rows(x_train)
    if n_train == 0:
        raise ValueError("x_train is empty")
    steps_per_epoch = len(x_train) if _is_py_dataset(x_train) else math.ceil(n_train / settings.batch_size)
    if not model.built:
        first = x_train[0][0] if _is_py_dataset(x_train) else x_train
        model(keras.tree.map_structure(lambda a: np.asarray(a[:1]), first))
    started_from = None
    if init_from is not None:
        # before the resume check, which fingerprints the start; a resumed run's backup then
        # overwrites these weights with its own
        init_weights(model, init_from)
        started_from = weights_digest(init_from) if isinstance(init_from, keras.Model) else sha256_file(init_from)

    # what the run computes: state left by a run with anything else here is not resumed
    made_with = {
        "epochs": int(settings.epochs), "batch_size": int(settings.batch_size),
        "learning_rate": settings.learning_rate, "lr_halving_epochs": settings.lr_halving_epochs,
        "optimizer": settings.optimizer.lower(), "loss": _describe(loss),
        "loss_weights": _describe(loss_weights), "metrics": _describe(metrics),
        "early_stopping_monitor": settings.early_stopping_monitor, "patience": settings.patience,
        "seed": int(settings.seed),
        "compile": _describe(compile_model),
        "model": model_fingerprint(model), "backend": keras.backend.backend(),
        "init_from": started_from,
        "epoch_metrics": _describe(epoch_metrics),
        "data": {name: describe_data(a) for name, a in
                 (("x_train", x_train), ("y_train", y_train), ("x_val", x_val), ("y_val", y_val))},
    }
    _prepare_state(state_dir, made_with)

    if compile_model is not None:
        compile_model(model, steps_per_epoch)
    else:
        model.compile(
            optimizer=make_optimizer(settings.optimizer, settings.learning_rate, settings.lr_halving_epochs,
                                     steps_per_epoch),
            loss=loss, metrics=metrics, loss_weights=loss_weights,
        )
    history_path = state_dir / _HISTORY
    if (state_dir / _DONE).exists():
        log.info("training had finished in %s; writing its outputs", state_dir)
        model.optimizer.build(model.trainable_variables)
        model.load_weights(state_dir / _LAST)
        last_epoch = json.loads((state_dir / _DONE).read_text())["last_epoch"]
    else:
        epoch_log = _EpochLog(epoch_metrics)
        cbs: list[keras.callbacks.Callback] = [
            # a PyDataset's own callbacks (a curriculum's) first: what they log reaches the history
            *(getattr(x_train, "callbacks", []) if _is_py_dataset(x_train) else []),
            epoch_log,
            # CSV before the backup: a kill between the two repeats an epoch (read_history
            # keeps its rerun) instead of losing one.
            keras.callbacks.CSVLogger(str(history_path), append=True),
            _Backup(state_dir / _BACKUP),
            # after the backup: the epoch that uses up the budget is saved first
            _Budget(state_dir / _CLOCK, settings.max_minutes),
        ]
        if settings.patience is not None:
            mode = "min" if "loss" in settings.early_stopping_monitor else "auto"
            cbs.append(_ResumableEarlyStopping(history_path, monitor=settings.early_stopping_monitor, mode=mode,
                                               patience=int(settings.patience), restore_best_weights=False, verbose=1))
        cbs.extend(callbacks)
        validation = None if x_val is None else (x_val, y_val)
        if _is_py_dataset(x_train):  # it batches and shuffles itself
            data_kwargs = {"x": x_train}
        else:
            data_kwargs = {"x": x_train, "y": y_train, "batch_size": int(settings.batch_size), "shuffle": True}
        try:
            model.fit(**data_kwargs, validation_data=validation, epochs=int(settings.epochs),
                      callbacks=cbs, verbose=1 if settings.progress else 2)
        except BaseException:
            log.warning("training interrupted; rerun with the same settings to resume from %s", state_dir)
            raise
        last_epoch = epoch_log.last_epoch
        # the finished model, once (the backup already covers every epoch before): a run killed
        # while writing its outputs then writes them from here instead of training again
        with atomic_path(state_dir / _LAST) as tmp:
            model.save(tmp)
        write_json(state_dir / _DONE, {"last_epoch": last_epoch})

    history = read_history(history_path)
    if last_epoch is not None:
        history = history[history["epoch"] <= last_epoch].reset_index(drop=True)
    with atomic_path(out_dir / "model.keras") as model_tmp, atomic_path(out_dir / "history.csv") as hist_tmp:
        history.to_csv(hist_tmp, index=False)
        model.save(model_tmp)
    log.info("trained %d epochs; wrote %s and %s", len(history), out_dir / "model.keras", out_dir / "history.csv")
    _clear_state(state_dir)
    return history
