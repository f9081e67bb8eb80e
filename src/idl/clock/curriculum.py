"""A rotation curriculum for reading clocks: upright dials first, then turned further and further.

Under uniform in-plane rotation, the direction of the hands in an image says nothing about
the time on its own; it does only together with the numerals. A network trained from
scratch therefore gets no gradient towards either and stays at chance (measured: the
report's multi-head model memorises 14,400 generated clocks and reads none it has not seen).
Upright dials give it the hands first; then the dial is turned progressively further until
training sees the test distribution. At paper scale on generated clocks this took the hour
accuracy from chance to 0.90 (README, Task 2).

The phases train on the **same rows** (same times) of different images: the generator
renders the training clocks with ``max_rotation_deg`` limited (same random stream, so for
generated training data only the dial's turn differs), and the last phase, 180 degrees,
trains on the training data itself, which may be the real course data.

A curriculum is a recipe key, checked into a :class:`CurriculumPlan` by :func:`validate_curriculum`::

    curriculum: true                       # DEFAULT_PHASES, ADVANCE_AT
    curriculum: {phases: [[0, 12], [90, 6], [180, null]], advance_at: 0.9, quarter_turns: true}

Each ``[rotation, epochs]`` phase lasts at most ``epochs`` epochs and ends early once an
epoch's training accuracy (the hour head's for multi-head models) reaches ``advance_at``
(null: never early). The last phase must be ``[180, null]``: it runs to the end of training.
``quarter_turns`` (default false) turns every image of the last phase by a random multiple
of 90 degrees, drawn per image and epoch: an exact turn of the whole picture, which the data
already has in distribution (dial, background grain, light and tilt are all at random
angles), so the time is unchanged and the network sees four versions of each clock. It is
meant against the overfitting of the last phase (training accuracy ahead of validation).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from idl.clock.augment import epoch_dataset, quarter_turn, random_turns

#: The phases of the paper-scale run (README): 12 epochs upright, 6 each at 45, 90, 135 degrees.
DEFAULT_PHASES: tuple[tuple[int, int | None], ...] = ((0, 12), (45, 6), (90, 6), (135, 6), (180, None))
#: Training accuracy of an epoch that ends a phase early.
ADVANCE_AT = 0.9
#: The test distribution: any rotation.
FULL = 180
#: Training-accuracy log keys, in order of preference (multi-head: the hour head).
ACCURACY_KEYS = ("hour_accuracy", "accuracy")


@dataclass(frozen=True)
class CurriculumPlan:
    """A checked curriculum, built by :func:`validate_curriculum`: ``phases`` as
    ``((rotation, epochs), ...)`` ending with ``(180, None)``, ``advance_at`` (None: no phase ends
    early) and ``quarter_turns``. Frozen, so a recipe that holds one cannot change after its check."""

    phases: tuple[tuple[int, int | None], ...] = DEFAULT_PHASES
    advance_at: float | None = ADVANCE_AT
    quarter_turns: bool = False

    def to_params(self) -> dict:
        """As params.yaml writes it (lists), for JSON files."""
        return {"phases": [list(p) for p in self.phases], "advance_at": self.advance_at,
                "quarter_turns": self.quarter_turns}


def validate_curriculum(value: Any) -> CurriculumPlan | None:
    """The curriculum of a recipe's ``curriculum`` key, checked.

    ``None``/``False``: no curriculum (returns None); ``True``: the defaults. Raises
    ``ValueError`` naming what is wrong.
    """
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, Mapping):
        raise ValueError(f"curriculum must be true, false or a mapping with phases/advance_at, got {value!r}")
    unknown = [k for k in value if k not in ("phases", "advance_at", "quarter_turns")]
    if unknown:
        raise ValueError(f"unknown curriculum key {unknown[0]!r}; known: phases, advance_at, quarter_turns")
    phases = value.get("phases", DEFAULT_PHASES)
    if isinstance(phases, (str, bytes)) or not isinstance(phases, Sequence) or not phases:
        raise ValueError(f"curriculum phases must be a non-empty list of [rotation, epochs], got {phases!r}")
    out: list[tuple[int, int | None]] = []
    for i, phase in enumerate(phases):
        if isinstance(phase, (str, bytes)) or not isinstance(phase, Sequence) or len(phase) != 2:
            raise ValueError(f"curriculum phase {i + 1} must be [rotation, epochs], got {phase!r}")
        rot, epochs = phase
        if isinstance(rot, bool) or not isinstance(rot, (int, np.integer)) or not 0 <= rot <= FULL:
            raise ValueError(f"curriculum phase {i + 1}: rotation must be an integer 0-{FULL}, got {rot!r}")
        last = i == len(phases) - 1
        if last:
            if rot != FULL or epochs is not None:
                raise ValueError(f"the last curriculum phase must be [{FULL}, null] (the test distribution, "
                                 f"until training ends), got {list(phase)!r}")
        elif isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"curriculum phase {i + 1}: epochs must be a positive integer, got {epochs!r}")
        if out and rot <= out[-1][0]:
            raise ValueError(f"curriculum phase {i + 1}: rotations must increase, got {rot} after {out[-1][0]}")
        out.append((int(rot), None if last else int(epochs)))
    advance = value.get("advance_at", ADVANCE_AT)
    if advance is not None and (isinstance(advance, bool) or not isinstance(advance, (int, float))
                                or not math.isfinite(advance) or not 0 < advance <= 1):
        raise ValueError(f"curriculum advance_at must be a number in (0, 1] or null, got {advance!r}")
    turns = value.get("quarter_turns", False)
    if not isinstance(turns, (bool, np.bool_)):
        raise ValueError(f"curriculum quarter_turns must be true or false, got {turns!r}")
    return CurriculumPlan(tuple(out), None if advance is None else float(advance), bool(turns))


def rotations(plan: CurriculumPlan | None) -> list[int]:
    """The rotations below 180 whose generated clocks the curriculum trains on."""
    return [] if plan is None else [rot for rot, _ in plan.phases if rot < FULL]


def epoch_accuracy(logs: Mapping[str, Any] | None) -> float | None:
    """An epoch's training accuracy from Keras logs or a history row (None if it has none)."""
    for key in ACCURACY_KEYS:
        value = (logs or {}).get(key)
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            return float(value)
    return None


