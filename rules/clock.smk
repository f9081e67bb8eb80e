# Task 2 of the report: telling the time from clock images.

TASK2 = "Task 2: telling the time"  # the category of its figures and tables in `snakemake --report`


rule clock_split:
    input:
        data=raw_dir("clock"),
        code=code("clock_split"),
        param_values=params_input("clock_split"),
    output:
        directory(CLOCK_SPLIT),
    params:
        file=PARAMS_FILE,
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/split.log",
    benchmark:
        job_benchmark("clock_split")
    shell:
        "python scripts/clock_split.py --params {params.file} --data {input.data} --out {output} --log {log}"


use rule clock_split as clock_split_external with:
    input:
        data=external_clock_data,
        code=code("clock_split"),
        param_values=params_input("clock_split"),
    output:
        directory(CLOCK_EXTERNAL_SPLIT),
    log:
        "logs/clock/split_{external}.log",
    benchmark:
        job_benchmark("clock_split_external", "external")


rule clock_samples:
    input:
        data=raw_dir("clock"),
        code=code("clock_samples"),
        param_values=params_input("clock_samples"),
    output:
        samples=report(
            "results/clock/figures/samples.png",
            caption="../captions/clock_samples.rst",
            category="Data",
            subcategory="Figures",
            labels={"dataset": "clock", "figure": "samples"},
        ),
        styles=report(
            "results/clock/figures/styles.png",
            caption="../captions/clock_styles.rst",
            category="Data",
            subcategory="Figures",
            labels={"dataset": "clock", "figure": "generator styles"},
        ),
        views=report(
            "results/clock/figures/views.png",
            caption="../captions/clock_views.rst",
            category="Data",
            subcategory="Figures",
            labels={"dataset": "clock", "figure": "generator views"},
        ),
    params:
        file=PARAMS_FILE,
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/samples.log",
    benchmark:
        job_benchmark("clock_samples")
    shell:
        "python scripts/clock_samples.py --params {params.file} --data {input.data} --out {output.samples} "
        "--styles {output.styles} --views {output.views} --log {log}"


rule clock_curriculum_data:
    """The generator's clocks with the dial turned at most {rotation} degrees, for a rotation curriculum."""
    input:
        code=code("clock_curriculum_data"),
        param_values=params_input("clock_curriculum_data"),
    output:
        directory(CLOCK_CURRICULUM_DATA),
    wildcard_constraints:
        rotation=r"\d+",
    params:
        file=PARAMS_FILE,
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/curriculum_data_{rotation}.log",
    benchmark:
        job_benchmark("clock_curriculum_data", "rotation")
    shell:
        "python scripts/clock_curriculum_data.py --params {params.file} --rotation {wildcards.rotation} "
        "--out {output} --log {log}"


rule clock_heldout_data:
    """Generated clocks in the held-out style (data.clock.synthetic.heldout_style), which no training
    clock is drawn in: clock.heldout.images of them, the generator's other settings and seed."""
    input:
        code=code("clock_heldout_data"),
        param_values=params_input("clock_heldout_data"),
    output:
        directory(CLOCK_HELDOUT_DATA),
    params:
        file=PARAMS_FILE,
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/heldout_data.log",
    benchmark:
        job_benchmark("clock_heldout_data")
    shell:
        "python scripts/clock_heldout_data.py --params {params.file} --out {output} --log {log}"


rule clock_generated_set:
    """The clocks a clock.external entry asks for ({generate: {images: N, ...}}), drawn as
    data.clock.synthetic says with the entry's keys in its place (e.g. a course-like set)."""
    input:
        code=code("clock_generated_set"),
        param_values=params_input("clock_generated_set"),
    output:
        directory(CLOCK_GENERATED_SET),
    wildcard_constraints:
        external="|".join(CLOCK_GENERATED) or "no-generated-set",
    params:
        file=PARAMS_FILE,
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/generated_set_{external}.log",
    benchmark:
        job_benchmark("clock_generated_set", "external")
    shell:
        "python scripts/clock_generated_set.py --params {params.file} --external {wildcards.external} "
        "--out {output} --log {log}"


