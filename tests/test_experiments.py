"""experiments/clock_paper_scale.py, the README's paper-scale command, end to end on tiny clocks."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "experiments" / "clock_paper_scale.py"


def test_paper_scale_driver_trains_scores_and_summarises(tmp_path):
    recipe = {"kind": "multihead_angle", "curriculum": {"phases": [[0, 1], [180, None]], "advance_at": None,
                                                         "quarter_turns": True}}
    env = dict(os.environ, KERAS_BACKEND=os.environ.get("KERAS_BACKEND", "tensorflow"),
               TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path), "--per-minute", "1", "--size", "48",
         "--epochs", "2", "--minutes", "10", "--recipe", f"tiny={json.dumps(recipe)}",
         "--recipe", 'upright={"kind": "multihead_angle", "upright": true}', "tiny", "upright"],
        capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # the curriculum's rotations were generated once, next to the test distribution
    data = tmp_path / "data"
    assert sorted(p.name for p in data.glob("images_rot*.npy")) == ["images_rot0.npy", "images_rot180.npy"]
    assert (data / "dial_turn_rot180.npy").exists()  # the upright candidate's orientation targets
    row, upright = json.loads((tmp_path / "summary.json").read_text())
    assert upright["candidate"] == "upright" and "turned upright first" in upright["approach"]
    assert upright["epochs"] == 2 and 0 <= upright["cse_mean"] <= 360
    assert 0 <= upright["turn_error_deg"]["median"] <= upright["turn_error_deg"]["p90"] <= 180
    assert 0 <= upright["hour_errors"]["rate"] <= 1 and "turn_error_deg" not in json.loads(
        (tmp_path / "tiny" / "metrics.json").read_text())
    assert row["candidate"] == "tiny" and row["epochs"] == 2 and row["n_test"] == 72
    assert row["approach"].endswith("rotation curriculum with quarter turns")
    assert 0 <= row["cse_mean"] <= 360 and row["cse_median"] <= row["cse_p90"]
    assert 0 <= row["quarter_turns"]["cse_mean"] <= 360  # also read at four quarter turns
    history = (tmp_path / "tiny" / "history.csv").read_text().splitlines()
    rotation = history[0].split(",").index("max_rotation_deg")
    assert [float(line.split(",")[rotation]) for line in history[1:]] == [0.0, 180.0]
    for name in ("metrics.json", "learning_curves.png", "test_predictions.png", "model.keras"):
        assert (tmp_path / "tiny" / name).stat().st_size > 0
    assert "| tiny |" in (tmp_path / "summary.md").read_text()

    # Three follow-up runs on the same data, side by side (each reads the first run's files only):
    # (a) one more epoch on top of the saved upright model: the history and the counts go on;
    # (b) a new candidate with an hour-hand head, started from the upright model's weights;
    # (c) generated data of another size in the same folder is refused, not mixed.
    more, hand = tmp_path / "more", tmp_path / "hand"
    upright_recipe = 'upright={"kind": "multihead_angle", "upright": true}'
    runs = {
        "resume": [str(SCRIPT), "--out", str(more), "--work", str(data), "--resume-from", str(tmp_path),
                   "--per-minute", "1", "--size", "48", "--epochs", "1", "--recipe", upright_recipe, "upright"],
        "init": [str(SCRIPT), "--out", str(hand), "--work", str(data), "--init-from", str(tmp_path / "upright"),
                 "--per-minute", "1", "--size", "48", "--epochs", "1", "--learning-rate", "1e-4",
                 "--recipe", 'hand={"kind": "multihead_angle", "upright": true, "hour_hand": true}', "hand"],
        "other_size": [str(SCRIPT), "--out", str(tmp_path / "refused"), "--work", str(data), "--per-minute", "2",
                       "--size", "48", "--epochs", "1", "tiny", "--recipe", f"tiny={json.dumps(recipe)}"],
    }
    procs = {k: subprocess.Popen([sys.executable, *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env) for k, cmd in runs.items()}
    done = {}
    for k, p in procs.items():
        out, err = p.communicate(timeout=600)
        done[k] = (p.returncode, out, err)
    for k in ("resume", "init"):
        assert done[k][0] == 0, k + ": " + done[k][1][-3000:] + done[k][2][-3000:]

    (again,) = json.loads((more / "summary.json").read_text())
    assert again["epochs"] == 3 and again["resumed_from"] == str(tmp_path / "upright")
    assert again["train_minutes"] >= upright["train_minutes"]
    epochs = [line.split(",")[0] for line in (more / "upright" / "history.csv").read_text().splitlines()[1:]]
    assert epochs == ["0", "1", "2"]

    (started,) = json.loads((hand / "summary.json").read_text())
    init = started["initialised_from"]
    assert init["path"] == str(tmp_path / "upright") and init["epochs"] == 2
    assert "hour_hand" in init["fresh_layers"]
    assert not any(n.startswith(("turn", "conv", "hour_d")) for n in init["fresh_layers"])  # those were copied
    assert started["epochs"] == 3 and started["learning_rate"] == 1e-4 and "learning rate 0.0001" in started["approach"]
    assert 0 <= started["cse_mean_hour_from_classes"] <= 360 and 0 <= started["cse_mean"] <= 360

    assert done["other_size"][0] != 0 and "not 1440 of 48x48" in done["other_size"][2]


def test_unknown_candidate_is_named(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path), "no_such_model"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "unknown candidate 'no_such_model'" in proc.stderr
    assert not (tmp_path / "data").exists()  # nothing generated for a run that cannot start
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path), "--resume-from", str(tmp_path),
                           "--init-from", str(tmp_path), "multihead"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "give one of them" in proc.stderr
