# Task 3 of the report: a CAE, a VAE and a GAN on cats, pistachios and TinyHeroes sprites.

TASK3 = "Task 3: generative models"  # the category of its figures and tables in `snakemake --report`


rule gen_split:
    input:
        data=prepared_dir("{dataset}"),
        code=code("gen_split"),
        param_values=params_input("gen_split"),
    output:
        directory(GEN_SPLIT),
    wildcard_constraints:
        dataset="|".join(GEN_DATASETS),
    params:
        file=PARAMS_FILE,
    conda:
        "../envs/idl.yaml"
    log:
        "logs/generative/split_{dataset}.log",
    shell:
        "python scripts/gen_split.py --params {params.file} --data {input.data} --out {output} --log {log}"


rule gen_train:
    input:
        data=prepared_dir("{dataset}"),
        split=GEN_SPLIT,
        code=code("gen_train"),
        param_values=params_input("gen_train"),
    output:
        model=f"{GEN_MODEL_DIR}/model.keras",
        history=f"{GEN_MODEL_DIR}/history.csv",
    wildcard_constraints:
        dataset="|".join(GEN_DATASETS),
    params:
        file=PARAMS_FILE,
        out_dir=folder_of_output("model"),
        state=f"{STATE_DIR}/generative/{{dataset}}/{{gen}}",
    resources:
        gpu=1,
    threads: 4
    conda:
        "../envs/idl.yaml"
    log:
        "logs/generative/train_{dataset}_{gen}.log",
    shell:
        "python scripts/gen_train.py --params {params.file} --gen {wildcards.gen} --data {input.data} "
        "--split {input.split} --out {params.out_dir} --state {params.state} --log {log}"


rule gen_evaluate:
    input:
        model=f"{GEN_MODEL_DIR}/model.keras",
        history=f"{GEN_MODEL_DIR}/history.csv",
        data=prepared_dir("{dataset}"),
        split=GEN_SPLIT,
        code=code("gen_evaluate"),
        param_values=params_input("gen_evaluate"),
    output:
        scores=f"{GEN_MODEL_DIR}/scores.json",
        figures=report(
            directory(f"{GEN_MODEL_DIR}/figures"),
            patterns=["{figure}.png"],
            caption="../captions/generative_figures.rst",
            category=TASK3,
            subcategory="Models",
            labels={"dataset": "{dataset}", "model": "{gen}", "figure": "{figure}"},
        ),
    wildcard_constraints:
        dataset="|".join(GEN_DATASETS),
    params:
        file=PARAMS_FILE,
    conda:
        "../envs/idl.yaml"
    log:
        "logs/generative/evaluate_{dataset}_{gen}.log",
    shell:
        "python scripts/gen_evaluate.py --params {params.file} --gen {wildcards.gen} --dataset {wildcards.dataset} "
        "--model {input.model} --history {input.history} --data {input.data} --split {input.split} "
        "--scores {output.scores} --figures {output.figures} --log {log}"


rule gen_summary:
    """Every generative model on every dataset in one table, and a chart of its distribution scores."""
    input:
        scores=expand(f"{GEN_MODEL_DIR}/scores.json", dataset=GEN_DATASETS, gen=GEN_MODELS),
        code=code("gen_summary"),
        param_values=params_input("gen_summary"),
    output:
        metrics=f"{GEN_SUMMARY_DIR}/summary.json",
        table=report(
            f"{GEN_SUMMARY_DIR}/comparison.csv",
            caption="../captions/generative_comparison.rst",
            category=TASK3,
            subcategory="Summary",
            labels={"result": "comparison table"},
        ),
        figure=report(
            f"{GEN_SUMMARY_DIR}/scores.png",
            caption="../captions/generative_scores.rst",
            category=TASK3,
            subcategory="Summary",
            labels={"result": "scores chart"},
        ),
    params:
        file=PARAMS_FILE,
        out_dir=folder_of_output("metrics"),
    conda:
        "../envs/idl.yaml"
    log:
        "logs/generative/summary.log",
    shell:
        "python scripts/gen_summary.py --params {params.file} --scores {input.scores} --out {params.out_dir} --log {log}"
