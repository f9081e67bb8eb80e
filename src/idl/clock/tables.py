"""Task 2's tables and Figure 3 for the results page: our number beside the report's.

Each table function is pure: metrics dicts in, ``(header, rows)`` out, ready for
``idl.report.Page.table``. Our numbers are kept as numbers (the page formats
them); a model we have no metrics for shows ``MISSING`` so a gap is visible
rather than silently dropped. The report's numbers come from
:mod:`idl.report_numbers`, typed in once.

Our metrics dicts are those of :func:`idl.clock.scoring.score` plus ``epochs``:
``accuracy`` is a fraction (0..1) and is shown in %, CSEs are in minutes.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from idl.clock.labels import MINUTES_PER_DIAL
from idl.io import atomic_path
from idl.report_numbers import CLOCK, TABLE8

log = logging.getLogger(__name__)

MISSING = "–"
NC_SWEEP = (12, 24, 48, 720)
FIGURE3_CAPTION = (
    "Figure 3: validation accuracy per epoch of the Table 8 models marked * (the report plots test "
    "accuracy); the fiducial model 0 in orange, later models in brighter colours."
)


def _lookup(by_model: Mapping, key: int):
    """``by_model[key]``, also when the keys are strings (metrics read back from JSON)."""
    if key in by_model:
        return by_model[key]
    return by_model.get(str(key))


def _pct(metrics: Mapping | None):
    acc = None if metrics is None else metrics.get("accuracy")
    return MISSING if acc is None else round(100.0 * float(acc), 1)


def _get(metrics: Mapping | None, key: str, digits: int | None = 1):
    value = None if metrics is None else metrics.get(key)
    if value is None:
        return MISSING
    return int(value) if digits is None else round(float(value), digits)


def _ref(value):
    return MISSING if value is None else value


def lower_bound_cse(n_classes: int) -> float:
    """Mean CSE of a *perfect* n_c classifier: a quarter of the class width (15 min for 12)."""
    return MINUTES_PER_DIAL / n_classes / 4


def _short(value: float) -> str:
    """15 -> "15", 3.75 -> "3.75": the page would round a float to one decimal."""
    return f"{value:g}"


def table8(metrics_by_model: Mapping[int, Mapping | None]) -> tuple[list[str], list[list]]:
    """Table 8 (the n_c = 12 hyper-parameter study), models 0-9, ours beside the report's."""
    header = ["model", "*", "report's note", "acc % (ours)", "acc % (report)", "epochs (ours)",
              "epochs (report)", "mean CSE min (ours)", "mean CSE min (report)"]
    rows = []
    for i, ref in sorted(TABLE8.items()):
        m = _lookup(metrics_by_model, i)
        rows.append([
            str(i), "*" if ref["starred"] else "", ref["note"],
            _pct(m), ref["accuracy"],
            _get(m, "epochs", None), ref["epochs"],
            _get(m, "cse_mean"), ref["cse"],
        ])
    return header, rows


def nc_sweep(metrics: Mapping[int, Mapping | None]) -> tuple[list[str], list[list]]:
    """Final classifier for n_c = 12, 24, 48, 720: ours, the report's, and the CSE floor.

    The floor is the mean CSE of perfect classification (a class is read back as
    its centre), shown as a string so 3.75 is not rounded to 3.8 on the page.
    """
    header = ["n_c", "acc % (ours)", "acc % (report)", "mean CSE min (ours)", "mean CSE min (report)",
              "mean CSE floor min (perfect classes)", "epochs (ours)", "epochs (report)"]
    rows = []
    for n_c in NC_SWEEP:
        m = _lookup(metrics, n_c)
        ref = CLOCK[f"final_nc{n_c}"]
        rows.append([
            str(n_c), _pct(m), _ref(ref.get("accuracy")), _get(m, "cse_mean"), _ref(ref.get("cse_mean")),
            _short(lower_bound_cse(n_c)), _get(m, "epochs", None), _ref(ref.get("epochs")),
        ])
    return header, rows


