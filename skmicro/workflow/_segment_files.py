"""The files of the segmentation route: label masks in, model files, label-map PNGs and overlays.

Helpers of :mod:`skmicro.workflow._segment` (``skmicro segment fit`` / ``predict``): reading a
folder's masks by file stem and putting them on the prepared images' pixels, the model file
(a skops file of the segmenter with the route's settings beside it in the same archive), the
per-image cache entries and the overlay a person looks at.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from .._paths import atomic_write, folder_micrographs

#: The archive member of a model file that holds the route's settings (preparation, names).
ROUTE_MEMBER = "skmicro-route.json"
#: Version of that member's layout.
ROUTE_FORMAT = 1
#: The label value of pixels without a class (the data bar, unlabelled mask pixels).
UNLABELLED = 255
#: Class colours of the overlays (Tableau 10), cycled beyond ten classes.
COLOURS = np.array([(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
                    (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127),
                    (188, 189, 34), (23, 190, 207)], dtype=np.float32)


# --------------------------------------------------------------------------- masks
def masks_by_stem(folder, caller):
    """``{stem: path}`` of the label images in ``folder`` (two files of one stem: an error)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{caller}: no labels folder '{folder}'. Give the folder that holds one label "
            "image per micrograph, named like it (uhcs0006.tif -> uhcs0006.png).")
    found = {}
    for path in folder_micrographs(folder):
        if path.stem in found:
            raise ValueError(
                f"{caller}: two label images for '{path.stem}' in '{folder}': "
                f"{found[path.stem].name} and {path.name}. Keep one.")
        found[path.stem] = path
    return found


def read_mask(path, shape, caller):
    """One label image as a 2-D integer array of the micrograph's ``shape`` (rows, cols)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            mask = np.asarray(im)
    except OSError as exc:
        raise ValueError(f"{caller}: cannot read the label image '{path}': {exc}") from exc
    if mask.ndim != 2 or mask.dtype.kind not in "biu":
        raise ValueError(
            f"{caller}: the label image '{path}' must hold one integer class index per pixel "
            f"(an 8-bit grey or palette PNG or TIFF); it has shape {mask.shape} and dtype "
            f"{mask.dtype}. Save it as a single-channel image of class indices.")
    if mask.shape != tuple(shape):
        raise ValueError(
            f"{caller}: the label image '{path}' is {mask.shape[1]}x{mask.shape[0]} pixels, "
            f"but its micrograph is {shape[1]}x{shape[0]}: a mask must cover the whole "
            "micrograph, data bar included (255 where unlabelled).")
    return mask


def check_mask_values(mask, path, n_classes, caller):
    """Every value a class index below ``n_classes`` or 255; at least one labelled pixel."""
    values = np.unique(mask)
    bad = values[(values != UNLABELLED) & ((values < 0) | (values >= n_classes))]
    if bad.size:
        allowed = (f"the {n_classes} classes (0-{n_classes - 1}, and 255 for unlabelled "
                   "pixels). Give one name per class (--class-names) or fix the mask."
                   if n_classes < UNLABELLED else
                   "class indices 0-254 (255 marks unlabelled pixels). Renumber the classes.")
        raise ValueError(
            f"{caller}: the label image '{path}' holds the value(s) {bad[:8].tolist()}, beyond "
            + allowed)
    if not (values != UNLABELLED).any():
        raise ValueError(
            f"{caller}: the label image '{path}' has no labelled pixel (after the data bar is "
            "cut, every pixel is 255): label some pixels or remove it from the labels folder.")


# --------------------------------------------------------------------------- model files
def write_model(segmenter, route, path):
    """The segmenter as a skops file at ``path`` (atomically), ``route`` (a JSON-ready dict)
    stored beside it in the archive; :func:`skmicro.segmentation.load_segmenter` reads the
    file as any segmenter file."""
    import skops.io as sio

    buffer = io.BytesIO(sio.dumps(segmenter))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(ROUTE_MEMBER, json.dumps({"format": ROUTE_FORMAT, **route}, indent=1))
    atomic_write(path, lambda fh: fh.write(buffer.getvalue()))
    return Path(path)


def read_route(path):
    """The route's settings stored in a model file, or ``{}`` for a plain segmenter file."""
    try:
        with zipfile.ZipFile(path) as archive:
            if ROUTE_MEMBER not in archive.namelist():
                return {}
            return json.loads(archive.read(ROUTE_MEMBER))
    except (OSError, zipfile.BadZipFile, ValueError):
        return {}  # load_segmenter says what is wrong with the file


