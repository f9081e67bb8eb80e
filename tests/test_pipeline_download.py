"""The real download route through the pipeline: the clock zip served by a local HTTP server
(the course's layout, no published checksum) is acquired, recorded, split and trained on."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from httpserver import FileServer
from idl.clock import synth
from idl.clock.course_data import write_course_data
from idl.data import demo_data as F
from pipeline import Project
from test_workflow import TINY

pytestmark = pytest.mark.slow


@pytest.fixture()
def served_clock(tmp_path):
    images, labels = synth.generate(1, size=48, seed=3, workers=1, progress=False)
    with FileServer(tmp_path / "www") as server:
        F.make_clock_zip(server.root / "download", images, labels, top_folder="A1_data_150")
        yield f"{server.url}/download?path=%2F&files=A1_data_150.zip", images


def downloading(url, sha256=None):
    tweak = json.loads(json.dumps(TINY))
    tweak["data"]["clock"].update({"source": "download", "url": url, "sha256": sha256})
    return tweak


def test_downloaded_clock_data_flows_to_a_trained_model(tmp_path, served_clock, monkeypatch):
    url, images = served_clock
    monkeypatch.setenv("IDL_CACHE", str(tmp_path / "cache"))
    # another generator's clocks, to be scored by the clock_score rule
    other = tmp_path / "other_clocks"
    other_images, other_labels = synth.generate(1, size=48, seed=99, workers=1, progress=False)
    write_course_data(other, other_images[::10], other_labels[::10])
    project = Project(tmp_path / "p", tweak_demo=downloading(url), clock_models=["final_nc12"])
    project = project.clone(tmp_path / "clone")
    # As a user would on a fresh clone (no .snakemake/ yet): the external folder comes from an extra
    # config file. This once stopped with a MissingInputException naming a parameter file that
    # Snakemake had not seen written yet (they are now all written before it builds the DAG).
    assert not (project.path / ".snakemake").exists()
    (project.path / "extra.yaml").write_text(f"clock:\n  external:\n    other: {other}\n")
    targets = ["results/clock/models/final_nc12/metrics.json", "results/clock/scores/other/final_nc12/metrics.json"]
    # (targets first: --configfile takes every word up to the next option)
    proc = project.snakemake(*targets, "--configfile", "params.yaml", "extra.yaml")
    assert "NOT recorded in DVC" in proc.stderr  # the extra file changed the parameters
    assert project.snakemake_planned(*targets, "--configfile", "params.yaml", "extra.yaml") == set()

    raw = project.path / "resources/raw/clock"
    np.testing.assert_array_equal(np.load(raw / "images.npy"), images)
    source = json.loads((raw / "SOURCE.json").read_text())
    assert url in json.dumps(source)
    metrics = json.loads((project.path / "results/clock/models/final_nc12/metrics.json").read_text())
    assert metrics["n"] == len(np.load(project.path / "results/clock/split/test.npy"))
    scored = json.loads((project.path / "results/clock/scores/other/final_nc12/metrics.json").read_text())
    assert scored["n"] == 72 and scored["data"] == str(other)
    assert 0 <= scored["cse_mean"] <= 360


def test_pinned_hash_mismatch_fails_the_stage_and_leaves_nothing(tmp_path, served_clock, monkeypatch):
    url, images = served_clock
    monkeypatch.setenv("IDL_CACHE", str(tmp_path / "cache"))
    wrong = hashlib.sha256(b"not the images").hexdigest()
    project = Project(tmp_path / "p", tweak_demo=downloading(url, sha256=wrong))
    proc = project.snakemake("resources/raw/clock", check=False)
    assert proc.returncode != 0
    log = (project.path / "logs/acquire/clock.log").read_text()
    assert "images.npy" in log and wrong in log
    assert not (project.path / "resources/raw/clock").exists()


def test_fashion_mnist_and_cifar10_from_a_mirror_reach_training(tmp_path, monkeypatch):
    """The full-scale route of Task 1 on real file formats: IDX gz files and the CIFAR-10 pickle
    tarball, downloaded from a mirror and verified, then read and split; a model trains on the
    downloaded Fashion-MNIST. (Ranking, the CIFAR-10 runs and the tables read the same arrays and
    are run end to end in test_workflow.py.)"""
    monkeypatch.setenv("IDL_CACHE", str(tmp_path / "cache"))
    with FileServer(tmp_path / "www") as server:
        F.make_fashion_mnist(server.root, n_train=60, n_test=20, seed=1)
        F.make_cifar10_tarball(server.root / "cifar-10-python.tar.gz", n_per_batch=12, n_test=20, seed=2)
        sums = {f.name: "md5:" + hashlib.md5(f.read_bytes()).hexdigest() for f in server.root.glob("*.gz")}
        tweak = json.loads(json.dumps(TINY))
        for name in ("fashion_mnist", "cifar10"):
            wanted = [f for f in sums if (f.startswith("cifar") == (name == "cifar10"))]
            tweak["data"][name] = {"source": "download", "checksums": {f: sums[f] for f in wanted}}
        project = Project(tmp_path / "p", tweak_demo=tweak, clock_models=["final_nc12"],
                          basics_runs=["mlp_adam", "mlp_sgd", "cnn_sgd_c3_d0"])
        params = project.params()
        params["data"]["mirror"] = server.url
        project.write_params(params)
        project.snakemake("results/basics/fashion_mnist/mlp_adam/metrics.json", "resources/prepared/cifar10/arrays.npz")
    assert server.hits["/train-images-idx3-ubyte.gz"] == 1 and server.hits["/cifar-10-python.tar.gz"] == 1
    source = json.loads((project.path / "resources/raw/cifar10/SOURCE.json").read_text())
    assert server.url in json.dumps(source)
    metrics = json.loads((project.path / "results/basics/fashion_mnist/mlp_adam/metrics.json").read_text())
    assert 0 <= metrics["test_accuracy"] <= 1
    with np.load(project.path / "resources/prepared/cifar10/arrays.npz") as cifar:
        # 5 batches of 12 images and 20 test images, read from the pickles as 32x32 RGB
        assert cifar["x_train"].shape == (60, 32, 32, 3) and cifar["x_test"].shape == (20, 32, 32, 3)
        assert cifar["y_train"].min() >= 0 and cifar["y_train"].max() <= 9
