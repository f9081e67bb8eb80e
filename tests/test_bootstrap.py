"""scripts/_bootstrap.py: what every stage script runs first (import path, Keras backend)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def stage_python(code: str, tmp_path: Path, **env: str) -> str:
    """Run ``code`` after the bootstrap, as a stage script would, with a Keras home of its own."""
    environ = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    environ.update(KERAS_HOME=str(tmp_path / "keras-home"), TF_CPP_MIN_LOG_LEVEL="3", **env)
    out = subprocess.run([sys.executable, "-c", f"import _bootstrap\n{code}"], cwd=SCRIPTS, env=environ,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip()


JAX_KEPT_OUT = "import sys; print(sys.modules.get('jax', 'not loaded'))"


@pytest.mark.parametrize("keras_json, env, kept_out", [
    (None, {}, True),                                      # Keras' default: TensorFlow
    (None, {"KERAS_BACKEND": "tensorflow"}, True),
    (None, {"KERAS_BACKEND": "jax"}, False),
    ({"backend": "jax"}, {}, False),                       # the user's keras.json says JAX
    ({"backend": "jax"}, {"KERAS_BACKEND": "tensorflow"}, True),  # the variable wins, as in Keras
    ("{not json", {}, True),                               # unreadable: Keras falls back to TensorFlow
])
def test_jax_is_kept_out_of_tensorflow_stages_only(tmp_path, keras_json, env, kept_out):
    if keras_json is not None:
        (tmp_path / "keras-home").mkdir()
        text = keras_json if isinstance(keras_json, str) else json.dumps(keras_json)
        (tmp_path / "keras-home" / "keras.json").write_text(text)
    assert stage_python(JAX_KEPT_OUT, tmp_path, **env) == ("None" if kept_out else "not loaded")


def test_a_tensorflow_stage_trains_without_jax(tmp_path):
    code = """
import sys
import keras, numpy as np
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
model.compile("adam", "mse")
model.fit(np.zeros((8, 4)), np.zeros((8, 2)), verbose=0)
print(keras.backend.backend(), sys.modules["jax"])
"""
    assert stage_python(code, tmp_path).splitlines()[-1] == "tensorflow None"
