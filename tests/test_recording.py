"""Recording a Snakemake run of part of the DAG in DVC (idl.workflow.record_in_dvc): the finished
stages are committed branch by branch (``dvc commit --with-deps`` on each branch's last stage),
because naming each stage costs DVC a parse and a rewrite of dvc.yaml and dvc.lock."""
from idl.workflow import commit_targets, dvc_stages
from pipeline import ROOT

# raw -> split -> train_a -> eval_a -> summary, split -> train_b; data/ a folder, models/ files in one
DAG = {
    "raw": ([], ["data/raw"]),
    "split": (["data/raw"], ["data/split"]),
    "train_a": (["data/split/train.npy", "src/a.py"], ["models/a/model.keras", "models/a/metrics.json"]),
    "train_b": (["data/split"], ["models/b/model.keras"]),
    "eval_a": (["models/a/model.keras"], ["scores/a.json"]),
    "summary": (["scores/a.json", "models"], ["summary.json"]),  # "models": a folder holding outputs
}


def test_each_finished_branch_is_committed_by_its_last_stage():
    every = set(DAG)
    assert commit_targets(DAG, every) == (["summary"], [])  # summary reads models/: both trainings
    assert commit_targets(DAG, every - {"summary"}) == (["eval_a", "train_b"], [])
    assert commit_targets(DAG, {"raw", "split", "train_b"}) == (["train_b"], [])
    assert commit_targets(DAG, {"raw"}) == (["raw"], [])


def test_a_finished_stage_with_an_unfinished_ancestor_is_named_alone():
    # the split's outputs are gone, the training's are there: --with-deps would fail on the split
    assert commit_targets(DAG, {"raw", "train_a", "eval_a"}) == (["raw"], ["eval_a", "train_a"])
    assert commit_targets(DAG, set()) == ([], [])


def test_on_the_real_dag_a_run_of_one_task_is_a_few_dvc_calls():
    stages = dvc_stages(ROOT / "dvc.yaml")
    clock = {s for s in stages if s.startswith("clock_") or s in {"acquire_clock", "generate_data_clock"}}
    branches, alone = commit_targets(stages, clock)
    assert alone == [] and 0 < len(branches) <= 3 and "clock_summary" in branches, branches
    # everything but the results page: each task's summary, and a few leaves nothing else reads
    branches, alone = commit_targets(stages, set(stages) - {"report"})
    assert alone == [] and {"basics_summary", "clock_summary", "gen_summary"} <= set(branches), branches