def approaches(rows_in: Sequence[Mapping]) -> tuple[list[str], list[list]]:
    """Classification, regression, multi-head (and any of ours): one row each.

    Each input has ``name``, ``description``, ``metrics`` (dict or None; its ``quarter_turns``
    scores, where present, fill the quarter-turn column) and ``report_key`` (a key of ``report_numbers.CLOCK``, or None for an approach
    the report does not have).
    """
    header = ["approach", "acc % (ours)", "acc % (report)", "mean CSE min (ours)", "mean CSE min (report)",
              "median CSE min (ours)", "p90 CSE min (ours)", "mean CSE min, read at 4 quarter turns (ours)",
              "epochs (ours)"]
    rows = []
    for item in rows_in:
        key = item.get("report_key")
        if key is not None and key not in CLOCK:
            raise ValueError(f"approach {item.get('name')!r}: report_key {key!r} is not one of {sorted(CLOCK)}")
        ref = CLOCK[key] if key is not None else {}
        m = item.get("metrics")
        name, desc = item.get("name", "?"), item.get("description")
        rows.append([
            f"{name} ({desc})" if desc else str(name),
            _pct(m), _ref(ref.get("accuracy")),
            _get(m, "cse_mean"), _ref(ref.get("cse_mean")),
            _get(m, "cse_median"), _get(m, "cse_p90"), _get((m or {}).get("quarter_turns"), "cse_mean"),
            _get(m, "epochs", None),
        ])
    return header, rows


# --------------------------------------------------------------------------- Figure 3

def _model_number(label: str) -> int:
    found = re.search(r"\d+", str(label))
    if not found:
        raise ValueError(f"history {label!r}: its name must contain the Table 8 model number (0-9)")
    return int(found.group())


def _legend(i: int) -> str:
    note = TABLE8[i]["note"].split(":")[0]
    return f"{i}: {note}"


def figure3(histories: Mapping[str, pd.DataFrame], path: str | Path, metric: str = "val_accuracy") -> str:
    """The report's Figure 3: accuracy per epoch of the starred Table 8 models; returns its caption.

    ``histories`` maps a name containing the model number ("0", "model_3", ...) to
    its ``history.csv``. Models not starred in Table 8 or without ``metric`` are
    left out (logged); none left raises ``ValueError``. As in the report the
    fiducial model is orange and later models are brighter.
    """
    curves: dict[int, pd.DataFrame] = {}
    for label, df in histories.items():
        i = _model_number(label)
        if i not in TABLE8:
            raise ValueError(f"history {label!r}: Table 8 has no model {i}")
        if not TABLE8[i]["starred"]:
            log.info("figure 3: model %d is not starred in Table 8, left out", i)
        elif metric not in df or df[metric].dropna().empty:
            log.warning("figure 3: history %r has no %r column, left out", label, metric)
        else:
            curves[i] = df
    if not curves:
        raise ValueError(f"figure 3: no history of a starred Table 8 model "
                         f"({[i for i, r in TABLE8.items() if r['starred']]}) with a {metric!r} column")

    fig = Figure(figsize=(7, 4.3))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    later = sorted(i for i in curves if i != 0)
    shades = colormaps["viridis"](np.linspace(0.12, 0.92, max(len(later), 1)))
    for i in sorted(curves):
        df = curves[i]
        x = df["epoch"] + 1 if "epoch" in df else np.arange(1, len(df) + 1)
        if i == 0:
            style = {"color": "tab:orange", "linewidth": 2.2, "zorder": 3}
        else:
            style = {"color": shades[later.index(i)], "linewidth": 1.4, "zorder": 2}
        ax.plot(x, 100.0 * df[metric], label=_legend(i), **style)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy %")
    ax.grid(alpha=0.3)
    ax.set_ylim(0, 100)
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    ax.set_title("Figure 3: starred models of Table 8 (n_c = 12)")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=150, bbox_inches="tight", format="png")
    return FIGURE3_CAPTION


# -------------------------------------------------------------- ours against the report's

def versus_report_points(t8: Mapping[int, Mapping | None], nc: Mapping[int, Mapping | None],
                         others: Mapping[str, Mapping | None]) -> list[dict]:
    """Every model the report gives a number for and we have metrics for, as ``{label, group,
    accuracy: (ours %, report's %), cse: (ours, report's)}``; a pair is None where either side has
    no number (the report gives no accuracy for its regression or multi-head model).

    ``t8``: Table 8's model number -> metrics; ``nc``: n_c -> metrics of ``final_nc{n_c}`` (12 is
    Table 8's model 9, given once); ``others``: a key of ``report_numbers.CLOCK`` (the regression,
    the multi-head model) -> metrics. A model without metrics is left out.
    """
    def pair(ours, ref, scale=1.0):
        return None if ours is None or ref is None else (round(scale * float(ours), 4), float(ref))

    rows = [(str(i), "Table 8", _lookup(t8, i), ref["accuracy"], ref["cse"]) for i, ref in sorted(TABLE8.items())]
    rows += [(f"n_c {n}", "n_c sweep", _lookup(nc, n), CLOCK[f"final_nc{n}"]["accuracy"],
              CLOCK[f"final_nc{n}"]["cse_mean"]) for n in NC_SWEEP[1:]]
    rows += [(key, "Table 9, multi-head", m, CLOCK[key].get("accuracy"), CLOCK[key]["cse_mean"])
             for key, m in others.items()]
    return [{"label": label, "group": group,
             "accuracy": pair(m.get("accuracy"), acc, 100.0), "cse": pair(m.get("cse_mean"), cse)}
            for label, group, m, acc, cse in rows if m is not None]


