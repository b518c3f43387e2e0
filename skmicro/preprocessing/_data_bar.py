"""Finding and cropping the microscope's data bar (text, scale bar) at an image's edge."""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import IMAGE_SHAPE_CONSTRAINT, Interval, StrOptions, as_float32
from ._base import ImageToImageTransformer

# A text line with tall glyphs can push a row or two below the uniform fraction; the band
# continues across at most this many such rows.
_MAX_GAP_ROWS = 2


def _bar_rows_from_edge(rows, max_rows, min_uniform_fraction, tol):
    """Height of the bar in ``rows`` (ordered from the image edge inwards), 0 if none.

    A bar row is dominated by one background value (the row median is that value when it
    covers more than half the row); the bar is the run of such rows from the edge sharing one
    background value, and it must end before ``max_rows``: a uniform stretch that never gives
    way to texture is part of the picture, not a bar.
    """
    background, height, gap = None, 0, 0
    for k in range(min(max_rows + _MAX_GAP_ROWS + 1, len(rows))):
        row = rows[k]
        median = float(np.median(row))
        uniform = np.count_nonzero(np.abs(row - median) <= tol) >= min_uniform_fraction * row.size
        if uniform and (background is None or abs(median - background) <= tol):
            if k >= max_rows:
                return 0  # too tall for a bar
            background = median if background is None else background
            height, gap = k + 1, 0
        else:
            gap += 1
            if gap > _MAX_GAP_ROWS:
                return height  # texture resumed: the band ends here
    return 0  # no texture within reach: no band that differs from the picture


def find_data_bar(image, *, position="auto", max_fraction=0.25, min_uniform_fraction=0.5,
                  tolerance=0.002):
    """Number of data-bar rows at the top and at the bottom of one micrograph.

    A data bar is a band at the image's edge whose rows are dominated by one flat background
    value (with text and a scale bar on it), unlike a micrograph's rows whose grey values
    vary from pixel to pixel.

    Parameters
    ----------
    image : array-like of shape (h, w) or (h, w, 3)
        One image (colour is reduced to luminance; integers are scaled as the input contract
        does).
    position : {"auto", "bottom", "top"}, default="auto"
        Which edge to search; "auto" searches both.
    max_fraction : float in (0, 0.5], default=0.25
        Largest bar height, as a fraction of the image height.
    min_uniform_fraction : float in (0, 1], default=0.5
        Fraction of a row's pixels that must share the background value for the row to count
        as bar background.
    tolerance : float >= 0, default=0.002
        Two grey values are "the same" when they differ by at most this fraction of the image's
        value range (0.002 is exact equality for 8-bit images; raise it for JPEG-compressed
        bars).

    Returns
    -------
    top_rows, bottom_rows : int
        Rows to remove at the top and at the bottom (0 where there is no bar).

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.preprocessing import find_data_bar
    >>> image = np.random.default_rng(0).random((40, 30))
    >>> image[-6:] = 0.0                  # a black data bar, 6 rows high ...
    >>> image[-4:-2, 3:12] = 1.0          # ... with a white scale bar on it
    >>> find_data_bar(image)
    (0, 6)
    """
    img = as_float32(np.asarray(image), name="image", caller="find_data_bar")
    if img.ndim == 3:
        img = img.mean(axis=-1) if img.shape[-1] == 3 else img[..., 0]
    if img.ndim != 2:
        raise ValueError(
            f"find_data_bar: image must be 2-D (h, w) or 3-D (h, w, channels); got shape "
            f"{img.shape}."
        )
    value_range = float(img.max() - img.min())
    if value_range == 0.0:
        return 0, 0  # a flat image has no band that differs from it
    tol = tolerance * value_range
    max_rows = int(max_fraction * img.shape[0])
    top = bottom = 0
    if position in ("auto", "top"):
        top = _bar_rows_from_edge(img, max_rows, min_uniform_fraction, tol)
    if position in ("auto", "bottom"):
        bottom = _bar_rows_from_edge(img[::-1], max_rows, min_uniform_fraction, tol)
    return top, bottom


class CropDataBar(ImageToImageTransformer):
    """Remove the microscope's data bar (text and scale bar) from each micrograph.

    Each image is searched for a band at its bottom (or top) edge whose rows are dominated by
    one flat background value, unlike the micrograph above it (see :func:`find_data_bar`);
    that band is cropped. Images without a bar pass unchanged (as float32). Stateless: ``fit``
    only checks the parameters.

    Parameters
    ----------
    rows : int or None, default=None
        Crop exactly this many rows at ``position`` ("auto" means the bottom) from every
        image instead of detecting the bar.
    position : {"auto", "bottom", "top"}, default="auto"
        Which edge holds the bar; "auto" detects a bar at either edge (or both).
    max_fraction : float in (0, 0.5], default=0.25
        Largest bar height searched, as a fraction of the image height.
    min_uniform_fraction : float in (0, 1], default=0.5
        Fraction of a row that must share the bar's background value.
    tolerance : float >= 0, default=0.002
        Grey-value tolerance of "the same value", as a fraction of the image's value range.
    image_shape : tuple (h, w) or None, default=None
        Needed only for tabular input ``(n_samples, h * w)``; the output is then a table too.

    Attributes
    ----------
    n_features_in_ : int
        Only after fitting on tabular input.

    See Also
    --------
    find_data_bar : the detection for one image.

    Notes
    -----
    The output holds float32 images (integers scaled to [0, 1]); an array when all outputs
    share a size, else a list, which every skmicro descriptor accepts. A micrograph whose
    edge rows are mostly one saturated value (e.g. a pore touching the edge) looks like a bar:
    pass ``rows=0`` for such images.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.preprocessing import CropDataBar
    >>> images = np.random.default_rng(0).random((2, 40, 30))
    >>> images[0, -6:] = 0.0               # image 0 has a bar, image 1 has none
    >>> images[0, -4:-2, 3:12] = 1.0
    >>> [im.shape for im in CropDataBar().fit_transform(images)]
    [(34, 30), (40, 30)]
    """

    _parameter_constraints = {
        "rows": [None, Interval(numbers.Integral, 0, None, closed="left")],
        "position": [StrOptions({"auto", "bottom", "top"})],
        "max_fraction": [Interval(numbers.Real, 0, 0.5, closed="right")],
        "min_uniform_fraction": [Interval(numbers.Real, 0, 1, closed="right")],
        "tolerance": [Interval(numbers.Real, 0, None, closed="left")],
        "image_shape": IMAGE_SHAPE_CONSTRAINT,
    }

    def __init__(self, rows=None, *, position="auto", max_fraction=0.25,
                 min_uniform_fraction=0.5, tolerance=0.002, image_shape=None):
        self.rows = rows
        self.position = position
        self.max_fraction = max_fraction
        self.min_uniform_fraction = min_uniform_fraction
        self.tolerance = tolerance
        self.image_shape = image_shape

    def _transform_one(self, image, index, context):
        h = image.shape[0]
        if self.rows is not None:
            if self.rows >= h:
                raise ValueError(
                    f"The 'rows' parameter of CropDataBar must be smaller than the image height; "
                    f"got rows={self.rows} for image {index} of height {h}."
                )
            top, bottom = (self.rows, 0) if self.position == "top" else (0, self.rows)
        else:
            top, bottom = find_data_bar(
                image, position=self.position, max_fraction=self.max_fraction,
                min_uniform_fraction=self.min_uniform_fraction, tolerance=self.tolerance,
            )
        return image[top:h - bottom]
