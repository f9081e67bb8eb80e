"""The stage entry point every script uses: failures end up in the log file Snakemake points to."""
from pathlib import Path

from idl.errors import DataError
from idl.stage import stage_main

PARAMS = str(Path(__file__).resolve().parents[1] / "params.yaml")


def _fail_with(exc):
    def main(args, p):
        assert p["seed"] == 42
        raise exc

    return main


def test_a_data_error_is_one_clear_line_in_the_log(tmp_path):
    log = tmp_path / "stage.log"
    rc = stage_main(_fail_with(DataError("images.npy: not an image array")), ["seed"], lambda ap: None,
                    argv=["--params", PARAMS, "--log", str(log)])
    assert rc == 1
    text = log.read_text()
    assert "ERROR" in text and "images.npy: not an image array" in text and "Traceback" not in text


def test_an_unexpected_error_leaves_its_traceback_in_the_log(tmp_path):
    log = tmp_path / "stage.log"
    rc = stage_main(_fail_with(IndexError("index 1 is out of bounds")), ["seed"], lambda ap: None,
                    argv=["--params", PARAMS, "--log", str(log)])
    assert rc == 1
    text = log.read_text()
    assert "Traceback" in text and "IndexError: index 1 is out of bounds" in text
