# The results page, and recording a finished run in DVC.


rule report:
    input:
        clock_raw=raw_dir("clock"),
        metrics=expand(f"{CLOCK_MODEL_DIR}/metrics.json", model=CLOCK_MODELS),
        clock_summary=f"{CLOCK_SUMMARY_DIR}/summary.json",
        basics_summary=f"{BASICS_SUMMARY_DIR}/summary.json",
        gen_summary=f"{GEN_SUMMARY_DIR}/summary.json",
        gen_figures=expand(f"{GEN_MODEL_DIR}/figures", dataset=GEN_DATASETS, gen=GEN_MODELS),
        data_figures=expand("results/data/{dataset}_downsampling.png", dataset=GEN_DATASETS),
        figures=report_figures(),
        code=code("report"),
        param_values=params_input("report"),
    output:
        md=f"{REPORT_DIR}/index.md",
        html=f"{REPORT_DIR}/index.html",
    params:
        file=PARAMS_FILE,
        tracked=tracked("report"),
        out_dir=folder_of_output("html"),
    conda:
        "../envs/idl.yaml"
    log:
        "logs/report.log",
    shell:
        "python scripts/report.py --params {params.file} --clock-raw {input.clock_raw} "
        "--basics-summary {input.basics_summary} --clock-results results/clock --generative-results results/generative --figures {input.figures} --out {params.out_dir} --log {log}"


onsuccess:
    W.record_in_dvc(PARAMS_FILE)
