"""params.yaml: loading, validation, profiles, and what each stage may read.

The same file drives both engines. A stage script declares the dotted keys it
reads (``PARAMS = ("seed", "clock.split")``); from that one declaration come the
Snakemake rule's ``params:`` (its rerun trigger), the DVC stage's ``params:``, and
the :class:`StageParams` view the script gets, which refuses any other key, so
"depends on exactly the parameters it reads" is checked every time a stage runs.
"""
from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from idl import checks
from idl.errors import ParamsError

SCHEMA = Path(__file__).with_name("params.schema.yaml")
#: The key that makes Snakemake evaluate a config file as a YTE template (Python in the file runs).
YTE_SWITCH = "__use_yte__"
BASE_PROFILE = "paper"
#: Recipe maps where a name set to null is left out, so that an overlay (configs/) can drop one.
# sections whose entries a null leaves out, and how many must be left (Task 1 retrains its best three)
LEFT_OUT_BY_NULL = {"clock.models": 1, "generative.models": 1, "basics.runs": 3}


# libyaml's parser when PyYAML has it: every Snakemake call reads params.yaml and the schema
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SAFE_LOADER):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping.

    Plain YAML loaders keep the last value silently (Snakemake's does), while DVC refuses
    the file: both engines must see the same parameters, so a duplicate is an error here.
    """


class _Duplicate(Exception):
    pass


def _no_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise _Duplicate(f"line {key_node.start_mark.line + 1}: key {key!r} is given twice (first on line "
                             f"{seen[key] + 1}); DVC refuses such a file and Snakemake would take the last "
                             "value silently: keep one")
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def read_yaml(path: str | Path) -> dict:
    """A parameter file as a dict: safe YAML (data never runs code), duplicate keys refused."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(), Loader=_StrictLoader)
    except FileNotFoundError:
        raise ParamsError(f"{path}: parameter file not found") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from None
    except _Duplicate as exc:
        raise ParamsError(f"{path}, {exc}") from None
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping of parameters, got {type(data).__name__}")
    if YTE_SWITCH in data:
        raise ParamsError(f"{path}: {YTE_SWITCH} asks Snakemake to run the file as a YTE template, which "
                          "executes Python written in it; a parameter file holds plain values only: remove it")
    return data


def deep_merge(base: Mapping, overlay: Mapping) -> dict:
    out = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@functools.lru_cache(maxsize=1)
def _schema() -> dict:
    return yaml.load(SCHEMA.read_text(), Loader=_SAFE_LOADER)


_VALID: dict[str, dict] = {}  # parameters already validated in this process, by content


def validate(raw: Mapping, origin: str = "params.yaml") -> dict:
    """Validate against the schema, filling defaults; raise ParamsError naming each bad key."""
    key = json.dumps(raw, sort_keys=True, default=repr)
    if key not in _VALID:  # one workflow parse validates the same parameters several times
        data = copy.deepcopy(dict(raw))
        # jsonschema's own errors are short and name the key; then the defaults are filled in, after
        # which the result is checked again (a default must not break the schema's own rules).
        checker, filler = _validators()
        _schema_errors(checker, data, origin)
        for _ in filler.iter_errors(data):
            pass  # filling only: the errors were reported above
        _schema_errors(checker, data, f"{origin} (with the schema's defaults)")
        _VALID[key] = data
    return copy.deepcopy(_VALID[key])


@functools.lru_cache(maxsize=1)
def _validators():
    """The schema's validator, and one that also fills in each missing property's ``default``.

    The second is jsonschema's own recipe (its FAQ, "Why doesn't my schema's default property set
    the default on my instance?"), the one ``snakemake.utils.validate`` uses, built once here: that
    function reads the schema file again each call, a sixth of a second per Snakemake load.
    """
    import jsonschema
    from jsonschema import validators

    base = jsonschema.Draft202012Validator
    check_properties = base.VALIDATORS["properties"]

    def fill_then_check(validator, properties, instance, schema):
        if validator.is_type(instance, "object"):
            for name, sub in properties.items():
                if "default" in sub:
                    instance.setdefault(name, copy.deepcopy(sub["default"]))
        yield from check_properties(validator, properties, instance, schema)

    return base(_schema()), validators.extend(base, {"properties": fill_then_check})(_schema())


def _schema_errors(checker, data: Mapping, origin: str) -> None:
    errors = []
    for err in checker.iter_errors(data):
        if err.validator == "anyOf":  # a recipe or null, a folder or clocks to generate, ...
            # what is wrong under the branches that take the value's type (a mapping's, say); if
            # none does, what each branch but null (never what was meant) wants instead
            fits = [e for e in err.context if not (e.validator == "type" and not e.relative_path)]
            errors += fits or [e for e in err.context if e.schema.get("type") != "null"] or [err]
        else:  # any other error, a oneOf's "not valid under any" among them, as jsonschema says it
            errors.append(err)
    errors.sort(key=str)
    if errors:
        lines = []
        for err in errors:
            where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
            lines.append(f"  {where}: {err.message}")
        raise ParamsError(f"{origin}: invalid parameters:\n" + "\n".join(lines))


def resolve(raw: Mapping, origin: str = "params.yaml") -> dict:
    """Validated parameters with the active profile's overlay applied, and the recipes set to null left out."""
    resolved = validate(raw, origin)
    profile = resolved["profile"]
    if profile != BASE_PROFILE:
        overlays = resolved.get("profiles", {})
        if profile not in overlays:
            known = ", ".join([BASE_PROFILE, *overlays]) or BASE_PROFILE
            raise ParamsError(f"{origin}: profile '{profile}' is not defined (known: {known})")
        origin = f"{origin} (profile {profile})"
        resolved = validate(deep_merge(resolved, overlays[profile]), origin)
    for section, least in LEFT_OUT_BY_NULL.items():
        recipes = get_path(resolved, section)
        for name in [n for n, recipe in recipes.items() if recipe is None]:
            del recipes[name]
        if not recipes:
            raise ParamsError(f"{origin}: {section}: every entry is null, and it needs at least {least}")
        if len(recipes) < least:
            raise ParamsError(f"{origin}: {section}: {len(recipes)} left after the nulls, and it needs at least {least}")
    checks.check(resolved, origin)
    return resolved


def get_path(tree: Mapping, dotted: str) -> Any:
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(dotted)
        node = node[part]
    return node


def has_path(tree: Mapping, dotted: str) -> bool:
    try:
        get_path(tree, dotted)
        return True
    except KeyError:
        return False


def tracked_keys(raw: Mapping, keys: Iterable[str]) -> list[str]:
    """Every key of the parameter *file* a stage reading ``keys`` depends on.

    The key itself, its override in each profile overlay that sets it, and
    ``profile``. Both engines track exactly this list, so they agree on what
    a parameter change reruns.
    """
    out = ["profile"]
    for key in keys:
        out.append(key)
        for name in sorted(raw.get("profiles", {}) or {}):
            over = f"profiles.{name}.{key}"
            if has_path(raw, over):
                out.append(over)
    return list(dict.fromkeys(out))


class StageParams:
    """The resolved parameters a stage declared, and nothing else."""

    def __init__(self, resolved: Mapping, keys: Iterable[str], origin: str = "params.yaml"):
        self._resolved = resolved
        self.keys = tuple(keys)
        self.origin = origin
        for key in self.keys:
            if not has_path(resolved, key):
                raise ParamsError(f"{origin}: the stage reads '{key}', which is not defined")

    @property
    def profile(self) -> str:
        return self._resolved["profile"]

    def __getitem__(self, dotted: str) -> Any:
        if not any(dotted == k or dotted.startswith(k + ".") for k in self.keys):
            raise KeyError(
                f"'{dotted}' is not among this stage's declared parameters {list(self.keys)}; "
                "declare it in the script's PARAMS so both engines rerun the stage when it changes"
            )
        return copy.deepcopy(get_path(self._resolved, dotted))


def load_stage_params(path: str | Path, keys: Iterable[str]) -> StageParams:
    raw = read_yaml(path)
    return StageParams(resolve(raw, str(path)), keys, str(path))
