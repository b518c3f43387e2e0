"""FunctionPixelFeatures: a user's own per-pixel feature function, beside the built-in ones."""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import Interval
from ._dense import DENSE_CONSTRAINTS, DensePixelTransformer

__all__ = ["FunctionPixelFeatures"]


class FunctionPixelFeatures(DensePixelTransformer):
    """Per-pixel features from any function ``func(image) -> (h, w, k)`` or ``(h, w)``.

    ``func`` receives one grey image as a float32 array ``(h, w)`` (integers scaled to
    [0, 1], colour reduced to luminance, as every descriptor sees them) and returns its
    features at the same resolution. It then tiles, validates and names like the built-in
    dense descriptors, so it goes wherever they go (e.g. beside them in a segmenter).

    Parameters
    ----------
    func : callable
        ``func(image2d float32) -> ndarray (h, w, k) or (h, w)``, finite values; must not
        modify its argument. Called once per image (or tile window); ``k`` is learnt in
        ``fit`` from the first image and must not change.
    halo : int, default=0
        How far (pixels) a pixel's features depend on its neighbours: tiles overlap by this
        much, so with a ``func`` whose reach is at most ``halo`` the result does not depend
        on the tiling. 0 for a pointwise ``func``.
    feature_names : sequence of str or None, default=None
        Names of the ``k`` channels; None gives ``"{func.__name__}_{i}"``.
    tile_size : int or None, default=None
        Side of the square tiles an image is computed in; None means 1024.
    image_shape : tuple (h, w) or None, default=None
        Needed for 2-D tabular input ``(n_samples, h * w)``.
    n_jobs : int or None, default=None
        Ignored (``func`` runs as it is, one image at a time); present for API consistency.
    verbose : int, default=0
        Show a progress bar (over images times tiles) when positive.

    Attributes
    ----------
    n_output_features_ : int
        ``k``, learnt in ``fit``.
    halo_ : int
        The ``halo`` parameter.

    See Also
    --------
    FilterBankPixelFeatures, ScatteringPixelFeatures, VGGHypercolumnPixelFeatures

    Notes
    -----
    ``func`` runs on the host with numpy arrays; batching and devices do not apply. A
    ``lambda`` cannot be pickled: give a module-level function for estimators that are saved
    (skops, pickle) or sent to other processes.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro import FunctionPixelFeatures
    >>> def square_and_cube(image):
    ...     return np.stack([image**2, image**3], axis=-1)
    >>> est = FunctionPixelFeatures(square_and_cube, feature_names=["square", "cube"])
    >>> maps = est.fit_transform(np.full((1, 4, 5), 0.5))
    >>> maps.shape, maps[0, 0, 0].tolist(), est.get_feature_names_out().tolist()
    ((1, 4, 5, 2), [0.25, 0.125], ['square', 'cube'])
    """

    _parameter_constraints = {
        "func": [callable],
        "halo": [Interval(numbers.Integral, 0, None, closed="left")],
        "feature_names": [None, list, tuple],
        "tile_size": DENSE_CONSTRAINTS["tile_size"],
        "image_shape": DENSE_CONSTRAINTS["image_shape"],
        "n_jobs": DENSE_CONSTRAINTS["n_jobs"],
        "verbose": ["verbose"],
    }

    # Host work, one image at a time: the engine's device and batch settings are fixed.
    device = "cpu"
    batch_size = 1

    def __init__(self, func, *, halo=0, feature_names=None, tile_size=None, image_shape=None,
                 n_jobs=None, verbose=0):
        self.func = func
        self.halo = halo
        self.feature_names = feature_names
        self.tile_size = tile_size
        self.image_shape = image_shape
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_common_params(self):
        pass  # no device parameter

    def _fit_dense(self, images):
        arr = images.groups[0][1]
        sample = self._call(arr[0], n_expected=None)
        self.n_output_features_ = sample.shape[-1]
        names = self._default_names() if self.feature_names is None else list(self.feature_names)
        if len(names) != self.n_output_features_ or not all(isinstance(n, str) for n in names):
            raise ValueError(
                f"The 'feature_names' parameter of {type(self).__name__} must hold "
                f"{self.n_output_features_} strings, one per channel that func returns. Got "
                f"{self.feature_names!r} instead."
            )
        self.halo_ = int(self.halo)

    def _default_names(self):
        stem = getattr(self.func, "__name__", type(self.func).__name__)
        stem = "func" if stem == "<lambda>" else stem
        return [f"{stem}_{i}" for i in range(self.n_output_features_)]

    def _feature_names(self):
        return self._default_names() if self.feature_names is None else list(self.feature_names)

    def _call(self, image, n_expected):
        """``func`` on one (h, w) image, checked, as float32 (h, w, k)."""
        name = type(self).__name__
        before = image.copy()
        out = self.func(image)
        try:
            out = np.asarray(out, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name}: func must return a numeric array of shape (h, w, k) or (h, w); it "
                f"returned {type(out).__name__} ({exc})."
            ) from None
        if out.ndim == 2:
            out = out[..., None]
        if out.ndim != 3 or out.shape[:2] != image.shape:
            raise ValueError(
                f"{name}: func must return an array of shape (h, w, k) or (h, w) for an (h, w) "
                f"image; for a {image.shape[0]}x{image.shape[1]} image it returned shape "
                f"{np.shape(out)}. Return one feature vector per pixel, at the image's "
                "resolution."
            )
        if n_expected is not None and out.shape[-1] != n_expected:
            raise ValueError(
                f"{name}: func returned {out.shape[-1]} channels, but {n_expected} in fit. It "
                "must return the same number of channels for every image."
            )
        if not np.isfinite(out).all():
            raise ValueError(f"{name}: func returned NaN or infinite values.")
        if not np.array_equal(image, before):
            raise ValueError(f"{name}: func modified its input image; work on a copy.")
        return out

    def _window_function(self, device):
        def run(batch):  # (b, h, w) CPU tensor
            arr = batch.numpy()
            return np.stack([self._call(img, self.n_output_features_) for img in arr])

        return run
