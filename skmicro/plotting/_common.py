"""What every plot shares: importing matplotlib on demand, the Axes, and feature tables."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from .._imports import import_dependency
from .._validation import check_is_fitted


def pyplot():
    """matplotlib.pyplot, imported on first use (a broken installation says so)."""
    return import_dependency("matplotlib.pyplot", needed_by="skmicro.plotting",
                             package="matplotlib")


def pillow():
    """PIL.Image, imported on first use (a broken installation says so)."""
    return import_dependency("PIL.Image", needed_by="skmicro.plotting",
                             package="Pillow (thumbnails)")


def get_ax(ax, *, three_d=False):
    """The caller's Axes, or a new figure's; checks that a 3-D plot gets 3-D Axes."""
    if ax is None:
        fig = pyplot().figure()
        return fig.add_subplot(projection="3d" if three_d else None)
    if three_d and not hasattr(ax, "zaxis"):
        raise ValueError(
            "A 3-D plot needs 3-D Axes: create them with fig.add_subplot(projection='3d'), or "
            "pass ax=None."
        )
    pyplot()
    return ax


def feature_table(X, *, feature_names=None, estimator=None, caller):
    """A 2-D float array of features and their names (or None) from what the user passed.

    ``X`` is a fitted transformer's output (ndarray or DataFrame, one row per image), or, with
    ``estimator``, the images themselves: they are transformed by the estimator (a clone is
    fitted on them first when it is not fitted) and the names come from
    ``get_feature_names_out``.
    """
    if estimator is not None:
        try:
            check_is_fitted(estimator)
        except NotFittedError:
            estimator = clone(estimator).fit(X)
        F = estimator.transform(X)
        names = estimator.get_feature_names_out()
    elif hasattr(X, "columns"):
        F, names = X, X.columns
    else:
        F, names = X, feature_names
    if hasattr(F, "to_numpy"):
        F = F.to_numpy()
    F = np.asarray(F, dtype=np.float64)
    if F.ndim == 1:
        F = F[None, :]
    if F.ndim != 2 or F.shape[1] == 0:
        raise ValueError(
            f"{caller} needs features shaped (n_images, n_features); got an array of shape "
            f"{F.shape}."
        )
    if names is not None:
        names = [str(n) for n in names]
        if len(names) != F.shape[1]:
            raise ValueError(
                f"{caller}: feature_names has {len(names)} entries but the features have "
                f"{F.shape[1]} columns."
            )
    return F, names


def log10_positive(values, log, caller, what):
    """log10 of values that must be positive, with an error that says how to avoid it."""
    if not log:
        return values
    if not np.all(values > 0):
        raise ValueError(
            f"{caller} plots log10 of {what}, which needs positive values; the smallest is "
            f"{values.min():.3g}. Pass log=False when the features are already logarithmic "
            "(e.g. an estimator with log=True)."
        )
    return np.log10(values)


def check_labels(labels, n, caller):
    if labels is None:
        return [None] * n
    labels = [str(label) for label in labels]
    if len(labels) != n:
        raise ValueError(f"{caller}: got {len(labels)} labels for {n} images.")
    return labels


def thumbnail(image, size):
    """One image as a uint8 thumbnail whose longer side is at most ``size`` pixels.

    The aspect ratio is kept and small images are not enlarged. Grey levels follow the image
    input contract (integers scaled by their dtype's maximum); a float image whose values leave
    [0, 1] is stretched from its minimum to its maximum, so that textures of any range show.
    Colour images stay RGB: the result is ``(h, w)`` or ``(h, w, 3)``.
    """
    from .._validation import as_float32

    Image = pillow()
    img = as_float32(np.asarray(image), name="image", caller="thumbnail")
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[-1] != 3):
        raise ValueError(f"A thumbnail needs an image of shape (h, w) or (h, w, 3); got shape "
                         f"{img.shape}.")
    finite = np.isfinite(img)
    lo, hi = (float(img[finite].min()), float(img[finite].max())) if finite.any() else (0, 1)
    if lo < 0.0 or hi > 1.0:
        img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    img = np.where(finite, img, 0.0)
    pil = Image.fromarray(np.rint(np.clip(img, 0.0, 1.0) * 255).astype(np.uint8))
    pil.thumbnail((size, size), Image.Resampling.LANCZOS)
    return np.asarray(pil)
