import csv
import json
import logging
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from idl.data import images as I
from idl.errors import DataError


def smooth_rgb(seed, side=512):
    """Photo-like content (smooth colour fields), so JPEG behaves as on AFHQ."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    return small.resize((side, side), Image.Resampling.BICUBIC)


def write_jpeg(path, seed=0, side=512):
    smooth_rgb(seed, side).save(path, quality=90)
    return path


def sprite_rgba(side=64):
    """Transparent sprite: opaque red square in the middle; the hidden colour under
    the transparent pixels is green, so skipping compositing would show green."""
    a = np.zeros((side, side, 4), dtype=np.uint8)
    a[..., 1] = 255  # green, fully transparent
    q = side // 4
    a[q:-q, q:-q] = (255, 0, 0, 255)
    return Image.fromarray(a, "RGBA")


@pytest.fixture
def folder(tmp_path):
    """A small mixed dataset: JPEGs 0..11 plus a corrupt and a truncated one."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(12):
        write_jpeg(raw / f"{i}.jpg", seed=i, side=96)
    (raw / "5b.jpg").write_bytes(np.random.default_rng(1).bytes(3000))  # random bytes
    good = (raw / "3.jpg").read_bytes()
    (raw / "7b.jpg").write_bytes(good[: len(good) // 2])  # truncated JPEG
    return raw


# --- load_downsampled -------------------------------------------------------


def test_jpeg_shape_dtype_and_draft_close_to_full_decode(tmp_path):
    f = write_jpeg(tmp_path / "cat.jpg")
    draft = I.load_downsampled(f, 32)
    full = I.load_downsampled(f, 32, use_draft=False)
    assert draft.shape == (32, 32, 3) and draft.dtype == np.uint8
    assert full.shape == (32, 32, 3) and full.dtype == np.uint8
    diff = np.abs(draft.astype(int) - full.astype(int))
    assert diff.mean() < 2.0 and diff.max() <= 12
    # and both look like the image, not like e.g. a crop of it
    ref = np.asarray(smooth_rgb(0).resize((32, 32), Image.Resampling.BOX)).astype(int)
    assert np.abs(draft - ref).mean() < 3.0


def test_draft_is_actually_used_for_jpeg(tmp_path, monkeypatch):
    f = write_jpeg(tmp_path / "cat.jpg")
    from PIL import JpegImagePlugin

    decoded_sizes = []
    load = JpegImagePlugin.JpegImageFile.load

    def spy(self):
        out = load(self)
        decoded_sizes.append(self.size)
        return out

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy, raising=False)
    I.load_downsampled(f, 32)
    assert decoded_sizes[0] == (64, 64)  # 512 / 8, decoded by libjpeg at reduced size


@pytest.mark.parametrize("bg", [(0, 0, 0), (255, 255, 255), (10, 20, 30)])
def test_rgba_transparent_pixels_become_background(tmp_path, bg):
    f = tmp_path / "hero.png"
    sprite_rgba().save(f)
    out = I.load_downsampled(f, 32, background=bg)
    assert out.shape == (32, 32, 3)
    assert tuple(out[0, 0]) == bg and tuple(out[-1, -1]) == bg
    assert tuple(out[16, 16]) == (255, 0, 0)
    # native size (the report keeps sprites at 64x64) is composited too
    native = I.load_downsampled(f, 64, background=bg)
    assert tuple(native[0, 0]) == bg and tuple(native[32, 32]) == (255, 0, 0)


def test_palette_with_transparency_and_la_are_composited(tmp_path):
    p = Image.new("P", (40, 40), 0)
    p.putpalette([0, 255, 0, 255, 0, 0] + [0] * 762)  # index 0 green, 1 red
    p.paste(1, (10, 10, 30, 30))
    p.info["transparency"] = 0
    p.save(tmp_path / "p.png", transparency=0)
    la = Image.new("LA", (40, 40), (200, 0))
    la.paste((50, 255), (10, 10, 30, 30))
    la.save(tmp_path / "la.png")

    out = I.load_downsampled(tmp_path / "p.png", 20, background=(0, 0, 255))
    assert tuple(out[0, 0]) == (0, 0, 255) and tuple(out[10, 10]) == (255, 0, 0)
    out = I.load_downsampled(tmp_path / "la.png", 20, background=(0, 0, 0))
    assert tuple(out[0, 0]) == (0, 0, 0) and tuple(out[10, 10]) == (50, 50, 50)


def test_grayscale_becomes_rgb(tmp_path):
    Image.new("L", (100, 100), 77).save(tmp_path / "g.jpg")
    Image.new("L", (64, 64), 77).save(tmp_path / "g.png")
    for name in ("g.jpg", "g.png"):
        out = I.load_downsampled(tmp_path / name, 32)
        assert out.shape == (32, 32, 3)
        assert np.all(np.abs(out.astype(int) - 77) <= 1)


def png16(path, color_type: int, pixel: tuple[int, ...], side: int = 8):
    """A 16-bit PNG written by hand (Pillow writes 16-bit PNGs only in mode "I;16"):
    colour type 0 grey, 2 RGB, 4 grey+alpha, 6 RGBA; every pixel ``pixel``."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" + struct.pack(f">{len(pixel)}H", *pixel) * side
    ihdr = struct.pack(">IIBBBBB", side, side, 16, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(row * side))
                     + chunk(b"IEND", b""))
    return path


MID16 = 32896  # 128 * 257: mid-grey in 16 bits


def deep(mode, value, side=8):
    """A Pillow image of a mode with more than 8 bits per pixel, every pixel ``value``."""
    dtype = {"I;16": "<u2", "I;16B": ">u2", "I": "<i4", "F": "<f4"}[mode]
    return Image.frombytes(mode, (side, side), np.full((side, side), value, dtype).tobytes())


@pytest.mark.parametrize("mode, ext, value", [
    ("I;16", "png", MID16), ("I;16", "tif", MID16), ("I;16B", "tif", MID16),
    ("I", "tif", MID16), ("F", "tif", 128 / 255),
])
def test_deep_greyscale_is_scaled_by_its_bit_depth_not_clipped(tmp_path, mode, ext, value):
    path = tmp_path / f"deep.{ext}"
    deep(mode, value).save(path)
    with Image.open(path) as im:
        assert im.mode == mode  # the file really is what the test says
    out = I.load_downsampled(path, 4)
    assert out.shape == (4, 4, 3) and np.all(out == 128), out[0, 0]


def test_16_bit_scaling_is_linear_over_the_full_range(tmp_path):
    ramp = np.linspace(0, 65535, 64 * 64).round().astype(np.uint16).reshape(64, 64)
    Image.fromarray(ramp).save(tmp_path / "ramp.png")
    out = I.load_downsampled(tmp_path / "ramp.png", 64)[..., 0].astype(int)
    np.testing.assert_allclose(out, ramp / 257, atol=0.5 + 1e-9)
    assert out.min() == 0 and out.max() == 255


@pytest.mark.parametrize("color_type, pixel, bg, expected", [
    (0, (MID16,), (0, 0, 0), (128, 128, 128)),
    (2, (MID16, 0, 65535), (0, 0, 0), (128, 0, 255)),
    (4, (MID16, 65535), (0, 0, 255), (128, 128, 128)),  # grey + opaque alpha
    (4, (MID16, 0), (0, 0, 255), (0, 0, 255)),  # grey + transparent alpha: the background
    (6, (65535, 0, 0, 0), (10, 20, 30), (10, 20, 30)),
])
def test_16_bit_png_colour_types(tmp_path, color_type, pixel, bg, expected):
    path = png16(tmp_path / "x.png", color_type, pixel)
    out = I.load_downsampled(path, 4, background=bg)
    assert np.all(np.abs(out.astype(int) - expected) <= 1), out[0, 0]


def test_other_modes_come_out_right(tmp_path):
    Image.new("CMYK", (8, 8), (0, 0, 0, 127)).save(tmp_path / "cmyk.tif")
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg", quality=100)
    one = Image.new("1", (8, 8), 0)
    one.paste(1, (0, 0, 8, 4))
    one.save(tmp_path / "one.png")
    Image.new("RGBA", (8, 8), (200, 100, 50, 255)).convert("P").save(tmp_path / "p.png")
    assert np.all(I.load_downsampled(tmp_path / "cmyk.tif", 4) == 128)
    assert np.all(np.abs(I.load_downsampled(tmp_path / "cmyk.jpg", 4).astype(int) - (255, 0, 0)) <= 3)
    bits = I.load_downsampled(tmp_path / "one.png", 8)
    assert np.all(bits[:4] == 255) and np.all(bits[4:] == 0)
    assert np.all(np.abs(I.load_downsampled(tmp_path / "p.png", 4).astype(int) - (200, 100, 50)) <= 8)


@pytest.mark.parametrize("mode, value, says", [
    ("I", 70000, "do not fit 16 bits"), ("I", -5, "do not fit 16 bits"),
    ("F", 3.0, "outside 0..1"), ("F", np.nan, "1 not finite"),
])
def test_deep_pixels_without_one_meaning_are_refused_naming_the_file(tmp_path, mode, value, says):
    img = deep(mode, 0.5 if mode == "F" else 1000)
    img.putpixel((3, 3), value)
    img.save(tmp_path / "odd.tif")
    with pytest.raises(DataError, match=rf"odd\.tif: .*{says}"):
        I.load_downsampled(tmp_path / "odd.tif", 4)


def test_refused_deep_images_are_skipped_and_named_like_corrupt_ones(tmp_path, caplog):
    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(3):
        deep("I;16", MID16).save(raw / f"{i}.tif")
    deep("F", 7.0).save(raw / "3.tif")
    summary = I.prepare_images(sorted(raw.iterdir()), tmp_path / "out", size=4, max_bad_fraction=0.5,
                               root=raw, workers=1, progress=False)
    assert summary["n_images"] == 3 and [b["source"] for b in summary["bad_files"]] == ["3.tif"]
    assert "3.tif" in caplog.text
    assert np.all(np.load(tmp_path / "out" / "images.npy") == 128)


@pytest.mark.parametrize("wide", [True, False])
def test_non_square_is_centre_cropped_not_stretched(tmp_path, wide):
    # three bands red | green | blue; the centred square is the green band
    a = np.zeros((60, 180, 3), dtype=np.uint8)
    a[:, :60] = (255, 0, 0)
    a[:, 60:120] = (0, 255, 0)
    a[:, 120:] = (0, 0, 255)
    if not wide:
        a = a.transpose(1, 0, 2).copy()
    Image.fromarray(a).save(tmp_path / "band.png")
    out = I.load_downsampled(tmp_path / "band.png", 16)
    assert out.shape == (16, 16, 3)
    assert np.all(out == (0, 255, 0))


def test_unreadable_files_raise_dataerror_naming_file(folder):
    for name in ("5b.jpg", "7b.jpg", "missing.jpg"):
        with pytest.raises(DataError, match=name):
            I.load_downsampled(folder / name, 32)


# --- select_files / TinyHeroes ----------------------------------------------


def test_select_files_natural_order_and_skips_junk(tmp_path):
    d = tmp_path / "data" / "2"
    d.mkdir(parents=True)
    for name in ["10.png", "2.png", "1.png", "100.png", "20.png", ".hidden.png"]:
        (d / name).write_bytes(b"x")
    (tmp_path / "data" / "__MACOSX").mkdir()
    (tmp_path / "data" / "__MACOSX" / "._1.png").write_bytes(b"x")
    got = I.select_files(tmp_path, I.tinyhero_pattern("front"))
    assert [p.name for p in got] == ["1.png", "2.png", "10.png", "20.png", "100.png"]
    got = I.select_files(tmp_path / "data", "**/*.png")
    assert [p.name for p in got] == ["1.png", "2.png", "10.png", "20.png", "100.png"]

    names = ["kirmizi (10).jpg", "kirmizi (9).jpg", "Kirmizi 1.jpg", "kirmizi (1).jpg"]
    p = tmp_path / "pist"
    p.mkdir()
    for n in names:
        (p / n).write_bytes(b"x")
    order = [q.name for q in I.select_files(p, "*.jpg")]
    assert order.index("kirmizi (9).jpg") < order.index("kirmizi (10).jpg")


def test_select_files_errors_say_what_is_missing(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        I.select_files(tmp_path / "nope", "*.png")
    with pytest.raises(DataError, match=r"no files match '\*\.png'"):
        I.select_files(tmp_path, "*.png")


def test_tinyhero_pattern():
    assert I.tinyhero_pattern("back") == "data/0/*.png"
    assert I.tinyhero_pattern("front") == "data/2/*.png"
    with pytest.raises(ValueError, match="'left'.*'right'"):
        I.tinyhero_pattern("up")


# --- prepare_images -----------------------------------------------------------


def test_corrupt_files_skipped_logged_and_summarised(folder, tmp_path, caplog):
    out = tmp_path / "out"
    files = I.select_files(folder, "*.jpg")
    with caplog.at_level(logging.WARNING, logger="idl.data.images"):
        summary = I.prepare_images(files, out, root=folder, max_bad_fraction=0.2, workers=1, progress=False)
    assert "5b.jpg" in caplog.text and "7b.jpg" in caplog.text
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk == json.loads(json.dumps(summary))
    assert on_disk["n_files"] == 14 and on_disk["n_images"] == 12 and on_disk["n_bad"] == 2
    assert sorted(b["source"] for b in on_disk["bad_files"]) == ["5b.jpg", "7b.jpg"]
    arr = np.load(out / "images.npy")
    assert arr.shape == (12, 32, 32, 3) and arr.dtype == np.uint8


def test_manifest_round_trip(folder, tmp_path):
    out = tmp_path / "out"
    shuffled = list(reversed(I.select_files(folder, "*.jpg")))  # input order must not matter
    I.prepare_images(shuffled, out, size=16, root=folder, max_bad_fraction=0.2, workers=1, progress=False)
    arr = np.load(out / "images.npy")
    with open(out / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["row", "source"]
    assert [r["source"] for r in rows] == [f"{i}.jpg" for i in range(12)]
    assert [int(r["row"]) for r in rows] == list(range(12))
    assert I.read_manifest(out) == [r["source"] for r in rows]
    for r in rows:
        np.testing.assert_array_equal(arr[int(r["row"])], I.load_downsampled(folder / r["source"], 16))


@pytest.mark.parametrize("content, says", [
    ("row,source\n0,a.png\nx,b.png\n", r"line 3 says 'x'"),
    ("row,source\n0,a.png\n1\n", r"line 3 says '1', None"),
    (b"\xff\xfe\x00binary", r"not a readable manifest \(UnicodeDecodeError"),
    (None, r"not a readable manifest \(IsADirectoryError"),
])
def test_damaged_manifest_is_named(tmp_path, content, says):
    path = tmp_path / "manifest.csv"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DataError, match=rf"manifest\.csv: .*{says}"):
        I.read_manifest(tmp_path)


def test_too_many_bad_files_raises_and_writes_nothing(folder, tmp_path):
    out = tmp_path / "out"
    files = I.select_files(folder, "*.jpg")
    with pytest.raises(DataError) as err:
        I.prepare_images(files, out, root=folder, max_bad_fraction=0.1, workers=1, progress=False)
    msg = str(err.value)
    assert "5b.jpg" in msg and "7b.jpg" in msg and "14.3%" in msg and "max_bad_fraction" in msg
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [folder]  # no temp dirs left either


def test_failure_keeps_previous_output(folder, tmp_path):
    out = tmp_path / "out"
    good = I.select_files(folder, "[0-9].jpg")
    I.prepare_images(good, out, workers=1, progress=False)
    before = (out / "images.npy").read_bytes()
    with pytest.raises(DataError):
        I.prepare_images(I.select_files(folder, "*.jpg"), out, max_bad_fraction=0.0, workers=1, progress=False)
    assert (out / "images.npy").read_bytes() == before


def test_workers_one_and_two_give_identical_output(folder, tmp_path):
    files = I.select_files(folder, "*.jpg")
    kw = dict(root=folder, max_bad_fraction=0.2, progress=False)
    I.prepare_images(files, tmp_path / "w1", workers=1, **kw)
    I.prepare_images(files, tmp_path / "w2", workers=2, **kw)
    for name in ("images.npy", "manifest.csv", "summary.json"):
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w2" / name).read_bytes()


def test_mixed_formats_in_one_array(tmp_path):
    write_jpeg(tmp_path / "0.jpg", side=128)
    sprite_rgba().save(tmp_path / "1.png")
    Image.new("L", (50, 80), 9).save(tmp_path / "2.png")
    s = I.prepare_images(sorted(tmp_path.iterdir()), tmp_path / "out", size=8, background=(0, 0, 0),
                         workers=1, progress=False)
    arr = np.load(tmp_path / "out" / "images.npy")
    assert s["n_images"] == 3 and arr.shape == (3, 8, 8, 3)
    assert tuple(arr[1, 0, 0]) == (0, 0, 0)


# --- figure -------------------------------------------------------------------


def test_before_after_figure_writes_png_atomically(tmp_path):
    files = [write_jpeg(tmp_path / f"{i}.jpg", seed=i, side=128) for i in range(3)]
    arrays = np.stack([I.load_downsampled(f, 32) for f in files])
    fig = tmp_path / "figs" / "fig4.png"
    I.before_after_figure(files, arrays, fig, n=8)
    with Image.open(fig) as im:
        assert im.format == "PNG" and im.size[0] > im.size[1]
    assert [p.name for p in fig.parent.iterdir()] == ["fig4.png"]
    with pytest.raises(ValueError, match="one to one"):
        I.before_after_figure(files, arrays[:2], tmp_path / "x.png")
