"""Task 1's summary: Tables 3-5 (``(header, rows)``, ours beside the report's numbers from
``report_numbers.BASICS``), the overview of every run, and each run's learning curves.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Sequence

from idl.basics import CNN_DEFAULTS
from idl.basics.rank import read_ranking
from idl.io import write_json, write_table
from idl.report_numbers import BASICS

MISSING = "–"


def _num(value) -> str:
    """Four decimals as in the report; as a string so the page does not round it to one."""
    if value is None:
        return MISSING
    return f"{float(value):.4f}"


def _get(metrics: Mapping | None, key: str) -> str:
    return _num(None if not metrics else metrics.get(key))


_OPT = {"adam": "Adam", "sgd": "SGD"}


def table3(metrics: Mapping[str, Mapping], runs: Mapping[str, Mapping]) -> tuple[list[str], list[list]]:
    """Table 3: the 8 CNN runs on Fashion-MNIST (validation loss/accuracy), ours beside the report's."""
    header = ["optimizer", "conv layers", "dropout layers", "val loss (ours)", "val loss (report)",
              "val acc (ours)", "val acc (report)", "test acc (ours)"]
    rows = []
    for name, run in runs.items():
        if run["arch"] != "cnn":
            continue
        m, ref = metrics.get(name), BASICS["table3"].get(name)
        rows.append([_OPT[run["optimizer"]], str(run.get("conv_layers", CNN_DEFAULTS["conv_layers"])),
                     str(run.get("dropout_layers", CNN_DEFAULTS["dropout_layers"])),
                     _get(m, "val_loss"), _get(ref, "val_loss"), _get(m, "val_accuracy"),
                     _get(ref, "val_accuracy"), _get(m, "test_accuracy")])
    return header, rows


def table4(metrics: Mapping[str, Mapping], runs: Mapping[str, Mapping]) -> tuple[list[str], list[list]]:
    """Table 4: the 2 MLP runs on Fashion-MNIST, ours beside the report's."""
    header = ["optimizer", "val loss (ours)", "val loss (report)", "val acc (ours)", "val acc (report)",
              "test acc (ours)"]
    rows = []
    for name, run in runs.items():
        if run["arch"] != "mlp":
            continue
        m, ref = metrics.get(name), BASICS["table4"].get(name)
        rows.append([_OPT[run["optimizer"]], _get(m, "val_loss"), _get(ref, "val_loss"),
                     _get(m, "val_accuracy"), _get(ref, "val_accuracy"), _get(m, "test_accuracy")])
    return header, rows


def table5(cifar_metrics: Mapping[int, Mapping], ranking: Sequence[str]) -> tuple[list[str], list[list]]:
    """Table 5: our winners on CIFAR-10, by rank (1 = best), beside the report's row for the same run.

    ``cifar_metrics`` is keyed by rank (int, or str as read back from JSON). The report's
    columns show "–" where the report did not pick that configuration.
    """
    header = ["rank", "run", "val loss (ours)", "val loss (report)", "val acc (ours)", "val acc (report)",
              "test acc (ours)"]
    rows = []
    for rank, name in enumerate(ranking, start=1):
        m = cifar_metrics.get(rank, cifar_metrics.get(str(rank)))
        ref = BASICS["table5"].get(name)
        rows.append([str(rank), name, _get(m, "val_loss"), _get(ref, "val_loss"), _get(m, "val_accuracy"),
                     _get(ref, "val_accuracy"), _get(m, "test_accuracy")])
    return header, rows


def write_summary(metrics_files, cifar_files, ranking_path, out_dir, runs: dict, curves=()) -> dict:
    """Tables 3-5 as CSV (read by the results page), the overview figure, summary.json, and the
    learning curves of each run whose metrics are given, drawn to the paths ``curves`` names in
    the same order (Fashion-MNIST runs, then CIFAR-10 ranks), from the history beside each."""
    import pandas as pd

    from idl.plots import compare_curves, learning_curves

    out_dir = Path(out_dir)
    metrics, histories = {}, {}
    for f in metrics_files:
        m = json.loads(Path(f).read_text())
        metrics[m["run"]] = m
        histories[m["run"]] = pd.read_csv(Path(f).parent / "history.csv")
    cifar = {}
    for f in cifar_files:
        rank_no = int(Path(f).parent.name.removeprefix("rank"))
        cifar[rank_no] = json.loads(Path(f).read_text())
    ranking = read_ranking(ranking_path)
    write_table(out_dir / "table3.csv", *table3(metrics, runs))
    write_table(out_dir / "table4.csv", *table4(metrics, runs))
    write_table(out_dir / "table5.csv", *table5(cifar, ranking))
    compare_curves(histories, out_dir / "overview.png", title="Fashion-MNIST: validation accuracy of every run",
                   metric="val_accuracy")
    runs_drawn = [*metrics_files, *cifar_files][:len(curves)]
    for source, path in zip(runs_drawn, curves):
        name = json.loads(Path(source).read_text())["run"]
        where = "CIFAR-10" if source in cifar_files else "Fashion-MNIST"
        learning_curves(pd.read_csv(Path(source).parent / "history.csv"), path,
                        title=f"{name} on {where}: training vs validation")
    summary = {
        "ranking": ranking,
        "fashion_val_accuracy": {n: m["val_accuracy"] for n, m in sorted(metrics.items())},
        "fashion_test_accuracy": {n: m["test_accuracy"] for n, m in sorted(metrics.items())},
        "cifar_val_accuracy": {cifar[r]["run"]: cifar[r]["val_accuracy"] for r in sorted(cifar)},
    }
    write_json(out_dir / "summary.json", summary)
    return summary
