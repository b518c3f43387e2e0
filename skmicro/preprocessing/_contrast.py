"""Contrast normalization between sessions and detectors, by scikit-image's exposure module."""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import IMAGE_SHAPE_CONSTRAINT, Interval, StrOptions
from ._base import ImageToImageTransformer, import_skimage


class NormalizeContrast(ImageToImageTransformer):
    """Normalize each micrograph's contrast: percentile stretch or CLAHE.

    * ``method="percentile"``: grey values at the ``percentiles`` of each image are mapped to
      0 and 1 and values beyond are clipped (:func:`skimage.exposure.rescale_intensity`), which
      removes brightness/contrast differences between sessions and ignores a few saturated
      pixels.
    * ``method="clahe"``: contrast-limited adaptive histogram equalization
      (:func:`skimage.exposure.equalize_adapthist`), which also evens out slow illumination
      gradients across the image.

    Stateless: ``fit`` only checks the parameters. Crop the data bar first: its black and white
    pixels would otherwise set the percentiles.

    Parameters
    ----------
    method : {"percentile", "clahe"}, default="percentile"
    percentiles : tuple (low, high), default=(1.0, 99.0)
        For "percentile": the percentiles mapped to 0 and 1, ``0 <= low < high <= 100``.
    clip_limit : float in (0, 1], default=0.01
        For "clahe": histogram clip limit (higher gives more contrast).
    kernel_size : int or None, default=None
        For "clahe": tile size in pixels; None uses 1/8 of each image side.
    image_shape : tuple (h, w) or None, default=None
        Needed only for tabular input ``(n_samples, h * w)``.

    Attributes
    ----------
    n_features_in_ : int
        Only after fitting on tabular input.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.preprocessing import NormalizeContrast
    >>> image = np.linspace(0.2, 0.4, 101).reshape(1, 1, 101)   # a dull, low-contrast image
    >>> out = NormalizeContrast(percentiles=(0, 100)).transform(image)
    >>> float(out.min()), float(out.max())
    (0.0, 1.0)
    """

    _parameter_constraints = {
        "method": [StrOptions({"percentile", "clahe"})],
        "percentiles": [tuple, list],
        "clip_limit": [Interval(numbers.Real, 0, 1, closed="right")],
        "kernel_size": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "image_shape": IMAGE_SHAPE_CONSTRAINT,
    }

    def __init__(self, method="percentile", *, percentiles=(1.0, 99.0), clip_limit=0.01,
                 kernel_size=None, image_shape=None):
        self.method = method
        self.percentiles = percentiles
        self.clip_limit = clip_limit
        self.kernel_size = kernel_size
        self.image_shape = image_shape

    def _check_params(self):
        super()._check_params()
        p = self.percentiles
        ok = (len(p) == 2 and all(isinstance(v, numbers.Real) for v in p)
              and 0 <= p[0] < p[1] <= 100)
        if not ok:
            raise ValueError(
                "The 'percentiles' parameter of NormalizeContrast must be a pair (low, high) "
                f"with 0 <= low < high <= 100. Got {p!r} instead."
            )

    def _prepare(self, images):
        return import_skimage("exposure")

    def _transform_one(self, image, index, exposure):
        if self.method == "clahe":
            if image.max() == image.min():
                return np.zeros_like(image)  # nothing to equalize
            return exposure.equalize_adapthist(
                image, kernel_size=self.kernel_size, clip_limit=self.clip_limit
            )
        low, high = np.percentile(image, self.percentiles)
        if high <= low:
            return np.zeros_like(image)  # flat image: no contrast to stretch
        return exposure.rescale_intensity(image, in_range=(low, high), out_range=(0.0, 1.0))
