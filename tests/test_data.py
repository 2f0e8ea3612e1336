"""Preprocessing and data import: what a person may hand the apps."""
import io
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

from data.core.class_folders import check_examples, load, scan, unzip
from data.digits.images import EmptyImageError, ink, read_image, to_mnist
from data.core.errors import DataError, DatasetMissing
from data.digits.mnist import load_mnist

from conftest import needs_mnist


def stroke_image(size=280, polarity="light-on-dark", box=(60, 40, 120, 240)):
    """A thick vertical bar, like a drawn '1', somewhere in a big image."""
    a = np.zeros((size, size), np.uint8)
    x0, y0, x1, y1 = box
    a[y0:y1, x0:x1] = 255
    return 255 - a if polarity == "dark-on-light" else a


def test_to_mnist_crops_scales_and_centres_by_mass():
    x = to_mnist(stroke_image(box=(10, 10, 40, 200)))      # tall bar near the top-left corner
    assert x.shape == (28, 28) and x.dtype == np.float32
    rows, cols = np.nonzero(x > 0.5)
    assert rows.max() - rows.min() + 1 == pytest.approx(20, abs=1)      # the long side fills 20 px
    cy = (x.sum(1) * np.arange(28)).sum() / x.sum()
    cx = (x.sum(0) * np.arange(28)).sum() / x.sum()
    assert cy == pytest.approx(13.5, abs=0.6) and cx == pytest.approx(13.5, abs=0.6)


def test_polarity_and_channels_do_not_matter():
    ref = to_mnist(stroke_image())
    dark = to_mnist(stroke_image(polarity="dark-on-light"))
    rgb = to_mnist(np.repeat(stroke_image()[..., None], 3, axis=2))
    np.testing.assert_allclose(dark, ref, atol=1e-5)
    np.testing.assert_allclose(rgb, ref, atol=1e-2)


def test_transparent_rgba_canvas():
    a = np.zeros((280, 280, 4), np.uint8)     # transparent background, opaque black strokes
    a[40:240, 100:140] = (0, 0, 0, 255)
    np.testing.assert_allclose(to_mnist(a), to_mnist(stroke_image(box=(100, 40, 140, 240))), atol=1e-2)


