"""Which stages the DAG has, as the parameters decide it, and a guard for DVC runs.

``dvc.yaml`` is generated (``idl.dvcgen``) for the DAG that ``params.yaml`` gives at that moment.
Some parameters decide which stages there are, not only what they compute: the profile (the demo
generates its data instead of downloading it), the model, run and dataset lists, a model's
``init_from``, ``train_on`` and curriculum rotations, ``clock.external`` and ``clock.heldout``.
Change one and run ``dvc repro`` or ``dvc exp run -S`` without regenerating ``dvc.yaml``, and DVC
runs stages of the old DAG under the new parameters. So ``idl.dvcgen`` writes a fingerprint of
these parameters into ``dvc.yaml``'s header, and a stage that DVC runs (``DVC_STAGE`` is set)
compares it with its own parameters' before it starts, stopping with what to do if they differ.

Not a code dependency of any stage (``idl.workflow.NOT_DEPENDENCIES``): it can stop a stage but
never changes what a stage writes.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Mapping

SHAPE_LINE = "# DAG shape: "


def dag_shape(resolved: Mapping) -> str:
    """A fingerprint of every resolved parameter that decides which stages the DAG has."""
    from idl.clock.curriculum import rotations, validate_curriculum

    clock = resolved["clock"]
    shape = {
        "generated": sorted(name for name, cfg in resolved["data"].items()
                            if isinstance(cfg, Mapping) and cfg.get("source") == "synthetic"),
        "basics_runs": sorted(resolved["basics"]["runs"]),
        "clock_models": {name: [recipe.get("init_from"), recipe.get("init_from_reader"), recipe.get("train_on"),
                                rotations(validate_curriculum(recipe.get("curriculum")))]
                         for name, recipe in sorted(clock["models"].items())},
        "clock_external": {name: entry if isinstance(entry, str) else "generated"
                           for name, entry in sorted(clock["external"].items())},
        "clock_heldout": [clock["heldout"]["images"] is not None, clock["heldout"]["models"]],
        "generative": [resolved["generative"]["datasets"], sorted(resolved["generative"]["models"])],
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True, default=list).encode()).hexdigest()[:16]


def written_shape(dvc_yaml: str | os.PathLike) -> str | None:
    """The fingerprint ``idl.dvcgen`` wrote into ``dvc_yaml``'s header (None: none there)."""
    try:
        with open(dvc_yaml) as f:
            for line in f:
                if not line.startswith("#"):
                    return None
                if line.startswith(SHAPE_LINE):
                    return line[len(SHAPE_LINE):].strip()
    except OSError:
        return None
    return None


def made_for_another_dag(params_path: str | os.PathLike, dvc_yaml: str | os.PathLike) -> bool:
    """Whether ``params_path`` makes another DAG than ``dvc_yaml`` was written for (False when
    ``dvc_yaml`` carries no fingerprint: nothing to compare)."""
    written = written_shape(dvc_yaml)
    if written is None:
        return False
    from idl.params import read_yaml, resolve

    return dag_shape(resolve(read_yaml(params_path), str(params_path))) != written


def refuse_a_stale_dvc_yaml(params_path: str | os.PathLike, environ: Mapping = os.environ) -> None:
    """Under DVC, raise ParamsError if ``params_path`` makes another DAG than ``dvc.yaml`` was written for."""
    if not environ.get("DVC_STAGE"):
        return
    dvc_yaml = Path(environ.get("DVC_ROOT", ".")) / "dvc.yaml"
    if made_for_another_dag(params_path, dvc_yaml):
        from idl.errors import ParamsError

        raise ParamsError(
            f"{params_path} makes another DAG than {dvc_yaml} was written for (another profile, or models, runs "
            "or datasets added, left out or chained otherwise): run `./run dvcgen` (python -m idl.dvcgen) to "
            "write dvc.yaml for these parameters, then run DVC again")
