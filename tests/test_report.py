"""The results page says which clock data produced its numbers, and how it differs from the course's."""
import json

from idl.report import describe_data


def _raw(tmp_path, **source):
    (tmp_path / "SOURCE.json").write_text(json.dumps(source))
    return tmp_path


def test_generated_clocks_are_named_as_such_and_easier_variants_say_how(tmp_path):
    sentence, synthetic = describe_data(_raw(tmp_path, source="synthetic", per_minute=25, size=150, seed=42,
                                             max_rotation_deg=180, max_tilt_deg=50))
    assert synthetic and "NOT the course data" in sentence and "EASIER" not in sentence
    sentence, _ = describe_data(_raw(tmp_path, source="synthetic", per_minute=5, size=75, seed=42,
                                     max_rotation_deg=30, max_tilt_deg=0))
    assert "EASIER: rotation within 30 degrees of upright, tilt up to 0 degrees" in sentence


def test_real_clock_data_names_its_source(tmp_path):
    sentence, synthetic = describe_data(_raw(tmp_path, source="download", url="https://example.org/a1.zip"))
    assert not synthetic and "https://example.org/a1.zip" in sentence


def test_a_figure_caption_on_the_page_is_the_text_of_its_caption_file():
    from pathlib import Path

    from idl.report import CAPTION_FILES, page_caption

    captions = Path(__file__).resolve().parents[1] / "captions"
    files = {p.stem: p for p in captions.glob("*.rst")}
    assert {stem for _, stem in CAPTION_FILES} <= set(files)  # every caption the page uses exists
    # no placeholders: the file's text, on one line
    text = " ".join((captions / "clock_figure3.rst").read_text().split())
    assert page_caption("results/clock/summary/figure3.png", files) == text
    # placeholders are filled with the wildcards of the figure's path (and the recipe's kind, from the
    # config), as Snakemake fills them for its report; ``literals`` become the page's `literals`
    config = {"generative": {"models": {"vae": {"kind": "vae"}, "big": {"kind": "vae"}}}}
    assert page_caption("results/generative/tinyhero/vae/figures/samples.png", files, config) == \
        "Figure 9: `vae`: samples decoded from random latent vectors, on `tinyhero`."
    assert page_caption("results/generative/afhq/big/figures/samples.png", files, config).startswith("Figure 6: `big`:")
    assert page_caption("results/data/pistachio_downsampling.png", files).startswith("Figure 11: `pistachio`: originals")
    assert page_caption("results/clock/models/final_nc12/learning_curves.png", files).startswith("`final_nc12`: ")
    # an absolute path matches too; a figure no caption file covers keeps the caption the page gives it
    assert page_caption("/work/x/results/clock/summary/figure3.png", files) == text
    assert page_caption("results/elsewhere/figure3.png", files) is None
