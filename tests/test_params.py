"""params.yaml: validation with clear errors, profiles, and stages that read only what they declare."""
import copy
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from idl import params as P
from idl import workflow as W
from idl.errors import ParamsError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def raw():
    return P.read_yaml(ROOT / "params.yaml")


def test_params_yaml_is_valid_and_complete(raw):
    # DVC reads params.yaml itself, without the schema's defaults: every key must be written out
    assert P.validate(raw) == raw
    assert raw["profile"] == "paper"


def test_paper_defaults_are_the_reports_settings(raw):
    train = P.resolve(raw)["clock"]["train"]
    assert train == {"epochs": 200, "batch_size": 32, "learning_rate": 2e-4, "lr_halving_epochs": 20, "patience": 5,
                     "max_minutes": None}


def test_unknown_and_wrong_keys_are_named(raw):
    bad = copy.deepcopy(raw)
    bad["clock"]["trian"] = {}
    bad["data"]["clock"]["synthetic"]["per_minute"] = "many"
    with pytest.raises(ParamsError) as err:
        P.resolve(bad, "my.yaml")
    msg = str(err.value)
    assert "my.yaml" in msg and "'trian' was unexpected" in msg
    assert "data.clock.synthetic.per_minute" in msg


def test_defaults_are_filled(raw):
    partial = copy.deepcopy(raw)
    del partial["clock"]["train"]["patience"]
    del partial["prepare"]
    out = P.resolve(partial)
    assert out["clock"]["train"]["patience"] == 5
    assert out["prepare"]["tinyhero"]["direction"] == "front"


def test_demo_profile_overlays_data_and_budgets(raw):
    raw["profile"] = "demo"
    out = P.resolve(raw)
    for name in ("fashion_mnist", "cifar10", "clock", "afhq", "pistachio", "tinyhero"):
        assert out["data"][name]["source"] == "synthetic", name
    assert out["clock"]["train"]["epochs"] < 200
    # keys the overlay does not set keep the base value
    assert out["clock"]["train"]["patience"] == raw["clock"]["train"]["patience"]


def test_unknown_profile_and_bad_overlay(raw):
    raw["profile"] = "fast"
    with pytest.raises(ParamsError, match="profile 'fast' is not defined"):
        P.resolve(raw)
    raw["profile"] = "demo"
    raw["profiles"]["demo"]["clock"]["train"]["epoch"] = 3
    with pytest.raises(ParamsError, match="'epoch' was unexpected"):
        P.resolve(raw)


def test_stage_reads_only_declared_keys(raw):
    p = P.StageParams(P.resolve(raw), ["seed", "clock.split"])
    assert p["clock.split.train"] == 0.8
    assert p["seed"] == 42
    with pytest.raises(KeyError, match="not among this stage's declared parameters"):
        p["clock.train"]
    with pytest.raises(ParamsError, match="not defined"):
        P.StageParams(P.resolve(raw), ["clock.nonsense"])


def test_tracked_keys_include_profile_overrides(raw):
    keys = P.tracked_keys(raw, ["seed", "clock.train", "clock.split"])
    assert keys == ["profile", "seed", "clock.train", "profiles.demo.clock.train", "clock.split"]


def test_every_stage_script_declares_keys_that_exist(raw):
    raw = copy.deepcopy(raw)
    raw["clock"]["external"] = {"thin": {"generate": {"images": 24, "dials": ["thin"]}}}  # clocks to generate
    resolved = P.resolve(raw)
    for script in sorted(p.stem for p in (ROOT / "scripts").glob("*.py") if not p.stem.startswith("_")):
        wildcards = {"dataset": "tinyhero" if "prepare" in script else "clock", "model": "final_nc12",
                     "run": "mlp_sgd", "gen": "vae", "external": "thin"}
        keys = W.stage_keys(script, wildcards)
        for key in keys:
            assert P.has_path(resolved, key), (script, key)


def test_code_deps_follow_imports():
    deps = W.code_deps("clock_train")
    assert "scripts/clock_train.py" in deps
    # imported inside a function, two levels down: still a dependency
    assert "src/idl/models/clock.py" in deps and "src/idl/training.py" in deps
    # not imported by this stage; evaluation, figures and the parameter checks are not training
    for other in ("src/idl/data/demo_data.py", "src/idl/clock/evaluate.py", "src/idl/clock/figures.py",
                  "src/idl/plots.py", "src/idl/checks.py", "src/idl/params.schema.yaml"):
        assert other not in deps, other


