"""Task 1 stages: the CIFAR-10 stage of rank k trains whatever run the ranking file puts there."""
import numpy as np
import pytest

from idl.basics.rank import write_ranking
from idl.basics.data import prepare_arrays
from idl.basics.rank import ranked_run
from idl.data import demo_data
from idl.errors import DataError

RUNS = {
    "cnn_sgd_c3_d2": {"arch": "cnn", "optimizer": "sgd", "conv_layers": 3, "dropout_layers": 2},
    "cnn_sgd_c5_d2": {"arch": "cnn", "optimizer": "sgd", "conv_layers": 5, "dropout_layers": 2},
    "mlp_sgd": {"arch": "mlp", "optimizer": "sgd"},
    "mlp_adam": {"arch": "mlp", "optimizer": "adam"},
}


def metrics(acc):
    return {name: {"run": name, "val_accuracy": a, "val_loss": 1 - a} for name, a in acc.items()}


def test_cifar_stages_follow_a_changed_ranking(tmp_path):
    path = tmp_path / "ranking.json"
    m = metrics({"cnn_sgd_c3_d2": 0.9, "cnn_sgd_c5_d2": 0.8, "mlp_sgd": 0.7, "mlp_adam": 0.1})
    write_ranking(path, ["cnn_sgd_c3_d2", "cnn_sgd_c5_d2", "mlp_sgd"], m, "val_accuracy")
    assert ranked_run(path, 1, RUNS) == ("cnn_sgd_c3_d2", RUNS["cnn_sgd_c3_d2"])
    assert ranked_run(path, 3, RUNS)[0] == "mlp_sgd"
    # a new ranking: the same stage now trains another run
    write_ranking(path, ["mlp_adam", "cnn_sgd_c3_d2", "cnn_sgd_c5_d2"], m, "val_accuracy")
    assert ranked_run(path, 1, RUNS) == ("mlp_adam", RUNS["mlp_adam"])
    assert ranked_run(path, 3, RUNS)[0] == "cnn_sgd_c5_d2"


def test_ranked_run_not_in_params_is_a_clear_error(tmp_path):
    path = tmp_path / "ranking.json"
    m = metrics({"a": 0.9, "b": 0.8, "c": 0.7})
    write_ranking(path, ["a", "b", "c"], m, "val_accuracy")
    with pytest.raises(DataError, match="not in basics.runs"):
        ranked_run(path, 1, RUNS)
    with pytest.raises(DataError, match="rank 4"):
        ranked_run(path, 4, {"a": {}, "b": {}, "c": {}})


def test_prepare_arrays_adds_channels_and_saves_a_seeded_split(tmp_path):
    demo_data.make_raw("fashion_mnist", tmp_path / "raw", seed=0, n_train=50, n_test=10)
    prepare_arrays("fashion_mnist", tmp_path / "raw", tmp_path / "a.npz", tmp_path / "split", 0.1, seed=3)
    data = np.load(tmp_path / "a.npz")
    assert data["x_train"].shape == (50, 28, 28, 1) and data["x_test"].shape == (10, 28, 28, 1)
    tr, va = np.load(tmp_path / "split/train.npy"), np.load(tmp_path / "split/val.npy")
    assert len(va) == 5 and not set(tr) & set(va) and len(tr) + len(va) == 50
