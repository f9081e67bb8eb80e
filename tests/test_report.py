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


def test_the_page_says_which_generator_setting_made_the_clocks(tmp_path):
    hard, _ = describe_data(_raw(tmp_path, source="synthetic", per_minute=25, size=150, seed=42, views=None))
    assert "HARD setting" in hard and "the classic clock only" in hard
    views, _ = describe_data(_raw(tmp_path, source="synthetic", per_minute=25, size=150, seed=42, views=10,
                                  view_jitter={"turn_deg": 3, "tilt_deg": 1}, dials=["classic", "thin"],
                                  numerals=["arabic"], hands=["classic"]))
    assert "course-like: 10 seeded views" in views and "within 3 degrees of turn" in views
    assert "styles: dials classic, thin" in views and "HARD" not in views


def test_heldout_scores_are_tabled_beside_the_test_split(tmp_path):
    from idl.report import Page, _heldout_section

    data = _raw(tmp_path, source="synthetic", purpose="heldout_style", images=120, views=10,
                dials=["square"], numerals=["roman"], hands=["arrow"])
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"data": str(data), "models": {
        "final_nc12": {"accuracy": 0.25, "cse_mean": 101.5, "cse_mean_quarter_turns": 99.0},
        "regression": {"accuracy": None, "cse_mean": 150.0, "cse_mean_quarter_turns": 140.0}}}))
    page = Page("t")
    _heldout_section(page, summary, {"cse_mean": {"final_nc12": 20.25, "regression": 30.0}})
    text = page.markdown()
    assert "120 generated clocks in the held-out style `square/roman/arrow`" in text
    assert "| final_nc12 | 20.2 | 0.250 | 101.5 | 99.0 |" in text
    assert "| regression | 30.0 | – | 150.0 | 140.0 |" in text


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


HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _record(folder, rule, stage, *rows):
    path = folder / rule / f"{stage}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join("\t".join(map(str, r)) + "\n" for r in rows))


def test_where_the_time_went_lists_the_slowest_stages_from_snakemakes_benchmark_files(tmp_path):
    from idl.report import Page, read_benchmarks, timing_section

    bench = tmp_path / "logs" / "benchmarks"
    _record(bench, "clock_train", "clock_train_final_nc12", (300.5, "0:05:00", 2400.4, 5000, 2300, 2350, 10, 20, 95, 580))
    _record(bench, "gen_train", "gen_train_tinyhero_vae", (90.0, "0:01:30", 900.0, 3000, 850, 870, 1, 2, 99, 88),
            (110.0, "0:01:50", 950.0, 3000, 850, 870, 1, 2, 99, 108))  # two repeats: mean time, largest memory
    _record(bench, "clock_split", "clock_split", (9.5, "0:00:09", "NA", "NA", "NA", "NA", "NA", "NA", "NA", "NA"))
    _record(bench, "report", "report", (999.0, "0:16:39", 700, 1, 1, 1, 1, 1, 1, 1))  # the page's own: earlier run
    jobs = read_benchmarks(bench)
    assert [(j["rule"], j["wildcards"], j["s"], j["max_rss"]) for j in jobs] == [
        ("report", "", 999.0, 700.0), ("clock_train", "final_nc12", 300.5, 2400.4),
        ("gen_train", "tinyhero_vae", 100.0, 950.0), ("clock_split", "", 9.5, None)]
    page = Page("t")
    timing_section(page, jobs)
    md = page.markdown()
    assert "## Where the time went" in md and "not a reproducible result" in md
    assert "3 stages recorded, 410 s of wall time in all (0:06:50;" in md
    assert ("| rule | wildcards | wall time (s) | peak memory (MB) | share of the total |\n|---|---|---|---|---|\n"
            "| clock_train | final_nc12 | 300.5 | 2400.4 | 73 % |\n"
            "| gen_train | tinyhero_vae | 100.0 | 950.0 | 24 % |\n"
            "| clock_split | – | 9.5 | – | 2 % |\n") in md
    assert "<h2>Where the time went</h2>" in page.html()


def test_where_the_time_went_says_so_when_dvc_ran_every_stage(tmp_path):
    from idl.report import Page, read_benchmarks, timing_section

    page = Page("t")
    timing_section(page, read_benchmarks(tmp_path / "no-such-folder"))
    assert "No records found" in page.markdown() and "Stages run by DVC record no times" in page.markdown()



def test_an_empty_or_cut_short_record_is_left_out(tmp_path):
    from idl.report import read_benchmarks

    (tmp_path / "clock_split").mkdir()
    (tmp_path / "clock_split" / "clock_split.tsv").write_text("")
    _record(tmp_path, "clock_samples", "clock_samples")  # the header alone
    _record(tmp_path, "report", "report", (2.5, "0:00:02", 100, 1, 1, 1, 1, 1, 1, 1))
    assert [j["rule"] for j in read_benchmarks(tmp_path)] == ["report"]


def test_the_clock_budget_names_a_wall_clock_limit_and_no_early_stopping():
    from idl.report import clock_budget

    train = {"epochs": 200, "batch_size": 32, "learning_rate": 2e-4, "lr_halving_epochs": 20, "patience": 5,
             "max_minutes": None}
    assert "patience 5" in clock_budget(train) and "minutes" not in clock_budget(train)
    capped = clock_budget({**train, "patience": None, "max_minutes": 15})
    assert "no early stopping" in capped and "past 15 minutes of training" in capped
