"""Results fetched by DVC (``dvc pull``, ``dvc checkout``, ``dvc exp apply``), made up to date for Snakemake too.

DVC keeps no file times: each file it writes gets the time it was written, in DVC's own order.
DVC judges by hashes, so to DVC the pulled tree is up to date; Snakemake judges by times, and a
result written a moment before the file it was made from looks stale to it (a fresh clone's
``snakemake -n`` would retrain every model it has just pulled).

So after DVC writes, ask DVC which stages are up to date (``dvc status``: hashes of code, data and
parameters against ``dvc.lock``), and have Snakemake mark exactly those stages' outputs as made
(``snakemake --touch``: it touches the jobs it would run, inputs before outputs). A stage DVC
finds changed or missing is left alone, so a real change is never hidden: both engines still
redo it. See docs/sharing.md.

    python -m idl.sharing pull [TARGET...]   # dvc pull (with the stages TARGETs need), then retime
    python -m idl.sharing retime             # after dvc checkout / dvc exp apply
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from idl.workflow import dvc_stage_outputs, load_yaml_text


class SharingError(RuntimeError):
    """A DVC or Snakemake step failed; the message says which and why."""


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SharingError(f"{name} is not installed (./run setup installs the pinned one)")
    return path


def up_to_date_outputs(root: Path) -> list[str]:
    """The outputs of every stage that DVC finds up to date and whose outputs are all present."""
    done = subprocess.run([_tool("dvc"), "status", "--json"], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise SharingError(f"dvc status failed:\n{done.stderr.strip()}")
    changed = {name.rpartition(":")[2] for name in json.loads(done.stdout or "{}")}
    stages = dvc_stage_outputs(root / "dvc.yaml")
    if changed:
        shown = ", ".join(sorted(changed)[:8]) + (", ..." if len(changed) > 8 else "")
        print(f"idl: {len(changed)} of {len(stages)} stages are not up to date for DVC (not pulled, never run, "
              f"or changed since), so both engines will make them: {shown}", file=sys.stderr)
    return [path for name, paths in stages.items()
            if name not in changed and paths and all((root / p).exists() for p in paths)
            for path in paths]


def retime(root: Path = Path(".")) -> list[str]:
    """Mark the outputs DVC finds up to date as made, for Snakemake; return them."""
    outputs = up_to_date_outputs(root)
    if not outputs:
        print("idl: no stage is up to date for DVC: nothing to mark for Snakemake", file=sys.stderr)
        return []
    print(f"idl: marking {len(outputs)} outputs that DVC finds up to date as made, for Snakemake "
          "(snakemake --touch)", file=sys.stderr)
    done = subprocess.run([_tool("snakemake"), "--touch", "--cores", "1", "--quiet", "all", "--", *outputs],
                          cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise SharingError(f"snakemake --touch failed:\n{done.stderr.strip()[-4000:]}")
    return outputs


def recorded_stages(root: Path) -> list[str]:
    """The stages ``dvc.lock`` records (those that have run), when some of dvc.yaml's have not; else none."""
    lock = root / "dvc.lock"
    recorded = list(load_yaml_text(lock.read_text()).get("stages", {})) if lock.exists() else []
    return recorded if set(dvc_stage_outputs(root / "dvc.yaml")) - set(recorded) else []


def pull(targets: list[str], root: Path = Path("."), remote: str | None = None) -> list[str]:
    """``dvc pull`` the TARGETs (stages or paths) and the stages they are made from, then retime.

    Without TARGETs, every stage dvc.lock records: a plain ``dvc pull`` fails on the stages of a
    partly run DAG that have never run (nothing of theirs can be in any remote). Naming stages costs
    DVC time, so they are named only then.
    """
    command = [_tool("dvc"), "pull", *(["--remote", remote] if remote else [])]
    if targets:
        command += ["--with-deps", *targets]  # without its inputs, Snakemake would remake a pulled result
    else:
        command += recorded_stages(root)
    if subprocess.run(command, cwd=root).returncode != 0:
        raise SharingError("`dvc pull` failed (its message is above); nothing was marked for Snakemake")
    return retime(root)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pull", help="dvc pull, then mark what DVC finds up to date as made for Snakemake")
    p.add_argument("targets", nargs="*", help="DVC stages or output paths (default: everything)")
    p.add_argument("-r", "--remote", help="the DVC remote to pull from (default: the project's default remote)")
    sub.add_parser("retime", help="after dvc checkout or dvc exp apply: mark what DVC finds up to date as made")
    args = ap.parse_args(argv)
    try:
        if args.command == "pull":
            pull(args.targets, remote=args.remote)
        else:
            retime()
    except SharingError as exc:
        print(f"idl: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
