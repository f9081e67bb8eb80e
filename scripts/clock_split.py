"""Split the clock data into train/validation/test index files, stratified over the 720 minutes."""
import _bootstrap  # noqa: F401

from pathlib import Path

from idl.stage import run

PARAMS = ("seed", "clock.split")
OUTPUTS = ("out",)  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--data", required=True, type=Path, help="folder with images.npy and labels.npy")
    ap.add_argument("--out", required=True, type=Path)


def main(args, p):
    from idl.clock.course_data import LABELS_FILE, load_course_data, save_split, split_indices
    from idl.errors import DataError

    _, labels = load_course_data(args.data)
    f = p["clock.split"]
    split = split_indices(labels, fractions=(f["train"], f["val"], f["test"]), seed=p["seed"])
    empty = [part for part, idx in split.items() if not len(idx)]
    if empty:
        raise DataError(f"{args.data / LABELS_FILE}: {len(labels)} rows are too few to split "
                        f"{f['train']}/{f['val']}/{f['test']}: the {' and '.join(empty)} part would be empty; "
                        "use more data")
    save_split(args.out, split)


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
