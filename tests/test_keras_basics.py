"""Task 1 (Keras Basics): the report's Table 1/2 models, the grid, the winners and Tables 3-5."""
import json
from pathlib import Path

import numpy as np
import pytest
from keras_layers import layer_rows

from idl.basics import CNN_DEFAULTS
from idl.basics.rank import read_ranking, rank_runs, write_ranking
from idl.basics.summary import table3, table4, table5
from idl.data.splits import split_indices
from idl.errors import DataError
from idl.basics import CONV3_NOTE
from idl.models.keras_basics import (
    build_basics_model,
    build_run_model,
    cnn_spec,
    mlp_spec,
    optimizer,
)
from idl.params import read_yaml
from idl.report_numbers import BASICS

#: Tables 3 and 4's grid, as the pipeline runs it: params.yaml is the one place it is written.
GRID = read_yaml(Path(__file__).resolve().parents[1] / "params.yaml")["basics"]["runs"]

def _layers(model):
    return layer_rows(model, padding=True)


# Table 2, by hand from the report (the 3x3 kernel and "same" padding are our choice).
TABLE_2 = [
    ("Conv2D", 64, (7, 7), (1, 1), "same", "relu"),
    ("MaxPooling2D", (2, 2), (1, 1)),
    ("Conv2D", 128, (3, 3), (1, 1), "same", "relu"),
    ("Conv2D", 128, (3, 3), (1, 1), "same", "relu"),
    ("MaxPooling2D", (2, 2), (1, 1)),
    ("Conv2D", 128, (3, 3), (1, 1), "same", "relu"),
    ("Conv2D", 128, (3, 3), (1, 1), "same", "relu"),
    ("MaxPooling2D", (2, 2), (1, 1)),
    ("Flatten",),
    ("Dense", 128, "relu"),
    ("Dropout", 0.5),
    ("Dense", 64, "relu"),
    ("Dropout", 0.5),
    ("Dense", 10, "softmax"),
]


def test_table1_and_table2_layer_sequences():
    model = build_basics_model("cnn", (28, 28, 1))
    assert _layers(model) == TABLE_2
    assert type(model.layers[1]).__name__ == "Rescaling"
    assert _layers(build_basics_model("mlp", (28, 28, 1))) == [
        ("Flatten",), ("Dense", 200, "relu"), ("Dense", 100, "relu"), ("Dense", 10, "softmax")]
    assert [k for k, _ in mlp_spec()] == ["flatten", "dense", "dense", "output"]


def test_conv3_and_no_dropout_variants():
    conv3 = _layers(build_basics_model("cnn", (28, 28, 1), conv_layers=3, dropout_layers=0))
    assert [l for l in conv3 if l[0] == "Conv2D"] == [TABLE_2[0], TABLE_2[2], TABLE_2[5]]
    assert [l[0] for l in conv3[:6]] == ["Conv2D", "MaxPooling2D"] * 3
    assert not any(l[0] == "Dropout" for l in conv3)
    assert sum(k == "conv" for k, _ in cnn_spec(3, 2)) == 3
    assert sum(k == "dropout" for k, _ in cnn_spec(5, 0)) == 0
    assert "Conv64, MaxPool, Conv128, MaxPool, Conv128, MaxPool" in CONV3_NOTE
    with pytest.raises(ValueError, match="conv_layers"):
        cnn_spec(4, 2)


def test_grid_is_the_reports_8_cnn_and_2_mlp_runs():
    assert len(GRID) == 10
    assert sorted(n for n, r in GRID.items() if r["arch"] == "mlp") == ["mlp_adam", "mlp_sgd"]
    assert GRID["mlp_sgd"] == {"arch": "mlp", "optimizer": "sgd"}
    cnn = {(r["optimizer"], r["conv_layers"], r["dropout_layers"]) for r in GRID.values() if r["arch"] == "cnn"}
    assert cnn == {(o, c, d) for o in ("adam", "sgd") for c in (3, 5) for d in (0, 2)}
    assert GRID["cnn_sgd_c3_d0"] == {"arch": "cnn", "optimizer": "sgd", "conv_layers": 3, "dropout_layers": 0}
    assert set(BASICS["table3"]) | set(BASICS["table4"]) == set(GRID)
    assert type(optimizer("Adam")).__name__ == "Adam" and type(optimizer("sgd")).__name__ == "SGD"


def test_a_run_that_leaves_out_the_cnn_keys_is_table_2():
    """What the summary shows for a CNN run without conv_layers/dropout_layers (CNN_DEFAULTS) is what trains."""
    assert _layers(build_run_model({"arch": "cnn", "optimizer": "adam"}, (28, 28, 1))) == TABLE_2
    assert build_basics_model("cnn", (28, 28, 1), **CNN_DEFAULTS).name == "cnn_c5_d2"


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_every_grid_model_builds_and_takes_a_training_step(shape):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8, *shape), dtype=np.uint8)
    y = rng.integers(0, 10, 8)
    for name, run in GRID.items():
        model = build_run_model(run, shape)
        before = [w.copy() for w in model.get_weights()]
        # Integer labels with sparse CE: the report's categorical CE without one-hot arrays.
        # Eager: one step does not repay tracing a graph (3x faster here).
        model.compile(optimizer=optimizer(run["optimizer"]), loss="sparse_categorical_crossentropy",
                      run_eagerly=True)
        loss = float(model.train_on_batch(x, y))
        assert np.isfinite(loss), name
        assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights())), name
        probs = np.asarray(model(x[:2], training=False))
        assert probs.shape == (2, 10) and np.allclose(probs.sum(axis=1), 1, atol=1e-4), name


