"""The results page: our numbers beside the report's, in Markdown and HTML.

The page is built once as a list of blocks and rendered twice, so the Markdown and
the HTML always say the same thing.
"""
from __future__ import annotations

import html
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

from idl.io import read_table, write_text


@dataclass
class Page:
    title: str
    blocks: list = field(default_factory=list)
    # path of an image as given to image() -> its caption, or None to keep the one given
    caption_for: Callable[[str], str | None] | None = None

    def h(self, text, level=2):
        self.blocks.append(("h", level, text))

    def p(self, text):
        self.blocks.append(("p", text))

    def table(self, header, rows):
        self.blocks.append(("table", header, rows))

    def image(self, path, caption):
        if self.caption_for is not None:
            caption = self.caption_for(path) or caption
        self.blocks.append(("img", path, caption))

    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for b in self.blocks:
            if b[0] == "h":
                out += ["#" * b[1] + " " + b[2], ""]
            elif b[0] == "p":
                out += [b[1], ""]
            elif b[0] == "table":
                out.append("| " + " | ".join(b[1]) + " |")
                out.append("|" + "|".join("---" for _ in b[1]) + "|")
                out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in b[2]]
                out.append("")
            elif b[0] == "img":
                out += [f"![{b[2]}]({b[1]})", "", f"*{b[2]}*", ""]
        return "\n".join(out)

    def html(self) -> str:
        e = html.escape
        body = [f"<h1>{e(self.title)}</h1>"]
        for b in self.blocks:
            if b[0] == "h":
                body.append(f"<h{b[1]}>{e(b[2])}</h{b[1]}>")
            elif b[0] == "p":
                body.append(f"<p>{_inline_code(e(b[1]))}</p>")
            elif b[0] == "table":
                head = "".join(f"<th>{e(c)}</th>" for c in b[1])
                rows = "".join("<tr>" + "".join(f"<td>{e(_cell(c))}</td>" for c in r) + "</tr>" for r in b[2])
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
            elif b[0] == "img":
                body.append(f'<figure><img src="{e(b[1])}" alt="{e(b[2])}"><figcaption>{e(b[2])}</figcaption></figure>')
        style = (
            "body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.45}"
            "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.3em .6em;text-align:right}"
            "th{background:#eee}td:first-child,th:first-child{text-align:left}img{max-width:100%}"
            "figcaption{font-style:italic;color:#444}code{background:#f3f3f3;padding:0 .2em}"
        )
        return (
            "<!doctype html>\n<html><head><meta charset='utf-8'>"
            f"<title>{e(self.title)}</title><style>{style}</style></head><body>\n"
            + "\n".join(body)
            + "\n</body></html>\n"
        )


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _inline_code(text: str) -> str:
    parts = text.split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def clock_budget(train_cfg: dict) -> str:
    """The clock models' training budget (``clock.train``) as a sentence for the results page."""
    return (
        f"Budget: up to {train_cfg['epochs']} epochs, batch {train_cfg['batch_size']}, Nadam at "
        f"{train_cfg['learning_rate']:g} halving every {train_cfg['lr_halving_epochs']:g} epochs, "
        + (f"early stopping on the training loss with patience {train_cfg['patience']}" if train_cfg.get("patience")
           else "no early stopping")
        + (f", and each model stopped after the first epoch past {train_cfg['max_minutes']:g} minutes of training"
           if train_cfg.get("max_minutes") else "")
        + " (models may set their own batch size and halving period, as Table 8's do)."
    )


def describe_data(raw_dir: Path) -> tuple[str, bool]:
    """A sentence on where the clock data came from, and whether it is synthetic."""
    src_file = Path(raw_dir) / "SOURCE.json"
    src = _read_json(src_file) if src_file.exists() else {}
    if src.get("source") == "synthetic":
        return (
            f"generated clocks (`idl.clock.synth`, {src.get('per_minute')} per minute, "
            f"{src.get('size')}x{src.get('size')} px, seed {src.get('seed')}, {clock_setting(src)}"
            f"{_easier(src)}), NOT the course data",
            True,
        )
    where = src.get("url") or src.get("kaggle") or src.get("local") or "unknown source"
    return f"the course data from `{where}`", False


