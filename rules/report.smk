# The results page, and recording a finished run in DVC; the description of `snakemake --report`.


# `snakemake --report report.zip` (or .html): every figure and table flagged with report(...) in
# rules/, each with its caption from captions/. The results page reads the same caption files.
report: "../captions/workflow.rst"

from idl.report import CAPTION_FILES

# the caption files the results page reads: those of its figures
PAGE_CAPTIONS = sorted({f"captions/{stem}.rst" for _, stem in CAPTION_FILES})


# The page's "Where the time went" reads the other jobs' benchmark files (logs/benchmarks/, the
# script's default) as it finds them. They are not inputs: DVC runs make none, and timings are no
# result to rebuild the page for (the page says so).
rule report:
    input:
        clock_raw=raw_dir("clock"),
        metrics=expand(f"{CLOCK_MODEL_DIR}/metrics.json", model=CLOCK_MODELS),
        clock_summary=f"{CLOCK_SUMMARY_DIR}/summary.json",
        heldout=heldout_summary(),
        basics_summary=f"{BASICS_SUMMARY_DIR}/summary.json",
        gen_summary=f"{GEN_SUMMARY_DIR}/summary.json",
        gen_figures=expand(f"{GEN_MODEL_DIR}/figures", dataset=GEN_DATASETS, gen=GEN_MODELS),
        data_figures=expand("results/data/{dataset}_downsampling.png", dataset=GEN_DATASETS),
        figures=report_figures(),
        captions=PAGE_CAPTIONS,
        code=code("report"),
        param_values=params_input("report"),
    output:
        md=f"{REPORT_DIR}/index.md",
        html=f"{REPORT_DIR}/index.html",
    params:
        file=PARAMS_FILE,
        out_dir=folder_of_output("html"),
        heldout=heldout_option,
    conda:
        "../envs/idl.yaml"
    log:
        "logs/report.log",
    benchmark:
        job_benchmark("report")
    shell:
        "python scripts/report.py --params {params.file} --clock-raw {input.clock_raw} "
        "--basics-summary {input.basics_summary} --clock-results results/clock --generative-results results/generative --figures {input.figures} --captions {input.captions} --out {params.out_dir} --log {log}{params.heldout}"


# Not after `snakemake --touch` (idl.sharing marks pulled results as made with it): recording
# commits every finished stage, and would also record, as up to date, stages whose inputs the touch
# left changed.
onsuccess:
    if not workflow.touch:
        W.record_in_dvc(PARAMS_FILE)