def encoded(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_a_phones_portrait_photo_is_read_upright():
    ref = to_mnist(stroke_image(polarity="dark-on-light"))
    stored = Image.fromarray(stroke_image(polarity="dark-on-light")).rotate(90, expand=True)   # as the sensor saw it
    exif = Image.Exif()
    exif[0x0112] = 6                        # "rotate 90° clockwise to show"
    x = to_mnist(read_image(encoded(stored, "JPEG", exif=exif, quality=95)))
    np.testing.assert_allclose(x, ref, atol=0.08)


def test_16_bit_and_float_scans_keep_their_ink():
    a = 0.14 + 0.78 * stroke_image(polarity="dark-on-light").astype(np.float64) / 255   # ink 9,000 of 65,535
    ref = to_mnist(stroke_image(polarity="dark-on-light"))
    for scale in (65535, 4095, 30000):      # full range, 12 bits, paper at half level
        img = Image.fromarray((a * scale).astype(np.uint16))
        np.testing.assert_allclose(to_mnist(read_image(encoded(img, "PNG"))), ref, atol=1e-2)
    img = Image.fromarray(a.astype(np.float32), mode="F")
    np.testing.assert_allclose(to_mnist(read_image(encoded(img, "TIFF"))), ref, atol=1e-2)


def test_a_screenshot_with_a_transparent_margin_and_shadow():
    # an opaque page whose margin is see-through, with a half-transparent dark shadow: transparency
    # had been taken for ink, and the page became one white blob
    page = np.dstack([stroke_image(polarity="dark-on-light")] * 3 + [np.full((280, 280), 255, np.uint8)])
    page[:12, :, 3] = page[-12:, :, 3] = page[:, :12, 3] = page[:, -12:, 3] = 0
    page[-12:-6, 12:, :3], page[-12:-6, 12:, 3] = 0, 90          # the shadow
    np.testing.assert_allclose(to_mnist(page), to_mnist(stroke_image(polarity="dark-on-light")), atol=1e-2)


def seven(size=(600, 800)) -> np.ndarray:
    """A '7' of two strokes, bright on 0, in the middle of a picture of `size` (rows, columns)."""
    a = np.zeros(size, np.float32)
    r, c = size[0] // 2, size[1] // 2
    a[r - 90:r - 72, c - 60:c + 60] = 1
    for i in range(180):                          # the slanted stroke
        a[r - 90 + i, c + 42 - i // 3:c + 60 - i // 3] = 1
    return a


def paper(ink: np.ndarray, light: np.ndarray | float = 0.88) -> np.ndarray:
    """Dark ink on paper whose brightness is `light` (one value, or one a pixel), 8-bit."""
    return np.clip(255 * light * (1 - 0.8 * ink), 0, 255).astype(np.uint8)


def same_digit(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(to_mnist(a).ravel(), to_mnist(b).ravel())[0, 1])


def test_a_photo_with_uneven_light_a_desk_or_ruled_lines_reads_as_the_plain_one():
    ink_ = seven()
    plain = paper(ink_)
    rows, cols = np.mgrid[0:600, 0:800] / 800
    # light falling off by 30% across the sheet: the darker side had become ink (8 of 20 right at 20%)
    assert same_digit(paper(ink_, 0.88 * (1 - 0.3 * cols - 0.1 * rows)), plain) > 0.95
    # a soft shadow, 25% deep, over a corner
    shadow = 1 - 0.25 / (1 + np.exp(-((0.35 - cols) + (rows - 0.4)) / 0.02))
    assert same_digit(paper(ink_, 0.88 * shadow), plain) > 0.95
    # the sheet on a darker desk that shows around it: the desk had been the ink, the sheet a '0'
    desk = np.random.default_rng(0).normal(80, 6, (900, 1200)).clip(0, 255).astype(np.uint8)   # a wooden desk's grain
    desk[150:750, 200:1000] = plain
    assert same_digit(desk, plain) > 0.95
    # ruled paper's faint printed lines across the whole page
    ruled = plain.copy()
    ruled[20::60] = np.minimum(ruled[20::60], 165)
    ruled[21::60] = np.minimum(ruled[21::60], 165)
    assert same_digit(ruled, plain) > 0.95


def test_a_bold_digit_under_a_deep_sharp_shadow():
    # bold strokes wider than the measuring window had holes punched in them, and a shadow's sharp
    # edge stayed as a band that widened the box (a typeset "4" was read as "6")
    ink_ = np.zeros((480, 640), np.float32)
    ink_[110:160, 210:430] = 1
    for i in range(240):
        ink_[110 + i, 380 - i // 3:430 - i // 3] = 1
    rows, cols = np.mgrid[0:480, 0:640] / 640
    shade = 1 - 0.55 / (1 + np.exp(-((0.3 - cols) - (rows - 0.1)) / 0.01))
    assert same_digit(paper(ink_, 0.9 * shade), paper(ink_)) > 0.95


@pytest.mark.parametrize("blank", [np.zeros((280, 280), np.uint8), np.full((50, 50, 3), 255, np.uint8),
                                   np.zeros((280, 280, 4), np.uint8), np.full((1, 1), 7, np.uint8)])
def test_blank_images_are_an_error_not_a_guess(blank):
    with pytest.raises(EmptyImageError, match="blank"):
        to_mnist(blank)


def test_unreadable_bytes_give_a_clear_error():
    with pytest.raises(DataError, match="not an image"):
        read_image(b"this is not a png")
    with pytest.raises(DataError):
        ink(np.zeros((4, 4, 5)))


@pytest.mark.parametrize("mode, fmt", [("L", "PNG"), ("RGBA", "PNG"), ("P", "PNG"), ("1", "PNG"),
                                       ("I;16", "PNG"), ("RGB", "JPEG")])
def test_a_big_picture_is_shrunk_before_the_float_work_and_reads_the_same(mode, fmt):
    from data.digits.images import MAX_WORK_PIXELS
    a = stroke_image(size=2800, box=(600, 400, 1200, 2400))        # 7.8 megapixels: halved first
    img = Image.fromarray(a)
    img = img.point(lambda v: v * 257, "I").convert("I;16") if mode == "I;16" else img.convert(mode)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    read = read_image(buf.getvalue())
    assert read.width * read.height <= MAX_WORK_PIXELS and read.width >= 1200
    np.testing.assert_allclose(to_mnist(read), to_mnist(stroke_image(box=(60, 40, 120, 240))), atol=0.06)


def png_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def make_folders(root, classes, n=3, bad=0):
    for c in classes:
        d = root / c
        d.mkdir(parents=True)
        for i in range(n):
            (d / f"{i}.png").write_bytes(png_bytes(stroke_image(box=(60 + 10 * i, 40, 120, 240))))
        for i in range(bad):
            (d / f"broken{i}.png").write_bytes(b"garbage")
    return root


def test_class_folders_load_and_report_skipped_files(tmp_path):
    make_folders(tmp_path, ["a", "b"], n=3, bad=1)
    (tmp_path / "a" / "notes.txt").write_text("hello")
    found = load(tmp_path, {".png"}, lambda p: to_mnist(read_image(p.read_bytes())))
    assert found.classes == ["a", "b"] and found.counts() == {"a": 3, "b": 3}
    assert sorted(f for f, _ in found.skipped) == ["a/broken0.png", "b/broken0.png"]
    assert found.ignored == ["a/notes.txt"]


def test_one_class_or_an_empty_class_is_refused(tmp_path):
    make_folders(tmp_path / "one", ["a"])
    with pytest.raises(DataError, match="at least two class folders"):
        scan(tmp_path / "one", {".png"})
    make_folders(tmp_path / "two", ["a", "b"])
    (tmp_path / "two" / "c").mkdir()
    with pytest.raises(DataError, match="no usable files.*c"):
        scan(tmp_path / "two", {".png"})
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(DataError, match="is not a folder: give a folder"):
        scan(tmp_path / "a.txt", {".png"})
    with pytest.raises(DataError, match="does not exist: give a folder"):
        scan(tmp_path / "missing", {".png"})


def test_zip_with_a_wrapping_folder(tmp_path):
    make_folders(tmp_path / "src" / "mydigits", ["0", "1"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in (tmp_path / "src").rglob("*.png"):
            z.write(f, f.relative_to(tmp_path / "src"))
    found = scan(unzip(buf.getvalue(), tmp_path / "out"), {".png"})
    assert found.classes == ["0", "1"] and len(found.files) == 6


def test_zip_that_escapes_its_folder_is_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../evil.png", b"x")
    with pytest.raises(DataError, match="unsafe"):
        unzip(buf.getvalue(), tmp_path / "out")
    with pytest.raises(DataError, match="not a readable zip"):
        unzip(b"not a zip", tmp_path / "out2")


def test_collected_examples_need_two_labels():
    with pytest.raises(DataError, match="at least two labels"):
        check_examples(["7", "7"])
    assert check_examples(["7", "1", "7"]) == ["1", "7"]


def test_offline_without_a_copy_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_CACHE", str(tmp_path / "cache"))
    t = time.perf_counter()
    with pytest.raises(DatasetMissing, match=r"MNIST is missing: expected train-images-idx3-ubyte\.gz"):
        load_mnist("test", root=tmp_path / "empty", download=False)
    assert time.perf_counter() - t < 60       # says so at once rather than hanging


@needs_mnist
def test_mnist_from_the_data_root():
    x, y = load_mnist("test")
    assert x.shape == (10000, 28, 28) and y.shape == (10000,)
    assert sorted(y.unique().tolist()) == list(range(10))


def test_column_names_keep_the_users_columns_apart_from_the_added_ones():
    from data.core.uploads import column_names
    assert column_names(["id", "text"], ["sentiment"]) == (["id", "text"], ["sentiment"])
    assert column_names(["", "text", "text", "sentiment", "sentiment (model)"], ["sentiment", "probability"]) == (
        ["column 1", "text", "text (2)", "sentiment", "sentiment (model)"], ["sentiment (model) (2)", "probability"])
