"""The ./run helper as a user meets it: its help lists every command, and a benchmark it does not
have is refused with the names it has."""
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / "run"), *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_help_lists_every_command():
    out = run("help").stdout
    script = (ROOT / "run").read_text()
    commands = re.findall(r"^    ([a-z-]+)\)$", script, flags=re.M)  # the case labels of the script
    assert "read-clock" in commands and "bench" in commands
    for command in commands:
        assert f"./run {command}" in out, command


def test_an_unknown_benchmark_is_refused_with_the_known_names():
    done = run("bench", "nosuch")
    assert done.returncode == 2
    known = sorted(p.stem.removeprefix("bench_") for p in (ROOT / "benchmarks").glob("bench_*.py"))
    assert "no benchmark 'nosuch'" in done.stderr
    assert all(name in done.stderr for name in known)
