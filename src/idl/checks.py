"""The checks on parameters that a JSON schema cannot express.

They run wherever parameters are read (:func:`idl.params.resolve`): when Snakemake parses
the workflow, so ``snakemake -n`` reports them, and in every stage script, so ``dvc repro``
stops at its first stage with the same message; never first deep inside a stage.

This module only refuses parameters, it never changes them, so it cannot change any
stage's outputs: :func:`idl.workflow.code_deps` leaves it (and what it imports only for
checking) out of the stages' code dependencies, so editing a check reruns nothing.
"""
from __future__ import annotations

from typing import Mapping

from idl.errors import ParamsError


def check(resolved: Mapping, origin: str = "params.yaml") -> None:
    """Raise ParamsError naming every key of ``resolved`` (validated, defaults filled) that is wrong."""
    from idl.clock.recipes import Recipe, check_init_from, check_train_on
    from idl.data.sources import parse_checksum

    problems = []

    def bad(key: str, why: str) -> None:
        problems.append(f"  {key}: {why}")

    split = resolved["clock"]["split"]
    total = sum(split.values())
    if abs(total - 1) > 1e-6:
        bad("clock.split", f"train + val + test must sum to 1, got {' + '.join(f'{v:g}' for v in split.values())} = {total:g}")
    data = resolved["data"]
    if data.get("mirror") is not None:
        _check(bad, "data.mirror", check_url, data["mirror"])
    for name, cfg in sorted(data.items()):
        if not isinstance(cfg, Mapping):
            continue
        for file, checksum in sorted((cfg.get("checksums") or {}).items()):
            _check(bad, f"data.{name}.checksums.{file}", parse_checksum, checksum)
        if cfg.get("url") is not None:
            _check(bad, f"data.{name}.url", check_url, cfg["url"])
    _check(bad, "data.clock.synthetic", check_clock_generator, data["clock"]["synthetic"])
    if resolved["clock"]["heldout"]["images"] is not None:
        if data["clock"]["synthetic"]["heldout_style"] is None:
            bad("clock.heldout.images", "the held-out-style clocks need a style: set "
                "data.clock.synthetic.heldout_style (or images: null)")
        unknown = [m for m in resolved["clock"]["heldout"]["models"] or [] if m not in resolved["clock"]["models"]]
        if unknown:
            bad("clock.heldout.models", f"not in clock.models: {', '.join(unknown)}")
        if HELDOUT_NAME in resolved["clock"]["external"]:
            bad(f"clock.external.{HELDOUT_NAME}", f"the name {HELDOUT_NAME!r} is the held-out-style scores' "
                "(clock.heldout): choose another")
    for name, entry in sorted(resolved["clock"]["external"].items()):
        if isinstance(entry, Mapping) and "generate" in entry:
            _check(bad, f"clock.external.{name}.generate", check_generated_set, data["clock"]["synthetic"],
                   entry["generate"])
    for name, recipe in sorted(resolved["clock"]["models"].items()):
        _check(bad, f"clock.models.{name}", Recipe.from_params, recipe)
        if isinstance(recipe, Mapping) and isinstance(recipe.get("init_from_reader"), str):
            _check(bad, f"clock.models.{name}.init_from_reader", check_reader_folder, recipe["init_from_reader"])
    _check(bad, "clock.models", check_init_from, resolved["clock"]["models"])
    _check(bad, "clock.models", check_train_on, resolved["clock"]["models"], resolved["clock"]["external"])
    for name, run in sorted(resolved["basics"]["runs"].items()):
        for key in ("conv_layers", "dropout_layers"):
            if run["arch"] != "cnn" and key in run:
                bad(f"basics.runs.{name}.{key}", f"applies to arch cnn only, not {run['arch']!r}; remove it")
    for dataset in resolved["generative"]["datasets"]:
        _check(bad, f"prepare.{dataset}.size", check_image_side, resolved["prepare"][dataset]["size"])
    if problems:
        raise ParamsError(f"{origin}: invalid parameters:\n" + "\n".join(problems))


HELDOUT_NAME = "heldout_style"  # results/clock/scores/<this>/: where the held-out-style scores go


def check_clock_generator(cfg: Mapping) -> None:
    """What the clock generator refuses that the schema cannot say (e.g. blur's low above its high)."""
    from idl.clock.synth_settings import settings_from

    settings_from({k: v for k, v in cfg.items() if k not in ("per_minute", "size")})


def check_generated_set(base: Mapping, generate: Mapping) -> None:
    """A clock.external entry's generated clocks: data.clock.synthetic with its keys, as the generator takes them."""
    from idl.clock.synth_settings import generated_set_settings, settings_from

    settings_from(generated_set_settings(base, generate)[0])


def check_url(url: str) -> None:
    """What the downloader can fetch: an absolute http(s) URL naming a host."""
    from idl.data.sources import url_problem

    if problem := url_problem(url):
        raise ValueError(f"{url!r} is not a download URL: {problem}")


def check_image_side(side: int) -> None:
    """Task 3's images: Table 11's decoder doubles 4x4 up to the side, and the feature net
    halves it down to 2x2, so the side must be a power of two, at least 8."""
    if side < 8 or side & (side - 1):
        raise ValueError(f"Task 3's models need a power of two, at least 8 (the report: 32), got {side}")


def check_reader_folder(folder: str) -> None:
    """``folder`` holds a clock reader whose reader.json this project reads (the weights are checked
    when training starts from them)."""
    from idl.clock.read import read_meta
    from idl.errors import DataError

    try:
        read_meta(folder)
    except DataError as exc:
        raise ValueError(str(exc)) from None


def _check(bad, key: str, fn, *values) -> None:
    try:
        fn(*values)
    except ValueError as exc:
        bad(key, str(exc))
