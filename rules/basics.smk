# Task 1 of the report: MLP and CNN variants on Fashion-MNIST, the best three on CIFAR-10.

TASK1 = "Task 1: Keras basics"  # the category of its figures and tables in `snakemake --report`


# Every run's learning curves for the report (the Fashion-MNIST runs, then the CIFAR-10 ranks: the
# order the command takes them in), labelled; the report's Figures 1 and 2 have captions of their own.
BASICS_CURVE_RUNS = [(BASICS_RUN_DIR.format(run=r), "Fashion-MNIST", r) for r in BASICS_RUNS] + [
    (BASICS_CIFAR_DIR.format(rank=k), "CIFAR-10", f"rank {k}") for k in (1, 2, 3)
]
BASICS_FIGURE_CAPTIONS = {run: f"../captions/basics_figure{i}.rst" for i, run in enumerate(BASICS_FIGURES, 1)}
BASICS_CURVES = [report(f"{folder}/learning_curves.png",
                        caption=BASICS_FIGURE_CAPTIONS.get(run, "../captions/basics_learning_curves.rst"),
                        category=TASK1, subcategory="Learning curves", labels={"dataset": dataset, "run": run})
                 for folder, dataset, run in BASICS_CURVE_RUNS]


rule basics_data:
    input:
        raw=raw_dir("{dataset}"),
        code=code("basics_data"),
        param_values=params_input("basics_data"),
    output:
        data=f"{PREPARED_ROOT}/{{dataset}}/arrays.npz",
        train="results/basics/{dataset}/split/train.npy",
        val="results/basics/{dataset}/split/val.npy",
    wildcard_constraints:
        dataset="fashion_mnist|cifar10",
    params:
        file=PARAMS_FILE,
        split=folder_of_output("train"),
    conda:
        "../envs/idl.yaml"
    log:
        "logs/basics/data_{dataset}.log",
    benchmark:
        job_benchmark("basics_data", "dataset")
    shell:
        "python scripts/basics_data.py --params {params.file} --dataset {wildcards.dataset} --raw {input.raw} "
        "--data {output.data} --split {params.split} --log {log}"


rule basics_train:
    input:
        data=f"{PREPARED_ROOT}/fashion_mnist/arrays.npz",
        train="results/basics/fashion_mnist/split/train.npy",
        code=code("basics_train"),
        param_values=params_input("basics_train"),
    output:
        model=f"{BASICS_RUN_DIR}/model.keras",
        history=f"{BASICS_RUN_DIR}/history.csv",
        metrics=f"{BASICS_RUN_DIR}/metrics.json",
    params:
        file=PARAMS_FILE,
        split=folder_of_input("train"),
        out_dir=folder_of_output("model"),
        state=f"{STATE_DIR}/basics/fashion_mnist/{{run}}",
    resources:
        gpu=1,
        # Sized for paper scale on one GPU (docs/workflow.md#gpu-notes), projected: nothing of Task 1
        # has run at paper scale. Time: 30 epochs (basics.train.epochs) of 1,688 batches (54,000
        # images) at 4 ms or less a batch (measured on an H100: 4.1 ms for a batch of 150x150 clocks)
        # = 3.5 min; 60 leaves room for a slower GPU and start-up. On 2 CPU cores the 5-conv CNN takes
        # about 15 min an epoch (docs/task1.md): 7.5 h.
        runtime=60,
        # Memory: the data is 47 MB of uint8 pixels; the rest is the framework (docs/workflow.md).
        mem_mb=4000,
    threads: 4
    conda:
        "../envs/idl.yaml"
    log:
        "logs/basics/train_{run}.log",
    benchmark:
        job_benchmark("basics_train", "run")
    shell:
        "python scripts/basics_train.py --params {params.file} --run {wildcards.run} --data {input.data} "
        "--split {params.split} --out {params.out_dir} --state {params.state} --log {log}"


rule basics_rank:
    input:
        metrics=expand(f"{BASICS_RUN_DIR}/metrics.json", run=BASICS_RUNS),
        code=code("basics_rank"),
        param_values=params_input("basics_rank"),
    output:
        BASICS_RANKING,
    params:
        file=PARAMS_FILE,
    conda:
        "../envs/idl.yaml"
    log:
        "logs/basics/rank.log",
    benchmark:
        job_benchmark("basics_rank")
    shell:
        "python scripts/basics_rank.py --params {params.file} --metrics {input.metrics} --out {output} --log {log}"


