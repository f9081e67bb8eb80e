# Task 2 of the report: telling the time from clock images.


rule clock_split:
    input:
        data=raw_dir("clock"),
        code=code("clock_split"),
    output:
        directory(CLOCK_SPLIT),
    params:
        file=PARAMS_FILE,
        tracked=tracked("clock_split"),
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/split.log",
    shell:
        "python scripts/clock_split.py --params {params.file} --data {input.data} --out {output} --log {log}"


rule clock_samples:
    input:
        data=raw_dir("clock"),
        code=code("clock_samples"),
    output:
        "results/clock/figures/samples.png",
    params:
        file=PARAMS_FILE,
        tracked=tracked("clock_samples"),
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/samples.log",
    shell:
        "python scripts/clock_samples.py --params {params.file} --data {input.data} --out {output} --log {log}"


rule clock_train:
    input:
        data=raw_dir("clock"),
        split=CLOCK_SPLIT,
        code=code("clock_train"),
    output:
        model=clock_model_dir("{model}") + "/model.keras",
        history=clock_model_dir("{model}") + "/history.csv",
    params:
        file=PARAMS_FILE,
        tracked=tracked("clock_train"),
        state=f"{STATE_DIR}/clock/{{model}}",
    resources:
        gpu=1,
    threads: 4
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/train_{model}.log",
    shell:
        "python scripts/clock_train.py --params {params.file} --model {wildcards.model} "
        "--data {input.data} --split {input.split} --out " + clock_model_dir("{wildcards.model}") + " "
        "--state {params.state} --log {log}"


rule clock_evaluate:
    input:
        model=clock_model_dir("{model}") + "/model.keras",
        history=clock_model_dir("{model}") + "/history.csv",
        data=raw_dir("clock"),
        split=CLOCK_SPLIT,
        code=code("clock_evaluate"),
    output:
        metrics=clock_model_dir("{model}") + "/metrics.json",
        figure=clock_model_dir("{model}") + "/learning_curves.png",
    params:
        file=PARAMS_FILE,
        tracked=tracked("clock_evaluate"),
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/evaluate_{model}.log",
    shell:
        "python scripts/clock_evaluate.py --params {params.file} --model {wildcards.model} "
        "--trained " + clock_model_dir("{wildcards.model}") + " --data {input.data} --split {input.split} "
        "--metrics {output.metrics} --figure {output.figure} --log {log}"
