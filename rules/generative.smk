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
    benchmark:
        job_benchmark("gen_split", "dataset")
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
        # Sized for paper scale on one GPU (docs/workflow.md#gpu-notes), projected. Time: the longest
        # job is the GAN on the cats, 500 epochs (generative.models.gan) of 145 batches (4,638
        # images) at 10 ms or less a step (a discriminator and a generator update on 32x32 images;
        # measured on an H100: 4.1 ms for a batch of 150x150 clocks) = 12 min; 90 leaves room for a
        # slower GPU and start-up. On one CPU thread, measured on the 821 TinyHeroes training
        # sprites: 7 s a GAN epoch, 5 s a CAE or VAE epoch (docs/task3.md); the cats would take 5.5 h.
        runtime=90,
        # Memory: the largest data set, the cats, is 57 MB as float32; the rest is the framework.
        mem_mb=4000,
    threads: 4
    conda:
        "../envs/idl.yaml"
    log:
        "logs/generative/train_{dataset}_{gen}.log",
    benchmark:
        job_benchmark("gen_train", "dataset", "gen")
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
    benchmark:
        job_benchmark("gen_evaluate", "dataset", "gen")
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
    benchmark:
        job_benchmark("gen_summary")
    shell:
        "python scripts/gen_summary.py --params {params.file} --scores {input.scores} --out {params.out_dir} --log {log}"
