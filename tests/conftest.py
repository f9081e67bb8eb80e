"""Test order for the two xdist workers (pyproject.toml: ``-n 2 --dist loadfile``).

Each file runs on one worker, and each worker starts with two files, then takes the next one as it
frees. Started last, the files that take minutes would leave one worker running alone at the end
(xdist's default orders files by how many tests they hold, which puts them last). So they go
first, heaviest first: a file missing from the list only starts later, it is never skipped.
"""

# Seconds per file in the full suite (2026-12-02, 2 cores): 725, 394, 162, 266, 133, 129, 124, 98,
# 90, 85, 77; every other file takes under a minute.
HEAVIEST_FIRST = [
    "test_workflow.py", "test_slurm.py", "test_params_engines.py", "test_sharing.py", "test_clock_paper.py",
    "test_generative_models.py", "test_clock_finetune.py", "test_pipeline_download.py", "test_locks.py",
    "test_clock_heldout.py", "test_jax_pipeline.py",
]


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(HEAVIEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order
