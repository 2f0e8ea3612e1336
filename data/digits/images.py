"""Turning any picture of a digit into what LeNet-5 saw in MNIST.

MNIST's digits were size-normalised to fit a 20×20 box (keeping the aspect
ratio) and then centred by centre of mass in a 28×28 field, white strokes on
black. A canvas drawing or a photo of paper has none of that, so we redo it:
find the ink (either polarity), crop to it, scale into 20×20, centre by mass.
"""
from __future__ import annotations

import io
import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from data.core.errors import DataError

MAX_PIXELS = 40_000_000   # refuse decompression bombs and absurd uploads
MAX_IMAGE_BYTES = 10 * 2**20   # a file's size, as the app's uploader takes
# a larger picture is shrunk by a whole factor (each pixel the mean of a block) before the float
# work: a 170 KB PNG of 40 megapixels took 2.2 GB there. The digit ends up 20 pixels tall, so
# only one smaller than a hundredth of a 4-megapixel frame loses anything
MAX_WORK_PIXELS = 4_000_000
ORIENTATION = 0x0112     # the EXIF tag


class EmptyImageError(DataError):
    pass


def read_image(data: bytes) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data))
        if img.width * img.height > MAX_PIXELS:
            raise DataError(f"The image is too large ({img.width}×{img.height}); use one under 40 megapixels.")
        factor = _factor(img)
        if factor > 1 and img.format == "JPEG":
            img.draft(img.mode, (img.width // factor, img.height // factor))   # JPEG decodes at 1/2, 1/4, 1/8
        img.load()
        # a phone's portrait photo is stored sideways with a tag saying so: read it as every viewer shows it
        return _shrunk(ImageOps.exif_transpose(img) if img.getexif().get(ORIENTATION, 1) != 1 else img)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError) as e:
        if isinstance(e, DataError):
            raise
        raise DataError("This file is not an image that can be read (PNG, JPEG, BMP, GIF, WebP, TIFF).") from e


def image_pixels(path) -> int:
    """An image file's pixel count, from its header (nothing is decoded)."""
    with Image.open(path) as img:
        return img.width * img.height


def _factor(img: Image.Image) -> int:
    return math.ceil(math.sqrt(img.width * img.height / MAX_WORK_PIXELS))


def _shrunk(img: Image.Image) -> Image.Image:
    factor = _factor(img)
    if factor <= 1:
        return img
    if img.mode in ("P", "PA"):
        img = img.convert("RGBA")       # palette indices cannot be averaged; their colours can
    elif img.mode == "1" or img.mode.startswith("I;16"):
        img = img.convert("L" if img.mode == "1" else "I")
    return img.reduce(factor)


def ink(image) -> np.ndarray:
    """Float32 H×W in [0, 1], strokes bright and background 0, whatever the input's polarity."""
    if isinstance(image, Image.Image):
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            image = image.convert("RGBA")
        elif image.mode in ("I", "F") or image.mode.startswith("I;16"):
            # 16-bit and float scans: converted to RGB every value over 255 was white, ink and paper
            # alike; their range (12 bits in 16, floats from 0 to 1) is stretched to 0..1 instead
            a = np.asarray(image.convert("I") if image.mode != "F" else image, dtype=np.float32)
            low, high = np.nanmin(a), np.nanmax(a)
            image = (a - low) / (high - low) if high > low else np.zeros_like(a)
        elif image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or min(a.shape[:2]) < 1:
        raise DataError(f"Expected a grey, RGB or RGBA image; got an array of shape {a.shape}.")
    a = a.astype(np.float32)
    finite = np.isfinite(a)
    if not finite.any():
        raise DataError("The image holds no finite pixel values (NaN or infinity everywhere).")
    if not finite.all():            # a bad pixel takes the image's typical value, not the whole image down
        a = np.where(finite, a, np.median(a[finite]))
    if a.max() > 1.0:
        a = a / 255.0
    if a.ndim == 3 and a.shape[2] == 4:
        alpha = a[..., 3]
        if (alpha < 0.5).mean() > 0.5 and _one_colour(a[alpha >= 0.5][:, :3]):
            # a transparent background (as a canvas may send): the ink is wherever paint was
            # laid, whatever its colour (transparent pixels' colour means nothing). Paint of dark
            # and light both is a picture in a see-through frame (a screenshot of a page), read below
            return alpha
        if alpha.min() < 0.99:
            # mostly opaque (a screenshot's transparent margin or rounded corners): what is see-through
            # takes the picture's own typical colour, the paper's, rather than being taken for ink
            # (a half-transparent drop shadow too: its dark colour had framed the page in ink)
            typical = np.median(a[alpha >= 0.99][:, :3], axis=0)
            a = np.where(alpha[..., None] < 0.99, typical, a[..., :3])
        else:
            a = a[..., :3]
    grey = a @ np.array([0.299, 0.587, 0.114], np.float32) if a.ndim == 3 else a
    # a photo: big enough, and its edge is not one flat colour as a drawing's is (the measuring below
    # would add a millisecond or two to every stroke drawn on the canvas)
    photo = min(grey.shape) >= PHOTO_SIDE and float(np.ptp(_border(grey))) > 1.5 / 255
    small = _thumb(grey) if photo else None
    if photo and (sheet := _sheet(grey.shape, small)) is not None:
        grey = grey[sheet]          # a sheet on a darker desk: the desk had been the ink, the sheet the digit
        small = _thumb(grey)
    background = float(np.median(_border(grey)))
    if background > 0.5:            # dark ink on light paper
        grey = 1.0 - grey
        small = 1.0 - small if photo else None
        background = 1.0 - background
    if photo and (behind := _behind(grey.shape, small)) is not None:
        # light falls unevenly on paper: what is behind the ink is measured where it lies, not once
        # for the whole picture (a shadow, or a sheet 20% darker on one side, had become ink)
        return _without_edges(np.clip(grey - behind, 0, None) / np.maximum(1.0 - behind, 1e-6))
    return np.clip(grey - background, 0, None) / max(1.0 - background, 1e-6)


PHOTO_SIDE = 64      # pictures at least this big are looked at as photos (drawings and MNIST are 28 px)
GRID = 32            # the background is measured in GRID x GRID blocks
EVEN = 0.05          # ...and is one level when nine blocks in ten are within this of each other


def _one_colour(rgb: np.ndarray) -> bool:
    """Whether these pixels are paint of one colour (a drawing's strokes), not dark and light both."""
    grey = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    return grey.size == 0 or float(np.percentile(grey, 95) - np.percentile(grey, 5)) < 0.3


def _border(grey: np.ndarray) -> np.ndarray:
    return np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])