rule clock_score_heldout:
    """Every trained model (or those clock.heldout.models names) scored on the held-out-style clocks,
    as clock_score scores a clock.external folder (one process for all: one start-up, not one a model)."""
    input:
        models=expand(f"{CLOCK_MODEL_DIR}/model.keras", model=CLOCK_HELDOUT_MODELS),
        data=CLOCK_HELDOUT_DATA,
        code=code("clock_score_heldout"),
        param_values=params_input("clock_score_heldout"),
    output:
        metrics=expand(f"{CLOCK_HELDOUT_SCORES}/{{model}}/metrics.json", model=CLOCK_HELDOUT_MODELS),
        predictions=expand(f"{CLOCK_HELDOUT_SCORES}/{{model}}/predictions.csv", model=CLOCK_HELDOUT_MODELS),
        summary=f"{CLOCK_HELDOUT_SCORES}/summary.json",
    params:
        file=PARAMS_FILE,
        models_dir=folder_of_trained_models,
        out_dir=folder_of_output("summary"),
    resources:
        # Measured: 9 s of CPU for two demo-sized models on 24 clocks (2 CPU cores), most of it
        # start-up; projected: a few seconds a model at paper scale, 20 models well within 30 minutes.
        runtime=30,
        mem_mb=4000,
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/score_heldout.log",
    benchmark:
        job_benchmark("clock_score_heldout")
    shell:
        "python scripts/clock_score_heldout.py --params {params.file} --models {params.models_dir} "
        "--data {input.data} --out {params.out_dir} --log {log}"


rule clock_train:
    input:
        data=clock_data,
        split=clock_split,
        curriculum=curriculum_data,
        init=init_model,
        code=code("clock_train"),
        param_values=params_input("clock_train"),
    output:
        model=f"{CLOCK_MODEL_DIR}/model.keras",
        history=f"{CLOCK_MODEL_DIR}/history.csv",
    params:
        file=PARAMS_FILE,
        out_dir=folder_of_output("model"),
        state=f"{STATE_DIR}/clock/{{model}}",
        curriculum=curriculum_option,
        init=init_option,
    resources:
        gpu=1,
        # Sized for paper scale on one GPU (docs/workflow.md#gpu-notes). Time: at most 200 epochs
        # (clock.train.epochs) at 6 s, projected (measured on an H100: 2.1 s an epoch for the Table 7
        # classifier, 2.3 s for the 128-filter curriculum model; the upright model's two networks
        # counted at 2.5 times that) = 20 min; 120 leaves room for a slower GPU and start-up.
        # On 2 CPU cores an epoch takes 139-170 s, measured: 200 of them would need about 9.5 h.
        runtime=120,
        # Memory: 2.5 GB peak measured (the upright model at paper scale, TensorFlow on the CPU);
        # projected: 1.3 GB more for a curriculum's four extra data folders, and JAX's CUDA runtime.
        mem_mb=8000,
    threads: 4
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/train_{model}.log",
    benchmark:
        job_benchmark("clock_train", "model")
    shell:
        "python scripts/clock_train.py --params {params.file} --model {wildcards.model} "
        "--data {input.data} --split {input.split} --out {params.out_dir} "
        "--state {params.state} --log {log}{params.curriculum}{params.init}"


rule clock_evaluate:
    input:
        model=f"{CLOCK_MODEL_DIR}/model.keras",
        history=f"{CLOCK_MODEL_DIR}/history.csv",
        data=clock_data,
        split=clock_split,
        code=code("clock_evaluate"),
        param_values=params_input("clock_evaluate"),
    output:
        metrics=f"{CLOCK_MODEL_DIR}/metrics.json",
        predictions=f"{CLOCK_MODEL_DIR}/predictions.csv",
        grid=report(
            f"{CLOCK_MODEL_DIR}/test_predictions.png",
            caption="../captions/clock_test_predictions.rst",
            category=TASK2,
            subcategory="Models",
            labels={"model": "{model}", "figure": "test predictions"},
        ),
        curves=report(
            f"{CLOCK_MODEL_DIR}/learning_curves.png",
            caption="../captions/clock_learning_curves.rst",
            category=TASK2,
            subcategory="Models",
            labels={"model": "{model}", "figure": "learning curves"},
        ),
    params:
        file=PARAMS_FILE,
        trained=folder_of_input("model"),
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/evaluate_{model}.log",
    benchmark:
        job_benchmark("clock_evaluate", "model")
    shell:
        "python scripts/clock_evaluate.py --params {params.file} --model {wildcards.model} "
        "--trained {params.trained} --data {input.data} --split {input.split} "
        "--metrics {output.metrics} --predictions {output.predictions} --grid {output.grid} "
        "--curves {output.curves} --log {log}"


