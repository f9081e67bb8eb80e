"""What ties the two engines together: each stage's code, parameters and command.

Snakemake rules call :func:`code_deps` and :func:`tracked` for their inputs and
params; ``python -m idl.dvcgen`` walks the Snakemake DAG and writes ``dvc.yaml``
from the very same jobs, so the pipeline is described in one place.
"""
from __future__ import annotations

import ast
import hashlib
import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import yaml

from idl import params as P

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
SCRIPTS = ROOT / "scripts"
OVERRIDE_DIR = Path(".snakemake") / "idl-params"


#: Modules that can stop a stage but never change its outputs (parameter checks, the guard
#: against a dvc.yaml of another DAG, the lock that keeps two runs apart, the removal of
#: Snakemake's stale job records under DVC, the exception classes errors are raised as): not code
#: dependencies, so editing them reruns nothing.
NOT_DEPENDENCIES = frozenset({"idl.checks", "idl.dagshape", "idl.errors", "idl.locks", "idl.records"})


@lru_cache(maxsize=None)
def _module_file(module: str) -> Path | None:
    """The source file of an ``idl`` module, or None for third-party modules and NOT_DEPENDENCIES."""
    if module != "idl" and not module.startswith("idl.") or module in NOT_DEPENDENCIES:
        return None
    base = SRC.joinpath(*module.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.exists():
            return cand
    return None


#: Each source file's imports, by the SHA-256 of its text. Parsing every module costs about half a
#: second each time Snakemake loads the workflow; with this file a load that finds no edited module
#: parses none. Losing or damaging it costs only that half second: anything unreadable is ignored.
IMPORTS_CACHE = ROOT / ".snakemake" / "idl-imports.json"
_used: dict[str, list[str]] = {}


@lru_cache(maxsize=None)
def _known_imports() -> dict[str, list[str]]:
    try:
        data = json.loads(IMPORTS_CACHE.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items()
            if isinstance(v, list) and all(isinstance(m, str) for m in v)}


def _parse_imports(text: bytes, path: Path) -> list[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return sorted(found)


@lru_cache(maxsize=None)
def _imports(path: Path) -> frozenset[str]:
    """The modules a source file imports, read once per process and remembered across processes by
    content in :data:`IMPORTS_CACHE`."""
    text = path.read_bytes()
    digest = hashlib.sha256(text).hexdigest()
    modules = _known_imports().get(digest)
    if modules is None:
        modules = _parse_imports(text, path)
    _used[digest] = modules
    return frozenset(modules)


def _remember_imports() -> None:
    """Add the files this process parsed (edited ones) to the cache, and drop the entries of texts
    no source file has any more."""
    known = _known_imports()
    if all(known.get(k) == v for k, v in _used.items()):
        return
    current = {hashlib.sha256(p.read_bytes()).hexdigest() for p in (*SRC.rglob("*.py"), *SCRIPTS.glob("*.py"))}
    for digest in [k for k in known if k not in current]:
        del known[digest]
    known.update(_used)  # this process's next lookups see them too
    from idl.io import write_json  # atomic: concurrent loads never read half a file

    try:
        write_json(IMPORTS_CACHE, known)
    except OSError:
        pass  # a read-only checkout: the next load parses again


@lru_cache(maxsize=None)
def code_deps(script: str) -> tuple[str, ...]:
    """The script plus every ``idl`` source file it imports, transitively (relative paths).

    Static (AST) so it needs no import of TensorFlow; parent packages'
    ``__init__.py`` are included because Python runs them on import, unless one holds nothing but
    a docstring (:func:`_runs_code`).
    """
    start = SCRIPTS / f"{script}.py"
    if not start.exists():
        raise FileNotFoundError(f"no stage script {start}")
    seen: set[Path] = set()
    todo = [start]
    for sibling in ("_bootstrap",):
        if (SCRIPTS / f"{sibling}.py").exists():
            todo.append(SCRIPTS / f"{sibling}.py")
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _imports(path):
            parts = module.split(".")
            for i in range(1, len(parts) + 1):
                f = _module_file(".".join(parts[:i]))
                if f is not None and f not in seen:
                    todo.append(f)
    _remember_imports()
    # The schema is not a dependency: params.yaml writes out every key (a test checks it), so
    # its defaults never reach a run recorded from params.yaml, and its rules can only refuse.
    # A new optional key therefore reruns nothing.
    return tuple(sorted(str(p.relative_to(ROOT)) for p in seen if p.suffix == ".py" and _runs_code(p)))


@lru_cache(maxsize=None)
def _runs_code(path: Path) -> bool:
    """Whether importing the file can change what a stage writes: not for a package's
    ``__init__.py`` that is empty or holds only a docstring. Editing that docstring then reruns
    nothing, and each stage lists one file fewer per package (DVC checks every listed file on each
    ``dvc status`` and rewrites its entry in dvc.lock on each record: docs/testing.md). Code added
    to it makes it a dependency again, and both engines rerun the stages that import the package."""
    if path.name != "__init__.py":
        return True
    body = ast.parse(path.read_bytes(), str(path)).body
    return not all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                   and isinstance(node.value.value, str) for node in body)


@lru_cache(maxsize=None)
def declared_params(script: str) -> tuple[str, ...]:
    """The ``PARAMS`` tuple a stage script declares (read statically)."""
    path = SCRIPTS / f"{script}.py"
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "PARAMS" for t in node.targets
        ):
            return tuple(ast.literal_eval(node.value))
    raise ValueError(f"{path} declares no PARAMS tuple")


