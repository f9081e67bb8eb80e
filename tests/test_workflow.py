"""The two engines run one DAG: each records what the other did, and a parameter change
reruns exactly the stages that read it and their descendants, with either engine.

These run the real pipeline (profile demo, shrunk further) in a copy of the project.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from pipeline import ROOT, Project, env, output_files

pytestmark = pytest.mark.slow

# Smaller than the demo: the point here is the bookkeeping, not the learning.
TINY = {
    "data": {
        "clock": {"synthetic": {"per_minute": 1, "size": 48}},
        "fashion_mnist": {"synthetic": {"n_train": 60, "n_test": 20}},
        "cifar10": {"synthetic": {"n_train": 60, "n_test": 20}},
        "afhq": {"synthetic": {"n_cat": 12}},
        "pistachio": {"synthetic": {"n_kirmizi": 12}},
        "tinyhero": {"synthetic": {"n_per_direction": 12}},
    },
    "clock": {"train": {"epochs": 1}},
    "basics": {"train": {"epochs": 1}},
    "generative": {"evaluate": {"score_images": 12, "n_show": 4},
                   "models": {"vae": {"epochs": 1, "filters": 8}}},
}
# one model of each kind the summary tables read (final_nc12 is also Table 8's model 9), the
# curriculum (its generated folders) and the upright reader (its dial_turn.npy from the generator)
MODELS = ["final_nc12", "multihead_angle_curriculum", "multihead_angle_upright"]
# DVC from scratch runs the same rules on fewer models: every stage command is already run
# by Snakemake above, and DVC runs its stages one after the other
DVC_MODELS = ["final_nc12"]
# the fewest Task 1 runs a ranking of three needs, the cheapest of them
RUNS = ["mlp_adam", "mlp_sgd", "cnn_sgd_c3_d0"]
# Task 3: one dataset, and the VAE, whose evaluation draws every kind of figure (the CAE and GAN
# go through the same rules; their training is tested in test_generative_models.py)
GEN = ["tinyhero"]
GEN_MODELS = ["vae"]


def test_committed_dvc_yaml_is_generated_from_the_dag():
    proc = subprocess.run(
        [sys.executable, "-m", "idl.dvcgen", "--check"], cwd=ROOT, env=env(), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_snakemake_lint_is_clean():
    proc = subprocess.run(["snakemake", "--lint"], cwd=ROOT, env=env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Congratulations, your workflow is in a good condition!" in proc.stdout + proc.stderr


def test_stale_dvc_yaml_is_detected(tmp_path):
    project = Project(tmp_path, tweak_demo=TINY, clock_models=MODELS, basics_runs=RUNS,
                      gen_datasets=GEN, gen_models=GEN_MODELS)
    rules = project.path / "rules" / "clock.smk"
    text = rules.read_text()
    assert '"logs/clock/split.log"' in text
    rules.write_text(text.replace('"logs/clock/split.log"', '"logs/clock/split-renamed.log"'))
    proc = project.run(sys.executable, "-m", "idl.dvcgen", "--check", check=False)
    assert proc.returncode == 1 and "stale" in proc.stderr


@pytest.fixture(scope="module")
def snakemade(tmp_path_factory):
    """A project whose whole DAG was built by Snakemake."""
    project = Project(tmp_path_factory.mktemp("snakemake"), tweak_demo=TINY, clock_models=MODELS, basics_runs=RUNS,
                      gen_datasets=GEN, gen_models=GEN_MODELS)
    project.snakemake()
    return project


def test_snakemake_report_has_every_figure_with_the_captions_of_the_results_page(snakemade, tmp_path):
    import html
    import re
    import zipfile

    p = snakemade
    assert p.run("snakemake", "--report", str(tmp_path / "report.zip")).returncode == 0
    with zipfile.ZipFile(tmp_path / "report.zip") as z:
        names = set(z.namelist())
        page = z.read("report/report.html").decode()
    results = json.loads(re.search(r'<script id="results">\s*var results = (.*?);\s*</script>', page, re.S).group(1))
    captions = {path: " ".join(html.unescape(re.sub(r"<[^>]+>", "", r["caption"])).split())
                for path, r in results.items()}
    # the figures and tables of each task, each in the archive, with its caption
    for path in ("results/basics/summary/table3.csv", "results/basics/summary/overview.png",
                 "results/clock/summary/figure3.png", "results/clock/summary/vs_report.png",
                 "results/clock/summary/approaches.csv",
                 "results/clock/models/final_nc12/test_predictions.png",
                 "results/generative/summary/comparison.csv", "results/generative/tinyhero/vae/figures/samples.png",
                 "results/data/tinyhero_downsampling.png", "results/clock/figures/samples.png"):
        assert path in results and f"report/{results[path]['data_uri']}" in names, path
        assert captions[path], path
    assert captions["results/clock/summary/figure3.png"] == \
        "Figure 3: validation accuracy per epoch of the starred Table 8 models."
    assert captions["results/generative/tinyhero/vae/figures/samples.png"].startswith(
        "Figure 9: vae: samples decoded from random latent vectors")
    # every figure of the results page has, in the report, the caption the page gives it
    shown = re.findall(r"!\[(.*?)\]\((.*?)\)", (p.path / "results/report/index.md").read_text())
    assert len(shown) >= 10
    for caption, rel in shown:
        assert captions[os.path.normpath(f"results/report/{rel}")] == caption.replace("`", "")
    # a self-contained HTML file too; making a report leaves both engines with nothing to do
    assert p.run("snakemake", "--report", str(tmp_path / "report.html")).returncode == 0
    assert "samples decoded from random latent vectors" in (tmp_path / "report.html").read_text()
    assert p.snakemake_planned() == set()
    assert p.dvc_status() == {}


def test_snakemake_run_is_recorded_in_dvc(snakemade):
    assert (snakemade.path / "results/report/index.html").exists()
    assert (snakemade.path / "dvc.lock").exists()
    assert snakemade.dvc_status() == {}
    assert snakemade.snakemake_planned() == set()
    # the clock metrics are DVC metrics: `dvc metrics show` reads them
    shown = json.loads(snakemade.run("dvc", "metrics", "show", "--json").stdout)
    flat = json.dumps(shown)
    assert "results/clock/models/final_nc12/metrics.json" in flat and "cse_mean" in flat
    # every model is also read at four quarter turns, beside its plain reading in the approaches table
    turned = json.loads((snakemade.path / "results/clock/models/multihead_angle_upright/metrics.json")
                        .read_text())["quarter_turns"]
    assert 0 <= turned["accuracy"] <= 1 and 0 <= turned["cse_median"] <= turned["cse_p90"] <= 360
    import csv

    with open(snakemade.path / "results/clock/summary/approaches.csv") as f:
        rows = {r["approach"].split(" ")[0]: r for r in csv.DictReader(f)}
    assert float(rows["multihead_angle_upright"]["mean CSE min, read at 4 quarter turns (ours)"]) == round(
        turned["cse_mean"], 1)
    # Task 3: a row per model on the one dataset, its scores as DVC metrics, its section on the page
    table = (snakemade.path / "results/generative/summary/comparison.csv").read_text().splitlines()
    assert [row.split(",")[:2] for row in table[1:]] == [["tinyhero", "vae"]]
    assert "results/generative/summary/summary.json" in flat and "samples_relative_diversity" in flat
    page = (snakemade.path / "results/report/index.md").read_text()
    assert "## Task 3: generative models" in page and "Figure 9: `vae`: samples" in page
    # every job left Snakemake's record of its time and memory; the page tables the slowest
    assert (snakemade.path / "logs/benchmarks/clock_train/clock_train_final_nc12.tsv").exists()
    timing = page.split("## Where the time went", 1)[1]
    rows = [line for line in timing.splitlines() if line.startswith("| ") and not line.startswith("| rule |")]
    assert "stages recorded" in timing and len(rows) >= 1, timing


def test_a_fresh_clone_pulls_the_whole_run_and_neither_engine_has_anything_to_do(snakemade, tmp_path):
    """Before the tests below change the run: pushed to a folder remote (a cluster's shared disk),
    pulled into a fresh clone with `./run pull` (idl.sharing), which DVC writes in its own order,
    with its own file times (docs/sharing.md)."""
    p = snakemade
    store = tmp_path / "store"
    p.run("dvc", "remote", "add", "--local", "--default", "shared", str(store))
    p.run("dvc", "push")
    clone = p.clone(tmp_path / "clone")
    (clone.path / "dvc.lock").write_bytes((p.path / "dvc.lock").read_bytes())  # as the first user commits it
    clone.run("git", "add", "dvc.lock")
    clone.run("git", "commit", "-qm", "the run")
    clone.run("dvc", "remote", "add", "--default", "shared", str(store))  # the README's one command
    clone.run(sys.executable, "-m", "idl.sharing", "pull")
    assert clone.snakemake_planned() == set()
    assert clone.dvc_status() == {}
    ours, theirs = output_files(clone), output_files(p)
    assert set(ours) == set(theirs) and "results/report/index.html" in ours
    assert {"results/clock/models/final_nc12/model.keras", "results/clock/models/final_nc12/metrics.json"} < set(ours)
    assert [f for f in sorted(ours) if ours[f] != theirs[f]] == []


def test_param_change_reruns_exactly_its_readers_with_either_engine(snakemade):
    p = snakemade
    params = p.params()
    params["clock"]["models"]["final_nc12"]["lr_halving_epochs"] = 3
    params["generative"]["models"]["vae"]["latent_dim"] = 16
    p.write_params(params)
    # (final_nc12 is one of the demo's clock.heldout.models: its held-out-style score is redone too)
    expected = {"clock_train[final_nc12]", "clock_evaluate[final_nc12]", "clock_score_heldout", "clock_summary",
                "gen_train[tinyhero,vae]", "gen_evaluate[tinyhero,vae]", "gen_summary", "report"}
    assert p.snakemake_planned() == expected
    # DVC sees the same change and reruns the same stages, in order ...
    assert p.dvc_repro() == {"clock_train_final_nc12", "clock_evaluate_final_nc12", "clock_score_heldout", "clock_summary",
                             "gen_train_tinyhero_vae", "gen_evaluate_tinyhero_vae", "gen_summary", "report"}
    # each stage DVC ran dropped Snakemake's older record of it (its age would read as an output's)
    assert not (p.path / "logs/benchmarks/clock_train/clock_train_final_nc12.tsv").exists()
    assert (p.path / "logs/benchmarks/clock_split/clock_split.tsv").exists()
    # ... after which Snakemake has nothing left to do
    assert p.snakemake_planned() == set()
    assert p.dvc_status() == {}

    # a parameter of one dataset's preparation touches only that dataset, with Snakemake
    params["prepare"]["pistachio"]["size"] = 16
    p.write_params(params)
    assert p.snakemake_planned() == {"prepare_images[pistachio]"}  # not one of generative.datasets
    p.snakemake()
    assert p.dvc_status() == {}


def test_config_override_runs_but_is_not_recorded(snakemade):
    p = snakemade
    # nested values need a config file (--config parses nested values as strings)
    (p.path / "override.yaml").write_text("prepare:\n  afhq:\n    size: 16\n")
    proc = p.snakemake("--configfile", "params.yaml", "override.yaml")
    assert "NOT recorded in DVC" in proc.stderr
    changed = p.dvc_status()
    assert "prepare_images_afhq" in changed
    # back to params.yaml: Snakemake redoes what the override changed, and records it
    assert p.snakemake_planned() == {"prepare_images[afhq]"}
    p.snakemake()
    assert p.dvc_status() == {}


def test_switching_parameter_files_reruns_only_what_their_values_change(snakemade):
    """A run with an override file, a look at params.yaml (`snakemake -n`: the value files flip back
    to its values), then the override with one more, unrelated file: what the first run made still
    stands, and only the stage whose value the extra file changes is planned. The value files hold
    the values alone, so Snakemake finds them as they were when each stage ran, whichever parameter
    file wrote them (it used to plan everything the override had made, and retrain it)."""
    p = snakemade
    (p.path / "override.yaml").write_text("prepare:\n  afhq:\n    size: 16\n")
    (p.path / "unrelated.yaml").write_text("prepare:\n  pistachio:\n    size: 8\n")
    p.snakemake("--configfile", "params.yaml", "override.yaml")
    assert p.snakemake_planned() == {"prepare_images[afhq]"}  # params.yaml's value differs
    assert p.snakemake_planned("--configfile", "params.yaml", "override.yaml") == set()
    assert p.snakemake_planned() == {"prepare_images[afhq]"}
    assert p.snakemake_planned("--configfile", "params.yaml", "override.yaml", "unrelated.yaml") == \
        {"prepare_images[pistachio]"}
    # back to params.yaml: only what the override made is redone, and the run is recorded
    assert p.snakemake_planned() == {"prepare_images[afhq]"}
    p.snakemake()
    assert p.snakemake_planned() == set()
    assert p.dvc_status() == {}


def _as_stage(job: str) -> str:
    """Snakemake's 'rule[a,b]' as DVC's stage name 'rule_a_b'."""
    rule, _, wildcards = job.partition("[")
    return "_".join([rule, *filter(None, wildcards.rstrip("]").split(","))])


# the held-out-style scores run the evaluate code too, for every model in one stage
CLOCK_EVALUATE = {f"clock_evaluate_{m}" for m in MODELS} | {"clock_score_heldout"}
# file edited -> the stages whose code changed (what `dvc status` lists); Snakemake plans those
# and everything downstream of them
CODE_EDITS = {
    "src/idl/clock/evaluate.py": CLOCK_EVALUATE,
    "src/idl/generative/scores.py": {"gen_evaluate_tinyhero_vae"},
    "src/idl/models/generative.py": {"gen_train_tinyhero_vae", "gen_evaluate_tinyhero_vae"},
    # every stage that draws a figure with it (the clock style sheets too), and no training stage:
    # each task draws its learning curves when it evaluates or summarises, not when it trains
    "src/idl/plots.py": CLOCK_EVALUATE | {"basics_summary", "gen_evaluate_tinyhero_vae", "gen_summary",
                                          "clock_samples"},
    # the download code is not the demo's: its generated data stays as it is
    "src/idl/data/acquire.py": set(),
}
DOWNSTREAM = {"src/idl/clock/evaluate.py": {"clock_summary", "report"},
              "src/idl/generative/scores.py": {"gen_summary", "report"},
              "src/idl/models/generative.py": {"gen_summary", "report"},
              "src/idl/plots.py": {"clock_summary", "report"},
              "src/idl/data/acquire.py": set()}


@pytest.mark.parametrize("edited", sorted(CODE_EDITS))
def test_a_code_edit_reruns_exactly_the_stages_that_run_that_code(snakemade, edited):
    p = snakemade
    path = p.path / edited
    text, times = path.read_text(), (path.stat().st_atime_ns, path.stat().st_mtime_ns)
    path.write_text(text + "\n# an edit that changes nothing a stage computes\n")
    try:
        assert set(p.dvc_status()) == CODE_EDITS[edited]
        assert {_as_stage(j) for j in p.snakemake_planned()} == CODE_EDITS[edited] | DOWNSTREAM[edited]
    finally:
        path.write_text(text)
        os.utime(path, ns=times)  # the next test checks that both engines are idle again


def test_a_new_optional_parameter_reruns_nothing(snakemade):
    p = snakemade
    schema = p.path / "src/idl/params.schema.yaml"
    text, times = schema.read_text(), (schema.stat().st_atime_ns, schema.stat().st_mtime_ns)
    old = ("          patience: {type: [integer, \"null\"], minimum: 1, default: 5, description: \"epochs without a "
           "lower training loss before stopping; null: no early stopping\"}\n")
    assert old in text
    schema.write_text(text.replace(old, old + "          note: {type: string, description: 'a new optional key'}\n"))
    try:
        assert p.dvc_status() == {} and p.snakemake_planned() == set()
    finally:
        schema.write_text(text)
        os.utime(schema, ns=times)


def test_dvc_repro_from_scratch_leaves_snakemake_nothing_to_do(tmp_path):
    # one branch of the DAG, from raw data to an evaluated model: the same mechanism as the whole
    # DAG (which Snakemake runs above), at a fifth of the cost
    project = Project(tmp_path, tweak_demo=TINY, clock_models=DVC_MODELS, basics_runs=RUNS,
                      gen_datasets=GEN, gen_models=GEN_MODELS)
    ran = project.dvc_repro("clock_evaluate_final_nc12")
    assert {"generate_data_clock", "clock_split", "clock_train_final_nc12", "clock_evaluate_final_nc12"} <= ran
    assert not (project.path / "logs/benchmarks").exists()  # Snakemake's job records: DVC makes none
    assert project.snakemake_planned("results/clock/models/final_nc12/metrics.json") == set()


def test_a_dvc_yaml_of_another_dag_is_never_recorded_into_and_says_how_to_regenerate_it(tmp_path):
    """dvc.yaml is written for one DAG: the committed one for params.yaml's profile (paper), which
    downloads every dataset. Under parameters that make another DAG (the demo profile, a model
    added) and without `./run dvcgen`, a stage DVC runs stops saying what to do (idl.dagshape), and
    a Snakemake run is not recorded against a dvc.yaml whose stages are not its jobs (it would
    credit download stages with generated data)."""
    project = Project(tmp_path, tweak_demo=TINY, clock_models=DVC_MODELS, basics_runs=RUNS,
                      gen_datasets=GEN, gen_models=GEN_MODELS)
    record = [sys.executable, "-c", "import sys; from idl.workflow import record_in_dvc; "
              "sys.exit(0 if record_in_dvc('params.yaml') else 3)"]
    project.snakemake("results/clock/split")  # part of the DAG, recorded: dvc.yaml is this DAG's
    assert set(project.dvc_status()) >= {"clock_train_final_nc12"} and "clock_split" not in project.dvc_status()
    lock = (project.path / "dvc.lock").read_text()

    # another DAG: a second clock model, dvc.yaml not regenerated
    params = project.params()
    params["clock"]["models"]["regression"] = yaml.safe_load((ROOT / "params.yaml").read_text())["clock"]["models"]["regression"]
    project.write_params(params)
    proc = project.run(*record, check=False)
    assert proc.returncode == 3 and "NOT recorded in DVC" in proc.stderr and "./run dvcgen" in proc.stderr
    assert (project.path / "dvc.lock").read_text() == lock
    # and DVC, made to run a stage of the old dvc.yaml under these parameters, stops it before it starts
    proc = project.run("dvc", "repro", "--force", "--single-item", "clock_split", check=False)
    assert proc.returncode != 0 and "makes another DAG than" in proc.stdout + proc.stderr
    assert "./run dvcgen" in proc.stdout + proc.stderr
    project.run(sys.executable, "-m", "idl.dvcgen")
    assert project.run(*record, check=False).returncode == 0

    # the committed dvc.yaml (the paper's DAG) under the demo profile: DVC's first stage says what to do
    (project.path / "dvc.yaml").write_text((ROOT / "dvc.yaml").read_text())
    proc = project.run("dvc", "repro", "acquire_clock", check=False)
    assert proc.returncode != 0 and "./run dvcgen" in proc.stdout + proc.stderr