METRICS = {
    "cnn_adam_c3_d0": {"val_loss": 0.30, "val_accuracy": 0.93},
    "cnn_adam_c3_d2": {"val_loss": 0.25, "val_accuracy": 0.93},  # ties c3_d0 on accuracy
    "cnn_sgd_c3_d0": {"val_loss": 0.25, "val_accuracy": 0.90},   # ties c3_d2 on loss
    "cnn_sgd_c5_d2": {"val_loss": 0.40, "val_accuracy": 0.92},
    "mlp_adam": {"val_loss": 0.20, "val_accuracy": 0.89},
    "mlp_sgd": {"val_loss": float("nan"), "val_accuracy": 0.95},
}


def test_rank_runs_best_first_with_ties_by_name():
    assert rank_runs(METRICS, by="val_accuracy") == ["mlp_sgd", "cnn_adam_c3_d0", "cnn_adam_c3_d2"]
    assert rank_runs(METRICS, by="val_accuracy", arch="cnn") == ["cnn_adam_c3_d0", "cnn_adam_c3_d2", "cnn_sgd_c5_d2"]
    # Lower loss wins; NaN (a diverged run) ranks last.
    assert rank_runs(METRICS, by="val_loss", top=6)[:3] == ["mlp_adam", "cnn_adam_c3_d2", "cnn_sgd_c3_d0"]
    assert rank_runs(METRICS, by="val_loss", top=6)[-1] == "mlp_sgd"
    with pytest.raises(ValueError, match="no val_loss for run.*cnn_x"):
        rank_runs({**METRICS, "cnn_x": {"val_accuracy": 0.5}}, by="val_loss")
    with pytest.raises(ValueError, match="best 3 of 2"):
        rank_runs(METRICS, arch="mlp")


def test_report_table3_ranked_by_loss_gives_the_reports_winners():
    report = {**BASICS["table3"], **BASICS["table4"]}
    assert rank_runs(report) == ["cnn_sgd_c3_d2", "cnn_sgd_c5_d2", "cnn_sgd_c3_d0"]
    assert set(rank_runs(report)) == set(BASICS["table5"])


def test_split_is_deterministic_disjoint_and_complete():
    a, b = split_indices(1000, 0.1, seed=3), split_indices(1000, 0.1, seed=3)
    assert np.array_equal(a["val"], b["val"]) and np.array_equal(a["train"], b["train"])
    assert len(a["val"]) == 100 and len(a["train"]) == 900
    assert not set(a["val"]) & set(a["train"])
    assert np.array_equal(np.sort(np.concatenate([a["train"], a["val"]])), np.arange(1000))
    assert np.all(np.diff(a["val"]) > 0)
    assert not np.array_equal(split_indices(1000, 0.1, seed=4)["val"], a["val"])


def test_ranking_file_round_trip(tmp_path):
    path = tmp_path / "out" / "ranking.json"
    ranking = rank_runs(METRICS, by="val_accuracy")
    write_ranking(path, ranking, METRICS, "val_accuracy")
    assert read_ranking(path) == ranking
    doc = json.loads(path.read_text())
    assert doc["by"] == "val_accuracy"
    assert doc["ranking"][1] == {"rank": 2, "run": "cnn_adam_c3_d0", "val_accuracy": 0.93}
    assert [p.name for p in path.parent.iterdir()] == ["ranking.json"]  # no temporary left over


@pytest.mark.parametrize("text, why", [
    ("{not json", "not readable JSON"),
    ('{"by": "val_loss"}', "no non-empty 'ranking'"),
    ('{"ranking": [{"rank": 1}]}', "entry 1 has no run name"),
    ('{"ranking": [{"rank": 2, "run": "mlp_sgd"}]}', "entry 1 says rank 2"),
])
def test_malformed_ranking_file_names_the_file(tmp_path, text, why):
    path = tmp_path / "ranking.json"
    path.write_text(text)
    with pytest.raises(DataError, match=why) as err:
        read_ranking(path)
    assert str(path) in str(err.value)
    with pytest.raises(DataError, match="not found"):
        read_ranking(tmp_path / "missing.json")


def test_tables_show_our_number_beside_the_reports():
    ours = {"cnn_sgd_c3_d0": {"val_loss": 0.31234, "val_accuracy": 0.9, "test_accuracy": 0.89},
            "mlp_sgd": {"val_loss": 0.3, "val_accuracy": 0.88}}
    header, rows = table3(ours, GRID)
    assert len(rows) == 8
    row = next(r for r in rows if r[:3] == ["SGD", "3", "0"])
    assert dict(zip(header, row)) == {
        "optimizer": "SGD", "conv layers": "3", "dropout layers": "0",
        "val loss (ours)": "0.3123", "val loss (report)": "0.2594",
        "val acc (ours)": "0.9000", "val acc (report)": "0.9104", "test acc (ours)": "0.8900"}
    other = next(r for r in rows if r[:3] == ["Adam", "5", "2"])
    assert other[3] == "–" and other[4] == "0.3669"

    header, rows = table4(ours, GRID)
    assert [r[0] for r in rows] == ["Adam", "SGD"]
    assert rows[1][1:] == ["0.3000", "0.3051", "0.8800", "0.8894", "–"]

    header, rows = table5({1: {"val_loss": 0.25, "val_accuracy": 0.91}, "2": {"test_accuracy": 0.7}},
                          ["cnn_sgd_c3_d2", "cnn_adam_c3_d0"])
    assert rows[0] == ["1", "cnn_sgd_c3_d2", "0.2500", "0.2435", "0.9100", "0.9106", "–"]
    assert rows[1] == ["2", "cnn_adam_c3_d0", "–", "–", "–", "–", "0.7000"]  # not one of the report's winners
