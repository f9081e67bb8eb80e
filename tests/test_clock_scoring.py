"""Scoring predicted times (CSE, accuracy, by-hour), predictions.csv, and the error figures."""
import json

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from idl.clock import figures
from idl.clock.scoring import predictions_frame, score


def test_score_known_answers():
    # 00:00 vs 00:05, 11:55 vs 00:05 (the short way round), 06:00 vs 00:00
    s = score([0, 715, 360], [5, 5, 0])
    assert s["n"] == 3
    assert s["accuracy"] is None  # no classes: regression
    assert s["cse_mean"] == pytest.approx((5 + 10 + 360) / 3)
    assert s["cse_median"] == 10
    assert s["cse_p90"] == pytest.approx(10 + 0.8 * 350)  # linear interpolation, as numpy
    by_hour = s["cse_by_hour"]
    assert len(by_hour) == 12
    assert by_hour[0] == 5 and by_hour[11] == 10 and by_hour[6] == 360
    assert all(by_hour[h] is None for h in range(12) if h not in (0, 6, 11))


def test_score_by_hour_averages_over_true_hour():
    # two rows in hour 2 (02:00 and 02:59), errors 4 and 6 -> mean 5
    s = score([120, 179], [124, 173])
    assert s["cse_by_hour"][2] == 5
    assert sum(v is not None for v in s["cse_by_hour"]) == 1


def test_score_accuracy_with_classes_and_json_ready():
    s = score([0, 715, 360, 30], [15, 15, 15, 15], true_classes=np.array([0, 11, 6, 0]),
              pred_classes=np.array([0, 0, 0, 0]))
    assert s["accuracy"] == 0.5
    # plain Python numbers: json round trip gives the same dict
    assert json.loads(json.dumps(s)) == s
    assert type(s["n"]) is int and type(s["cse_mean"]) is float


def test_score_rejects_mismatched_input():
    with pytest.raises(ValueError, match="row for row"):
        score([0, 1], [0])
    with pytest.raises(ValueError, match="no predictions"):
        score([], [])
    with pytest.raises(ValueError, match="both"):
        score([0], [0], true_classes=[0])
    with pytest.raises(ValueError, match="NaN"):
        score([0], [np.nan])


def test_predictions_frame_formats_times():
    df = predictions_frame([0, 715, 360], [5, 5, 0.4], [0, 11, 6], [0, 0, 0])
    assert list(df["row"]) == [0, 1, 2]
    assert list(df["true_time"]) == ["00:00", "11:55", "06:00"]
    assert list(df["pred_time"]) == ["00:05", "00:05", "00:00"]
    np.testing.assert_allclose(df["cse"], [5, 10, 359.6])
    assert list(df["correct"]) == [True, False, False]
    csv = df.to_csv(index=False)
    assert "11:55" in csv and ",715," in csv  # whole minutes stay integers in the CSV


def test_predictions_frame_without_classes():
    df = predictions_frame([719], [0.6])
    assert list(df["pred_time"]) == ["00:01"]
    assert "correct" not in df and "pred_class" not in df


# ------------------------------------------------------------------ figures

def _only_png(tmp_path, name):
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temp file left beside it
    with Image.open(tmp_path / name) as im:
        im.verify()
        assert im.format == "PNG"


def test_prediction_grid_writes_png(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (30, 20, 20, 1), dtype=np.uint8)
    true = rng.integers(0, 720, 30)
    pred = (true + rng.choice([0, 5, 90], 30)) % 720
    figures.prediction_grid(images, true, pred, tmp_path / "grid.png", n=12, title="test split")
    _only_png(tmp_path, "grid.png")


def test_prediction_grid_rejects_mismatch(tmp_path):
    with pytest.raises(ValueError, match="row for row"):
        figures.prediction_grid(np.zeros((3, 8, 8)), [0, 1, 2], [0, 1], tmp_path / "g.png")
    assert list(tmp_path.iterdir()) == []


def test_error_histograms_and_by_hour_write_png(tmp_path):
    rng = np.random.default_rng(1)
    errors = {f"model {i}": rng.uniform(0, 360, 50) for i in range(13)}
    figures.error_histograms(errors, tmp_path / "hist.png", title="CSE")
    by_hour = {"a": [float(h) for h in range(12)], "b": [None] * 6 + [3.0] * 6}
    figures.error_by_hour(by_hour, tmp_path / "hour.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hist.png", "hour.png"]
    for name in ("hist.png", "hour.png"):
        with Image.open(tmp_path / name) as im:
            assert im.format == "PNG"
    with pytest.raises(ValueError, match="12 values"):
        figures.error_by_hour({"a": [1.0] * 11}, tmp_path / "bad.png")


def test_failed_figure_leaves_nothing(tmp_path, monkeypatch):
    def broken_savefig(self, fname, **kwargs):
        open(fname, "wb").write(b"\x89PNG half")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        figures.error_histograms({"m": np.array([1.0, 2.0])}, tmp_path / "hist.png")
    assert list(tmp_path.iterdir()) == []


def test_clock_learning_curves_get_a_cse_panel_when_the_history_has_one(tmp_path):
    import pandas as pd

    from idl.clock.evaluate import curve_metrics
    from idl.plots import learning_curves

    history = pd.DataFrame({"epoch": [0, 1], "loss": [2.0, 1.5], "val_loss": [2.1, 1.7], "hour_accuracy": [0.1, 0.3],
                            "val_hour_accuracy": [0.1, 0.2], "val_cse": [170.0, 120.0]})
    older = history.drop(columns="val_cse")  # histories from before val_cse was logged
    assert curve_metrics(history.columns) == ["loss", "hour_accuracy", "cse"]
    assert curve_metrics(older.columns) == ["loss", "hour_accuracy"]
    learning_curves(history, tmp_path / "with.png", "m", curve_metrics(history.columns))
    learning_curves(older, tmp_path / "without.png", "m", curve_metrics(older.columns))
    # a third panel
    with_cse, without = (Image.open(tmp_path / f).size[0] for f in ("with.png", "without.png"))
    assert with_cse > 1.3 * without