@pytest.fixture
def code_copy(tmp_path) -> dict:
    """scripts/ and src/ copied into tmp_path, and the environment that imports ``idl`` from there,
    so a test can edit the code that ``code_deps`` walks."""
    import shutil

    for part in ("scripts", "src"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    return {**os.environ, "PYTHONPATH": str(tmp_path / "src")}


def test_code_deps_follow_an_edit_through_the_imports_cache_and_ignore_a_damaged_one(tmp_path, code_copy):
    """Each process remembers every module's imports by content (.snakemake/idl-imports.json), so a
    load that finds nothing edited parses nothing; an edit must still be seen by the next load."""
    env = code_copy

    def deps(*also: str) -> tuple[list[str], list[str]]:
        """clock_split's code deps (computed with those of the ``also`` stages, in one process), and
        the files that process parsed."""
        code = ("import json, sys; import idl.workflow as W; parsed = []; parse = W._parse_imports\n"
                "W._parse_imports = lambda text, path: parsed.append(path.name) or parse(text, path)\n"
                "found = [W.code_deps(s) for s in sys.argv[1:]]; print(json.dumps([found[0], parsed]))")
        out = subprocess.run([sys.executable, "-c", code, "clock_split", *also], env=env, cwd=tmp_path,
                             capture_output=True, text=True, check=True).stdout
        return tuple(json.loads(out))

    def digest(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    cache = tmp_path / ".snakemake" / "idl-imports.json"
    first, parsed = deps("clock_train", "gen_evaluate")
    assert "src/idl/plots.py" not in first and cache.exists() and "training.py" in parsed
    script = tmp_path / "scripts" / "clock_split.py"
    before = digest(script)
    script.write_text(script.read_text() + "\n\ndef _figure():\n    from idl.plots import image_rows  # noqa\n")
    edited, parsed = deps("clock_train", "gen_evaluate")
    # the next load parses the edited file alone, sees its new import, and remembers its new text
    assert "src/idl/plots.py" in edited and parsed == ["clock_split.py"]
    cached = json.loads(cache.read_text())
    assert digest(script) in cached and before not in cached
    assert deps() == (edited, [])  # nothing left to parse
    for damaged in ("{not json", json.dumps({"0" * 64: [1, 2]}), "[]"):
        cache.write_text(damaged)
        assert deps()[0] == edited, damaged


def test_a_docstring_only_package_init_is_not_a_dependency_until_it_holds_code(tmp_path, code_copy):
    """Python runs a package's __init__.py on import, but one that holds only a docstring cannot
    change an output: editing that docstring reruns nothing. Code added to it makes it a dependency."""

    def deps() -> list[str]:
        code = "import json; import idl.workflow as W; print(json.dumps(W.code_deps('clock_train')))"
        return json.loads(subprocess.run([sys.executable, "-c", code], env=code_copy, cwd=tmp_path,
                                         capture_output=True, text=True, check=True).stdout)

    init = tmp_path / "src" / "idl" / "clock" / "__init__.py"
    first = deps()
    assert '"""' in init.read_text() and "src/idl/clock/train.py" in first
    for inert in ("src/idl/__init__.py", "src/idl/clock/__init__.py", "src/idl/models/__init__.py",
                  "src/idl/errors.py"):  # errors.py: exception classes, which only stop a stage
        assert inert not in first, inert
    init.write_text(init.read_text() + '\n"""A second string, still nothing run."""\n')
    assert "src/idl/clock/__init__.py" not in deps()
    init.write_text(init.read_text() + "\nDEFAULT_SIDE = 150\n")
    assert "src/idl/clock/__init__.py" in deps()


def test_conda_env_pins_match_requirements():
    req = {
        line.split("#")[0].strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    }
    env = yaml.safe_load((ROOT / "envs" / "idl.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert set(pip) == req


def test_stage_error_is_one_clear_line_and_writes_nothing(tmp_path):
    out = tmp_path / "split"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "clock_split.py"), "--params", str(ROOT / "params.yaml"),
         "--data", str(tmp_path / "nowhere"), "--out", str(out)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "nowhere" in proc.stderr and "images.npy" in proc.stderr
    assert not out.exists()


def test_invalid_params_file_stops_a_stage(tmp_path):
    bad = yaml.safe_load((ROOT / "params.yaml").read_text())
    bad["seed"] = "forty-two"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(bad))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "clock_split.py"), "--params", str(tmp_path / "params.yaml"),
         "--data", str(tmp_path), "--out", str(tmp_path / "split")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 1 and "seed: 'forty-two' is not of type 'integer'" in proc.stderr


def _defaults(node, where="", defs=None):
    """(where, default, schema) for every default the schema declares."""
    defs = defs if defs is not None else node.get("$defs", {})
    if isinstance(node, dict):
        if "default" in node:
            yield where or "(top level)", node["default"], node
        for key, sub in node.items():
            if key in ("properties", "$defs"):
                for name, s in sub.items():
                    yield from _defaults(s, f"{where}.{name}".lstrip("."), defs)
            elif key in ("additionalProperties", "items") and isinstance(sub, dict):
                yield from _defaults(sub, f"{where}.*", defs)
            elif key in ("oneOf", "anyOf"):
                for s in sub:
                    yield from _defaults(s, where, defs)


def test_every_schema_default_obeys_the_schema():
    import jsonschema

    schema = P._schema()
    found = list(_defaults(schema))
    assert len(found) > 40
    for where, default, node in found:
        sub = {k: v for k, v in node.items() if k != "default"}
        errors = list(jsonschema.Draft202012Validator({**sub, "$defs": schema["$defs"]}).iter_errors(default))
        assert not errors, f"{where}: the default {default!r} breaks its own schema: {errors[0].message}"


def test_left_out_sections_are_filled_or_named(raw):
    for section in [k for k in raw if k not in ("profile", "profiles")]:
        partial = {k: v for k, v in raw.items() if k != section}
        try:
            out = P.resolve(partial)
        except ParamsError as err:
            assert f"'{section}' is a required property" in str(err)
        else:
            assert section in out


def test_parameter_checks_name_each_wrong_key(raw):
    bad = copy.deepcopy(raw)
    bad["clock"]["split"] = {"train": 0.7, "val": 0.1, "test": 0.1}
    bad["clock"]["models"]["regression"]["loss_weights"] = [1, 1]
    bad["data"]["pistachio"]["checksums"] = {"x.zip": "sha256:abc"}
    with pytest.raises(ParamsError) as err:
        P.resolve(bad, "mine.yaml")
    msg = str(err.value)
    assert msg.startswith("mine.yaml: invalid parameters")
    for key in ("clock.split", "clock.models.regression", "data.pistachio.checksums.x.zip"):
        assert f"  {key}: " in msg


def test_a_recipe_set_to_null_is_left_out(raw):
    """An overlay drops a model of params.yaml by setting it to null; what refers to it is named."""
    first_gen = sorted(raw["generative"]["models"])[0]
    dropped = copy.deepcopy(raw)
    dropped["clock"]["models"]["multihead"] = None
    dropped["generative"]["models"][first_gen] = None
    out = P.resolve(dropped)
    assert set(out["clock"]["models"]) == set(raw["clock"]["models"]) - {"multihead"}
    assert set(out["generative"]["models"]) == set(raw["generative"]["models"]) - {first_gen}
    assert out["clock"]["models"]["regression"] == P.resolve(raw)["clock"]["models"]["regression"]
    # through a profile's overlay too
    demo = copy.deepcopy(raw)
    demo["profile"] = "demo"
    demo["profiles"]["demo"].setdefault("clock", {}).setdefault("models", {})["t8_m0"] = None
    assert "t8_m0" not in P.resolve(demo)["clock"]["models"]

    refers = copy.deepcopy(dropped)
    refers["clock"]["heldout"]["models"] = ["multihead"]
    with pytest.raises(ParamsError, match=r"clock.heldout.models: not in clock.models: multihead"):
        P.resolve(refers)
    every = copy.deepcopy(raw)
    every["clock"]["models"] = {name: None for name in raw["clock"]["models"]}
    with pytest.raises(ParamsError, match=r"mine.yaml: clock.models: every entry is null"):
        P.resolve(every, "mine.yaml")


def test_a_task1_run_set_to_null_is_left_out_but_three_must_stay(raw):
    """The best three of Task 1 go on to CIFAR-10: nulls may drop runs down to three, not below."""
    names = sorted(raw["basics"]["runs"])
    dropped = copy.deepcopy(raw)
    for name in names[3:]:
        dropped["basics"]["runs"][name] = None
    assert sorted(P.resolve(dropped)["basics"]["runs"]) == names[:3]
    dropped["basics"]["runs"][names[0]] = None
    with pytest.raises(ParamsError, match=r"mine.yaml: basics.runs: 2 left after the nulls, and it needs at least 3"):
        P.resolve(dropped, "mine.yaml")


def test_the_demo_trains_one_model_of_each_kind(raw):
    """The demo keeps Table 8's fiducial and final classifiers, the regression, the multi-head model and
    the headline reader, and four Task 1 runs; the paper profile keeps every one."""
    demo = P.resolve({**raw, "profile": "demo"})
    kinds = {recipe["kind"] for recipe in demo["clock"]["models"].values()}
    assert {"classify", "regress", "multihead", "multihead_angle"} <= kinds
    assert {"t8_m0", "final_nc12", "multihead_angle_upright"} <= set(demo["clock"]["models"])
    assert len(demo["basics"]["runs"]) == 4
    assert len(P.resolve(raw)["clock"]["models"]) == len(raw["clock"]["models"]) == 20


def test_a_wrong_recipe_is_named_by_its_wrong_key_not_as_not_null(raw):
    bad = copy.deepcopy(raw)
    bad["clock"]["models"]["multihead"]["kind"] = "nope"
    bad["clock"]["models"]["regression"]["bogus"] = 1
    bad["clock"]["models"]["t8_m0"] = 3
    with pytest.raises(ParamsError) as err:
        P.resolve(bad, "mine.yaml")
    msg = str(err.value)
    assert "  clock.models.multihead.kind: 'nope' is not one of" in msg
    assert "  clock.models.regression: Additional properties are not allowed ('bogus' was unexpected)" in msg
    assert "  clock.models.t8_m0: 3 is not of type 'object'" in msg
    assert "'null'" not in msg


def test_a_key_given_twice_is_refused_with_its_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("seed: 1\nclock:\n  train: {epochs: 2}\n  train: {epochs: 3}\n")
    with pytest.raises(ParamsError, match=r"line 4: key 'train' is given twice \(first on line 3\)"):
        P.read_yaml(path)


@pytest.mark.parametrize("config", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_named_config_is_valid_as_its_own_command_layers_it(config):
    """Each configs/ file names its command in its header; the files that command gives to
    --configfile (params.yaml first, and this file among them), merged as Snakemake merges them,
    are valid parameters."""
    from pipeline import named_config

    named_config(config)


def test_a_generated_clock_external_entry_is_checked_as_the_generator_takes_it(raw):
    """clock.external: {name: {generate: ...}}: data.clock.synthetic with the entry's keys, refused
    before anything runs, by the key, when the generator would refuse it."""
    ok = copy.deepcopy(raw)
    ok["clock"]["external"] = {"course": "/data/A1_data_150",
                               "thin": {"generate": {"images": 120, "dials": ["thin"], "views": 3}}}
    assert P.resolve(ok)["clock"]["external"]["thin"] == {"generate": {"images": 120, "dials": ["thin"], "views": 3}}
    for generate, says in (({"images": 120, "dials": ["oval"]}, "clock.external.thin.generate: "),
                           ({"images": 120, "per_minute": 2}, "clock.external.thin.generate: per_minute"),
                           ({"images": 120, "blur": [2, 1]}, "clock.external.thin.generate: "),
                           ({"views": 3}, "'images' is a required property"),
                           ({"images": 5}, "5 is less than the minimum of 12")):
        bad = copy.deepcopy(ok)
        bad["clock"]["external"]["thin"] = {"generate": generate}
        with pytest.raises(ParamsError, match=re.escape(says)):
            P.resolve(bad)


def test_an_independent_clock_external_entry_says_how_many_clocks_and_their_side(raw):
    """clock.external: {name: {independent: {images, size}}}: both required, nothing else."""
    ok = copy.deepcopy(raw)
    ok["clock"]["external"] = {"foreign": {"independent": {"images": 240, "size": 75}}}
    assert P.resolve(ok)["clock"]["external"]["foreign"] == {"independent": {"images": 240, "size": 75}}
    for independent, says in (({"images": 240}, "'size' is a required property"),
                              ({"images": 240, "size": 75, "views": 3}, "'views' was unexpected"),
                              ({"images": 5, "size": 75}, "5 is less than the minimum of 12"),
                              ({"images": 240, "size": 8}, "8 is less than the minimum of 16")):
        bad = copy.deepcopy(ok)
        bad["clock"]["external"]["foreign"] = {"independent": independent}
        with pytest.raises(ParamsError, match=re.escape(says)):
            P.resolve(bad)
