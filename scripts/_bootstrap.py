"""Make ``import idl`` work when a script runs from a clone without the package installed
(for example inside a Snakemake ``--sdm conda`` environment); pick the Keras backend."""
import json
import sys
from pathlib import Path

_src = str(Path(__file__).resolve().parents[1] / "src")
if _src not in sys.path:
    sys.path.insert(0, _src)

# JAX takes 75 % of a GPU's memory per process by default; allocating as needed instead lets
# several training jobs share one card when a user runs more than one per GPU (docs/workflow.md).
import os  # noqa: E402

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

# After `./run setup --gpu` (CUDA-enabled JAX installed), training runs on JAX, hence the GPU,
# unless the user chose a backend with KERAS_BACKEND.
if "KERAS_BACKEND" not in os.environ:
    import importlib.util  # noqa: E402

    if importlib.util.find_spec("jax_cuda12_plugin") is not None:
        os.environ["KERAS_BACKEND"] = "jax"


def _keras_backend() -> str:
    """The backend Keras will load, by its own rule: KERAS_BACKEND, else keras.json, else TensorFlow."""
    if "KERAS_BACKEND" in os.environ:
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json")) as f:
            return str(json.load(f).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


# TensorFlow imports JAX, when it is installed, for one converter of tf.lite: 1.2 of the ~9 CPU
# seconds every stage spends starting TensorFlow. A stage on TensorFlow never uses JAX.
if _keras_backend() == "tensorflow":
    sys.modules.setdefault("jax", None)  # `import jax` then raises ImportError, which TensorFlow expects