def clock_setting(src: dict) -> str:
    """Which generator setting made a clock set: course-like views or the hard setting, and its styles."""
    views = src.get("views")
    if views is None:
        text = "HARD setting: every image its own random pose"
    else:
        j = src.get("view_jitter") or {}
        text = (f"course-like: {views} seeded views reused for every minute, each image within "
                f"{j.get('turn_deg', 2):g} degrees of turn and {j.get('tilt_deg', 2):g} of tilt of its view")
    styles = [f"{key} {', '.join(src[key])}" for key in ("dials", "numerals", "hands")
              if key in src and list(src[key]) != [{"dials": "classic", "numerals": "arabic", "hands": "classic"}[key]]]
    return text + ("; styles: " + "; ".join(styles) if styles else "; the classic clock only")


def _easier(src: dict) -> str:
    """How a generated clock set was made easier than the course data, if it was."""
    rotation, tilt = src.get("max_rotation_deg", 180), src.get("max_tilt_deg", 50)
    parts = ([f"rotation within {rotation:g} degrees of upright"] if rotation < 180 else []) + \
            ([f"tilt up to {tilt:g} degrees"] if tilt != 50 else [])
    return (", EASIER: " + ", ".join(parts)) if parts else ""


def _table_from_csv(page: "Page", path: Path) -> None:
    header, rows = read_table(path)
    page.table(header, [[c if c != "" else None for c in row] for row in rows])


def write_results_page(
    out_dir, clock_raw, clock_results, figures, profile, data_cfg, train_cfg, models,
    basics_summary=None, basics_train=None, generative_results=None, generative_cfg=None, image_data_cfg=None,
    captions=(), benchmarks=None, heldout=None,
) -> None:
    """``captions``: the caption files of captions/ (those of `snakemake --report`); a figure they
    cover gets its caption from there. ``benchmarks``: the folder of Snakemake's job records
    (logs/benchmarks), read as found for the section on where the time went."""
    out_dir = Path(out_dir)
    clock_results = Path(clock_results)
    summary_dir = clock_results / "summary"
    files = {Path(c).stem: Path(c) for c in captions}
    config = {"generative": generative_cfg or {}}
    page = Page("IDL assignment 1, reproduced",
                caption_for=lambda rel: page_caption(os.path.normpath(out_dir / rel), files, config))
    data_sentence, synthetic = describe_data(clock_raw)
    page.p(
        f"Parameter profile `{profile}`. "
        + ("Every dataset is a generated offline stand-in and every budget is small: these numbers show "
           "that the pipeline runs end to end, not what the report's models reach."
           if profile != "paper" else "The report's own settings.")
    )

    if basics_summary is not None:
        _basics_section(page, Path(basics_summary), basics_train, profile)

    page.h("Task 2: telling the time")
    page.p(f"Data: {data_sentence}. Scores are on the held-out test split, never seen in training.")
    budget = clock_budget(train_cfg)
    page.p(budget + (" Synthetic data: not comparable with the report's numbers." if synthetic else ""))
    page.p("CSE: common-sense error, the shorter way round the dial in minutes. A class is read back as the "
           "centre of its interval, so n_c = 12 cannot go below a mean of 15 minutes. \"Read at 4 quarter "
           "turns\": the same model reads each test image turned by 0, 90, 180 and 270 degrees and its outputs "
           "are averaged (no retraining); the plain reading is the report's protocol.")
    summary = _read_json(summary_dir / "summary.json")
    page.p(f"Best approach here: `{summary['best_model']}`, mean CSE {summary['best_cse_mean']:.1f} minutes.")

    page.h("All approaches", 3)
    _table_from_csv(page, summary_dir / "approaches.csv")
    page.h("Classification: number of classes", 3)
    _table_from_csv(page, summary_dir / "nc_sweep.csv")
    page.h("Table 8: the hyper-parameter study (n_c = 12)", 3)
    _table_from_csv(page, summary_dir / "table8.csv")
    from idl.clock.tables import agreement_sentence

    if sentence := agreement_sentence(summary.get("table8_vs_report")):
        page.p(sentence)
    notes = _table8_notes()
    if notes:
        page.p("How each Table 8 model is built here (where the report is ambiguous, the choice is ours): "
               + " ".join(f"Model {i}: {text}" for i, text in sorted(notes.items())))

    if heldout is not None:
        _heldout_section(page, Path(heldout), summary)

    if generative_results is not None:
        from idl.generative.page import generative_section

        generative_section(page, Path(generative_results), generative_cfg, image_data_cfg or {}, out_dir)

    page.h("Figures of Tasks 1 and 2")
    for fig in figures:
        page.image(os.path.relpath(Path(fig), out_dir), Path(fig).stem.replace("_", " "))

    if benchmarks is not None:
        timing_section(page, read_benchmarks(benchmarks))

    write_text(out_dir / "index.md", page.markdown())
    write_text(out_dir / "index.html", page.html())


