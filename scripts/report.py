"""The results page (Markdown and HTML): our numbers beside the report's, with the data and
budget that produced them."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.records import BENCHMARK_DIR
from idl.stage import run

PARAMS = ("data.clock", "clock.train", "clock.models", "basics.train", "generative",
          "data.afhq", "data.pistachio", "data.tinyhero")
OUTPUTS = ("out",)  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--clock-raw", required=True, type=Path)
    ap.add_argument("--basics-summary", required=True, type=Path, help="Task 1 summary.json")
    ap.add_argument("--clock-results", required=True, type=Path)
    ap.add_argument("--generative-results", required=True, type=Path, help="Task 3 results folder")
    ap.add_argument("--figures", nargs="*", type=Path, default=[])
    ap.add_argument("--captions", nargs="*", type=Path, default=[],
                    help="caption files (captions/*.rst) of the figures, shared with `snakemake --report`")
    ap.add_argument("--out", required=True, type=Path, help="folder for index.md and index.html")
    ap.add_argument("--heldout", type=Path, default=None,
                    help="summary.json of every model's scores on the held-out-style clocks")
    ap.add_argument("--benchmarks", default=Path(BENCHMARK_DIR), type=Path,
                    help="Snakemake's job records (the rules' benchmark: files), read as found, not "
                         f"inputs: DVC runs make none (default: {BENCHMARK_DIR})")


def main(args, p):
    from idl.report import write_results_page

    write_results_page(
        out_dir=args.out,
        clock_raw=args.clock_raw,
        basics_summary=args.basics_summary,
        basics_train=p["basics.train"],
        clock_results=args.clock_results,
        figures=args.figures,
        profile=p.profile,
        data_cfg=p["data.clock"],
        train_cfg=p["clock.train"],
        models=p["clock.models"],
        generative_results=args.generative_results,
        generative_cfg=p["generative"],
        image_data_cfg={d: p[f"data.{d}"] for d in ("afhq", "pistachio", "tinyhero")},
        captions=args.captions,
        benchmarks=args.benchmarks,
        heldout=args.heldout,
    )


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
