"""Embedding scatter plots of seed 001 (Figs. 5, 9, 11): points coloured by a parameter, or
the micrographs' thumbnails in place of the dots (the static twin of ``collection_map``)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from .._validation import Interval, validate_params
from ._common import get_ax, thumbnail

__all__ = ["plot_embedding"]


@validate_params(
    {"embedding": "no_validation",  # an array or a fitted estimator with embedding_
     "color": [None, "array-like"], "color_label": [None, str], "angles": [None, "array-like"],
     "angle_factor": [Real], "arrow_length": [None, Interval(Real, 0, None, closed="neither")],
     "components": [None, tuple, list], "cmap": "no_validation", "ax": "no_validation",
     "thumbnails": "no_validation",
     "thumbnail_grid": [Interval(Integral, 1, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def plot_embedding(
    embedding, *, color=None, color_label=None, angles=None, angle_factor=2.0,
    arrow_length=None, components=None, cmap="viridis", ax=None, thumbnails=None,
    thumbnail_grid=12, **scatter_kw,
):
    """Scatter a 2-D or 3-D embedding, coloured by a generating parameter.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, n_components) or fitted embedder
        Embedded points, e.g. ``MDSEmbedder().fit_transform(F)``; an object with an
        ``embedding_`` attribute is read from it.
    color : array-like of shape (n_samples,), optional
        The parameter to colour by (noise amplitude, scale, angle, hardness...); a colour bar
        is added.
    color_label : str, optional
        Colour bar label.
    angles : array-like of shape (n_samples,), optional
        Generating angles in radians. Each point gets an arrow at angle
        ``angle_factor * angles`` (seed 001 Fig. 5 draws ``2 theta``, since a texture at
        theta and theta + pi is the same). 2-D only.
    angle_factor : float, default=2.0
    arrow_length : float, optional
        Arrow length in data units; 8% of the embedding's extent by default.
    components : tuple of 2 or 3 ints, optional
        Which embedding coordinates to show; ``(0, 1)`` by default. Three give a 3-D plot
        (seed 001 Figs. 9 and 11, where a 4-D embedding is shown as a 3-D projection).
    cmap : str or Colormap, default="viridis"
    ax : matplotlib Axes, optional
        3-D Axes for three components; a new figure by default.
    thumbnails : array of shape (n, h, w) or (n, h, w, 3), or list of images, optional
        The micrographs, one per point (any sizes): their thumbnails are drawn in place of
        the dots, for figures like the texture maps of the literature. To avoid overlaps the
        plot is cut into a grid of square cells and each cell that holds points shows the
        image of the point nearest its centre, fitted into the cell with its aspect ratio and
        framed in the point's colour; the other points stay dots underneath. 2-D only. For
        an interactive map of the whole collection see :func:`collection_map`.
    thumbnail_grid : int, default=12
        Number of grid cells along the longer side of the embedding (so at most
        ``thumbnail_grid ** 2`` thumbnails).
    **scatter_kw
        Passed to ``Axes.scatter``.

    Returns
    -------
    ax : matplotlib Axes
        The thumbnails are its ``ax.images``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.plotting import plot_embedding
    >>> theta = np.linspace(0, np.pi, 8, endpoint=False)
    >>> ring = np.c_[np.cos(2 * theta), np.sin(2 * theta)]
    >>> ax = plot_embedding(ring, color=theta, color_label="theta", angles=theta)
    >>> ax.collections[0].get_offsets().shape
    (8, 2)
    >>> images = np.random.default_rng(0).random((8, 16, 24))   # one micrograph per point
    >>> ax = plot_embedding(ring, thumbnails=images, thumbnail_grid=4)
    >>> len(ax.images)              # 8 points, each alone in its cell
    8
    """
    caller = "plot_embedding"
    points = getattr(embedding, "embedding_", embedding)
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] < 2:
        raise ValueError(
            f"{caller} needs an embedding of shape (n_samples, n_components >= 2); got shape "
            f"{points.shape}."
        )
    n = points.shape[0]
    components = (0, 1) if components is None else tuple(components)
    if len(components) not in (2, 3) or not all(0 <= c < points.shape[1] for c in components):
        raise ValueError(
            f"The 'components' parameter of {caller} must be 2 or 3 column indices below "
            f"{points.shape[1]}. Got {components!r} instead."
        )

    def per_point(values, name):
        values = np.asarray(values, dtype=np.float64).ravel()
        if values.shape[0] != n:
            raise ValueError(f"{caller}: {name} has {values.shape[0]} values for {n} points.")
        return values

    three_d = len(components) == 3
    ax = get_ax(ax, three_d=three_d)
    coords = [points[:, c] for c in components]
    kw = dict(scatter_kw)
    if color is not None:
        kw.update(c=per_point(color, "color"), cmap=cmap)
    sc = ax.scatter(*coords, **kw)
    if color is not None:
        ax.figure.colorbar(sc, ax=ax, label=color_label, shrink=0.8 if three_d else 1.0)
    if angles is not None:
        if three_d:
            raise ValueError(f"{caller}: angle arrows are drawn on 2-D plots only.")
        phi = angle_factor * per_point(angles, "angles")
        if arrow_length is None:
            extent = max(np.ptp(coords[0]), np.ptp(coords[1]))
            arrow_length = 0.08 * (extent if extent > 0 else 1.0)
        ax.quiver(*coords, arrow_length * np.cos(phi), arrow_length * np.sin(phi),
                  angles="xy", scale_units="xy", scale=1.0, width=0.004, color="0.3")
    if thumbnails is not None:
        if three_d:
            raise ValueError(f"{caller}: thumbnails are drawn on 2-D plots only.")
        if len(thumbnails) != n:
            raise ValueError(f"{caller}: got {len(thumbnails)} thumbnails for {n} points; give "
                             "one image per point, in the embedding's order.")
        _draw_thumbnails(ax, *coords, thumbnails, thumbnail_grid, sc)
    for setter, c in zip((ax.set_xlabel, ax.set_ylabel, getattr(ax, "set_zlabel", None)),
                         components):
        setter(f"component {c + 1}")
    if not three_d:
        # MDS distances are isotropic; thumbnails fix the limits, so the box adjusts instead
        ax.set_aspect("equal", adjustable="box" if thumbnails is not None else "datalim")
    return ax


def _draw_thumbnails(ax, x, y, images, grid, scatter):
    """One thumbnail per occupied grid cell: the point nearest the cell's centre."""
    from matplotlib.patches import Rectangle

    x0, y0 = x.min(), y.min()
    side = max(np.ptp(x), np.ptp(y)) / grid
    side = side if side > 0 else 1.0
    ix = np.minimum(np.floor((x - x0) / side), grid - 1).astype(int)
    iy = np.minimum(np.floor((y - y0) / side), grid - 1).astype(int)
    cx, cy = x0 + (ix + 0.5) * side, y0 + (iy + 0.5) * side
    order = np.lexsort((np.hypot(x - cx, y - cy), iy, ix))
    first = np.r_[True, (np.diff(ix[order]) != 0) | (np.diff(iy[order]) != 0)]
    colors = scatter.to_rgba(scatter.get_array()) if scatter.get_array() is not None else None
    inner = 0.9 * side
    for i in order[first]:
        img = thumbnail(images[i], 128)
        h, w = img.shape[:2]
        ww, hh = (inner, inner * h / w) if w >= h else (inner * w / h, inner)
        extent = (cx[i] - ww / 2, cx[i] + ww / 2, cy[i] - hh / 2, cy[i] + hh / 2)
        ax.imshow(img, extent=extent, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255,
                  zorder=3, interpolation="antialiased")
        edge = colors[i] if colors is not None else "0.2"
        ax.add_patch(Rectangle((extent[0], extent[2]), ww, hh, fill=False, edgecolor=edge,
                               linewidth=1.5, zorder=4))
    pad = 0.25 * side  # the occupied cells, with a margin
    ax.set_xlim(x0 - pad, x0 + (ix.max() + 1) * side + pad)
    ax.set_ylim(y0 - pad, y0 + (iy.max() + 1) * side + pad)
