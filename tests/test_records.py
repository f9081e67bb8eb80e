"""Snakemake's job records (benchmark files) and DVC: a stage DVC runs drops Snakemake's older record
of it, or Snakemake would take the record's age for an output's and redo what DVC just did."""
import pytest

from idl import locks
from idl.dvcgen import Job, stages_from_jobs
from idl.params import read_yaml
from pipeline import ROOT
from idl.records import BENCHMARK_DIR, benchmark_file, forget_stale_benchmark

RECORD = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n1.0\t0:00:01\t1\t1\t1\t1\t1\t1\t1\t1\n"


def _records(root, *stages):
    for rule, stage in stages:
        path = root / benchmark_file(rule, stage)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(RECORD)
    return sorted(p.relative_to(root).as_posix() for p in (root / BENCHMARK_DIR).rglob("*.tsv"))


def test_a_stage_run_by_dvc_removes_snakemakes_older_record_of_it(tmp_path):
    assert benchmark_file("gen_train", "gen_train_tinyhero_vae") == f"{BENCHMARK_DIR}/gen_train/gen_train_tinyhero_vae.tsv"
    before = _records(tmp_path, ("gen_train", "gen_train_tinyhero_vae"), ("gen_train", "gen_train_tinyhero_cae"),
                      ("report", "report"))
    assert forget_stale_benchmark({}, tmp_path) == []  # not under DVC: Snakemake, or a script run by hand
    assert forget_stale_benchmark({"DVC_STAGE": "gen_train_tinyhero_vae"}, tmp_path) == [
        tmp_path / benchmark_file("gen_train", "gen_train_tinyhero_vae")]
    assert forget_stale_benchmark({"DVC_STAGE": "dvc.yaml:report"}, tmp_path) != []
    assert _records(tmp_path) == [before[0]]  # gen_train_tinyhero_cae's


def test_every_stage_drops_its_record_when_it_takes_its_locks_under_dvc(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _records(tmp_path, ("clock_split", "clock_split"))
    monkeypatch.delenv("DVC_STAGE", raising=False)
    with locks.hold([tmp_path / "out"]):
        pass
    assert (tmp_path / benchmark_file("clock_split", "clock_split")).exists()
    monkeypatch.setenv("DVC_STAGE", "clock_split")
    with locks.hold([tmp_path / "out"]):
        assert not (tmp_path / benchmark_file("clock_split", "clock_split")).exists()


def test_dvcgen_refuses_a_job_without_its_record_named_after_its_stage():
    job = dict(rule="gen_train", wildcards={"dataset": "tinyhero", "gen": "vae"}, input=(), output=("m.keras",),
               shellcmd="python scripts/gen_train.py")
    for wrong in (None, "logs/benchmarks/gen_train/vae_tinyhero.tsv"):
        with pytest.raises(ValueError, match="gen_train_tinyhero_vae.tsv"):
            stages_from_jobs([Job(**job, benchmark=wrong)], read_yaml(ROOT / "params.yaml"))
