"""configs/clock-paper.yaml, the README's paper-scale clock command: its chain of stages through the DAG."""
import json

import pytest
import yaml

from pipeline import ROOT, Project, named_config

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
    score on course-like clocks generated for it (a clock.external entry with generate) and on clocks from
    the second renderer (an entry with independent)."""
    p = Project(tmp_path / "proj")
    config = ("--configfile", "params.yaml", "configs/clock-general-cpu.yaml", "--config", "profile=paper")
    targets = ("results/clock/models/general/metrics.json", "results/clock/scores/heldout_style/summary.json",
               "results/clock/models/general_ft/metrics.json", "results/clock/scores/course_like/general/metrics.json",
               "results/clock/scores/independent/general/metrics.json")
    planned = p.snakemake_planned(*targets, *config)
    assert planned == {
        "generate_data[clock]", "clock_split", "clock_train[general_s1]", "clock_train[general]", "clock_evaluate[general]",
        "clock_heldout_data", "clock_score_heldout",
        "clock_split_external[heldout_set]", "clock_train[general_ft]", "clock_evaluate[general_ft]",
        "clock_generated_set[course_like]", "clock_score[course_like,general]",
        "clock_generated_set[independent]", "clock_score[independent,general]",
    }


REPORT_TABLES = ["t8_m0", "t8_m1", "t8_m2", "t8_m3", "t8_m4", "t8_m5", "t8_m6", "t8_m7", "t8_m8",
                 "final_nc12", "final_nc24", "final_nc48", "final_nc720", "regression", "multihead"]


def test_report_settings_config_trains_the_reports_clock_tables_and_nothing_else(tmp_path):
    """configs/clock-course-like-report-cpu.yaml as the README runs it: every model of Table 8, the n_c
    sweep, Table 9 and the multi-head model, at the report's settings with a wall-clock cap, and the
    summary (ours against the report's); none of the approaches beyond the report, no held-out style."""
    p = Project(tmp_path / "proj")
    config = ("--configfile", "params.yaml", "configs/clock-course-like-report-cpu.yaml", "--config", "profile=paper")
    planned = p.snakemake_planned("results/clock/summary/summary.json", *config)
    assert planned == {"generate_data[clock]", "clock_split", "clock_summary",
                       *(f"clock_train[{m}]" for m in REPORT_TABLES), *(f"clock_evaluate[{m}]" for m in REPORT_TABLES)}
    _, cfg = named_config(ROOT / "configs/clock-course-like-report-cpu.yaml")
    assert cfg["clock"]["train"]["learning_rate"] == 2.0e-4 and cfg["clock"]["train"]["epochs"] == 200
    assert cfg["clock"]["train"]["max_minutes"] == 12 and cfg["data"]["clock"]["synthetic"]["views"] == 10


def test_table8_only_config_plans_table8s_ten_models_and_the_summary(tmp_path):
    """configs/clock-table8-only.yaml layered on the 25-a-minute run: Table 8's models 0-9, nothing else."""
    files, cfg = named_config(ROOT / "configs/clock-table8-only.yaml")
    assert files[-2:] == ["configs/clock-course-like-report-cpu-25.yaml", "configs/clock-table8-only.yaml"]
    table8 = REPORT_TABLES[:10]
    assert sorted(cfg["clock"]["models"]) == sorted(table8)
    assert cfg["data"]["clock"]["synthetic"]["per_minute"] == 25
    p = Project(tmp_path / "proj")
    planned = p.snakemake_planned("results/clock/summary/summary.json", "--configfile", *files,
                                  "--config", "profile=paper")
    assert planned == {"generate_data[clock]", "clock_split", "clock_summary",
                       *(f"clock_train[{m}]" for m in table8), *(f"clock_evaluate[{m}]" for m in table8)}


@pytest.mark.parametrize("run", ["clock_course_like_report_cpu", "clock_course_like_report_cpu_25"])
def test_readme_gives_the_report_settings_runs_table8_as_committed(run):
    """The README's Table 8 figures are those of each run's own table8.csv (docs/results/), and its
    agreement figures those the summary stage computed."""
    import csv

    readme = (ROOT / "README.md").read_text()
    with open(ROOT / f"docs/results/{run}/table8.csv") as f:
        rows = {r["model"]: r for r in csv.DictReader(f)}
    ours = [f"{rows[m]['acc % (ours)']} % / {rows[m]['mean CSE min (ours)']} min" for m in ("0", "9")]
    assert f"[{ours[0]} and {ours[1]}](docs/results/{run}/table8.csv)" in readme
    summary = ROOT / f"docs/results/{run}/summary.json"
    agreement = json.loads(summary.read_text()).get("table8_vs_report")
    if agreement is not None:  # (the 10-a-minute run predates the figures)
        assert (f"our mean CSE is [{agreement['cse_ratio']:.2f} times the report's, in its order with rank correlation "
                f"{agreement['spearman_cse']:.2f} ({agreement['spearman_accuracy']:.2f} by accuracy)](docs/results/{run}/summary.json)"
                in readme)