rule clock_score:
    """Score a trained model on every row of a folder named in clock.external (e.g. the course data)."""
    input:
        model=f"{CLOCK_MODEL_DIR}/model.keras",
        data=external_clock_data,
        code=code("clock_evaluate"),
        param_values=params_input("clock_evaluate"),
    output:
        metrics=f"{CLOCK_SCORE_DIR}/metrics.json",
        predictions=f"{CLOCK_SCORE_DIR}/predictions.csv",
        grid=report(
            f"{CLOCK_SCORE_DIR}/test_predictions.png",
            caption="../captions/clock_score_predictions.rst",
            category=TASK2,
            subcategory="External data",
            labels={"data": "{external}", "model": "{model}"},
        ),
    params:
        file=PARAMS_FILE,
        trained=folder_of_input("model"),
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/score_{external}_{model}.log",
    benchmark:
        job_benchmark("clock_score", "external", "model")
    shell:
        "python scripts/clock_evaluate.py --params {params.file} --model {wildcards.model} "
        "--trained {params.trained} --data {input.data} "
        "--metrics {output.metrics} --predictions {output.predictions} --grid {output.grid} --log {log}"


rule clock_summary:
    """The report's clock tables and figures rebuilt from every model's results."""
    input:
        metrics=expand(f"{CLOCK_MODEL_DIR}/metrics.json", model=CLOCK_MODELS),
        histories=expand(f"{CLOCK_MODEL_DIR}/history.csv", model=CLOCK_MODELS),
        predictions=expand(f"{CLOCK_MODEL_DIR}/predictions.csv", model=CLOCK_MODELS),
        code=code("clock_summary"),
        param_values=params_input("clock_summary"),
    output:
        metrics=f"{CLOCK_SUMMARY_DIR}/summary.json",
        table8=report(
            f"{CLOCK_SUMMARY_DIR}/table8.csv",
            caption="../captions/clock_table8.rst",
            category=TASK2,
            subcategory="Tables",
            labels={"table": "Table 8: hyper-parameter study"},
        ),
        nc_sweep=report(
            f"{CLOCK_SUMMARY_DIR}/nc_sweep.csv",
            caption="../captions/clock_nc_sweep.rst",
            category=TASK2,
            subcategory="Tables",
            labels={"table": "number of classes"},
        ),
        approaches=report(
            f"{CLOCK_SUMMARY_DIR}/approaches.csv",
            caption="../captions/clock_approaches.rst",
            category=TASK2,
            subcategory="Tables",
            labels={"table": "all approaches"},
        ),
        figure3=report(
            f"{CLOCK_SUMMARY_DIR}/figure3.png",
            caption="../captions/clock_figure3.rst",
            category=TASK2,
            subcategory="Figures",
            labels={"figure": "Figure 3"},
        ),
        vs_report=report(
            f"{CLOCK_SUMMARY_DIR}/vs_report.png",
            caption="../captions/clock_vs_report.rst",
            category=TASK2,
            subcategory="Figures",
            labels={"figure": "ours against the report's"},
        ),
        histograms=report(
            f"{CLOCK_SUMMARY_DIR}/error_histograms.png",
            caption="../captions/clock_error_histograms.rst",
            category=TASK2,
            subcategory="Figures",
            labels={"figure": "error histograms"},
        ),
        by_hour=report(
            f"{CLOCK_SUMMARY_DIR}/error_by_hour.png",
            caption="../captions/clock_error_by_hour.rst",
            category=TASK2,
            subcategory="Figures",
            labels={"figure": "error by hour"},
        ),
    params:
        file=PARAMS_FILE,
        models_dir=folder_of_models,
        out_dir=folder_of_output("metrics"),
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/summary.log",
    benchmark:
        job_benchmark("clock_summary")
    shell:
        "python scripts/clock_summary.py --params {params.file} --models {params.models_dir} "
        "--out {params.out_dir} --log {log}"


rule clock_reader:
    """A trained model's reader for `python -m idl.clock.read --reader ...`: its weights alone and
    reader.json (recipe, image size, the weights' SHA-256). Not part of `all`: asked for by name."""
    input:
        model=f"{CLOCK_MODEL_DIR}/model.keras",
        code=code("clock_reader"),
        param_values=params_input("clock_reader"),
    output:
        directory(f"{CLOCK_MODEL_DIR}/reader"),
    params:
        file=PARAMS_FILE,
        trained=folder_of_input("model"),
    conda:
        "../envs/idl.yaml"
    log:
        "logs/clock/reader_{model}.log",
    benchmark:
        job_benchmark("clock_reader", "model")
    shell:
        "python scripts/clock_reader.py --params {params.file} --model {wildcards.model} "
        "--trained {params.trained} --out {output} --log {log}"