def stage_keys(script: str, wildcards: Mapping[str, str] | None = None) -> list[str]:
    return [k.format(**dict(wildcards or {})) for k in declared_params(script)]


def params_file_for(config: Mapping, params_path: str | Path = "params.yaml") -> str:
    """``params.yaml`` when Snakemake's config is exactly that file, else a written override.

    With ``--config`` overrides the stages must see the overridden values, yet the
    run must not be recorded in DVC as if params.yaml had produced it: the stages
    then read a content-addressed copy of the effective config.
    """
    from_file = P.validate(P.read_yaml(params_path), str(params_path))
    effective = P.validate(config, "config")
    if effective == from_file:
        return str(params_path)
    text = yaml.safe_dump(effective, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    path = OVERRIDE_DIR / f"params-{digest}.yaml"
    if not path.exists():
        from idl.io import write_text

        write_text(path, "# Effective parameters of a Snakemake run with --config overrides.\n" + text)
    return str(path)


def is_override(params_file: str) -> bool:
    return Path(params_file).parts[:2] == OVERRIDE_DIR.parts


def _entry_paths(entries) -> list[str]:
    return [next(iter(e)) if isinstance(e, dict) else e for e in entries or []]


def load_yaml_text(text: str):
    """Safe YAML (data never runs code), parsed by libyaml when PyYAML has it: ten times faster on
    the thousands of lines of dvc.yaml and dvc.lock. Here, not in idl.params, which every stage
    runs: a change to it would make every finished stage out of date."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def dvc_stages(dvc_yaml: str | Path = "dvc.yaml") -> dict[str, tuple[list[str], list[str]]]:
    """Stage name -> (the paths it reads: deps, the paths it writes: outs, metrics, plots), from dvc.yaml."""
    stages = load_yaml_text(Path(dvc_yaml).read_text()).get("stages", {})
    return {name: (_entry_paths(stage.get("deps")),
                   [p for section in ("outs", "metrics", "plots") for p in _entry_paths(stage.get(section))])
            for name, stage in stages.items()}


def dvc_stage_outputs(dvc_yaml: str | Path = "dvc.yaml") -> dict[str, list[str]]:
    """Stage name -> the paths it outputs (outs, metrics, plots), read from dvc.yaml."""
    return {name: outs for name, (_, outs) in dvc_stages(dvc_yaml).items()}


def commit_targets(stages: Mapping[str, tuple[list[str], list[str]]], complete: set[str]) -> tuple[list[str], list[str]]:
    """How to record the ``complete`` stages of a DAG (``dvc_stages``) in few DVC calls.

    Naming a stage to ``dvc commit`` costs DVC a parse and a rewrite of dvc.yaml and dvc.lock (about
    4 s a stage on 2 cores), while ``--with-deps`` commits a stage and everything upstream of it in
    one. Returns (stages to commit with their upstream: the last complete stage of each complete
    branch, one whose every ancestor is complete too; stages to name alone: complete ones with an
    unfinished ancestor).
    """
    writer = {out: name for name, (_, outs) in stages.items() for out in outs}
    above: dict[str, set[str]] = {}  # a folder above an output (or the output) -> who writes in it
    for out, name in writer.items():
        parts = out.split("/")
        for i in range(1, len(parts) + 1):
            above.setdefault("/".join(parts[:i]), set()).add(name)

    def writers(dep: str) -> set[str]:  # of the dep, of a folder it is in, or of files in it
        parts = dep.split("/")
        inside = {writer[p] for p in ("/".join(parts[:i]) for i in range(1, len(parts))) if p in writer}
        return above.get(dep, set()) | inside

    parents = {name: set().union(*map(writers, deps)) - {name} for name, (deps, _) in stages.items()}
    closed: dict[str, bool] = {}

    def is_closed(name: str) -> bool:  # complete, and so is everything upstream (the DAG has no cycles)
        if name not in closed:
            closed[name] = name in complete and all(is_closed(p) for p in parents[name])
        return closed[name]

    whole = {name for name in stages if is_closed(name)}
    upstream = set().union(*(parents[name] for name in whole)) if whole else set()
    return sorted(whole - upstream), sorted(complete - whole)


_DVC_LOCK_TRIES, _DVC_LOCK_WAIT_S = 6, 5.0


def record_in_dvc(params_file: str, root: str | Path = ".") -> bool:
    """After a successful Snakemake run, record its outputs in dvc.lock (``dvc commit``).

    Only when this is a DVC repository and the run used params.yaml as it is: a run with
    ``--config`` overrides did not come from params.yaml and must not be recorded as if it had.
    Returns whether anything was recorded. Never raises for DVC's own failures (DVC busy with
    another command, say): it says what happened and how to record the run later.
    """
    import logging
    import shutil
    import subprocess
    import time

    log = logging.getLogger("idl.workflow")
    root = Path(root)
    if not (root / ".dvc").is_dir() or not (root / "dvc.yaml").exists():
        return False
    if is_override(params_file):
        print(
            "idl: this run's parameters differ from params.yaml (--config/--configfile), so its outputs are NOT recorded in DVC "
            "(dvc status will list them as changed). Put the values in params.yaml to record a run.",
            file=sys.stderr,
        )
        return False
    dvc = shutil.which("dvc")
    if dvc is None:
        log.warning("dvc is not installed: outputs not recorded in dvc.lock")
        return False
    stages = dvc_stages(root / "dvc.yaml")
    complete = [name for name, (_, paths) in stages.items() if paths and all((root / p).exists() for p in paths)]
    if not complete:
        return False
    from idl.dagshape import made_for_another_dag

    if made_for_another_dag(root / params_file, root / "dvc.yaml"):
        # a run of another DAG than dvc.yaml's: recording it would credit dvc.yaml's stages with
        # outputs other commands made
        print("idl: the outputs are made, but NOT recorded in DVC: dvc.yaml describes another DAG than "
              "params.yaml gives (another profile, or models or datasets added or left out). Regenerate it "
              "with `./run dvcgen`, then record this run with `./run record`.", file=sys.stderr)
        return False
    print(f"idl: recording {len(complete)} finished stages in DVC (dvc commit)", file=sys.stderr)
    # --no-relink leaves the workspace files (and so the modification times Snakemake judges
    # freshness by) as they are. All stages at once when all are finished; else each finished
    # branch by its last stage (--with-deps), and alone only a stage with an unfinished ancestor.
    command = [dvc, "commit", "--force", "--quiet", "--no-relink"]
    if len(complete) == len(stages):
        commands = [command]
    else:
        branches, alone = commit_targets(stages, set(complete))
        commands = [command + ["--with-deps", *branches]] if branches else []
        commands += [command + alone] if alone else []
    for command in commands:
        for attempt in range(_DVC_LOCK_TRIES):
            done = subprocess.run(command, cwd=root, capture_output=True, text=True)
            if done.returncode == 0:
                break
            if "lock" not in done.stderr.lower() or attempt == _DVC_LOCK_TRIES - 1:
                print(f"idl: the outputs are made, but DVC could not record them in dvc.lock:\n{done.stderr.strip()}\n"
                      "When the other DVC process has finished, record them with `./run record` (or run `dvc repro`, "
                      "which reruns nothing that is up to date).", file=sys.stderr)
                return False
            time.sleep(_DVC_LOCK_WAIT_S)  # another dvc process (say `dvc repro`) holds DVC's lock
    return True


STAMP_DIR = OVERRIDE_DIR / "values"
#: key -> the parameter file its value file was last written from (not an input of any stage)
STAMP_SOURCES = OVERRIDE_DIR / "values-from.json"


def _expand(template: str, resolved: Mapping) -> list[str]:
    """A declared key with ``{wildcard}`` parts, for every name the parameters define there.

    A wildcard always stands for a key of the map above it (``clock.models.{model}``: the
    models), so the parameters alone say which stages can exist.
    """
    head, sep, tail = template.partition("{")
    if not sep:
        return [template]
    prefix = head.rstrip(".")
    rest = tail.split("}", 1)[1]
    try:
        names = P.get_path(resolved, prefix) if prefix else resolved
    except KeyError:
        return []
    if not isinstance(names, Mapping):
        return []
    return [k for name in sorted(names) for k in _expand(f"{prefix}.{name}{rest}" if prefix else f"{name}{rest}",
                                                        resolved)]


def stamp_path(key: str) -> str:
    return str(STAMP_DIR / f"{key}.json")


def write_param_stamps(config: Mapping, resolved: Mapping, params_file: str) -> None:
    """One small file per parameter key a stage reads, holding its value: the rerun trigger.

    Called once, when Snakemake parses the workflow and before it builds the DAG, for every
    key any stage script declares (wildcards expanded over the parameters), so every file a
    rule names as input already exists when Snakemake looks for it.

    A file is rewritten only when its value changes, and then stamped with the time the
    parameter file was edited: outputs either engine made after that edit (``dvc repro``
    too) are newer and count as up to date, older ones are stale. Snakemake's own ``params``
    trigger cannot do this: it compares with what Snakemake itself last ran. Switching
    between params.yaml and a ``--config`` override stamps a changed value "now" (outputs
    made under the other file are stale) and keeps the stamp of an unchanged one.

    A file holds the value alone; which parameter file wrote it is kept apart (``STAMP_SOURCES``).
    So when a value comes back to what a stage ran with (an override, a look at params.yaml,
    the override again with another file beside it), the file is byte for byte what Snakemake
    saw then, and its checksum (Snakemake keeps one of each small input) tells it that nothing
    changed, however new the file's time.
    """
    import json
    import os
    import time

    from idl.io import write_text

    keys: set[str] = set()
    for script in sorted(p.stem for p in SCRIPTS.glob("*.py") if not p.stem.startswith("_")):
        for template in declared_params(script):
            keys.update(P.tracked_keys(config, _expand(template, resolved)))
    try:
        sources = json.loads(STAMP_SOURCES.read_text())
    except (OSError, ValueError):
        sources = {}
    known = dict(sources)
    for key in sorted(keys):
        path = Path(stamp_path(key))
        try:
            value = P.get_path(config, key)
        except KeyError:
            value = None
        text = json.dumps({"value": value}, sort_keys=True, indent=1) + "\n"
        try:
            old_text = path.read_text()
            old = json.loads(old_text)
        except (OSError, ValueError):
            old_text, old = None, None
        if not isinstance(old, dict):
            old = None
        source = sources.get(key, old and old.get("params_file"))  # the older files said it inside
        if old is not None and old.get("value") == value:
            # same value, from whichever file: its time stands (an older file is rewritten in this form)
            stamp = None if old_text == text else path.stat().st_mtime
        elif old is None or source == params_file:
            stamp = os.stat(params_file).st_mtime
        else:
            stamp = time.time()
        if stamp is not None:
            write_text(path, text)
            os.utime(path, (stamp, stamp))
        sources[key] = params_file
    if sources != known:
        write_text(STAMP_SOURCES, json.dumps(sources, sort_keys=True, indent=1) + "\n")


def stage_param_keys(config: Mapping, script: str, wildcards: Mapping[str, str]) -> list[str]:
    """The parameter-file keys a stage depends on: DVC's ``params`` and Snakemake's stamp files alike."""
    return P.tracked_keys(config, stage_keys(script, wildcards))


def param_stamps(config: Mapping, script: str, wildcards: Mapping[str, str]) -> list[str]:
    """The stamp files of the keys a stage reads (written by :func:`write_param_stamps`)."""
    return [stamp_path(k) for k in stage_param_keys(config, script, wildcards)]
