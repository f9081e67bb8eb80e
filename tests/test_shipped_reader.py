"""The committed clock readers are the models of the runs the README cites: the shipped one
(src/idl/clock/shipped/, configs/clock-general-cpu.yaml's general reader) and the headline one
(src/idl/clock/readers/upright_s4/, configs/clock-paper-cpu.yaml's upright_s4). Read back with its
SHA-256 checked, each scores its run's test split, regenerated here from the run's own parameters,
exactly as the run's evaluate stage did, and those are the figures the README gives."""
import json
import sys

import numpy as np
import pytest

from idl.clock import read as R
from idl.clock import recipes, synth
from idl.clock.course_data import split_indices
from idl.clock.labels import cse_minutes, to_minutes
from pipeline import ROOT, named_config

#: reader folder, the run's config, the run's model, the run's evaluate-stage metrics.json (copied
#: from results/clock/models/<model>/)
READERS = {
    "shipped": (R.SHIPPED, "configs/clock-general-cpu.yaml", "general",
                "docs/results/clock_general_cpu/general_metrics.json"),
    "headline": (R.SHIPPED.parent / "readers/upright_s4", "configs/clock-paper-cpu.yaml", "upright_s4",
                 "docs/results/clock_paper_cpu/upright_s4_metrics.json"),
}
HEADLINE, MODEL = READERS["headline"][0], READERS["headline"][2]


@pytest.fixture(scope="module", params=sorted(READERS))
def run(request):
    folder, config, model, metrics = READERS[request.param]
    _, p = named_config(ROOT / config)
    syn = p["data"]["clock"]["synthetic"]
    labels = synth.time_labels(syn["per_minute"])
    f = p["clock"]["split"]
    test = split_indices(labels, fractions=(f["train"], f["val"], f["test"]), seed=p["seed"])["test"]
    settings = synth.settings_from({k: v for k, v in syn.items() if k not in ("per_minute", "size")})
    images = np.stack([synth.render_row(int(r), int(labels[r, 0]), int(labels[r, 1]), p["seed"], syn["size"],
                                        settings)[0] for r in test])
    # refuses weights whose SHA-256 is not reader.json's
    return p, model, R.load_reader(folder), images, to_minutes(labels[test]), json.loads((ROOT / metrics).read_text())


def test_each_committed_reader_is_its_runs_model(run):
    p, model, reader, _, _, metrics = run
    assert reader.meta["model"] == model == metrics["model"]
    assert reader.meta["recipe"] == p["clock"]["models"][model]
    assert reader.image_size == p["data"]["clock"]["synthetic"]["size"]


def test_each_committed_reader_scores_its_runs_test_split_as_the_run_did_and_the_readme_says(run):
    _, _, reader, images, true_minutes, metrics = run
    assert metrics["n"] == len(images)

    plain = recipes.predict(reader.recipe, reader.model, images)
    turned = recipes.predict(reader.recipe, reader.model, images, quarter_turns=True,
                             unturned_outputs=plain["outputs"])
    plain_cse = cse_minutes(true_minutes, plain["minutes"]).mean()
    turned_cse = cse_minutes(true_minutes, turned["minutes"]).mean()
    assert plain_cse == pytest.approx(metrics["cse_mean"], abs=1e-3)
    assert turned_cse == pytest.approx(metrics["quarter_turns"]["cse_mean"], abs=1e-3)

    readme = (ROOT / "README.md").read_text()
    for figure in (turned_cse, plain_cse):
        assert f"**{figure:.2f}**" in readme, f"the README does not give {figure:.2f}"


@pytest.mark.slow
def test_course_format_data_is_scored_with_the_shipped_reader_through_the_dag_training_nothing(tmp_path):
    """docs/task2.md's route for a user with the course's data: the headline reader written out where
    the pipeline keeps upright_s4's model, and only the scoring rule allowed; the course's 150x150
    clocks are box-filtered to the reader's side, and read as `python -m idl.clock.read` reads them."""
    import pandas as pd

    from idl.clock.course_data import write_course_data
    from pipeline import Project

    minutes = np.arange(0, 720, 30)  # 24 clocks, every half hour
    images = np.stack([synth.render_clock(int(m // 60), int(m % 60), np.random.default_rng([7, i]), 150)
                       for i, m in enumerate(minutes)])
    course = tmp_path / "A1_data_150"
    write_course_data(course, images, np.stack([minutes // 60, minutes % 60], axis=1))
    p = Project(tmp_path / "proj", clock_models=["final_nc12"], clock_external={"course": str(course)})
    p.run(sys.executable, "-m", "idl.clock.read", "--reader", str(HEADLINE),
          "--save-model", f"results/clock/models/{MODEL}/model.keras")
    target = f"results/clock/scores/course/{MODEL}/metrics.json"
    p.snakemake(target, "--configfile", "params.yaml", "configs/clock-paper.yaml", "configs/clock-paper-cpu.yaml",
                "--allowed-rules", "clock_score")

    assert not (p.path / "resources/raw/clock").exists()  # nothing generated, nothing trained
    metrics = json.loads((p.path / target).read_text())
    assert metrics["n"] == 24 and metrics["resized_from"] == [150, 150]
    predicted = pd.read_csv(p.path / f"results/clock/scores/course/{MODEL}/predictions.csv")["pred_minutes"]
    read = p.run(sys.executable, "-m", "idl.clock.read", "--reader", str(HEADLINE),
                 str(course / "images.npy")).stdout.split()
    assert R.format_times(predicted) == read
