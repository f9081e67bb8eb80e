"""The held-out-style clocks through the real pipeline: generated in the one style no training
clock has, and every model scored on them by the pipeline's own stage (profile demo, shrunk)."""
import json

import numpy as np
import pytest

from pipeline import Project

TINY = {"data": {"clock": {"synthetic": {"per_minute": 1, "size": 48}}},
        "clock": {"train": {"epochs": 1}, "heldout": {"images": 24, "models": None}}}  # None: every model
SCORES = "results/clock/scores/heldout_style"


@pytest.mark.slow
def test_every_model_is_scored_on_the_heldout_style_by_the_pipeline(tmp_path):
    p = Project(tmp_path / "proj", tweak_demo=TINY, clock_models=["final_nc12", "regression"],
                clock_external={"thin_two_views": {"generate": {"images": 24, "views": 2, "dials": ["thin"]}},
                                "foreign": {"independent": {"images": 24, "size": 48}}})
    p.snakemake(f"{SCORES}/summary.json", "results/clock/figures/styles.png",
                "results/clock/scores/thin_two_views/final_nc12/metrics.json",
                "results/clock/scores/foreign/final_nc12/metrics.json")

    held = p.params()["data"]["clock"]["synthetic"]["heldout_style"]
    source = json.loads((p.path / "resources/clock_heldout_style/SOURCE.json").read_text())
    assert (source["purpose"], source["images"], source["views"]) == ("heldout_style", 24, 10)
    assert [source["dials"], source["numerals"], source["hands"]] == [[held["dial"]], [held["numerals"]], [held["hands"]]]
    labels = np.load(p.path / "resources/clock_heldout_style/labels.npy")
    assert labels.shape == (24, 2) and len({tuple(r) for r in labels}) == 24
    # the training clocks are the course-like classic clock, in the same views
    training = json.loads((p.path / "resources/raw/clock/SOURCE.json").read_text())
    assert training["heldout_style"] == held and training["views"] == 10

    summary = json.loads((p.path / SCORES / "summary.json").read_text())
    assert sorted(summary["models"]) == ["final_nc12", "regression"]
    for name, scores in summary["models"].items():
        metrics = json.loads((p.path / SCORES / name / "metrics.json").read_text())
        assert metrics["n"] == scores["n"] == 24 and 0 <= metrics["cse_mean"] <= 360
        assert metrics["data"] == "resources/clock_heldout_style"
    assert summary["models"]["regression"]["accuracy"] is None  # a regression has no classes
    for name in ("styles", "views"):
        assert (p.path / f"results/clock/figures/{name}.png").stat().st_size > 10_000
    assert p.snakemake_planned(f"{SCORES}/summary.json") == set()

    # a clock.external entry the pipeline generates: data.clock.synthetic with the entry's keys
    made = p.path / "resources/clock_sets/thin_two_views"
    source = json.loads((made / "SOURCE.json").read_text())
    assert (source["images"], source["views"], source["dials"], source["size"]) == (24, 2, ["thin"], 48)
    assert source["numerals"] == training["numerals"] and source["seed"] != training["seed"]
    turns = np.load(made / "dial_turn.npy")
    assert abs(turns[0] - turns[1]) > 5  # two views, taken in turn, each within its few degrees of jitter
    assert np.ptp(turns[0::2]) <= 4 and np.ptp(turns[1::2]) <= 4
    assert np.array_equal(np.load(made / "labels.npy"), labels)  # the same 24 times, spread over 12 hours
    metrics = json.loads((p.path / "results/clock/scores/thin_two_views/final_nc12/metrics.json").read_text())
    assert metrics["n"] == 24 and metrics["data"] == "resources/clock_sets/thin_two_views"

    # one the second renderer draws: every pose its own, no turn record, scored like any folder
    drawn = p.path / "resources/clock_sets/foreign"
    source = json.loads((drawn / "SOURCE.json").read_text())
    assert (source["source"], source["images"], source["size"]) == ("idl.clock.independent", 24, 48)
    assert not (drawn / "dial_turn.npy").exists()
    looks = json.loads((drawn / "looks.json").read_text())
    assert len(looks) == 24 and len({look["turn"] for look in looks}) == 24
    assert np.load(drawn / "images.npy").shape == (24, 48, 48)
    assert np.array_equal(np.load(drawn / "labels.npy"), labels)
    metrics = json.loads((p.path / "results/clock/scores/foreign/final_nc12/metrics.json").read_text())
    assert metrics["n"] == 24 and metrics["data"] == "resources/clock_sets/foreign"
