"""The pipeline itself runs on JAX, the backend of GPU runs: a whole task (Task 3 on one dataset:
split, training, evaluation, summary) through Snakemake with KERAS_BACKEND=jax, on the CPU."""
from __future__ import annotations

import json

import pytest

from pipeline import Project
from test_workflow import TINY

pytestmark = pytest.mark.slow


def test_task3_trains_and_evaluates_on_jax_through_snakemake(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    project = Project(tmp_path, tweak_demo=TINY, clock_models=["final_nc12"],
                      basics_runs=["mlp_adam", "mlp_sgd", "cnn_sgd_c3_d0"], gen_datasets=["tinyhero"],
                      gen_models=["vae"])
    project.snakemake("results/generative/summary/summary.json")
    # the stage log names the backend and the device it trained on
    log = (project.path / "logs/generative/train_tinyhero_vae.log").read_text()
    assert "jax backend, on cpu:0" in log
    scores = json.loads((project.path / "results/generative/tinyhero/vae/scores.json").read_text())
    assert scores["test_mse_mean"] >= 0 and scores["samples_frechet"] >= 0
    assert (project.path / "results/generative/tinyhero/vae/figures/samples.png").exists()
    # recorded like any run: both engines agree there is nothing left to do for this task
    assert project.snakemake_planned("results/generative/summary/summary.json") == set()
    assert not [s for s in project.dvc_status() if s.startswith("gen_")]
