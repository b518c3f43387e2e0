"""Originals beside their synthesized reconstructions (seed 001 Fig. 1)."""

from __future__ import annotations

import numpy as np

from .._validation import validate_params
from ._common import pyplot


def _as_list(images, what):
    if isinstance(images, np.ndarray) and (images.ndim == 2 or (
            images.ndim == 3 and images.shape[-1] in (1, 3))):
        return [images]
    images = list(images)
    if not images or any(np.ndim(im) not in (2, 3) for im in images):
        raise ValueError(
            f"plot_synthesis: {what} must be one image (h, w) or (h, w, 3), or a non-empty "
            "sequence of such images."
        )
    return images


@validate_params(
    {"originals": "no_validation", "reconstructions": "no_validation",
     "labels": [None, "array-like"], "axes": "no_validation", "cmap": "no_validation"},
    prefer_skip_nested_validation=True,
)
def plot_synthesis(originals, reconstructions, *, labels=None, axes=None, cmap="gray"):
    """Show each original micrograph beside its reconstructions, as in seed 001 Fig. 1.

    Parameters
    ----------
    originals : image or sequence of images
        The inputs, one per row; each ``(h, w)`` or ``(h, w, 3)`` in any numeric dtype.
    reconstructions : image, sequence of images, or sequence of sequences
        Per row one image or several (e.g. VGG and scattering results, or samples); sizes
        may differ from the original's.
    labels : sequence of str or None, default=None
        Column titles after "Original"; default "Reconstruction" (numbered when several).
    axes : 2-D array of matplotlib Axes or None, default=None
        ``(n_rows, 1 + n_reconstructions)`` Axes to draw on; None makes a new figure.
    cmap : str, default="gray"
        Colour map for grey images.

    Returns
    -------
    axes : ndarray of matplotlib Axes, shape (n_rows, 1 + n_reconstructions)

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.plotting import plot_synthesis
    >>> rng = np.random.default_rng(0)
    >>> axes = plot_synthesis(rng.random((16, 16)), [rng.random((24, 24))])
    >>> axes.shape, axes[0, 0].get_title()
    ((1, 2), 'Original')
    """
    plt = pyplot()
    originals = _as_list(originals, "originals")
    nested = (isinstance(reconstructions, (list, tuple)) and len(reconstructions) > 0
              and isinstance(reconstructions[0], (list, tuple)))
    if len(originals) == 1 and not nested:  # one row: one image or that row's images
        reconstructions = [reconstructions]
    if len(reconstructions) != len(originals):
        raise ValueError(
            f"plot_synthesis: got {len(originals)} originals but {len(reconstructions)} rows "
            "of reconstructions; pass one image or one list of images per original."
        )
    rows = [_as_list(r, "reconstructions") for r in reconstructions]
    n_cols = 1 + max(len(r) for r in rows)
    if labels is None:
        labels = (["Reconstruction"] if n_cols == 2 else
                  [f"Reconstruction {k + 1}" for k in range(n_cols - 1)])
    if len(labels) != n_cols - 1:
        raise ValueError(
            f"plot_synthesis: labels has {len(labels)} entries for {n_cols - 1} reconstruction "
            "columns."
        )
    if axes is None:
        _, axes = plt.subplots(len(rows), n_cols, figsize=(2.6 * n_cols, 2.6 * len(rows)),
                               squeeze=False, constrained_layout=True)
    axes = np.asarray(axes).reshape(len(rows), n_cols)
    for i, (orig, recs) in enumerate(zip(originals, rows)):
        for j, im in enumerate([orig] + recs):
            ax = axes[i, j]
            im = np.asarray(im)
            if im.ndim == 3 and im.shape[-1] == 1:
                im = im[..., 0]
            if im.ndim == 3 and im.dtype.kind == "f":
                im = np.clip(im, 0, 1)  # imshow's RGB range for floats
            ax.imshow(im, cmap=cmap if im.ndim == 2 else None, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title("Original" if j == 0 else labels[j - 1])
        for j in range(1 + len(recs), n_cols):
            axes[i, j].axis("off")
    return axes
