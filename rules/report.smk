# The results page, and recording a finished run in DVC.


rule report:
    input:
        clock_raw=raw_dir("clock"),
        metrics=expand(clock_model_dir("{model}") + "/metrics.json", model=CLOCK_MODELS),
        figures=["results/clock/figures/samples.png"]
        + expand(clock_model_dir("{model}") + "/learning_curves.png", model=CLOCK_MODELS)
        + expand("results/data/{dataset}_downsampling.png", dataset=PREPARED),
        code=code("report"),
    output:
        md=f"{REPORT_DIR}/index.md",
        html=f"{REPORT_DIR}/index.html",
    params:
        file=PARAMS_FILE,
        tracked=tracked("report"),
    conda:
        "../envs/idl.yaml"
    log:
        "logs/report.log",
    shell:
        "python scripts/report.py --params {params.file} --clock-raw {input.clock_raw} "
        "--clock-results results/clock --figures {input.figures} --out " + REPORT_DIR + " --log {log}"


onsuccess:
    W.record_in_dvc(PARAMS_FILE)
