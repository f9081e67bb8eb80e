"""Task 2 tables put our number beside the report's; Figure 3 plots the starred models."""
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from idl.clock import tables
from idl.report import Page
from idl.report_numbers import CLOCK, TABLE8


def _col(header, rows, name):
    i = header.index(name)
    return [r[i] for r in rows]


def test_table8_typed_in_from_report():
    assert sorted(TABLE8) == list(range(10))
    assert [i for i, r in TABLE8.items() if r["starred"]] == [0, 3, 5, 6, 8, 9]
    assert TABLE8[0] == {"starred": True, "accuracy": 81, "epochs": 100, "cse": 28, "note": "Fiducial model"}
    assert (TABLE8[9]["accuracy"], TABLE8[9]["epochs"], TABLE8[9]["cse"]) == (96, 96, 16)
    assert (TABLE8[7]["accuracy"], TABLE8[7]["epochs"], TABLE8[7]["cse"]) == (53, 72, 45)


def test_table8_ours_beside_report_and_missing_models():
    ours = {0: {"accuracy": 0.8125, "cse_mean": 27.34, "epochs": 41},
            "9": {"accuracy": 0.9, "cse_mean": 17.0, "epochs": 50},  # keys as read back from JSON
            3: None}
    header, rows = tables.table8(ours)
    assert len(rows) == 10 and all(len(r) == len(header) for r in rows)
    assert _col(header, rows, "model") == [str(i) for i in range(10)]
    assert _col(header, rows, "*") == ["*", "", "", "*", "", "*", "*", "", "*", "*"]
    acc_ours, acc_ref = _col(header, rows, "acc % (ours)"), _col(header, rows, "acc % (report)")
    assert acc_ours[0] == 81.2 and acc_ref[0] == 81
    assert acc_ours[9] == 90.0 and acc_ref[9] == 96
    assert _col(header, rows, "epochs (ours)")[0] == 41
    assert _col(header, rows, "mean CSE min (ours)")[0] == 27.3
    assert _col(header, rows, "mean CSE min (report)")[0] == 28
    # model 3 (None) and 1 (absent) show a dash in every "ours" column, report's numbers still there
    for i in (1, 3):
        ours_cells = [rows[i][header.index(h)] for h in header if h.endswith("(ours)")]
        assert ours_cells == [tables.MISSING] * 3
        assert rows[i][header.index("acc % (report)")] == TABLE8[i]["accuracy"]
    assert rows[0][header.index("report's note")] == "Fiducial model"


def test_nc_sweep_lower_bounds_and_report_numbers():
    header, rows = tables.nc_sweep({12: {"accuracy": 0.95, "cse_mean": 16.04, "epochs": 20}, 720: None})
    assert _col(header, rows, "n_c") == ["12", "24", "48", "720"]
    floor = _col(header, rows, "mean CSE floor min (perfect classes)")
    assert floor == ["15", "7.5", "3.75", "0.25"]
    assert [tables.lower_bound_cse(n) for n in (12, 24, 48, 720)] == [15, 7.5, 3.75, 0.25]
    assert _col(header, rows, "mean CSE min (report)") == [CLOCK[f"final_nc{n}"]["cse_mean"] for n in (12, 24, 48, 720)]
    assert rows[0][header.index("acc % (ours)")] == 95.0
    assert rows[0][header.index("mean CSE min (ours)")] == 16.0
    assert rows[3][header.index("acc % (ours)")] == tables.MISSING
    assert rows[1][header.index("epochs (report)")] == 109


def test_approaches_rows():
    header, rows = tables.approaches([
        {"name": "classification", "description": "n_c = 12", "report_key": "final_nc12",
         "metrics": {"accuracy": 0.5, "cse_mean": 20.0, "cse_median": 14.0, "cse_p90": 45.0, "epochs": 7,
                     "quarter_turns": {"accuracy": 0.6, "cse_mean": 17.04, "cse_median": 12.0, "cse_p90": 40.0}}},
        {"name": "regression", "description": "MAE", "report_key": "regression",
         "metrics": {"accuracy": None, "cse_mean": 30.0, "cse_median": 20.0, "cse_p90": 80.0, "epochs": 5}},
        {"name": "angle", "description": None, "report_key": None, "metrics": None},
    ])
    assert header == ["approach", "acc % (ours)", "acc % (report)", "mean CSE min (ours)", "mean CSE min (report)",
                      "median CSE min (ours)", "p90 CSE min (ours)", "mean CSE min, read at 4 quarter turns (ours)",
                      "epochs (ours)"]
    assert rows[0] == ["classification (n_c = 12)", 50.0, 96.0, 20.0, 16.0, 14.0, 45.0, 17.0, 7]
    assert rows[1] == ["regression (MAE)", tables.MISSING, tables.MISSING, 30.0, 12.5, 20.0, 80.0, tables.MISSING, 5]
    assert rows[2] == ["angle"] + [tables.MISSING] * 8
    with pytest.raises(ValueError, match="report_key 'nope'"):
        tables.approaches([{"name": "x", "report_key": "nope", "metrics": None}])


def test_tables_render_on_the_results_page():
    page = Page("t")
    page.table(*tables.table8({}))
    page.table(*tables.nc_sweep({}))
    md = page.markdown()
    assert "| 0 | * | Fiducial model | – | 81 | – | 100 | – | 28 |" in md
    assert "| 48 | – | 88.0 | – | 9.6 | 3.75 | – | 106 |" in md
    assert "3.75" in page.html()