@lru_cache(maxsize=1)
def _ndimage():
    # imported once, when a photo first needs it: `from scipy import ndimage` in the function took
    # a millisecond a call through scipy's lazy loader, a third of a drawing's whole answer
    from scipy import ndimage
    return ndimage


def _thumb(grey: np.ndarray, side: int = GRID * 4) -> np.ndarray:
    """The picture as side x side block means: what the sheet and the light are measured on (a 280 px
    canvas had taken 35 ms to measure in full, against the 3 ms a drawing's answer is given)."""
    return np.asarray(Image.fromarray(np.asarray(grey, np.float32), mode="F").resize((side, side), Image.BOX))


def _sheet(shape: tuple[int, int], small: np.ndarray) -> tuple[slice, slice] | None:
    """Where a sheet of paper lies when the photo shows a darker desk around it: the box of the largest
    region lighter than halfway between the picture's edge and its paper, a little inside its
    edges; None when the edge is as light as the paper (the sheet fills the photo)."""
    ndimage = _ndimage()
    edge, paper = float(np.median(_border(small))), float(np.percentile(small, 90))
    if paper - edge < 0.15:
        return None
    regions, n = ndimage.label(small > (edge + paper) / 2)
    if n == 0:
        return None
    sizes = np.bincount(regions.ravel())[1:]
    largest = int(sizes.argmax())
    rows, cols = ndimage.find_objects(regions)[largest]
    # a sheet is a fifth of the photo or more, and solid: a bold stroke drawn on a dark canvas is not
    if sizes[largest] < 0.2 * small.size or sizes[largest] < 0.6 * (rows.stop - rows.start) * (cols.stop - cols.start):
        return None
    h, w = shape
    side = small.shape[0]

    def inset(s: slice, full: int) -> slice:        # back to the photo's pixels, 3% inside the sheet's edge
        start, stop = s.start * full // side, s.stop * full // side
        return slice(start + (stop - start) // 33, stop - (stop - start) // 33)
    return inset(rows, h), inset(cols, w)


def _behind(shape: tuple[int, int], small: np.ndarray) -> np.ndarray | None:
    """The background under bright ink on a darker ground, as a smooth surface, or None where it is
    even (a drawing, a scan). Measured twice over GRID x GRID blocks: first each block's median, the
    lowest of its 3 x 3 neighbourhood (a block that is all stroke takes its neighbours' paper); then
    the median of what that first guess does not call ink, a block all ink taking its nearest
    block's (bold strokes had left holes, and a shadow's edge a band, where one guess was all)."""
    ndimage = _ndimage()
    h, w = shape
    k = small.shape[0] // GRID
    cells = small.reshape(GRID, k, GRID, k).transpose(0, 2, 1, 3).reshape(GRID, GRID, k * k)
    first = ndimage.minimum_filter(np.median(cells, axis=2), size=5, mode="nearest")
    rest = small - np.kron(first, np.ones((k, k), np.float32))
    ink_ = ndimage.binary_dilation(rest > max(0.1, 0.4 * float(rest.max())), iterations=2)
    masked = np.where(ink_.reshape(GRID, k, GRID, k).transpose(0, 2, 1, 3).reshape(GRID, GRID, k * k),
                      np.nan, cells)
    seen = np.isfinite(masked).sum(axis=2) >= k * k // 4
    blocks = np.full((GRID, GRID), np.nan, np.float32)
    blocks[seen] = np.nanmedian(masked[seen], axis=1)
    if not seen.any():
        return None
    nearest = ndimage.distance_transform_edt(~seen, return_distances=False, return_indices=True)
    blocks = blocks[tuple(nearest)].astype(np.float32)
    low, high = np.percentile(blocks, [10, 90])
    if high - low < EVEN:
        return None
    surface = Image.fromarray(blocks, mode="F").resize((w, h), Image.BILINEAR)
    return np.asarray(surface, dtype=np.float32)


def _without_edges(x: np.ndarray) -> np.ndarray:
    """A photo's ink without what runs in from its edge fainter than the digit: what is left of a
    shadow's sharp edge, which had widened the digit's box to the shadow's."""
    ndimage = _ndimage()
    regions, n = ndimage.label(x > 0.35 * float(x.max()))
    if n < 2:
        return x
    index = np.arange(1, n + 1)
    mass, mean = ndimage.sum(x, regions, index), ndimage.mean(x, regions, index)
    edge = np.zeros(n + 1, bool)
    edge[np.unique(_border(regions))] = True
    inner = [i for i in index if not edge[i]]
    if not inner:
        return x
    digit = max(inner, key=lambda i: mass[i - 1])
    faint = [i for i in index if edge[i] and mean[i - 1] < 0.8 * mean[digit - 1]]
    return np.where(np.isin(regions, faint), 0.0, x).astype(np.float32) if faint else x


def to_mnist(image, box: int = 20, size: int = 28) -> np.ndarray:
    """Float32 28×28 in [0, 1], as MNIST was made. Raises EmptyImageError on a blank image."""
    x = ink(image)
    peak = float(x.max()) if x.size else 0.0
    if peak < 0.15 or (x > 0.5 * peak).sum() < 3:
        raise EmptyImageError("The image is blank: draw or upload a digit first.")
    x = x / peak
    # the box of the strokes, not of the faint: a ruled line or a shadow's edge across the page had widened
    # it to the page (MNIST's digits are the same whether their box is taken at 0.2 or 0.35 of the peak)
    rows, cols = np.nonzero(x > 0.35)
    x = x[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    h, w = x.shape
    scale = box / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = np.asarray(Image.fromarray((x * 255).astype(np.uint8)).resize((nw, nh), Image.LANCZOS),
                       dtype=np.float32) / 255.0
    small = np.clip(small, 0, 1)
    # centre of mass at the centre of the 28×28 field, as MNIST did
    total = small.sum()
    cy = (small.sum(axis=1) * np.arange(nh)).sum() / total
    cx = (small.sum(axis=0) * np.arange(nw)).sum() / total
    top = int(round(size / 2 - 0.5 - cy))
    left = int(round(size / 2 - 0.5 - cx))
    top = min(max(top, 0), size - nh)
    left = min(max(left, 0), size - nw)
    out = np.zeros((size, size), np.float32)
    out[top:top + nh, left:left + nw] = small
    return out
