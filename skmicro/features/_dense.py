"""The shared skeleton of every dense (per-pixel) descriptor: tiles with overlap, batching.

A dense descriptor maps each image ``(h, w)`` to a feature stack ``(h, w, n_features)`` at the
input's full resolution. Every output pixel depends only on the input pixels within the
descriptor's receptive-field radius ``halo_`` (and on where the image borders are), so a large
image is cut into tiles that overlap by at least ``halo_`` on each side: each tile's core is
exactly (to float rounding) what the whole image gives, while memory stays bounded by the tile.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._dask import is_dask_array
from .._engine import map_batches, progress_bar, resolve_device, torch_threads
from .._validation import Interval, check_is_fitted
from ._base import IMAGE_TRANSFORMER_CONSTRAINTS, ImageTransformer

__all__ = ["DensePixelTransformer", "DENSE_CONSTRAINTS", "tile_windows", "AUTO_TILE_SIZE"]

#: Core tile side used by ``tile_size=None``: images up to 1024 x 1024 go through whole.
AUTO_TILE_SIZE = 1024

DENSE_CONSTRAINTS = {
    **IMAGE_TRANSFORMER_CONSTRAINTS,
    "tile_size": [None, Interval(numbers.Integral, 1, None, closed="left")],
}


def _round_up(value, multiple):
    return -(-int(value) // multiple) * multiple


def tile_windows(height, width, tile_size, halo, align=1):
    """The tiles of an image: ``(window, core)`` pairs of ``(slice_y, slice_x)``.

    The cores (``tile_size`` squares, the last ones cut by the border) cover the image once;
    each window is its core grown by ``halo`` on every side, clipped to the image; ``core``
    is given relative to the window. ``align`` makes every window start at a multiple of it
    (networks with ``p`` poolings need ``2**p``, so that their pooling grids coincide).

    Examples
    --------
    >>> from skmicro.features._dense import tile_windows
    >>> [(w[1], c[1]) for w, c in tile_windows(1, 10, 4, 2)]
    [(slice(0, 6, None), slice(0, 4, None)), (slice(2, 10, None), slice(2, 6, None)), \
(slice(6, 10, None), slice(2, 4, None))]
    """
    tile = _round_up(tile_size, align)
    halo = _round_up(halo, align)

    def axis(n):
        spans = []
        for start in range(0, n, tile):
            stop = min(n, start + tile)
            lo, hi = max(0, start - halo), min(n, stop + halo)
            spans.append((slice(lo, hi), slice(start - lo, stop - lo)))
        return spans

    return [((wy, wx), (cy, cx)) for wy, cy in axis(height) for wx, cx in axis(width)]


class DensePixelTransformer(ImageTransformer, auto_wrap_output_keys=None):
    """Base class: images in, one float32 feature stack ``(h, w, n_features)`` per image out.

    Subclasses implement ``_fit_dense(images)`` (set ``n_output_features_`` and ``halo_``),
    ``_window_function(device)`` -> callable mapping a float32 tensor ``(b, h, w[, 3])`` on
    ``device`` to ``(b, h, w, n_output_features_)``, and ``_feature_names()``; ``_align()``
    returns the multiple window origins must keep (1 by default). The base class validates,
    tiles and batches.
    """

    def _align(self):
        return 1

    def _fit_images(self, images):
        self._fit_dense(images)
        return self

    def transform(self, X):
        """Compute the per-pixel feature stacks of images.

        Parameters
        ----------
        X : array-like of shape (n, h, w) or (n, h, w, 3), or list of images
            Images of one size, any size at least the descriptor's minimum (not necessarily
            the size seen in ``fit``). For images of several sizes, call ``transform`` once per
            size (e.g. ``[est.transform(img[None])[0] for img in images]``).

        Returns
        -------
        X_new : ndarray of shape (n, h, w, n_output_features), float32
            The features of every pixel, at the input's resolution.
        """
        check_is_fitted(self)
        name = type(self).__name__
        if is_dask_array(X):
            raise TypeError(
                f"{name}.transform does not take dask arrays: its output is a full-resolution "
                "stack per image. Compute the images first (e.g. X.compute()), or transform "
                "them a few at a time."
            )
        images = self._validate_images(X, reset=False)
        if len(images.groups) > 1:
            sizes = ", ".join(f"{h}x{w}" for h, w in images.shapes[:4])
            raise ValueError(
                f"{name}.transform returns one (n, h, w, n_features) array, so the images of "
                f"one call must share their size; got several sizes ({sizes}). Transform each "
                "size separately, e.g. [est.transform(img[None])[0] for img in images]."
            )
        array = images.groups[0][1]
        return self._transform_dense(array, resolve_device(self.device, caller=name))

    def _transform_dense(self, array, device):
        n, h, w = array.shape[:3]
        tile = AUTO_TILE_SIZE if self.tile_size is None else self.tile_size
        tiles = tile_windows(h, w, tile, self.halo_, self._align())
        func = self._window_function(device)
        name = type(self).__name__
        if len(tiles) == 1:  # the whole image at once: no tile to crop or copy
            with torch_threads(self.n_jobs), progress_bar(
                n, verbose=self.verbose, desc=name, unit="img"
            ) as bar:
                return map_batches(func, array, batch_size=self.batch_size, device=device,
                                   progress=bar, caller=name)
        out = np.empty((n, h, w, self.n_output_features_), dtype=np.float32)
        with torch_threads(self.n_jobs), progress_bar(
            n * len(tiles), verbose=self.verbose, desc=name, unit="tile"
        ) as bar:
            for (wy, wx), (cy, cx) in tiles:
                part = map_batches(lambda t, cy=cy, cx=cx: func(t)[:, cy, cx],
                                   array[:, wy, wx], batch_size=self.batch_size,
                                   device=device, progress=bar, caller=name)
                out[:, wy.start + cy.start:wy.start + cy.stop,
                    wx.start + cx.start:wx.start + cx.stop] = part
        return out

    def fit_transform(self, X, y=None):
        """Fit to ``X`` and return its per-pixel feature stacks (see :meth:`transform`)."""
        return self.fit(X, y).transform(X)

    def set_output(self, *, transform=None):
        """Output container: only numpy, since the stacks are 4-D (a DataFrame is 2-D).

        ``set_output(transform="pandas")`` (or "polars") raises a ValueError naming the
        reshape that gives a table; a global ``sklearn.set_config(transform_output=...)``
        leaves dense descriptors returning numpy arrays.

        Parameters
        ----------
        transform : {"default", None}
            Anything else raises.

        Returns
        -------
        self : object
        """
        if transform not in (None, "default"):
            raise ValueError(
                f"{type(self).__name__} returns (n, h, w, n_features) arrays, which a "
                f"{transform} DataFrame (2-D) cannot hold; set_output(transform={transform!r}) "
                "is not supported. For a table of pixels use "
                "pandas.DataFrame(maps.reshape(-1, maps.shape[-1]), "
                "columns=est.get_feature_names_out())."
            )
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
