"""The interactive collection map: one self-contained HTML page of thumbnails on an embedding.

Bokeh (the ``map`` extra) draws the page: its standalone output inlines BokehJS
(``resources=INLINE``), every thumbnail is a ``data:image/jpeg`` URI in the page's data source,
so the file opens offline, by e-mail or from a lab notebook, and makes no network request.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Sequence
from numbers import Integral

import numpy as np

from .._paths import atomic_write, check_output_path
from .._validation import Interval, StrOptions, validate_params
from ..io import LazyMicrographs
from ._common import pillow, thumbnail

__all__ = ["collection_map"]

_EXTRA_HINT = "pip install 'skmicro[map]'"
_MIN_IMAGES = 3
_JPEG_QUALITY = 80
_PREVIEW_SIZE = 256          # side of the larger view shown on a click ...
_PREVIEW_MAX_POINTS = 1000   # ... stored apart from the thumbnail up to this many points
_DRAWN_SIDE = (72, 56)       # screen pixels of a drawn thumbnail's longer side: up to 100 points,
                             # and above
_AUTO_THUMBNAILS = 150       # "auto": thumbnails replace dots when at most this many are in view
_FRAME = 5                   # screen pixels of colour around a drawn thumbnail (its point's colour)
_FADED = 0.55                # opacity of the points (dots, frames) outside a selection
_MISSING_COLOR = "#b0b0b0"
_N_QUANTILE_STRATA = 10
_CHUNK_PIXELS = 2 ** 23      # pixels read at once for the default embedding's spectra (8 M:
                             # 8 images of 1024 x 1024)


def _bokeh():
    try:
        import bokeh
    except ImportError as exc:
        raise ImportError(
            "collection_map writes its page with Bokeh, which is not installed. Install the map "
            f"extra: {_EXTRA_HINT} (or pip install 'bokeh>=3.7')."
        ) from exc
    return bokeh


def _read_images(images, caller):
    """A list of images (never copies of the caller's arrays are modified) and their names."""
    if isinstance(images, (str, os.PathLike)) or (
            isinstance(images, (list, tuple)) and images
            and all(isinstance(p, (str, os.PathLike)) for p in images)):
        from ..io._load import list_micrograph_files

        files = list_micrograph_files(images)  # checks every path now; reads nothing
        return LazyMicrographs(files), [p.name for p in files]
    if isinstance(images, np.ndarray):
        if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (1, 3)):
            raise ValueError(f"{caller}: an image array must be (n, h, w) or (n, h, w, 3); got "
                             f"shape {images.shape}.")
        return list(images), None
    if isinstance(images, Sequence):  # read on access (a lazy sequence reads only the sample)
        return images, None
    try:
        imgs = [np.asarray(im) for im in images]
    except TypeError as exc:
        raise TypeError(f"The 'images' parameter of {caller} must be an array of images, a list "
                        f"of images, a folder or a list of file paths. Got "
                        f"{type(images).__name__} instead.") from exc
    return imgs, None


def _per_point(values, n, name, caller):
    values = np.asarray(values)
    if values.ndim != 1 or values.shape[0] != n:
        raise ValueError(f"{caller}: '{name}' must hold one value per image ({n}); got shape "
                         f"{values.shape}.")
    return values


def _color_values(color, metadata, n, caller):
    """(values or None, label): the colour column, from metadata by name or given directly."""
    if color is None:
        return None, None
    if isinstance(color, str):
        if metadata is None:
            raise ValueError(f"{caller}: color={color!r} names a metadata column, but no "
                             "metadata was given; pass metadata=TABLE or the values themselves.")
        if color not in metadata.columns:
            cols = ", ".join(repr(str(c)) for c in metadata.columns)
            raise ValueError(f"{caller}: color={color!r} is not a metadata column. The columns "
                             f"are: {cols}.")
        return _per_point(metadata[color].to_numpy(), n, "color", caller), color
    name = getattr(color, "name", None)
    return _per_point(color, n, "color", caller), (str(name) if name is not None else "colour")


def _is_numeric(values):
    return values.dtype.kind in "iuf"


