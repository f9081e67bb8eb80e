# The reproduction of "IDL Assignment 1" as one DAG. `dvc.yaml` is generated from it
# (python -m idl.dvcgen), so this file and rules/ are the only description of the pipeline.
#
#   snakemake --cores 4 --resources gpu=1                 # the report's settings (params.yaml)
#   snakemake --cores 2 --config profile=demo             # offline demo on generated data
from snakemake.utils import min_version

min_version("9.0")


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
