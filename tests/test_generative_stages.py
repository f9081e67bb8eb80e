"""Task 3's stage logic around the models: the held-out split, the comparison table, and the
results-page section that explains the scores."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from idl.errors import DataError
from idl.generative.data import load_images, read_split, write_split
from idl.generative.evaluate import interpolate
from idl.generative.summary import COLUMNS, write_summary


def _prepared(path, n=20, side=32):
    path.mkdir(parents=True)
    images = np.random.default_rng(0).integers(0, 256, size=(n, side, side, 3), dtype=np.uint8)
    np.save(path / "images.npy", images)
    return images


def test_split_is_seeded_disjoint_and_saved_as_indices(tmp_path):
    _prepared(tmp_path / "data", n=50)
    info = write_split(tmp_path / "data", tmp_path / "a", test_fraction=0.1, seed=3)
    write_split(tmp_path / "data", tmp_path / "b", test_fraction=0.1, seed=3)
    write_split(tmp_path / "data", tmp_path / "c", test_fraction=0.1, seed=4)
    tr, te = read_split(tmp_path / "a")
    assert info["n_test"] == 5 and len(te) == 5 and len(tr) == 45
    assert not set(tr) & set(te) and sorted([*tr, *te]) == list(range(50))
    np.testing.assert_array_equal(te, read_split(tmp_path / "b")[1])
    assert not np.array_equal(te, read_split(tmp_path / "c")[1])


def test_images_are_scaled_to_unit_range_and_bad_arrays_are_named(tmp_path):
    raw = _prepared(tmp_path / "ok")
    x = load_images(tmp_path / "ok")
    assert x.dtype == np.float32 and x.max() <= 1.0
    np.testing.assert_allclose(x * 255, raw, atol=1e-4)
    (tmp_path / "bad").mkdir()
    np.save(tmp_path / "bad" / "images.npy", np.zeros((4, 32, 32), np.uint8))
    with pytest.raises(DataError, match=r"bad/images\.npy.*\(n, h, w, 3\)"):
        load_images(tmp_path / "bad")
    with pytest.raises(DataError, match="prepare_images"):
        load_images(tmp_path / "missing")
    with pytest.raises(DataError, match="gen_split"):
        read_split(tmp_path / "missing")


def test_interpolation_runs_straight_from_one_end_to_the_other():
    z0, z1 = np.zeros(4, np.float32), np.arange(4, dtype=np.float32)
    line = interpolate(z0, z1, 5)
    assert line.shape == (5, 4)
    np.testing.assert_allclose(line[0], z0)
    np.testing.assert_allclose(line[-1], z1)
    np.testing.assert_allclose(line[2], z1 / 2)


def _scores(dataset, model, kind, **values):
    return {"dataset": dataset, "model": model, "kind": kind, "epochs": 3, **values}


def test_summary_has_one_row_per_model_and_dataset_and_leaves_missing_scores_empty(tmp_path):
    paths = []
    for d in ("tinyhero", "afhq"):
        for m, kind, values in [
            ("cae", "cae", {"test_mse_mean": 0.01, "test_ssim_mean": 0.8, "frechet_reconstructions": 2.0}),
            ("gan", "gan", {"samples_frechet": 5.0, "frechet_real_floor": 0.5,
                            "samples_relative_diversity": 0.9}),
        ]:
            p = tmp_path / d / m / "scores.json"
            p.parent.mkdir(parents=True)
            p.write_text(json.dumps(_scores(d, m, kind, **values)))
            paths.append(p)
    rows = write_summary(paths, tmp_path / "summary")
    assert [(r["dataset"], r["model"]) for r in rows] == [("afhq", "cae"), ("afhq", "gan"),
                                                          ("tinyhero", "cae"), ("tinyhero", "gan")]
    lines = (tmp_path / "summary" / "comparison.csv").read_text().splitlines()
    assert lines[0].split(",")[:3] == ["dataset", "model", "epochs"] and len(lines) == 5
    cae = lines[1].split(",")
    assert cae[[k for k, _ in COLUMNS].index("samples_frechet")] == ""  # a CAE has no samples
    metrics = json.loads((tmp_path / "summary" / "summary.json").read_text())
    assert metrics["tinyhero/gan"]["samples_relative_diversity"] == 0.9
    assert (tmp_path / "summary" / "scores.png").stat().st_size > 0


def test_summary_without_scores_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no scores"):
        write_summary([], tmp_path)


def test_results_page_section_names_the_data_the_budget_and_the_report_figures(tmp_path):
    from idl.generative.page import generative_section
    from idl.report import Page, page_caption

    results = tmp_path / "results" / "generative"
    p = results / "tinyhero" / "vae" / "scores.json"
    p.parent.mkdir(parents=True)
    p.write_text(json.dumps(_scores("tinyhero", "vae", "vae", test_mse_mean=0.012345, samples_frechet=3.21)))
    (p.parent / "figures").mkdir()
    (p.parent / "figures" / "samples.png").write_bytes(b"png")
    write_summary([p], results / "summary")
    cfg = {"datasets": ["tinyhero"], "test_fraction": 0.1,
           "models": {"vae": {"kind": "vae", "latent_dim": 32, "filters": 128, "epochs": 20, "batch_size": 32}}}
    # figure captions come from captions/*.rst, the files of `snakemake --report`
    captions = {f.stem: f for f in (Path(__file__).parents[1] / "captions").glob("*.rst")}
    out_dir = tmp_path / "results" / "report"
    page = Page("t", caption_for=lambda rel: page_caption(os.path.normpath(out_dir / rel), captions,
                                                          {"generative": cfg}))
    generative_section(page, results, cfg, {"tinyhero": {"source": "download", "local": "/data/tinyhero"}}, out_dir)
    md = page.markdown()
    assert "the real images (local copy: `/data/tinyhero`)" in md
    assert "`vae` (VAE, latent 32, 128 filters): 20 epochs, batch 32" in md
    assert "| tinyhero | vae | 3 | 0.0123 |" in md
    assert "Figure 9: `vae`: samples decoded from random latent vectors, on `tinyhero`" in md
    assert "(../generative/tinyhero/vae/figures/samples.png)" in md
    synthetic = Page("t")
    generative_section(synthetic, results, cfg, {"tinyhero": {"source": "synthetic"}}, tmp_path / "results" / "report")
    assert "generated stand-ins (NOT the real images)" in synthetic.markdown()
