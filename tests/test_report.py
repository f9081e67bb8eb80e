"""The results page says which clock data produced its numbers, and how it differs from the course's."""
import json

from idl.report import describe_data


def _raw(tmp_path, **source):
    (tmp_path / "SOURCE.json").write_text(json.dumps(source))
    return tmp_path


def test_generated_clocks_are_named_as_such_and_easier_variants_say_how(tmp_path):
    sentence, synthetic = describe_data(_raw(tmp_path, source="synthetic", per_minute=25, size=150, seed=42,
                                             max_rotation_deg=180, max_tilt_deg=50))
    assert synthetic and "NOT the course data" in sentence and "EASIER" not in sentence
    sentence, _ = describe_data(_raw(tmp_path, source="synthetic", per_minute=5, size=75, seed=42,
                                     max_rotation_deg=30, max_tilt_deg=0))
    assert "EASIER: rotation within 30 degrees of upright, tilt up to 0 degrees" in sentence


def test_real_clock_data_names_its_source(tmp_path):
    sentence, synthetic = describe_data(_raw(tmp_path, source="download", url="https://example.org/a1.zip"))
    assert not synthetic and "https://example.org/a1.zip" in sentence
