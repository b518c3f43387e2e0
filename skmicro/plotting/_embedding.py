"""Embedding scatter plots of seed 001 (Figs. 5, 9, 11): points coloured by a parameter."""

from __future__ import annotations

from numbers import Real

import numpy as np

from .._validation import Interval, validate_params
from ._common import get_ax

__all__ = ["plot_embedding"]


@validate_params(
    {"embedding": "no_validation",  # an array or a fitted estimator with embedding_
     "color": [None, "array-like"], "color_label": [None, str], "angles": [None, "array-like"],
     "angle_factor": [Real], "arrow_length": [None, Interval(Real, 0, None, closed="neither")],
     "components": [None, tuple, list], "cmap": "no_validation", "ax": "no_validation"},
    prefer_skip_nested_validation=True,
)
def plot_embedding(
    embedding, *, color=None, color_label=None, angles=None, angle_factor=2.0,
    arrow_length=None, components=None, cmap="viridis", ax=None, **scatter_kw,
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
    **scatter_kw
        Passed to ``Axes.scatter``.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.plotting import plot_embedding
    >>> theta = np.linspace(0, np.pi, 8, endpoint=False)
    >>> ring = np.c_[np.cos(2 * theta), np.sin(2 * theta)]
    >>> ax = plot_embedding(ring, color=theta, color_label="theta", angles=theta)
    >>> ax.collections[0].get_offsets().shape
    (8, 2)
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
    for setter, c in zip((ax.set_xlabel, ax.set_ylabel, getattr(ax, "set_zlabel", None)),
                         components):
        setter(f"component {c + 1}")
    if not three_d:
        ax.set_aspect("equal", adjustable="datalim")  # MDS distances are isotropic
    return ax
