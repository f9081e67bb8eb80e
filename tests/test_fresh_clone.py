"""A fresh clone runs what a user asks for on the first try.

The scenario of issue 15: on a fresh clone (no `.snakemake/`), a run with an extra config file
that adds an external clock folder, asking for a model and its score on that folder, stopped
with a MissingInputException naming a parameter file Snakemake had not yet seen written; the
same command then worked when repeated. The parameter files are now written once, before
Snakemake builds the DAG.
"""
from __future__ import annotations

import json

import pytest
import yaml

from idl.clock import synth
from idl.clock.course_data import write_course_data
from pipeline import Project
from test_workflow import TINY

pytestmark = pytest.mark.slow


def test_a_model_and_its_score_on_external_clocks_run_on_a_fresh_clone_with_an_extra_config_file(tmp_path):
    origin = Project(tmp_path / "origin", tweak_demo=TINY, clock_models=["final_nc12"],
                     basics_runs=["mlp_adam", "mlp_sgd", "cnn_sgd_c3_d0"], gen_datasets=["tinyhero"],
                     gen_models=["vae"])
    origin.run("git", "clone", "-q", str(origin.path), str(tmp_path / "clone"))
    clone = Project.__new__(Project)
    clone.path = tmp_path / "clone"
    assert not (clone.path / ".snakemake").exists()

    images, labels = synth.generate(1, size=48, seed=99, workers=1, progress=False)
    write_course_data(clone.path / "X", images[::10], labels[::10])
    (clone.path / "extra.yaml").write_text(yaml.safe_dump({"clock": {"external": {"X": "X"}}}))
    targets = ["results/clock/models/final_nc12/metrics.json", "results/clock/scores/X/final_nc12/metrics.json"]
    proc = clone.run("snakemake", "--cores", "2", "--resources", "gpu=2", "--set-threads", "clock_train=1",
                     "--configfile", "params.yaml", "extra.yaml", "--", *targets, check=False)
    assert proc.returncode == 0, proc.stderr[-6000:]
    assert "MissingInputException" not in proc.stderr
    scored = json.loads((clone.path / targets[1]).read_text())
    assert scored["n"] == 72 and 0 <= scored["cse_mean"] <= 360
    # the extra file changed the parameters, so the run says it is not recorded in DVC
    assert "NOT recorded in DVC" in proc.stderr
    # and the same command now has nothing to do
    again = clone.run("snakemake", "-n", "--configfile", "params.yaml", "extra.yaml", "--", *targets)
    assert "Nothing to be done" in again.stdout + again.stderr
