"""Make ``import idl`` work when a script runs from a clone without the package installed
(for example inside a Snakemake ``--sdm conda`` environment)."""
import sys
from pathlib import Path

_src = str(Path(__file__).resolve().parents[1] / "src")
if _src not in sys.path:
    sys.path.insert(0, _src)