def _missing(values):
    if _is_numeric(values):
        return np.isnan(values.astype(np.float64))
    return np.array([v is None or (isinstance(v, float) and v != v) for v in values], bool)


def stratified_sample(strata, max_points, rng):
    """Indices (sorted) of ``max_points`` rows drawn so each stratum keeps its share.

    Shares are floors of ``max_points * n_s / n`` plus one for the largest remainders, so every
    stratum's count is within one of its proportional share.
    """
    n = len(strata)
    if max_points >= n:
        return np.arange(n)
    keys, inverse = np.unique(strata, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(keys))
    exact = max_points * counts / n
    take = np.floor(exact).astype(int)
    rest = max_points - take.sum()
    take[np.argsort(-(exact - take), kind="stable")[:rest]] += 1
    chosen = [rng.choice(np.flatnonzero(inverse == k), size=t, replace=False)
              for k, t in enumerate(take) if t]
    return np.sort(np.concatenate(chosen))


def _strata(values):
    """Colour classes for sampling: categories, or deciles of a numeric column (NaN apart)."""
    if values is None:
        return np.zeros(0)
    missing = _missing(values)
    if _is_numeric(values):
        v = values.astype(np.float64)
        strata = np.full(len(v), -1, dtype=np.int64)
        if (~missing).any():
            edges = np.unique(np.quantile(v[~missing], np.linspace(0, 1, _N_QUANTILE_STRATA + 1)))
            strata[~missing] = np.searchsorted(edges[1:-1], v[~missing], side="right")
        return strata
    return np.array(["\0missing" if m else str(v) for v, m in zip(values, missing)])


def _encode(img):
    """A uint8 thumbnail as a JPEG data URI (and its size in bytes)."""
    buf = io.BytesIO()
    pillow().fromarray(img).save(buf, format="JPEG", quality=_JPEG_QUALITY, optimize=True)
    raw = buf.getvalue()
    return "data:image/jpeg;base64," + base64.b64encode(raw).decode("ascii"), len(raw)


def _default_embedding(images, features, random_state, verbose):
    """A 2-D metric MDS of the features, or of the images' log power spectra."""
    from ..manifold import MDSEmbedder

    if features is None:
        features = _spectra(images, verbose)
    F = np.asarray(getattr(features, "to_numpy", lambda: features)(), dtype=np.float64)
    method = "landmark" if F.shape[0] > 2000 else "smacof"
    mds = MDSEmbedder(n_components=2, method=method, n_landmarks=1000,
                      random_state=random_state, verbose=verbose)
    return mds.fit_transform(F)