def table8_agreement(t8: Mapping[int, Mapping | None]) -> dict | None:
    """How closely our Table 8 follows the report's, over the models both have a number for.

    ``spearman_accuracy`` and ``spearman_cse``: Spearman's rank correlation between ours and the
    report's (1: the same order; tied values share their mean rank; None where one side is all
    ties); ``accuracy_difference``: ours minus the report's, in points, averaged over the models;
    ``cse_ratio``: the mean of ours over the report's mean CSE. None with fewer than three models.
    """
    rows = [(i, 100.0 * float(m["accuracy"]), float(ref["accuracy"]), float(m["cse_mean"]), float(ref["cse"]))
            for i, ref in sorted(TABLE8.items())
            if (m := _lookup(t8, i)) is not None and m.get("accuracy") is not None and m.get("cse_mean") is not None]
    if len(rows) < 3:
        return None
    df = pd.DataFrame(rows, columns=["model", "acc", "acc_ref", "cse", "cse_ref"])

    def spearman(ours: str, ref: str) -> float | None:
        a, b = df[ours].rank().to_numpy(), df[ref].rank().to_numpy()
        if a.std() == 0 or b.std() == 0:
            return None
        return round(float(np.corrcoef(a, b)[0, 1]), 4)

    return {
        "models": [int(i) for i in df["model"]],
        "spearman_accuracy": spearman("acc", "acc_ref"),
        "spearman_cse": spearman("cse", "cse_ref"),
        "accuracy_difference": round(float((df["acc"] - df["acc_ref"]).mean()), 2),
        "cse_ratio": round(float((df["cse"] / df["cse_ref"]).mean()), 3),
    }


def _spearmans(agreement: Mapping, undefined: str) -> tuple[str, str]:
    """The two rank correlations of :func:`table8_agreement`, as text."""
    return tuple(undefined if v is None else f"{v:.2f}"
                 for v in (agreement["spearman_accuracy"], agreement["spearman_cse"]))


def agreement_sentence(agreement: Mapping | None) -> str:
    """:func:`table8_agreement` in words, for the results page; empty without it."""
    if not agreement:
        return ""
    models = agreement["models"]
    span = f"models {models[0]}-{models[-1]}" if models == list(range(models[0], models[-1] + 1)) else \
        "models " + ", ".join(map(str, models))
    by_acc, by_cse = _spearmans(agreement, "undefined (all tied)")
    diff = agreement["accuracy_difference"]
    return (f"Over Table 8's {span}, ours against the report's: Spearman's rank correlation {by_acc} "
            f"by accuracy and {by_cse} by mean CSE (1: the report's order); our accuracy is "
            f"{abs(diff):.1f} points {'above' if diff >= 0 else 'below'} the report's on average, and our mean CSE "
            f"{agreement['cse_ratio']:.2f} times the report's.")


_GROUP_STYLE = {"Table 8": ("o", "tab:blue"), "n_c sweep": ("s", "tab:green"), "Table 9, multi-head": ("D", "tab:red")}


def _label_offsets(points: Sequence[tuple[float, float, str]], top: float,
                   side_pt: float = 260) -> list[tuple[float, float]]:
    """Offsets in points for the labels of ``points`` ((x, y, label) on square axes of ``top`` data
    units and about ``side_pt`` points a side): right and above each point where that covers no
    marker and no label placed before, else right and below, left and above, left and below, above,
    below (where none is free, the least covered), so that nearly equal points do not print over each other."""
    scale = top / side_pt  # data units per point
    marker, char, height = 7.0, 5.5, 9.0  # sizes in points (a marker of s=36 is 6 across)
    # boxes (x, y, width, height) nothing may cover: every marker, then each label as it is placed
    taken = [(x - marker / 2 * scale, y - marker / 2 * scale, marker * scale, marker * scale) for x, y, _ in points]
    out = []
    for x, y, label in points:
        width = char * len(label)
        choices = [(4.0, 3.0), (4.0, -3.0 - height), (-4.0 - width, 3.0), (-4.0 - width, -3.0 - height),
                   (-width / 2, 5.0), (-width / 2, -5.0 - height)]
        w, h = width * scale, height * scale
        boxes = [(x + dx * scale, y + dy * scale) for dx, dy in choices]
        covered = [sum(max(0.0, min(bx + w, px + pw) - max(bx, px)) * max(0.0, min(by + h, py + ph) - max(by, py))
                       for px, py, pw, ph in taken) for bx, by in boxes]
        i = covered.index(min(covered))  # the first free place, or the least covered
        taken.append((*boxes[i], w, h))
        out.append(choices[i])
    return out


