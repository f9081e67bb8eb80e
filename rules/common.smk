# Validation, output paths and input functions shared by every rule file.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from snakemake.utils import validate
from idl import workflow as W
from idl.params import resolve

# The schema fills defaults and rejects unknown keys with the offending key named.
validate(config, str(W.SCHEMA_PATH))
RESOLVED = resolve(config, "config")

# params.yaml itself, or a copy of the effective config when --config overrides it
# (such runs are not recorded in DVC: see the onsuccess handler in rules/report.smk).
PARAMS_FILE = W.params_file_for(config)

DOWNLOADED = ["fashion_mnist", "cifar10", "clock", "afhq", "pistachio", "tinyhero"]
PREPARED = ["afhq", "pistachio", "tinyhero"]
CLOCK_MODELS = sorted(RESOLVED["clock"]["models"])


wildcard_constraints:
    dataset="|".join(DOWNLOADED),
    model="|".join(CLOCK_MODELS),


# Every output path is built here.
def raw_dir(dataset):
    return f"resources/raw/{dataset}"


def prepared_dir(dataset):
    return f"resources/prepared/{dataset}"


def clock_model_dir(model):
    return f"results/clock/models/{model}"


CLOCK_SPLIT = "results/clock/split"
REPORT_DIR = "results/report"
STATE_DIR = "state"  # resume state: not an output, so neither engine deletes it


def code(script):
    """The script and every project module it imports: editing any of them reruns the stage."""
    return list(W.code_deps(script))


def tracked(script):
    """Input function: the parameter values the stage reads (Snakemake's params rerun trigger)."""

    def values(wildcards):
        return W.tracked(config, script, wildcards)

    return values


def final_outputs():
    return (
        [raw_dir(d) for d in DOWNLOADED]
        + [prepared_dir(d) for d in PREPARED]
        + [f"{REPORT_DIR}/index.html"]
    )
