"""configs/clock-paper.yaml, the README's paper-scale clock command: its chain of stages through the DAG."""
import json

import pytest
import yaml

from pipeline import Project

TARGET = "results/clock/models/upright_s2/metrics.json"


@pytest.mark.slow
def test_paper_config_chains_stages_through_the_dag(tmp_path):
    p = Project(tmp_path / "proj", clock_models=["final_nc12"])
    # the named configuration as a user gives it, made tiny: one epoch a stage, small clocks
    tiny = {"clock": {"models": {f"upright_s{i}": {"epochs": 1} for i in (1, 2, 3, 4)}},
            "profiles": {"demo": {"data": {"clock": {"synthetic": {"per_minute": 1, "size": 48}}}}}}
    (p.path / "tiny.yaml").write_text(yaml.safe_dump(tiny))
    config = ("--configfile", "params.yaml", "configs/clock-paper.yaml", "tiny.yaml")

    # the headline model needs every stage before it, each starting from the one before
    planned = p.snakemake_planned("results/clock/models/upright_s4/metrics.json", *config)
    assert {f"clock_train[upright_s{i}]" for i in (1, 2, 3, 4)} <= planned

    p.snakemake(TARGET, *config)
    log = (p.path / "logs/clock/train_upright_s2.log").read_text()
    assert "started from results/clock/models/upright_s1/model.keras" in log
    assert "fresh: hand_" in log  # the new hour-hand head starts fresh, the rest is carried over
    metrics = json.loads((p.path / TARGET).read_text())
    assert metrics["approach"].endswith("started from upright_s1")
    # the error breakdown of the evaluate stage
    errors = metrics["hour_errors"]
    assert 0 <= errors["rate"] <= 1 and errors["one_hour_off"] + errors["six_hours_off"] <= 72
    assert 0 <= metrics["turn_error_deg"]["median"] <= metrics["turn_error_deg"]["p90"] <= 180
    assert 0 <= metrics["cse_mean_hour_from_classes"] <= 360
    assert p.snakemake_planned(TARGET, *config) == set()

    # a change to the first stage's recipe retrains it and everything that started from it
    tiny["clock"]["models"]["upright_s1"]["learning_rate"] = 5e-4
    (p.path / "tiny.yaml").write_text(yaml.safe_dump(tiny))
    assert {"clock_train[upright_s1]", "clock_train[upright_s2]"} <= p.snakemake_planned(TARGET, *config)


def test_general_reader_config_plans_its_whole_route_and_nothing_else(tmp_path):
    """configs/clock-general-cpu.yaml as the README runs it (params.yaml's own profile): training on every
    style but the held-out one, the held-out-style clocks the pipeline generates, the zero-shot score on
    them, a fine-tune on that same generated folder (clock.external naming a pipeline output), and the
    score on course-like clocks generated for it (a clock.external entry with generate)."""
    p = Project(tmp_path / "proj")
    config = ("--configfile", "params.yaml", "configs/clock-general-cpu.yaml", "--config", "profile=paper")
    targets = ("results/clock/models/general/metrics.json", "results/clock/scores/heldout_style/summary.json",
               "results/clock/models/general_ft/metrics.json", "results/clock/scores/course_like/general/metrics.json")
    planned = p.snakemake_planned(*targets, *config)
    assert planned == {
        "generate_data[clock]", "clock_split", "clock_train[general]", "clock_evaluate[general]",
        "clock_heldout_data", "clock_score_heldout",
        "clock_split_external[heldout_set]", "clock_train[general_ft]", "clock_evaluate[general_ft]",
        "clock_generated_set[course_like]", "clock_score[course_like,general]",
    }