def _heldout_section(page: "Page", path: Path, clock_summary: dict) -> None:
    """Every model on the held-out-style clocks (rule clock_score_heldout) beside its own test split."""
    scores = _read_json(path)
    src_file = Path(scores["data"]) / "SOURCE.json"
    src = _read_json(src_file) if src_file.exists() else {}
    style = "/".join(src.get(k, ["?"])[0] for k in ("dials", "numerals", "hands"))
    page.h("Clocks in a style no model was trained on", 3)
    page.p(f"Every model read {src.get('images', '?')} generated clocks in the held-out style `{style}` "
           f"(dial/numerals/hands; {clock_setting(src)}), which no training clock is drawn in. Beside: the "
           "model's mean CSE on its own test split. Generated clocks, not the course's.")
    test = clock_summary.get("cse_mean", {})
    page.table(["model", "test split: mean CSE", "held-out style: accuracy", "held-out style: mean CSE",
                "held-out style: mean CSE read at 4 quarter turns"],
               [[name, test.get(name), None if m.get("accuracy") is None else f"{m['accuracy']:.3f}", m["cse_mean"],
                 m.get("cse_mean_quarter_turns")]
                for name, m in sorted(scores["models"].items())])


OWN_RULE = "report"  # the rule that writes this page: Snakemake times it after the page is written
SLOWEST = 10  # stages in the table


def read_benchmarks(folder) -> list[dict]:
    """Snakemake's job records found under ``folder`` (``<rule>/<stage>.tsv``, columns ``s``,
    ``h:m:s``, ``max_rss``, ...), slowest first: rule, wildcard values (the stage name after the
    rule's), wall seconds ``s`` and peak memory ``max_rss`` (MB; None where not measured). A record
    of several repeats gives their mean time and largest memory."""
    jobs = []
    for path in Path(folder).glob("*/*.tsv"):
        header, *lines = path.read_text().splitlines() or [""]
        rows = [dict(zip(header.split("\t"), line.split("\t"))) for line in lines if line.strip()]
        times = [t for t in (_number(r.get("s")) for r in rows) if t is not None]
        if not times:  # an empty or cut-short file: nothing to show
            continue
        rule = path.parent.name
        rss = [m for m in (_number(r.get("max_rss")) for r in rows) if m is not None]
        jobs.append({"rule": rule, "wildcards": path.stem[len(rule) + 1:] if path.stem != rule else "",
                     "s": sum(times) / len(times), "max_rss": max(rss, default=None)})
    return sorted(jobs, key=lambda j: (-j["s"], j["rule"], j["wildcards"]))


def _number(text) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):  # Snakemake writes NA where it could not measure
        return None


def timing_section(page: "Page", jobs: list[dict]) -> None:
    """The slowest stages and the sum of every stage's wall time, from ``read_benchmarks``."""
    jobs = [j for j in jobs if j["rule"] != OWN_RULE]
    page.h("Where the time went")
    page.p("Informational, not a reproducible result: Snakemake's record of the last run of each stage it "
           "ran (`benchmark:` files under `logs/benchmarks/`: wall time, and peak memory as the largest "
           "resident set size), as found when this page was built. Times depend on the machine and on what "
           "else ran beside, and a changed record does not rebuild the page. Stages run by DVC record no "
           "times, and this page's own stage is timed after the page is written.")
    if not jobs:
        page.p("No records found: no stage of these results was last run by Snakemake.")
        return
    total = sum(j["s"] for j in jobs)
    page.p(f"{len(jobs)} stages recorded, {total:.0f} s of wall time in all ({_hms(total)}; the sum over "
           "stages: jobs that ran side by side overlap, so the run took less). The slowest:")
    page.table(["rule", "wildcards", "wall time (s)", "peak memory (MB)", "share of the total"],
               [[j["rule"], j["wildcards"] or None, j["s"], j["max_rss"],
                 f"{100 * j['s'] / total:.0f} %" if total else None] for j in jobs[:SLOWEST]])


