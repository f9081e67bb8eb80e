# Task 2 of the report: telling the time from clock images.


rule clock_split:
    input:
        data=raw_dir("clock"),
        code=code("clock_split"),
        param_values=params_input("clock_split"),
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
        param_values=params_input("clock_samples"),
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
        param_values=params_input("clock_train"),
    output:
        model=f"{CLOCK_MODEL_DIR}/model.keras",
        history=f"{CLOCK_MODEL_DIR}/history.csv",
    params:
        file=PARAMS_FILE,
        tracked=tracked("clock_train"),
        out_dir=folder_of_output("model"),
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
        "--data {input.data} --split {input.split} --out {params.out_dir} "
        "--state {params.state} --log {log}"


rule clock_evaluate:
    input:
        model=f"{CLOCK_MODEL_DIR}/model.keras",
        history=f"{CLOCK_MODEL_DIR}/history.csv",
        data=raw_dir("clock"),
        split=CLOCK_SPLIT,
        code=code("clock_evaluate"),
        param_values=params_input("clock_evaluate"),
    output:
        metrics=f"{CLOCK_MODEL_DIR}/metrics.json",
        figure=f"{CLOCK_MODEL_DIR}/learning_curves.png",
    params:
        file=PARAMS_FILE,
        tracked=tracked("clock_evaluate"),
        trained=folder_of_input("model"),
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/evaluate_{model}.log",
    shell:
        "python scripts/clock_evaluate.py --params {params.file} --model {wildcards.model} "
        "--trained {params.trained} --data {input.data} --split {input.split} "
        "--metrics {output.metrics} --figure {output.figure} --log {log}"
