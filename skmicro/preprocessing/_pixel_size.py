"""Bringing micrographs of different magnifications to one physical pixel size."""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import IMAGE_SHAPE_CONSTRAINT, Interval
from ._base import ImageToImageTransformer, import_skimage

_HOW_TO_SUPPLY = (
    "Pass the pixel sizes to transform(X, pixel_size=...) (one per image, e.g. a metadata "
    "column; in a Pipeline enable metadata routing with "
    "sklearn.set_config(enable_metadata_routing=True), call "
    "rescaler.set_transform_request(pixel_size=True) and pass pixel_size=... to the pipeline's "
    "fit and predict), or set RescalePixelSize(pixel_size=...) for a fixed value. "
    "skmicro.io.load_micrographs(..., return_pixel_size=True) reads the sizes files declare."
)


def _check_pixel_sizes(pixel_size, n_samples, source):
    sizes = np.asarray(pixel_size, dtype=np.float64) if not isinstance(
        pixel_size, (str, bytes)) else None
    if sizes is None or sizes.ndim > 1:
        raise ValueError(
            f"{source} must be a positive number or a 1-D array of one positive number per "
            f"image; got {pixel_size!r:.80}."
        )
    if sizes.ndim == 1 and sizes.shape[0] != n_samples:
        raise ValueError(
            f"{source} has {sizes.shape[0]} values but X holds {n_samples} images; give one "
            "pixel size per image, in the order of X."
        )
    sizes = np.broadcast_to(sizes, (n_samples,))
    bad = ~(np.isfinite(sizes) & (sizes > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{source} must be positive and finite; image {i} has pixel size {sizes[i]}. "
            + _HOW_TO_SUPPLY
        )
    return sizes


class RescalePixelSize(ImageToImageTransformer):
    """Resample each micrograph to one physical pixel size, with anti-aliasing.

    Texture descriptors are scale-dependent: the same microstructure imaged at two
    magnifications gives two descriptors. This step resamples image ``i`` by the factor
    ``pixel_size[i] / target_pixel_size`` with :func:`skimage.transform.rescale` (Gaussian
    anti-aliasing before any shrinking), so that every output pixel covers the same length.
    Stateless: ``fit`` only checks the parameters.

    Parameters
    ----------
    target_pixel_size : float
        Pixel size of the output, in the unit of the input pixel sizes (e.g. micrometres).
    pixel_size : float, array-like of shape (n_samples,) or None, default=None
        Pixel size of the input images, used when ``transform`` gets none: a scalar for images
        that share one, or one value per image for a fixed set of images. Per-image sizes that
        must follow cross-validation splits go to ``transform(X, pixel_size=...)`` through
        scikit-learn's metadata routing (see Examples).
    order : int in [0, 5], default=1
        Spline interpolation order (0 nearest, 1 bilinear, 3 bicubic).
    image_shape : tuple (h, w) or None, default=None
        Needed only for tabular input ``(n_samples, h * w)``.

    Attributes
    ----------
    n_features_in_ : int
        Only after fitting on tabular input.

    Notes
    -----
    Output sizes are ``round(h * factor), round(w * factor)``; images of different input
    sizes or pixel sizes come out as a list of arrays of different sizes (descriptors accept
    those). The pixel size of a micrograph with a scale bar is ``bar length / bar pixels``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.preprocessing import RescalePixelSize
    >>> images = np.random.default_rng(0).random((2, 40, 40))
    >>> out = RescalePixelSize(target_pixel_size=0.2).transform(images, pixel_size=[0.1, 0.2])
    >>> [im.shape for im in out]
    [(20, 20), (40, 40)]

    In a Pipeline, per-image sizes follow the cross-validation splits through metadata
    routing:

    >>> import sklearn
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmicro import PowerSpectrumFeatures
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     pipe = make_pipeline(
    ...         RescalePixelSize(target_pixel_size=0.2).set_transform_request(pixel_size=True),
    ...         PowerSpectrumFeatures(radial=True, n_bins=4, device="cpu"))
    ...     features = pipe.fit_transform(images, pixel_size=[0.1, 0.2])
    >>> features.shape
    (2, 4)
    """

    _parameter_constraints = {
        "target_pixel_size": [Interval(numbers.Real, 0, None, closed="neither")],
        "pixel_size": [None, Interval(numbers.Real, 0, None, closed="neither"), "array-like"],
        "order": [Interval(numbers.Integral, 0, 5, closed="both")],
        "image_shape": IMAGE_SHAPE_CONSTRAINT,
    }

    def __init__(self, target_pixel_size, *, pixel_size=None, order=1, image_shape=None):
        self.target_pixel_size = target_pixel_size
        self.pixel_size = pixel_size
        self.order = order
        self.image_shape = image_shape

    def fit_transform(self, X, y=None, pixel_size=None):
        """Check the parameters and resample the images (same as ``transform``).

        Parameters
        ----------
        X : array-like of shape (n, h, w) or (n, h, w, 3), or list of images
        y : None
            Ignored.
        pixel_size : float or array-like of shape (n_samples,), default=None
            Pixel size of each image; see :meth:`transform`.

        Returns
        -------
        X_new : ndarray of shape (n, h', w') or list of 2-D float32 arrays
        """
        return self.fit(X, y).transform(X, pixel_size=pixel_size)

    def transform(self, X, pixel_size=None):
        """Resample each image to ``target_pixel_size``.

        Parameters
        ----------
        X : array-like of shape (n, h, w) or (n, h, w, 3), or list of images
        pixel_size : float or array-like of shape (n_samples,), default=None
            Pixel size of each image (same unit as ``target_pixel_size``); falls back to the
            constructor's ``pixel_size``. Needed from one of the two.

        Returns
        -------
        X_new : ndarray of shape (n, h', w') or list of 2-D float32 arrays
            A list when the outputs differ in size.
        """
        return self._apply(X, pixel_size=pixel_size)

    def _prepare(self, images, pixel_size=None):
        if pixel_size is not None:
            source = "The 'pixel_size' argument of RescalePixelSize.transform"
        elif self.pixel_size is not None:
            pixel_size, source = self.pixel_size, "The 'pixel_size' parameter of RescalePixelSize"
        else:
            raise ValueError("RescalePixelSize needs the pixel size of each image. " + _HOW_TO_SUPPLY)
        return {
            "factors": _check_pixel_sizes(pixel_size, images.n_samples, source)
            / self.target_pixel_size,
            "transform": import_skimage("transform"),
        }

    def _transform_one(self, image, index, context):
        factor = float(context["factors"][index])
        if factor == 1.0:
            return image
        out_shape = [max(1, round(s * factor)) for s in image.shape]
        return context["transform"].resize(
            image, out_shape, order=self.order, mode="reflect",
            anti_aliasing=factor < 1.0, preserve_range=True,
        )