def _history(n, top):
    return pd.DataFrame({"epoch": np.arange(n), "val_accuracy": np.linspace(0.1, top, n), "loss": np.ones(n)})


def test_figure3_writes_png_of_starred_models(tmp_path, caplog):
    caplog.set_level("INFO", logger="idl.clock.tables")
    hist = {f"model_{i}": _history(10 + i, 0.5 + i / 20) for i in (0, 1, 5, 9)}
    caption = tables.figure3(hist, tmp_path / "figure3.png")
    assert "validation accuracy" in caption
    assert [p.name for p in tmp_path.iterdir()] == ["figure3.png"]
    with Image.open(tmp_path / "figure3.png") as im:
        im.verify()
        assert im.format == "PNG"
    assert "model 1 is not starred" in caplog.text


def test_figure3_needs_a_starred_history(tmp_path):
    with pytest.raises(ValueError, match="starred"):
        tables.figure3({"1": _history(5, 0.5), "2": _history(5, 0.5)}, tmp_path / "f.png")
    with pytest.raises(ValueError, match="model number"):
        tables.figure3({"fiducial": _history(5, 0.5)}, tmp_path / "f.png")
    assert list(tmp_path.iterdir()) == []


def test_versus_report_pairs_each_model_with_the_report_and_draws_them(tmp_path):
    t8 = {0: {"accuracy": 0.5, "cse_mean": 40.0}, "9": {"accuracy": 0.9, "cse_mean": 17.25}, 3: None}
    nc = {12: t8["9"], 24: {"accuracy": 0.8, "cse_mean": 10.0}}
    others = {"regression": {"cse_mean": 20.0}, "multihead": None}
    points = tables.versus_report_points(t8, nc, others)
    assert [(p["label"], p["group"]) for p in points] == [
        ("0", "Table 8"), ("9", "Table 8"), ("n_c 24", "n_c sweep"), ("regression", "Table 9, multi-head")]
    by = {p["label"]: p for p in points}
    assert by["0"]["accuracy"] == (50.0, 81.0) and by["0"]["cse"] == (40.0, 28.0)
    assert by["9"]["cse"] == (17.25, 16.0)
    assert by["n_c 24"]["accuracy"] == (80.0, 93.0) and by["n_c 24"]["cse"] == (10.0, 9.8)
    assert by["regression"]["accuracy"] is None and by["regression"]["cse"] == (20.0, 12.5)

    tables.versus_report(t8, nc, others, tmp_path / "vs.png")
    with Image.open(tmp_path / "vs.png") as im:
        im.verify()
        assert im.format == "PNG"
    with pytest.raises(ValueError, match="no model"):
        tables.versus_report({}, {}, {"multihead": None}, tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()


def test_table8_agreement_ranks_ours_against_the_report_and_says_it_in_words():
    from idl.report_numbers import TABLE8

    same = {i: {"accuracy": ref["accuracy"] / 100, "cse_mean": ref["cse"]} for i, ref in TABLE8.items()}
    a = tables.table8_agreement(same)
    assert a == {"models": list(range(10)), "spearman_accuracy": 1.0, "spearman_cse": 1.0,
                 "accuracy_difference": 0.0, "cse_ratio": 1.0}
    # the report's accuracies 81, 62, 67: ours in the opposite order, 10 points lower each,
    # and twice the report's mean CSE (28, 44, 40) in the same order
    three = {0: {"accuracy": 0.52, "cse_mean": 56}, "1": {"accuracy": 0.71, "cse_mean": 88},
             2: {"accuracy": 0.57, "cse_mean": 80}, 3: None}
    a = tables.table8_agreement(three)
    assert a["models"] == [0, 1, 2]
    assert a["spearman_accuracy"] == -1.0 and a["spearman_cse"] == 1.0
    assert a["accuracy_difference"] == -10.0 and a["cse_ratio"] == 2.0
    sentence = tables.agreement_sentence(a)
    assert "models 0-2" in sentence and "-1.00 by accuracy" in sentence and "10.0 points below" in sentence
    # all tied on our side: no order to compare
    tied = {i: {"accuracy": 0.5, "cse_mean": 30} for i in (0, 1, 2)}
    assert tables.table8_agreement(tied)["spearman_accuracy"] is None
    assert "undefined" in tables.agreement_sentence(tables.table8_agreement(tied))
    # fewer than three models: nothing to say
    assert tables.table8_agreement({0: same[0], 9: same[9]}) is None
    assert tables.agreement_sentence(None) == ""


def test_labels_of_nearly_equal_points_are_placed_apart():
    from idl.clock.tables import _label_offsets

    # far apart: both right and above their points
    assert _label_offsets([(10, 10, "1"), (60, 60, "7")], top=100) == [(4, 3), (4, 3)]
    # models 1 and 7 at 25 clocks a minute (mean CSE against the report's): 7's marker is where 1's
    # label would go, so 1's label goes to the left
    assert _label_offsets([(44, 41.0, "1"), (45, 41.0, "7")], top=48.6) == [(-9.5, 3), (4, 3)]
    # nowhere free: the least covered place (here, away from the crowd of markers on the right)
    right = [(x, y, "") for x in range(51, 58) for y in range(44, 57)]
    left_above = [(x, y, "") for x in range(43, 50) for y in range(51, 56)]
    assert _label_offsets([(50, 50, "ab"), *right, *left_above, (46, 47, "")], top=100)[0] == (-15, -12)