rule basics_cifar:
    input:
        ranking=BASICS_RANKING,
        data=f"{PREPARED_ROOT}/cifar10/arrays.npz",
        train="results/basics/cifar10/split/train.npy",
        code=code("basics_cifar"),
        param_values=params_input("basics_cifar"),
    output:
        model=f"{BASICS_CIFAR_DIR}/model.keras",
        history=f"{BASICS_CIFAR_DIR}/history.csv",
        metrics=f"{BASICS_CIFAR_DIR}/metrics.json",
    wildcard_constraints:
        rank="1|2|3",
    params:
        file=PARAMS_FILE,
        split=folder_of_input("train"),
        out_dir=folder_of_output("model"),
        state=f"{STATE_DIR}/basics/cifar10/rank{{rank}}",
    resources:
        gpu=1,
        # As basics_train (projected): 30 epochs of 1,407 batches (45,000 images) = 3 min on a GPU;
        # the data is 184 MB of uint8 pixels.
        runtime=60,
        mem_mb=4000,
    threads: 4
    conda:
        "../envs/idl.yaml"
    log:
        "logs/basics/cifar_rank{rank}.log",
    benchmark:
        job_benchmark("basics_cifar", "rank")
    shell:
        "python scripts/basics_cifar.py --params {params.file} --rank {wildcards.rank} --ranking {input.ranking} "
        "--data {input.data} --split {params.split} --out {params.out_dir} --state {params.state} --log {log}"


rule basics_summary:
    """Tables 3, 4 and 5 with the report's numbers beside ours, an overview of every run, and each
    run's learning curves (drawn here, not by the training stages, so a plotting edit retrains nothing)."""
    input:
        metrics=expand(f"{BASICS_RUN_DIR}/metrics.json", run=BASICS_RUNS),
        histories=expand(f"{BASICS_RUN_DIR}/history.csv", run=BASICS_RUNS),
        cifar=expand(f"{BASICS_CIFAR_DIR}/metrics.json", rank=[1, 2, 3]),
        cifar_histories=expand(f"{BASICS_CIFAR_DIR}/history.csv", rank=[1, 2, 3]),
        ranking=BASICS_RANKING,
        code=code("basics_summary"),
        param_values=params_input("basics_summary"),
    output:
        metrics=f"{BASICS_SUMMARY_DIR}/summary.json",
        table3=report(
            f"{BASICS_SUMMARY_DIR}/table3.csv",
            caption="../captions/basics_table3.rst",
            category=TASK1,
            subcategory="Tables",
            labels={"table": "Table 3: CNNs on Fashion-MNIST"},
        ),
        table4=report(
            f"{BASICS_SUMMARY_DIR}/table4.csv",
            caption="../captions/basics_table4.rst",
            category=TASK1,
            subcategory="Tables",
            labels={"table": "Table 4: MLPs on Fashion-MNIST"},
        ),
        table5=report(
            f"{BASICS_SUMMARY_DIR}/table5.csv",
            caption="../captions/basics_table5.rst",
            category=TASK1,
            subcategory="Tables",
            labels={"table": "Table 5: the best three on CIFAR-10"},
        ),
        overview=report(
            f"{BASICS_SUMMARY_DIR}/overview.png",
            caption="../captions/basics_overview.rst",
            category=TASK1,
            subcategory="Figures",
            labels={"figure": "validation accuracy of every run"},
        ),
        curves=BASICS_CURVES,
    params:
        file=PARAMS_FILE,
        out_dir=folder_of_output("metrics"),
    conda:
        "../envs/idl.yaml"
    log:
        "logs/basics/summary.log",
    benchmark:
        job_benchmark("basics_summary")
    shell:
        "python scripts/basics_summary.py --params {params.file} --metrics {input.metrics} "
        "--cifar {input.cifar} --ranking {input.ranking} --out {params.out_dir} --curves {output.curves} --log {log}"