def _spectra(images, verbose):
    """Log power spectra of a sequence of images, read in chunks of ``_CHUNK_PIXELS`` pixels.

    A first pass reads only the sizes (for files: each image is read and dropped), which fix
    the descriptor: the low-frequency 2-D spectrum when all images share a size, else the
    radial spectrum with as many bins as the smallest image allows (what fitting on all
    images at once would choose).
    """
    from tqdm.auto import tqdm

    from ..features import PowerSpectrumFeatures

    n = len(images)
    shapes = [np.shape(images[i])[:2] for i in
              tqdm(range(n), desc="image sizes", disable=not verbose or isinstance(images, list))]
    side = min(min(s) for s in shapes)
    if len(set(shapes)) == 1:  # the low-frequency 2-D spectrum: keeps orientation
        est = PowerSpectrumFeatures(log=True, crop=max(2, side // 8))
    else:  # images of several sizes: the radial spectrum in physical frequency
        est = PowerSpectrumFeatures(log=True, radial=True, n_bins=max(1, side // 2))
    starts, total = [0], 0
    for i, (h, w) in enumerate(shapes):  # chunks of at most _CHUNK_PIXELS (one image at least)
        if total and total + h * w > _CHUNK_PIXELS:
            starts.append(i)
            total = 0
        total += h * w
    rows = []
    for start, stop in tqdm(list(zip(starts, starts[1:] + [n])), desc="power spectra",
                            disable=not verbose):
        # colour images become grey in the input contract (BT.709)
        chunk = [images[i] for i in range(start, stop)]
        if start == 0:
            est.fit(chunk)
        rows.append(est.transform(chunk))
        del chunk
    return np.concatenate(rows)


def _check_embedding(embedding, n, caller):
    points = np.asarray(getattr(embedding, "embedding_", embedding), dtype=np.float64)
    if points.ndim != 2 or points.shape[1] < 2:
        raise ValueError(f"{caller}: the embedding must be shaped (n_images, 2) (or more "
                         f"columns, of which the first two are drawn); got shape {points.shape}.")
    if points.shape[0] != n:
        raise ValueError(f"{caller}: the embedding has {points.shape[0]} rows but there are {n} "
                         "images; give one row per image, in the images' order.")
    if not np.isfinite(points[:, :2]).all():
        raise ValueError(f"{caller}: the embedding holds NaN or infinite coordinates.")
    return points[:, :2]


def _colors(values):
    """Per-point colours, legend entries [(label, first index)] and the numeric range."""
    from bokeh.palettes import Category10, Category20, Viridis256

    n = len(values)
    missing = _missing(values)
    colors = np.full(n, _MISSING_COLOR, dtype=object)
    legend, vrange = [], None
    if _is_numeric(values):
        v = values.astype(np.float64)
        if (~missing).any():
            lo, hi = float(v[~missing].min()), float(v[~missing].max())
            vrange = (lo, hi if hi > lo else lo + 1.0)
            t = (v[~missing] - vrange[0]) / (vrange[1] - vrange[0])
            colors[~missing] = np.asarray(Viridis256)[np.clip(np.rint(t * 255), 0, 255)
                                                      .astype(int)]
    else:
        cats = sorted({str(x) for x, m in zip(values, missing) if not m})
        palette = Category10[10] if len(cats) <= 10 else Category20[20]
        lookup = {c: palette[i % len(palette)] for i, c in enumerate(cats)}
        text = np.array([str(x) for x in values], dtype=object)
        for c in cats:
            where = np.flatnonzero((text == c) & ~missing)
            colors[where] = lookup[c]
            legend.append((f"{c} ({len(where)})", int(where[0])))
    if missing.any():
        legend.append((f"no value ({int(missing.sum())})", int(np.flatnonzero(missing)[0])))
    return colors, legend, vrange


def _value_text(values):
    if values is None:
        return None
    missing = _missing(values)
    if _is_numeric(values):
        return ["no value" if m else f"{v:.4g}" for v, m in zip(values.astype(float), missing)]
    return ["no value" if m else str(v) for v, m in zip(values, missing)]


def _info_html(label, row):
    parts = [f"<b>{html.escape(label)}</b>"]
    if row is not None:
        cells = "".join(
            f"<tr><td style='color:#555;padding-right:8px'>{html.escape(str(k))}</td>"
            f"<td>{html.escape(str(v))}</td></tr>" for k, v in row.items())
        parts.append(f"<table style='font-size:12px'>{cells}</table>")
    return "".join(parts)


_TOOLTIP = """
<div style="width:170px;overflow-wrap:anywhere">
  <img src="@thumb" style="max-width:{w}px;max-height:{w}px;display:block"/>
  <div style="font-size:12px">@label</div>{value}
</div>"""

_VIEW_JS = """
const mode = radio.labels[radio.active];
let show = mode === "thumbnails";
if (mode === "auto") {
  const x0 = xr.start, x1 = xr.end, y0 = yr.start, y1 = yr.end;
  if ([x0, x1, y0, y1].some(Number.isNaN)) { return; }
  const xs = src.data.x, ys = src.data.y;
  let k = 0;
  for (let i = 0; i < xs.length && k <= limit; i++) {
    if (xs[i] >= Math.min(x0, x1) && xs[i] <= Math.max(x0, x1)
        && ys[i] >= Math.min(y0, y1) && ys[i] <= Math.max(y0, y1)) { k++; }
  }
  show = k <= limit;
}
for (const r of renderers) { r.visible = show; }
// hover and click the whole thumbnail when thumbnails are drawn, else the dot
for (const tool of tools) { tool.renderers = [show ? frames : dots]; }
"""

_TAP_JS = """
const idx = src.selected.indices;
if (idx.length === 0) { div.text = empty; return; }
const i = idx[0];
const previews = src.data.preview;
const big = (previews !== undefined && previews[i]) ? previews[i] : src.data.thumb[i];
let text = `<img src="${big}" style="width:${side}px;max-width:100%;image-rendering:auto"/>`;
text += src.data.info[i];
if (idx.length > 1) { text += `<p><i>${idx.length} images selected; the first is shown.</i></p>`; }
div.text = text;
"""


@validate_params(
    {"images": "no_validation", "embedding": "no_validation", "features": "no_validation",
     "color": "no_validation", "labels": [None, "array-like"], "metadata": "no_validation",
     "thumbnail_size": [Interval(Integral, 8, 1024, closed="both")],
     "max_points": [Interval(Integral, _MIN_IMAGES, None, closed="left")],
     "thumbnails": [StrOptions({"auto", "dots", "thumbnails"})],
     "title": [None, str], "out": [None, str, os.PathLike], "random_state": ["random_state"],
     "verbose": ["verbose"]},
    prefer_skip_nested_validation=True,
)
def collection_map(images, embedding=None, *, features=None, color=None, labels=None,
                   metadata=None, thumbnail_size=96, max_points=5000, thumbnails="auto",
                   title=None, out=None, random_state=0, verbose=0):
    """Write an interactive map of a collection: its 2-D embedding, each point a thumbnail.

    The page is one self-contained HTML file (Bokeh with its JavaScript inline, each thumbnail
    an inline ``data:image/jpeg`` URI): it opens offline and makes no network request, so it
    can be e-mailed or attached to a lab notebook. Hovering a point shows its thumbnail; zoomed
    in to at most 150 points (or on request) thumbnails are drawn in place of the dots, each on
    a 5-pixel frame of the point's colour; clicking a point shows its file name, metadata row
    and a larger view, and outlines it in black (the other points stay visible, lighter).
    Pan, wheel zoom and box select are in the toolbar.

    Parameters
    ----------
    images : array of shape (n, h, w) or (n, h, w, 3), list of arrays, folder or list of paths
        The micrographs, any sizes (thumbnails keep each image's aspect ratio). A folder or
        file paths are read as :func:`skmicro.io.load_micrographs` reads them, one file at a
        time: only the files shown (the sample above ``max_points``), each dropped once its
        thumbnail is made, so memory holds one full image plus the thumbnails. Their file
        names become the labels.
    embedding : array-like of shape (n, 2), optional
        Coordinates of each image (more columns: the first two are drawn), e.g. from
        :class:`~skmicro.MDSEmbedder`. None computes a 2-D metric MDS (landmark MDS above
        2,000 images) of ``features``, or of the images' log power spectra (the low-frequency
        2-D spectrum when all images share a size, which keeps orientation; else the radial
        spectrum). From files, the spectra are computed a few images at a time (8 megapixels,
        so memory stays bounded), but every file is read twice (its size, then its spectrum)
        before the thumbnails: give ``embedding`` or ``features`` to read only the files shown.
    features : array-like or DataFrame of shape (n, n_features), optional
        Descriptors to embed when ``embedding`` is None.
    color : str or array-like of shape (n,), optional
        A metadata column name, or one value per image. Numbers get the Viridis colour bar,
        anything else a legend with one colour per category and its count; missing values
        (NaN, None) are drawn grey and counted in the legend as "no value".
    labels : array-like of shape (n,) of str, optional
        The name shown for each image; by default the file names, else the metadata's index
        when it is not a plain range, else "image 0", "image 1", ...
    metadata : pandas.DataFrame, optional
        One row per image, in the images' order: shown on a click, and where ``color`` looks
        a column up. Join a spreadsheet by file name first with
        :func:`skmicro.workflow.join_table`.
    thumbnail_size : int, default=96
        Longer side of each stored thumbnail, in pixels (JPEG, quality 80: about 2-3 kB per
        grey micrograph at 96 px). Up to 1,000 points a 256-pixel view is also stored for
        the click view; above that the thumbnail is shown enlarged, to keep the page small.
    max_points : int, default=5000
        Above this many images a sample of this size is shown, stratified by the colour
        (its categories, or deciles of a numeric column, with missing values a class of their
        own), and the page says so.
    thumbnails : {"auto", "dots", "thumbnails"}, default="auto"
        What the map shows at first (a button switches): dots, thumbnails, or thumbnails when
        at most 150 points are in view.
    title : str, optional
        Page and plot title; "Collection map" by default.
    out : str or path-like, optional
        The HTML file to write. Checked before any work, so a path that cannot be written
        fails at once.
    random_state : int, RandomState instance or None, default=0
        Seeds the default embedding and the sample.
    verbose : int, default=0
        Progress of the default embedding and the thumbnails.

    Returns
    -------
    page : pathlib.Path or str
        ``out`` as a Path, or the HTML text when ``out`` is None.

    Raises
    ------
    ImportError
        Bokeh is not installed (the message names the ``map`` extra).
    ValueError
        Fewer than 3 images; an embedding, labels or colour values whose length is not the
        number of images; a colour name that is not a metadata column (the columns are
        listed); an output that is a folder, or whose folder does not exist.
    PermissionError
        Nothing can be written in the output's folder (checked before any work).

    Notes
    -----
    A 5,000-image page at the default thumbnail size is about 15-30 MB (mostly the
    base64-encoded JPEGs: about 4/3 of their bytes), and pans smoothly because dots, not
    images, are drawn until the view holds few points.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.plotting import collection_map
    >>> rng = np.random.default_rng(0)
    >>> images = rng.random((5, 300, 400))
    >>> embedding = rng.random((5, 2))          # e.g. MDSEmbedder().fit_transform(features)
    >>> page = collection_map(images, embedding, color=np.arange(5.0))   # out=... writes it
    >>> page.startswith("<!DOCTYPE html>")
    True
    >>> page.count("data:image/jpeg;base64,")   # 5 thumbnails (96 px), 5 larger views (256 px)
    10
    """
    caller = "collection_map"
    bokeh = _bokeh()
    if out is not None:
        out = check_output_path(out, caller=caller, example="map.html")
    imgs, names = _read_images(images, caller)
    n = len(imgs)
    if n < _MIN_IMAGES:
        raise ValueError(f"{caller} needs at least {_MIN_IMAGES} images to place on a map; got "
                         f"{n}.")
    if metadata is not None:
        if not hasattr(metadata, "columns"):
            raise TypeError(f"The 'metadata' parameter of {caller} must be a pandas DataFrame "
                            f"with one row per image. Got {type(metadata).__name__} instead.")
        if len(metadata) != n:
            raise ValueError(f"{caller}: metadata has {len(metadata)} rows for {n} images; "
                             "join it to the images by file name first (join_table).")
    values, color_label = _color_values(color, metadata, n, caller)
    if labels is not None:
        labels = [str(x) for x in _per_point(np.asarray(labels, dtype=object), n, "labels",
                                            caller)]
    elif names is not None:
        labels = list(names)
    elif metadata is not None and not _is_range_index(metadata.index):
        labels = [str(x) for x in metadata.index]
    else:
        labels = [f"image {i}" for i in range(n)]
    if features is not None and len(features) != n:
        raise ValueError(f"{caller}: features has {len(features)} rows for {n} images.")

    from sklearn.utils import check_random_state

    rng = check_random_state(random_state)
    if embedding is None:
        embedding = _default_embedding(imgs, features, rng, verbose)
    points = _check_embedding(embedding, n, caller)

    strata = _strata(values) if values is not None else np.zeros(n, dtype=int)
    keep = stratified_sample(strata, max_points, rng)
    sampled = len(keep) < n
    from tqdm.auto import tqdm

    thumbs, sizes, previews, drawn = [], [], [], []
    store_preview = len(keep) <= _PREVIEW_MAX_POINTS
    for i in tqdm(keep, desc="thumbnails", unit="img", disable=not verbose):
        image = imgs[i]
        if store_preview:  # one pass over the full image: the larger view, then the thumbnail
            big = thumbnail(image, max(_PREVIEW_SIZE, thumbnail_size))
            small = thumbnail(big, thumbnail_size)
        else:
            small = thumbnail(image, thumbnail_size)
        uri, nbytes = _encode(small)
        thumbs.append(uri)
        sizes.append(nbytes)
        h, w = small.shape[:2]
        scale = _DRAWN_SIDE[len(keep) > 100] / max(h, w)
        drawn.append((w * scale, h * scale))
        if store_preview:  # "" where it would repeat the thumbnail
            previews.append("" if big.shape == small.shape else _encode(big)[0])
        del image  # a file read on access is dropped before the next one is read

    kept_values = None if values is None else values[keep]
    data = {
        "x": points[keep, 0], "y": points[keep, 1], "thumb": thumbs,
        "label": [labels[i] for i in keep],
        "tw": [d[0] for d in drawn], "th": [d[1] for d in drawn],
        "fw": [d[0] + 2 * _FRAME for d in drawn], "fh": [d[1] + 2 * _FRAME for d in drawn],
        "info": [_info_html(labels[i], None if metadata is None else metadata.iloc[i])
                 for i in keep],
    }
    if any(previews):
        data["preview"] = previews
    if values is not None:
        data["color"], legend, vrange = _colors(kept_values)
        data["value"] = _value_text(kept_values)
    else:
        data["color"], legend, vrange = np.full(len(keep), "#1f77b4", dtype=object), [], None
    data["color"] = list(data["color"])

    title = title or "Collection map"
    note = (f"{len(keep):,} images." if not sampled else
            f"Showing a sample of {len(keep):,} of {n:,} images"
            + (f", stratified by {color_label!r}" if values is not None else "")
            + f" (max_points={max_points}, random_state={random_state}).")
    size_note = (f"Thumbnails: JPEG, longer side up to {thumbnail_size} px, "
                 f"{np.mean(sizes) / 1024:.1f} kB per image on average.")
    layout = _layout(bokeh, data, legend, vrange, color_label, title, note, size_note,
                     thumbnails, thumbnail_size)
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    page = file_html(layout, resources=INLINE, title=title)
    if out is None:
        return page
    atomic_write(out, lambda fh: fh.write(page.encode("utf-8")))
    return out


def _is_range_index(index):
    import pandas as pd

    return isinstance(index, pd.RangeIndex)


def _layout(bokeh, data, legend, vrange, color_label, title, note, size_note, thumbnails,
            thumbnail_size):
    from bokeh.document import Document
    from bokeh.events import DocumentReady
    from bokeh.layouts import column, row
    from bokeh.models import (BoxSelectTool, ColorBar, ColumnDataSource, CustomJS, Div,
                              HoverTool, ImageURL, Legend, LegendItem, LinearColorMapper,
                              RadioButtonGroup, Rect, ResetTool, TapTool, WheelZoomTool)
    from bokeh.palettes import Viridis256
    from bokeh.plotting import figure

    src = ColumnDataSource(data, name="skmicro_points")
    p = figure(width=820, height=720, match_aspect=True,
               tools="pan,reset,save", toolbar_location="above",
               x_axis_label="component 1", y_axis_label="component 2")
    wheel = WheelZoomTool()
    p.lod_threshold = None
    p.add_tools(wheel)
    p.toolbar.active_scroll = wheel
    # A selection (a click, a box) outlines the chosen points in black; the others stay in
    # their colours, a little lighter, so the map still reads around the selection.
    size = 9 if len(data["x"]) <= 1000 else 7
    dots = p.scatter("x", "y", source=src, size=size, fill_color="color",
                     line_color="#333333", line_width=0.5, selection_line_color="black",
                     selection_line_width=2.5,
                     nonselection_fill_alpha=_FADED, nonselection_line_alpha=_FADED)
    # Each thumbnail sits on a rectangle of its point's colour, _FRAME pixels wider on every
    # side: the colour reads at a glance, as a frame.
    frame = dict(x="x", y="y", width="fw", height="fh", width_units="screen",
                 height_units="screen", fill_color="color", line_color="#333333",
                 line_width=0.5)
    frames = p.add_glyph(src, Rect(**frame),
                         selection_glyph=Rect(**{**frame, "line_color": "black",
                                                 "line_width": 3}),
                         nonselection_glyph=Rect(**frame, fill_alpha=_FADED,
                                                 line_alpha=_FADED))
    # The images get a source of their own, filled in the browser with the same arrays (so
    # the page holds each thumbnail once): a selection on ``src`` would make BokehJS paint
    # ImageURL's selection glyphs, which never load their images (Bokeh 3.9: "Cannot read
    # properties of undefined"). Level-of-detail decimation would do the same while panning,
    # so it is off (lod_threshold=None); dots alone are cheap to draw.
    img_src = ColumnDataSource({k: [] for k in ("x", "y", "thumb", "tw", "th")})
    pics = p.add_glyph(img_src, ImageURL(url="thumb", x="x", y="y", w="tw", h="th",
                                         w_units="screen", h_units="screen", anchor="center"))
    tap = TapTool(renderers=[dots])
    p.add_tools(BoxSelectTool(renderers=[dots]), tap)
    for r in (p.x_range, p.y_range):  # room for the thumbnails (drawn in screen units) at the edge
        r.renderers, r.range_padding = [dots], 0.3
    value = ("" if "value" not in data else
             f'\n  <div style="font-size:12px">{bokeh_escape(color_label)}: @value</div>')
    hover = HoverTool(renderers=[dots], limit=1, point_policy="snap_to_data",
                      tooltips=_TOOLTIP.format(w=min(thumbnail_size, 160), value=value))
    p.add_tools(hover)
    if vrange is not None:
        mapper = LinearColorMapper(palette=Viridis256, low=vrange[0], high=vrange[1])
        p.add_layout(ColorBar(color_mapper=mapper, title=color_label, width=12), "right")
    if legend:
        items = [LegendItem(label=text, renderers=[dots], index=i) for text, i in legend]
        if vrange is None and len(items) > 4:
            p.add_layout(Legend(items=items, title=color_label), "right")
        else:  # a few entries (or the colour bar's "no value") go below, leaving the width
            p.add_layout(Legend(items=items, orientation="horizontal",
                                title=None if vrange else color_label), "below")

    n_points = len(data["x"])
    initial = thumbnails == "thumbnails" or (thumbnails == "auto"
                                             and n_points <= _AUTO_THUMBNAILS)
    frames.visible = pics.visible = initial
    tap.renderers = hover.renderers = [frames if initial else dots]
    radio = RadioButtonGroup(labels=["dots", "thumbnails", "auto"],
                             active=["dots", "thumbnails", "auto"].index(thumbnails))
    view = CustomJS(args=dict(radio=radio, xr=p.x_range, yr=p.y_range, src=src,
                              renderers=[frames, pics], limit=_AUTO_THUMBNAILS,
                              tools=[hover, tap], frames=frames, dots=dots), code=_VIEW_JS)
    radio.js_on_change("active", view)
    for r in (p.x_range, p.y_range):
        r.js_on_change("start", view)
        r.js_on_change("end", view)

    empty = "<i>Click a point to see its file name, its metadata and a larger view.</i>"
    info = Div(text=empty, width=340)
    src.selected.js_on_change("indices", CustomJS(
        args=dict(src=src, div=info, empty=empty, side=320), code=_TAP_JS))
    header = Div(text=f"<h2 style='margin:4px 0'>{html.escape(title)}</h2>"
                      f"<div>{html.escape(note)} Hover a point for its thumbnail, click it for "
                      "details; wheel to zoom, drag to pan, box select in the toolbar.</div>",
                 width=1180)
    footer = Div(text=f"<div style='color:#666;font-size:12px'>{html.escape(size_note)} "
                      f"Made with skmicro and Bokeh {bokeh.__version__}; the page works "
                      "offline.</div>", width=1180)
    side = column(Div(text="<b>Show</b>"), radio, info)
    doc = Document()
    doc.add_root(column(header, row(p, side), footer))
    doc.js_on_event(DocumentReady, CustomJS(args=dict(src=src, img_src=img_src), code=(
        "const d = src.data; img_src.data = {x: d.x, y: d.y, thumb: d.thumb, tw: d.tw, "
        "th: d.th};")))
    return doc


def bokeh_escape(text):
    """Text for a Bokeh tooltip template: HTML-escaped, with ``@`` and ``$`` kept literal."""
    return html.escape(str(text)).replace("@", "&#64;").replace("$", "&#36;")
