"""A wrong parameter stops both engines before any stage runs, naming the key, and writes nothing."""
import copy

import pytest

from pipeline import Project


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    # a small DAG (each engine reads it on every call), with every recipe the cases below edit
    return Project(tmp_path_factory.mktemp("params_engines"), clock_models=["final_nc12", "multihead", "regression"],
                   basics_runs=["mlp_adam", "mlp_sgd", "cnn_sgd_c3_d0"], gen_datasets=["afhq"], gen_models=["vae"])


def _set(path, value):
    def edit(params):
        node = params
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return edit


def _delete(key):
    def edit(params):
        del params[key]
    return edit


CASES = {
    "split fractions": (_set(["clock", "split", "test"], 0.2), "clock.split", "sum to 1"),
    "md5 of 31 digits": (_set(["data", "fashion_mnist", "checksums"], {"t10k-labels-idx1-ubyte.gz": "md5:" + "a" * 31}),
                         "data.fashion_mnist.checksums.t10k-labels-idx1-ubyte.gz", "32 hex digits"),
    "sha256 of 32 digits": (_set(["data", "cifar10", "checksums"], {"cifar-10-python.tar.gz": "sha256:" + "0" * 32}),
                            "data.cifar10.checksums.cifar-10-python.tar.gz", "64 hex digits"),
    "n_classes on a regression": (_set(["clock", "models", "regression"], {"kind": "regress", "n_classes": 12}),
                                  "clock.models.regression", "only applies to kind classify"),
    "hour hand on a classifier": (_set(["clock", "models", "final_nc12"], {"kind": "classify", "hour_hand": True}),
                                  "clock.models.final_nc12", "multi-head kinds"),
    "upright with rotation": (_set(["clock", "models", "multihead"],
                                   {"kind": "multihead", "upright": True, "augment_rotation": True}),
                              "clock.models.multihead", "upright excludes augment_rotation"),
    "conv layers on an MLP": (_set(["basics", "runs", "mlp_adam", "conv_layers"], 3),
                              "basics.runs.mlp_adam.conv_layers", "cnn only"),
    "malformed URL": (_set(["data", "clock", "url"], "htp:/nope"), "data.clock.url", "not a download URL"),
    "URL with a blank": (_set(["data", "mirror"], "http://example.invalid/my files"), "data.mirror", "not a download URL"),
    "Task 3 side not a power of two": (_set(["profiles", "demo", "prepare"], {"afhq": {"size": 48}}),
                                       "prepare.afhq.size", "power of two"),
    "section left out": (_delete("generative"), "generative", "required"),
}


def _outputs(project):
    return sorted(p.name for d in ("resources", "results", "state") if (project.path / d).exists()
                  for p in (project.path / d).rglob("*"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_wrong_parameter_stops_both_engines_naming_it(project, case):
    edit, key, why = CASES[case]
    good = project.params()
    bad = copy.deepcopy(good)
    edit(bad)
    project.write_params(bad)
    try:
        for engine in (["snakemake", "--dry-run", "--cores", "1"], ["dvc", "repro"]):
            proc = project.run(*engine, check=False)
            said = proc.stdout + proc.stderr
            assert proc.returncode != 0, said
            assert key in said and why in said, said
            assert "please report" not in said and "Traceback" not in said
        assert _outputs(project) == []
    finally:
        project.write_params(good)


def test_a_key_given_twice_stops_both_engines(project):
    good = (project.path / "params.yaml").read_text()
    for text, key in ((good.replace("seed: 42\n", "seed: 42\nseed: 7\n", 1), "seed"),
                      (good.replace("  train:\n", "  train:\n    epochs: 3\n", 1), "epochs")):
        assert text != good
        (project.path / "params.yaml").write_text(text)
        try:
            for engine in (["snakemake", "--dry-run", "--cores", "1"], ["dvc", "repro"]):
                proc = project.run(*engine, check=False)
                said = proc.stdout + proc.stderr
                assert proc.returncode != 0 and key in said, said
                assert "twice" in said or "duplicate" in said.lower(), said
            assert _outputs(project) == []
        finally:
            (project.path / "params.yaml").write_text(good)


def test_a_parameter_file_that_would_run_code_is_refused_by_both_engines(project, tmp_path):
    """Snakemake evaluates a config file that sets __use_yte__ as a YTE template (Python runs)."""
    good = (project.path / "params.yaml").read_text()
    marker = tmp_path / "ran"
    for value in (f"?__import__('pathlib').Path('{marker}').write_text('x') or 42",
                  f"?open('{marker}', 'w').write('x') and 42"):
        (project.path / "params.yaml").write_text("__use_yte__: true\n" + good.replace("seed: 42", f"seed: {value}", 1))
        try:
            for engine in (["snakemake", "--dry-run", "--cores", "1"], ["dvc", "repro"]):
                proc = project.run(*engine, check=False)
                said = proc.stdout + proc.stderr
                assert proc.returncode != 0 and "__use_yte__" in said, said
                assert not marker.exists(), f"{engine[0]} ran code from params.yaml"
            assert _outputs(project) == []
        finally:
            (project.path / "params.yaml").write_text(good)