# --------------------------------------------------------------------------- cache entries
def cache_get(path):
    """``(labels, uncertainty, info)`` of a cached prediction, or None (missing, damaged)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return data["labels"], data["uncertainty"], json.loads(str(data["info"]))
    except (OSError, KeyError, ValueError, EOFError):
        return None


def cache_put(path, labels, uncertainty, info):
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda fh: np.savez_compressed(
        fh, labels=labels, uncertainty=uncertainty.astype(np.float16),
        info=np.str_(json.dumps(info))))


# --------------------------------------------------------------------------- images out
def write_png(path, array):
    from PIL import Image

    atomic_write(path, lambda fh: Image.fromarray(array).save(fh, format="PNG"))


def display_grey(path):
    """The micrograph file as 8-bit grey for display (its 0.5-99.5 percentiles stretched)."""
    from ..io import load_micrographs

    image = np.asarray(load_micrographs([path])[0], dtype=np.float32)
    if image.ndim == 3:
        image = image.mean(axis=-1)
    lo, hi = np.percentile(image, [0.5, 99.5])
    return np.clip((image - lo) / max(hi - lo, 1e-12) * 255, 0, 255).astype(np.uint8)


def overlay(grey, labels, classes, names, fractions, *, alpha=0.45):
    """An RGB image for a person: the micrograph, each class's colour blended over its pixels
    (the data bar left grey), and a legend strip below (colour, name, area fraction). No
    boundary lines: on a speckled map they would hide the micrograph."""
    from PIL import Image, ImageDraw, ImageFont

    rgb = np.repeat(grey[..., None].astype(np.float32), 3, axis=-1)
    for k, c in enumerate(classes):
        sel = labels == c
        rgb[sel] = (1 - alpha) * rgb[sel] + alpha * COLOURS[k % len(COLOURS)]
    height, width = grey.shape
    size = int(np.clip(width / 40, 12, 40))
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        font = ImageFont.load_default()
    entries = [f"{name}  {100 * frac:.1f}%" for name, frac in zip(names, fractions)]
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    widths = [size * 2 + draw.textlength(e, font=font) + size for e in entries]
    width = max(width, int(max(widths, default=0)) + size)  # a small image: a wider canvas
    lines, x = 1, size // 2
    for w in widths:
        if x + w > width and x > size // 2:
            lines, x = lines + 1, size // 2
        x += w
    strip = Image.new("RGB", (width, int(lines * size * 1.8 + size // 2)), (255, 255, 255))
    pen = ImageDraw.Draw(strip)
    x, y = size // 2, size // 2
    for k, (entry, w) in enumerate(zip(entries, widths)):
        if x + w > width and x > size // 2:
            x, y = size // 2, y + int(size * 1.8)
        colour = tuple(int(v) for v in COLOURS[k % len(COLOURS)])
        pen.rectangle([x, y, x + int(size * 1.4), y + size], fill=colour, outline=(0, 0, 0))
        anchor = {"anchor": "lm"} if isinstance(font, ImageFont.FreeTypeFont) else {}
        pen.text((x + size * 2, y + size // 2 if anchor else y), entry, fill=(0, 0, 0),
                 font=font, **anchor)
        x += w
    out = Image.new("RGB", (width, height + strip.height), (255, 255, 255))
    out.paste(Image.fromarray(rgb.astype(np.uint8)), (0, 0))
    out.paste(strip, (0, height))
    return np.asarray(out)
