"""Every clock model's results gathered into the report's tables and figures.

Models are found by their names in ``clock.models``: ``t8_m0`` .. ``t8_m8`` are Table 8's
models 0-8 (model 9 is ``final_nc12``), ``final_ncN`` the n_c sweep; every model that is not
a Table 8 variant is one of the approaches compared in the last table.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from idl.io import write_json, write_table

TABLE8_NAME = re.compile(r"^t8_m(\d)$")


def table8_model(index: int) -> str:
    return "final_nc12" if index == 9 else f"t8_m{index}"


def write_summary(models_dir, out_dir, models: dict) -> dict:
    from idl.clock import tables
    from idl.clock.figures import error_by_hour, error_histograms
    from idl.report_numbers import CLOCK, TABLE8
    from idl.io import read_history

    models_dir, out_dir = Path(models_dir), Path(out_dir)
    metrics = {n: json.loads((models_dir / n / "metrics.json").read_text()) for n in models}
    histories = {n: read_history(models_dir / n / "history.csv") for n in models}
    errors = {n: pd.read_csv(models_dir / n / "predictions.csv")["cse"].to_numpy() for n in models}

    t8 = {i: metrics.get(table8_model(i)) for i in range(10)}
    write_table(out_dir / "table8.csv", *tables.table8(t8))
    nc = {n: metrics.get(f"final_nc{n}") for n in (12, 24, 48, 720)}
    write_table(out_dir / "nc_sweep.csv", *tables.nc_sweep(nc))
    approach_names = [n for n in models if not TABLE8_NAME.match(n)]
    write_table(out_dir / "approaches.csv", *tables.approaches([
        {"name": n, "description": metrics[n].get("approach", n), "metrics": metrics[n],
         "report_key": n if n in CLOCK else None}
        for n in approach_names
    ]))
    starred = {
        f"model {i}": histories[table8_model(i)]
        for i, row in sorted(TABLE8.items())
        if row.get("starred") and table8_model(i) in histories
    }
    tables.figure3(starred, out_dir / "figure3.png")
    agreement = tables.table8_agreement(t8)
    tables.versus_report(t8, nc, {k: metrics.get(k) for k in ("regression", "multihead")}, out_dir / "vs_report.png",
                         agreement)
    error_histograms({n: errors[n] for n in approach_names}, out_dir / "error_histograms.png",
                     title="common-sense error on the test split")
    error_by_hour({n: metrics[n]["cse_by_hour"] for n in approach_names}, out_dir / "error_by_hour.png")

    best = min(approach_names or list(models), key=lambda n: metrics[n]["cse_mean"])
    summary = {
        "best_model": best,
        "best_cse_mean": metrics[best]["cse_mean"],
        "cse_mean": {n: metrics[n]["cse_mean"] for n in models},
        "table8_vs_report": agreement,
    }
    write_json(out_dir / "summary.json", summary)
    return summary
