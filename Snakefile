# The reproduction of "IDL Assignment 1" as one DAG. `dvc.yaml` is generated from it
# (python -m idl.dvcgen), so this file and rules/ are the only description of the pipeline.
#
#   snakemake --cores 4 --resources gpu=1                 # the report's settings (params.yaml)
#   snakemake --cores 2 --config profile=demo             # offline demo on generated data
import sys

from snakemake.utils import min_version

min_version("9.0")


# Read params.yaml safely before Snakemake does: Snakemake's loader refuses nothing (a key given
# twice: the last wins; `__use_yte__`: Python in the file runs), ours refuses both, naming the line.
sys.path.insert(0, f"{workflow.basedir}/src")
from idl.params import read_yaml

read_yaml("params.yaml")


configfile: "params.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/basics.smk"
include: "rules/clock.smk"
include: "rules/generative.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
