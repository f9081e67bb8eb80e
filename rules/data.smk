# Data: acquisition of every dataset (download / Kaggle / local / generated) and downsampling.


rule generate_data:
    """The offline stand-in of a dataset whose data.<dataset>.source is synthetic (the demo's data)."""
    input:
        code=code("generate_data"),
        param_values=params_input("generate_data"),
    output:
        directory(raw_dir("{dataset}")),
    wildcard_constraints:
        dataset="|".join(GENERATED) or "no-generated-data",
    params:
        file=PARAMS_FILE,
    conda:
        "../envs/idl.yaml"
    log:
        "logs/generate/{dataset}.log",
    benchmark:
        job_benchmark("generate_data", "dataset")
    shell:
        "python scripts/generate_data.py --params {params.file} --dataset {wildcards.dataset} "
        "--out {output} --log {log}"


rule acquire:
    """A dataset from its source: download, Kaggle, or a local archive or folder."""
    input:
        code=code("acquire"),
        param_values=params_input("acquire"),
    output:
        directory(raw_dir("{dataset}")),
    wildcard_constraints:
        dataset="|".join(ACQUIRED) or "no-acquired-data",
    params:
        file=PARAMS_FILE,
    conda:
        "../envs/idl.yaml"
    log:
        "logs/acquire/{dataset}.log",
    benchmark:
        job_benchmark("acquire", "dataset")
    shell:
        "python scripts/acquire.py --params {params.file} --dataset {wildcards.dataset} "
        "--out {output} --log {log}"


rule prepare_images:
    input:
        raw=raw_dir("{dataset}"),
        code=code("prepare_images"),
        param_values=params_input("prepare_images"),
    output:
        data=directory(prepared_dir("{dataset}")),
        figure=report(
            "results/data/{dataset}_downsampling.png",
            caption="../captions/data_downsampling.rst",
            category="Data",
            subcategory="Figures",
            labels={"dataset": "{dataset}", "figure": "downsampling"},
        ),
    wildcard_constraints:
        dataset="|".join(PREPARED),
    params:
        file=PARAMS_FILE,
    conda:
        "../envs/idl.yaml"
    log:
        "logs/prepare/{dataset}.log",
    benchmark:
        job_benchmark("prepare_images", "dataset")
    shell:
        "python scripts/prepare_images.py --params {params.file} --dataset {wildcards.dataset} "
        "--raw {input.raw} --out {output.data} --figure {output.figure} --log {log}"