def _hms(seconds: float) -> str:
    minutes, s = divmod(round(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{s:02d}"


def _basics_section(page: "Page", summary_path: Path, train_cfg: dict, profile: str) -> None:
    from idl.basics import CONV3_NOTE

    summary = _read_json(summary_path)
    tables = summary_path.parent
    page.h("Task 1: Keras basics")
    page.p(
        f"Fashion-MNIST{' and CIFAR-10 stand-ins (generated)' if profile != 'paper' else ' and CIFAR-10'}, "
        f"{train_cfg['epochs']} epochs at batch {train_cfg['batch_size']} (the report: 30), a seeded 90/10 "
        "train/validation split of the training set; the official test set, which the report does not use, "
        "is scored too. " + CONV3_NOTE
    )
    page.p("Best three on Fashion-MNIST, retrained on CIFAR-10: " + ", ".join(f"`{r}`" for r in summary["ranking"]) + ".")
    page.h("Table 3: CNNs on Fashion-MNIST (validation set)", 3)
    _table_from_csv(page, tables / "table3.csv")
    page.h("Table 4: MLPs on Fashion-MNIST (validation set)", 3)
    _table_from_csv(page, tables / "table4.csv")
    page.h("Table 5: the best three on CIFAR-10", 3)
    _table_from_csv(page, tables / "table5.csv")


def _table8_notes() -> dict:
    from idl.clock.tables import TABLE8_NOTES

    return dict(TABLE8_NOTES)


# Figures of the page -> the caption file (captions/<stem>.rst) their rule gives them in rules/*.smk;
# {name} matches one path component and is a wildcard of the caption's Jinja placeholders.
CAPTION_FILES = [
    ("results/basics/summary/overview.png", "basics_overview"),
    ("results/basics/fashion_mnist/cnn_adam_c3_d0/learning_curves.png", "basics_figure1"),
    ("results/basics/fashion_mnist/cnn_sgd_c5_d2/learning_curves.png", "basics_figure2"),
    ("results/basics/fashion_mnist/{run}/learning_curves.png", "basics_learning_curves"),
    ("results/clock/figures/samples.png", "clock_samples"),
    ("results/clock/figures/styles.png", "clock_styles"),
    ("results/clock/figures/views.png", "clock_views"),
    ("results/clock/summary/vs_report.png", "clock_vs_report"),
    ("results/clock/summary/figure3.png", "clock_figure3"),
    ("results/clock/summary/error_histograms.png", "clock_error_histograms"),
    ("results/clock/summary/error_by_hour.png", "clock_error_by_hour"),
    ("results/clock/models/{model}/learning_curves.png", "clock_learning_curves"),
    ("results/clock/models/{model}/test_predictions.png", "clock_test_predictions"),
    ("results/data/{dataset}_downsampling.png", "data_downsampling"),
    ("results/generative/summary/scores.png", "generative_scores"),
    ("results/generative/{dataset}/{gen}/figures/{figure}.png", "generative_figures"),
]


def _matcher(pattern: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", pattern)  # literal, name, literal, name, ...
    body = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+?)" for i, p in enumerate(parts))
    return re.compile(f"(?:^|/){body}$")


def page_caption(path, files: dict, config: dict | None = None) -> str | None:
    """The caption of the figure at ``path`` (under the project root) from its caption file in
    ``files`` (stem -> path), or None when no caption file covers it."""
    path = Path(path).as_posix()
    for pattern, stem in CAPTION_FILES:
        m = _matcher(pattern).search(path)
        if m and stem in files:
            return read_caption(files[stem], m.groupdict(), config)
    return None


def read_caption(path, wildcards: dict | None = None, config: dict | None = None) -> str:
    """A caption file as one line of the page: its Jinja placeholders rendered as Snakemake renders
    them for its report (``snakemake.wildcards``, ``snakemake.config``; an unknown one is empty),
    its reStructuredText inline literals (``x``) as the page's (`x`)."""
    from jinja2 import Environment  # Snakemake's own dependency, which renders the same files

    snakemake = SimpleNamespace(wildcards=dict(wildcards or {}), config=config or {})
    env = Environment(trim_blocks=True, lstrip_blocks=True)
    text = env.from_string(Path(path).read_text()).render(snakemake=snakemake)
    return " ".join(text.replace("``", "`").split())
