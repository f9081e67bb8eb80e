"""Draw the clocks a clock.external entry asks for, N of them, their times spread evenly over the 12
hours. {generate: {images: N, ...}}: drawn by the generator as data.clock.synthetic says with the
entry's keys in its place, e.g. the course-like views for a reader trained on every pose.
{independent: {images: N, size: S}}: drawn by the second renderer (idl.clock.independent), which
shares no code with the generator and gives every clock its own random pose (looks.json: each
row's pose, numerals, hands; no dial_turn.npy, so nothing trains on the turn). Their seed comes from
the run's seed and the entry's name, so they are never the training clocks."""
import _bootstrap  # noqa: F401

import zlib
from pathlib import Path

from idl.stage import run

PARAMS = ("seed", "data.clock.synthetic", "clock.external.{external}")
OUTPUTS = ("out",)  # argument names of the output paths: locked while the stage runs


def add_arguments(ap):
    ap.add_argument("--external", required=True, help="the clock.external entry")
    ap.add_argument("--out", required=True, type=Path)


def main(args, p):
    import numpy as np

    from idl.clock import independent, synth
    from idl.clock.course_data import write_course_data
    from idl.errors import ParamsError
    from idl.io import atomic_dir, write_json

    entry = p[f"clock.external.{args.external}"]
    if not isinstance(entry, dict):
        raise ParamsError(f"clock.external.{args.external} names a folder ({entry!r}): there is nothing to draw")
    seed = int(np.random.SeedSequence([p["seed"], zlib.crc32(args.external.encode())]).generate_state(1)[0])
    purpose = f"clock.external.{args.external}"
    with atomic_dir(args.out) as tmp:
        if "independent" in entry:
            cfg = entry["independent"]
            labels = synth.spread_labels(cfg["images"])
            images, looks = independent.render_set(labels, size=cfg["size"], seed=seed, progress=True)
            write_course_data(tmp, images, labels)
            write_json(tmp / "looks.json", looks)  # each row's pose and look, for analysis (no stage reads it)
            write_json(tmp / "SOURCE.json", {"name": "clock", "source": "idl.clock.independent", "purpose": purpose,
                                             "seed": seed, **cfg})
        else:
            generate = entry["generate"]
            cfg, size = synth.generated_set_settings(p["data.clock.synthetic"], generate)
            synth.write(tmp, None, size=size, seed=seed, settings=synth.settings_from(cfg),
                        labels=synth.spread_labels(generate["images"]))
            write_json(tmp / "SOURCE.json", {"name": "clock", "source": "synthetic", "purpose": purpose, "seed": seed,
                                             "images": generate["images"], "size": size, **cfg})


if __name__ == "__main__":
    run(main, PARAMS, add_arguments, __doc__, OUTPUTS)
