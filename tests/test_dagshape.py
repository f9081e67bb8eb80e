"""dvc.yaml is written for the DAG its parameters give; a stage DVC runs under parameters that give
another DAG (another profile, models added or chained otherwise) stops and says to regenerate it."""
import copy

import pytest
import yaml

from idl import params as P
from idl.dagshape import SHAPE_LINE, dag_shape, refuse_a_stale_dvc_yaml, written_shape
from idl.errors import ParamsError
from pipeline import ROOT


@pytest.fixture()
def raw():
    return P.read_yaml(ROOT / "params.yaml")


def _shape(raw, change=None):
    raw = copy.deepcopy(raw)
    if change:
        change(raw)
    return dag_shape(P.resolve(raw))


def test_the_shape_follows_what_decides_the_stages_and_nothing_else(raw):
    base = _shape(raw)
    assert _shape(raw) == base  # deterministic
    shaping = {
        "the demo profile": lambda r: r.update(profile="demo"),
        "a model left out": lambda r: r["clock"]["models"].update(t8_m0=None),
        "a chained model": lambda r: r["clock"]["models"]["t8_m1"].update(init_from="t8_m0"),
        "a Task 1 run left out": lambda r: r["basics"]["runs"].pop("mlp_sgd"),
        "a dataset generated": lambda r: r["data"]["pistachio"].update(source="synthetic"),
        "a folder to score on": lambda r: r["clock"]["external"].update(course="/data/A1"),
        "clocks to generate": lambda r: r["clock"]["external"].update(thin={"generate": {"images": 24}}),
        "fewer held-out scores": lambda r: r["clock"]["heldout"].update(models=["final_nc12"]),
        "one generative dataset": lambda r: r["generative"].update(datasets=["tinyhero"]),
    }
    for what, change in shaping.items():
        assert _shape(raw, change) != base, what
    computing = {
        "epochs": lambda r: r["clock"]["models"]["t8_m0"].update(epochs=3),
        "a learning rate": lambda r: r["generative"]["models"]["vae"].update(learning_rate=1e-4),
        "the seed": lambda r: r.update(seed=7),
        "generator looks": lambda r: r["data"]["clock"]["synthetic"].update(views=3),
        "held-out clock count": lambda r: r["clock"]["heldout"].update(images=720),
    }
    for what, change in computing.items():
        assert _shape(raw, change) == base, what


def test_the_committed_dvc_yaml_carries_params_yamls_shape(raw):
    assert written_shape(ROOT / "dvc.yaml") == dag_shape(P.resolve(raw))


def test_a_stage_run_by_dvc_stops_when_its_parameters_make_another_dag(raw, tmp_path):
    (tmp_path / "dvc.yaml").write_text(f"# generated\n{SHAPE_LINE}{dag_shape(P.resolve(raw))}\nstages: {{}}\n")
    same, other = tmp_path / "same.yaml", tmp_path / "demo.yaml"
    same.write_text(yaml.safe_dump(raw))
    other.write_text(yaml.safe_dump({**raw, "profile": "demo"}))
    dvc = {"DVC_STAGE": "dvc.yaml:acquire_clock", "DVC_ROOT": str(tmp_path)}
    refuse_a_stale_dvc_yaml(same, dvc)
    refuse_a_stale_dvc_yaml(other, {})  # not under DVC: Snakemake's own DAG is always current
    with pytest.raises(ParamsError, match=r"makes another DAG than .*dvc.yaml was written for.*\./run dvcgen"):
        refuse_a_stale_dvc_yaml(other, dvc)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")  # a dvc.yaml without a shape: nothing to compare
    refuse_a_stale_dvc_yaml(other, dvc)
