"""Quarter-turn augmentation: every training clock turned by a random multiple of 90 degrees.

An exact turn of the whole picture (no interpolation, no uncovered corners) that the data
already has in distribution: dial, background grain, light and tilt are all at random angles,
so the time shown is unchanged and the network sees four versions of each training clock. It
is meant against overfitting (at paper scale the upright multi-head model read its training
clocks with half the mean CSE of its validation clocks, README Task 2).

For an upright recipe the orientation target turns with the picture: ``np.rot90`` turns the
picture counter-clockwise, so after ``k`` quarter turns the 12 lies ``90 k`` degrees further
anticlockwise, i.e. at ``turn - 90 k`` clockwise from the top (:func:`turn_targets`).
"""
from __future__ import annotations

import math

import numpy as np

from idl.clock.labels import from_angle, to_angle


def quarter_turn(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Each square image of the batch ``x`` (N, H, W[, C]) turned by its own ``k[i]`` quarter turns
    (``np.rot90``: counter-clockwise)."""
    if x.shape[1] != x.shape[2]:
        raise ValueError(f"quarter turns need square images, got {x.shape[1]}x{x.shape[2]}")
    k = np.asarray(k) % 4
    if k.shape != (len(x),):
        raise ValueError(f"one number of quarter turns per image: {k.shape} for {len(x)} images")
    out = x.copy()
    for turns in (1, 2, 3):
        sel = k == turns
        out[sel] = np.rot90(x[sel], turns, axes=(1, 2))
    return out


def random_turns(seed: int, epoch: int, batch: int, n: int) -> np.ndarray:
    """Quarter turns (0-3) for the ``n`` images of one batch, drawn from the seed, epoch and batch
    number alone, so a resumed run or a re-fetched batch gets the same ones."""
    return np.random.default_rng([int(seed), int(epoch), int(batch), 90]).integers(4, size=n)


def turn_targets(sin_cos: np.ndarray, k: np.ndarray) -> np.ndarray:
    """(sin, cos) of the dial turn (degrees clockwise of the 12) after ``k`` counter-clockwise quarter turns."""
    turned = from_angle(np.asarray(sin_cos), 360.0) - 90.0 * np.asarray(k)
    return to_angle(turned, 360.0).astype(np.asarray(sin_cos).dtype)


def epoch_dataset(n_rows: int, batch_size: int, seed: int, batch, describe, *, resume=None, end_epoch=None):
    """A Keras ``PyDataset`` whose rows are reshuffled every epoch from ``seed`` and the epoch number
    alone, so a resumed run sees the same batches.

    ``batch(rows, epoch, i)`` makes batch ``i`` of an epoch from its (sorted) rows; ``describe()``
    says what the data is, for the training state's settings (a change voids a backup). The
    dataset's ``callbacks`` (one, telling it the epoch) must be given to ``fit`` before any callback
    that writes the history; :func:`idl.training.train` does. ``resume(epoch)`` runs when a resumed
    run starts past the epoch the data is at; ``end_epoch(epoch, logs)`` at the end of each epoch,
    before the next epoch's order is drawn.
    """
    import keras

    class EpochData(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.start_epoch(0)

        @property
        def num_rows(self) -> int:
            return n_rows

        def start_epoch(self, epoch: int) -> None:
            self.epoch = int(epoch)
            self.order = np.random.default_rng([int(seed), self.epoch]).permutation(n_rows)

        def __len__(self) -> int:
            return math.ceil(n_rows / batch_size)

        def __getitem__(self, i):
            return batch(np.sort(self.order[i * batch_size:(i + 1) * batch_size]), self.epoch, i)

        def describe(self) -> dict:
            return describe()

    data = EpochData()

    class Epoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch != data.epoch:  # a resumed run starts past epoch 0
                if resume is not None:
                    resume(epoch)
                data.start_epoch(epoch)

        def on_epoch_end(self, epoch, logs=None):
            if end_epoch is not None:
                end_epoch(epoch, logs)
            data.start_epoch(epoch + 1)  # before the next epoch's first batch is fetched

    data.callbacks = [Epoch()]
    return data


def quarter_turn_dataset(x: np.ndarray, y, batch_size: int, seed: int, turn_key: str | None = None):
    """A Keras ``PyDataset`` of training batches, each image turned by a random multiple of 90 degrees.

    ``y`` is the targets of the rows of ``x`` (an array or a dict of arrays); ``turn_key`` names
    the dict entry holding the dial turn's (sin, cos), which turns with the picture. Rows are
    reshuffled and turns drawn per epoch from ``seed`` and the epoch number (:func:`epoch_dataset`),
    so a resumed run sees the same batches; its ``callbacks`` must be given to ``fit``.
    """
    import keras

    n_rows = len(x)
    if n_rows == 0:
        raise ValueError("no training images to turn")
    if x.shape[1] != x.shape[2]:
        raise ValueError(f"quarter turns need square images, got {x.shape[1]}x{x.shape[2]}")
    if turn_key is not None and (not isinstance(y, dict) or turn_key not in y):
        raise ValueError(f"the targets have no {turn_key!r} entry to turn with the picture")

    def batch(rows, epoch, i):
        k = random_turns(seed, epoch, i, len(rows))
        targets = keras.tree.map_structure(lambda a: a[rows], y)
        if turn_key is not None:
            targets[turn_key] = turn_targets(targets[turn_key], k)
        return quarter_turn(np.asarray(x[rows]), k), targets

    def describe() -> dict:
        from idl.training import describe_data

        return {"quarter_turns": True, "turn_key": turn_key, "batch_size": int(batch_size),
                "seed": int(seed), "x": describe_data(x), "y": describe_data(y)}

    return epoch_dataset(n_rows, batch_size, seed, batch, describe)