def versus_report(t8: Mapping[int, Mapping | None], nc: Mapping[int, Mapping | None],
                  others: Mapping[str, Mapping | None], path: str | Path, agreement: Mapping | None = None) -> None:
    """:func:`versus_report_points` drawn as a PNG at ``path``, ours (y) against the report's (x),
    accuracy and mean CSE side by side (its caption: captions/clock_vs_report.rst); ``agreement``
    (:func:`table8_agreement` of ``t8``), if given, goes into the title. No point at all raises
    ``ValueError`` and writes nothing."""
    points = versus_report_points(t8, nc, others)
    if not points:
        raise ValueError("versus the report: no model of the report's tables has metrics")
    fig = Figure(figsize=(10, 4.8))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    for ax, key, title in ((axes[0], "accuracy", "test accuracy %, higher is better"),
                           (axes[1], "cse", "mean CSE in minutes, lower is better")):
        shown = [p for p in points if p[key] is not None]
        top = 100.0 if key == "accuracy" else 1.08 * max([1.0, *(v for p in shown for v in p[key])])
        ax.plot([0, top], [0, top], color="0.6", linewidth=1, zorder=1)
        offsets = _label_offsets([(p[key][1], p[key][0], p["label"]) for p in shown], top)
        for p, offset in zip(shown, offsets):
            marker, colour = _GROUP_STYLE[p["group"]]
            (ours, ref) = p[key]
            ax.scatter([ref], [ours], marker=marker, color=colour, s=36, zorder=3)
            ax.annotate(p["label"], (ref, ours), textcoords="offset points", xytext=offset, fontsize=8)
        ax.set(xlim=(0, top), ylim=(0, top), aspect="equal", title=title,
               xlabel="the report's", ylabel="ours")
        ax.grid(alpha=0.3)
    groups = [g for g in _GROUP_STYLE if any(p["group"] == g for p in points)]
    fig.legend([Line2D([], [], linestyle="", marker=_GROUP_STYLE[g][0], color=_GROUP_STYLE[g][1]) for g in groups],
               groups, loc="lower center", ncol=len(groups), frameon=False, bbox_to_anchor=(0.5, -0.04))
    title = "Ours against the report's, model by model (on the diagonal, ours equals the report's)"
    if agreement:
        by_acc, by_cse = _spearmans(agreement, "-")
        title += f"\nTable 8's order: Spearman {by_acc} by accuracy, {by_cse} by mean CSE"
    fig.suptitle(title, fontsize=10)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=150, bbox_inches="tight", format="png")


# ------------------------------------------------------------------------ Table 8
# Table 8's recipes themselves are params.yaml's clock.models t8_m0 ... t8_m8 (model 9 is final_nc12).

#: How each Table 8 model is built here; where the report is ambiguous, the choice made.
TABLE8_NOTES: dict[int, str] = {
    0: "the fiducial model, Table 6: batch 32, learning rate 2e-4 halving every 40 epochs.",
    1: "model 0 with batch size 256.",
    2: "model 0 with batch size 512 and BatchNorm 'between the convolutional stacks', read as one "
       "BatchNorm after the first max-pool (none after the second pool or in the dense stack).",
    3: "model 0 (batch 32 again) with BatchNorm after both max-pools and after both hidden dense layers, "
       "the placement Table 7 shows.",
    4: "model 3 with dropout 0.5 in both dense-stack Dropout layers.",
    5: "model 4 with 64 instead of 32 filters in both Conv2D layers.",
    6: "model 5 with the learning rate halving every 20 epochs instead of 40.",
    7: "model 5 with the learning rate halving every 10 epochs (model 8 builds on model 6, not this one).",
    8: "model 6 with every Conv2D layer duplicated (identical copy right after it), as in Table 7; "
       "the first pool keeps stride 4, leaving 3x3 maps at 150x150 as the report says.",
    9: "model 8 with first max-pool stride 2 and 360 units per dense layer: exactly Table 7 "
       "(7x7 maps at 150x150), halving every 20 epochs.",
}
