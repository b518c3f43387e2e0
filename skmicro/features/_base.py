"""The shared skeleton of every image descriptor: validation, grouping by size, batching."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .._dask import check_metadata, first_rows, is_dask_array, map_rows, worker_copy
from .._engine import check_device_param, progress_bar, resolve_device, torch_threads
from .._validation import (
    IMAGE_SHAPE_CONSTRAINT,
    N_JOBS_CONSTRAINT,
    Interval,
    _fit_context,
    check_images,
    check_is_fitted,
)

#: The floor of every descriptor's ``log=True``: ``log10(max(x, LOG_FLOOR))`` for amplitudes
#: (scattering coefficients, means of ``|x * psi|``: ~1e-4 .. 1e-1 for images in [0, 1]) and
#: ``log10(max(x, LOG_FLOOR ** 2))`` for powers (squared amplitudes: the power spectrum).
#: 1e-6 is above float32 rounding of amplitudes of order 1 (6e-8), so the logarithm never
#: turns rounding noise into features.
LOG_FLOOR = 1e-6


def floored_log10(values, *, power=False):
    """``log10(max(values, floor))`` of a tensor, ``floor = LOG_FLOOR`` (``LOG_FLOOR ** 2`` for
    powers); see :data:`LOG_FLOOR`.

    Examples
    --------
    >>> import torch
    >>> from skmicro.features._base import floored_log10
    >>> [round(v, 5) for v in floored_log10(torch.tensor([0.0, 1e-3, 10.0])).tolist()]
    [-6.0, -3.0, 1.0]
    """
    return values.clamp(min=LOG_FLOOR**2 if power else LOG_FLOOR).log10()


# Parameters every image transformer has; subclasses extend the dict.
IMAGE_TRANSFORMER_CONSTRAINTS = {
    "image_shape": IMAGE_SHAPE_CONSTRAINT,
    "device": "no_validation",  # checked by the engine, which knows torch.device
    "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
    "n_jobs": N_JOBS_CONSTRAINT,
    "verbose": ["verbose"],
}


class ImageTransformer(TransformerMixin, BaseEstimator):
    """Base class: images in, one float32 row of descriptors per image out.

    Subclasses set ``_channels`` ("gray" or "rgb") and implement

    * ``_min_shape()`` -> (h, w) or None: smallest image the descriptor supports;
    * ``_allow_mixed_sizes()`` -> bool;
    * ``_fit_images(images)``: learn what ``transform`` needs (e.g. the output size) and set
      ``n_output_features_`` and any other fitted attributes;
    * ``_transform_group(array, device, progress)`` -> ndarray (m, n_output_features_): the
      descriptors of one same-size group, ``array`` being float32 (m, h, w[, 3]) on the host;
    * ``_feature_names()`` -> list of str.
    """

    _channels = "gray"

    def _min_shape(self):
        return None

    def _allow_mixed_sizes(self):
        return True

    def _check_common_params(self):
        check_device_param(self.device, caller=type(self).__name__)

    def _validate_images(self, X, *, reset):
        return check_images(
            X,
            image_shape=self.image_shape,
            channels=self._channels,
            min_shape=self._min_shape(),
            allow_mixed_sizes=self._allow_mixed_sizes(),
            estimator=self,
            reset=reset,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and the images and record what transform needs.

        Parameters
        ----------
        X : array-like of shape (n, h, w) or (n, h, w, 3), or list of images
            Training images (see the user guide on the image input contract). A dask array
            is not loaded: the descriptors learn nothing from pixel values, so only its first
            image is computed (for the size and dtype checks).
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._check_common_params()
        if is_dask_array(X):
            X = first_rows(X, caller=type(self).__name__)
        images = self._validate_images(X, reset=True)
        self._fit_images(images)
        return self

    def transform(self, X):
        """Compute the descriptors of images.

        Parameters
        ----------
        X : array-like of shape (n, h, w) or (n, h, w, 3), or list of images, or dask array
            A dask array (images, or a 2-D table with ``image_shape``) gives a lazy dask
            array: shape, dtype and size errors are raised now from its metadata, NaN or
            infinity when the block holding them is computed.

        Returns
        -------
        X_new : ndarray of shape (n, n_output_features), float32
            A dask array for a dask input, chunked like ``X`` along the images.
        """
        check_is_fitted(self)
        if is_dask_array(X):
            return self._transform_dask(X)
        return self._transform_array(X)

    def _transform_dask(self, X):
        name = type(self).__name__
        check_metadata(
            X, lambda sample: self._check_transform_images(
                self._validate_images(sample, reset=False)), caller=name)
        return map_rows(_transform_rows, X, worker_copy(self), n_out=self.n_output_features_,
                        dtype=np.float32, label=f"{name.lower()}-transform")

    def _transform_array(self, X):
        images = self._validate_images(X, reset=False)
        self._check_transform_images(images)
        name = type(self).__name__
        device = resolve_device(self.device, caller=name)
        with torch_threads(self.n_jobs), progress_bar(
            images.n_samples, verbose=self.verbose, desc=name
        ) as bar:
            if len(images.groups) == 1:  # one size: the group's rows are already in order
                return self._transform_group(images.groups[0][1], device, bar)
            out = np.empty((images.n_samples, self.n_output_features_), dtype=np.float32)
            for idx, arr in images.groups:
                out[idx] = self._transform_group(arr, device, bar)
        return out

    def _check_transform_images(self, images):
        """Hook: reject images that do not match what was fitted."""

    def _check_same_size_as_fit(self, images, fix):
        """For outputs whose layout depends on the image size: every image has the fitted size."""
        for shape in images.shapes:
            if tuple(shape) != tuple(self.image_shape_):
                raise ValueError(
                    f"{type(self).__name__} was fitted on {self.image_shape_[0]}x"
                    f"{self.image_shape_[1]} images but X holds {shape[0]}x{shape[1]} images. "
                    f"Use images of the training size, or {fix}."
                )

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Parameters
        ----------
        input_features : None
            Ignored; present for API consistency.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        return np.asarray(self._feature_names(), dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def _transform_rows(estimator, block, rows):
    """One dask block through the numpy path (not ``transform``: no set_output wrapping)."""
    return estimator._transform_array(block)


def check_image_tensor(images, caller, *, colour=False):
    """The input of a descriptor's ``transform_tensor``: a floating-point torch tensor of
    shape (n, h, w), or also (n, h, w, 3) with ``colour=True``; returns it as float32."""
    from .._engine import get_torch

    torch = get_torch()
    shapes = "(n, h, w) or (n, h, w, 3)" if colour else "(n, h, w)"
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise TypeError(
            f"{caller}: 'images' must be a floating-point torch.Tensor of shape {shapes}. Got "
            f"{type(images).__name__} {getattr(images, 'dtype', '')} instead; use transform "
            "for arrays."
        )
    if not (images.ndim == 3 or (colour and images.ndim == 4 and images.shape[-1] == 3)):
        raise ValueError(
            f"{caller}: 'images' must have shape {shapes}"
            f"{'' if colour else ' (grey; run colour channels as separate images)'}. Got "
            f"{tuple(images.shape)} instead."
        )
    return images.float()
