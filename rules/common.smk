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
# A file per parameter key, rewritten only when its value changes: the rerun trigger for
# parameters (see params_input). Written now, before the DAG is built, so they all exist.
W.write_param_stamps(config, RESOLVED, PARAMS_FILE)

DOWNLOADED = ["fashion_mnist", "cifar10", "clock", "afhq", "pistachio", "tinyhero"]
PREPARED = ["afhq", "pistachio", "tinyhero"]
CLOCK_MODELS = sorted(RESOLVED["clock"]["models"])
BASICS_RUNS = sorted(RESOLVED["basics"]["runs"])
CLOCK_EXTERNAL = RESOLVED["clock"]["external"]
GEN_DATASETS = RESOLVED["generative"]["datasets"]
GEN_MODELS = sorted(RESOLVED["generative"]["models"])


wildcard_constraints:
    dataset="|".join(DOWNLOADED),
    model="|".join(CLOCK_MODELS),
    run="|".join(BASICS_RUNS),
    gen="|".join(GEN_MODELS),
    external="|".join(CLOCK_EXTERNAL) or "no-external-data",


# Every output path is built here.
def raw_dir(dataset):
    return f"resources/raw/{dataset}"


def prepared_dir(dataset):
    return f"resources/prepared/{dataset}"


CLOCK_MODEL_DIR = "results/clock/models/{model}"  # {model} is a wildcard
CLOCK_SCORE_DIR = "results/clock/scores/{external}/{model}"  # a model on an external data folder
CLOCK_SUMMARY_DIR = "results/clock/summary"
# the report's Figure 1 (Adam overfitting) and Figure 2 (SGD improving on both sets)
BASICS_FIGURES = ["cnn_adam_c3_d0", "cnn_sgd_c5_d2"]
# models whose own figures go on the results page (every model's are under results/clock/models)
CLOCK_HIGHLIGHT = [m for m in ("final_nc12", "multihead", "multihead_angle") if m in CLOCK_MODELS] or CLOCK_MODELS[:1]


PREPARED_ROOT = "resources/prepared"
BASICS_RUN_DIR = "results/basics/fashion_mnist/{run}"  # {run} is a wildcard
BASICS_CIFAR_DIR = "results/basics/cifar10/rank{rank}"
BASICS_RANKING = "results/basics/ranking.json"
BASICS_SUMMARY_DIR = "results/basics/summary"
CLOCK_SPLIT = "results/clock/split"
CLOCK_CURRICULUM_DATA = "resources/clock_curriculum/rot{rotation}"  # generated, dial turned <= {rotation} deg
GEN_SPLIT = "results/generative/{dataset}/split"  # {dataset} is a wildcard (prepared datasets)
GEN_MODEL_DIR = "results/generative/{dataset}/{gen}"  # a recipe of generative.models on a dataset
GEN_SUMMARY_DIR = "results/generative/summary"
REPORT_DIR = "results/report"
STATE_DIR = "state"  # resume state: not an output, so neither engine deletes it


def code(script):
    """The script and every project module it imports: editing any of them reruns the stage."""
    return list(W.code_deps(script))


def params_input(script):
    """Input function: the files holding the values of the parameter keys the stage reads.

    This is the rerun trigger for parameters (the built-in `params` trigger is off in
    profiles/default, because it would disagree with runs made by `dvc repro`): a file is
    rewritten, with the parameter file's time, only when its value changes.
    """

    def paths(wildcards):
        return W.param_stamps(config, script, wildcards)

    return paths


def final_outputs():
    return (
        [raw_dir(d) for d in DOWNLOADED]
        + [prepared_dir(d) for d in PREPARED]
        + [f"{REPORT_DIR}/index.html"]
        + expand(f"{CLOCK_SCORE_DIR}/metrics.json", external=sorted(CLOCK_EXTERNAL), model=CLOCK_MODELS)
    )


def external_clock_data(wildcards):
    """Input function: the folder clock.external names (images.npy and labels.npy)."""
    return CLOCK_EXTERNAL[wildcards.external]


def folder_of_models(wildcards, input):
    """The folder holding every model's results folder."""
    return str(Path(input.metrics[0]).parent.parent)


def report_figures():
    return (
        [f"{BASICS_SUMMARY_DIR}/overview.png"]
        + expand(f"{BASICS_RUN_DIR}/learning_curves.png", run=[r for r in BASICS_FIGURES if r in BASICS_RUNS])
        + ["results/clock/figures/samples.png"]
        + [f"{CLOCK_SUMMARY_DIR}/{name}.png" for name in ("figure3", "error_histograms", "error_by_hour")]
        + expand(f"{CLOCK_MODEL_DIR}/learning_curves.png", model=CLOCK_HIGHLIGHT)
        + expand(f"{CLOCK_MODEL_DIR}/test_predictions.png", model=CLOCK_HIGHLIGHT)
    )


def curriculum_data(wildcards):
    """Input function: the generated clock folders a model's rotation curriculum trains on (often none)."""
    from idl.clock.curriculum import rotations, validate_curriculum

    recipe = RESOLVED["clock"]["models"][wildcards.model]
    return [CLOCK_CURRICULUM_DATA.format(rotation=r) for r in rotations(validate_curriculum(recipe.get("curriculum")))]


def curriculum_option(wildcards, input):
    """Params function: " --curriculum-data DIR ..." for a curriculum, else nothing at all
    (an empty option would leave a double space in the command, which DVC reads as a new command)."""
    dirs = [str(d) for d in input.curriculum]
    return " --curriculum-data " + " ".join(dirs) if dirs else ""


def folder_of_output(name):
    """Params function: the folder holding a named output (commands take folders)."""

    def folder(wildcards, output):
        return str(Path(output[name]).parent)

    return folder


def folder_of_input(name):
    def folder(wildcards, input):
        return str(Path(input[name]).parent)

    return folder