class Curriculum:
    """Which phase training is in, advanced one finished epoch at a time."""

    def __init__(self, plan: CurriculumPlan):
        self.phases = plan.phases
        self.advance_at = plan.advance_at
        self.quarter_turns = plan.quarter_turns
        self.phase = 0
        self.epochs_in_phase = 0

    @property
    def rotation(self) -> int:
        return self.phases[self.phase][0]

    @property
    def last(self) -> bool:
        return self.phase == len(self.phases) - 1

    def end_epoch(self, accuracy: float | None) -> bool:
        """Record a finished epoch and its training accuracy; True if the next one starts a new phase."""
        self.epochs_in_phase += 1
        cap = self.phases[self.phase][1]
        if cap is None:
            return False
        early = self.advance_at is not None and accuracy is not None and accuracy >= self.advance_at
        if self.epochs_in_phase >= cap or early:
            self.phase, self.epochs_in_phase = self.phase + 1, 0
            return True
        return False

    def replay(self, accuracies: Iterable[float | None]) -> None:
        """Start over and replay finished epochs (resuming a killed run from its history)."""
        self.phase, self.epochs_in_phase = 0, 0
        for acc in accuracies:
            self.end_epoch(acc)


def curriculum_dataset(images: Mapping[int, np.ndarray], y, batch_size: int, curriculum: CurriculumPlan,
                       seed: int, history_path=None):
    """A Keras ``PyDataset`` of training batches at the current phase's rotation.

    ``images`` maps every rotation of the curriculum to the training images (same rows,
    same order, ``images[180]`` the training data itself); ``y`` is the targets of those
    rows (an array or a dict of arrays). Rows are reshuffled every epoch from ``seed`` and
    the epoch number, so a resumed run sees the same batches. The dataset's ``callbacks``
    (one callback) must run before the history is written: it moves the phase on at the
    end of each epoch, logs ``max_rotation_deg``, and on resume replays ``history_path``.
    :func:`idl.training.train` puts them first.
    """
    import keras

    state = Curriculum(curriculum)
    missing = [rot for rot, _ in state.phases if rot not in images]
    if missing:
        raise ValueError(f"curriculum needs images rotated up to {missing} degrees; got {sorted(images)}")
    n = {len(a) for a in images.values()}
    if len(n) != 1:
        raise ValueError(f"curriculum images must have the same rows at every rotation, got sizes {sorted(n)}")
    n_rows = n.pop()

    def batch(rows, epoch, i):
        x = np.asarray(images[state.rotation][rows])
        if state.quarter_turns and state.last:
            x = quarter_turn(x, random_turns(seed, epoch, i, len(x)))
        return x, keras.tree.map_structure(lambda a: a[rows], y)

    def describe() -> dict:
        from idl.training import describe_data

        return {"curriculum": curriculum.to_params(),
                "batch_size": int(batch_size), "seed": int(seed),
                "images": {str(rot): describe_data(a) for rot, a in sorted(images.items())},
                "y": describe_data(y)}

    def resume(epoch):
        # a resumed run starts past the epoch the data is at: replay the finished epochs
        if history_path is not None:
            from idl.io import read_history

            past = read_history(history_path)
            state.replay(epoch_accuracy(r) for r in past[past["epoch"] < epoch].to_dict("records"))

    def end_epoch(epoch, logs):
        if logs is not None:
            logs["max_rotation_deg"] = state.rotation
        state.end_epoch(epoch_accuracy(logs))

    data = epoch_dataset(n_rows, batch_size, seed, batch, describe, resume=resume, end_epoch=end_epoch)
    data.state = state
    return data
