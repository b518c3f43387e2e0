"""The shared skeleton of image-to-image transformers: validate, apply per image, reassemble."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .._imports import import_dependency
from .._validation import _fit_context, check_images


def import_skimage(submodule):
    """``skimage.<submodule>``, or an ImportError that says the installation is broken."""
    return import_dependency(f"skimage.{submodule}", needed_by="skmicro.preprocessing",
                             package="scikit-image")


def assemble_images(images, outputs):
    """Put per-image outputs back in the caller's order: one array when all share a size.

    ``images`` is the :class:`~skmicro._validation.ImageSet` the outputs came from and
    ``outputs`` maps input position -> 2-D float32 image. Tabular input of one size goes back
    as a table ``(n_samples, h * w)`` so that the next step's ``image_shape`` reads it.
    """
    ordered = [outputs[i] for i in range(images.n_samples)]
    if len({im.shape for im in ordered}) > 1:
        return ordered
    stacked = np.stack(ordered)
    return stacked.reshape(len(ordered), -1) if images.from_tabular else stacked


class ImageToImageTransformer(TransformerMixin, BaseEstimator):
    """Base class of stateless preprocessing steps: images in, images out.

    Subclasses implement ``_transform_one(image, index, context)`` -> 2-D float32 image, and
    may override ``_prepare(images, **params)`` -> context (per-call values such as pixel
    sizes) and ``_check_params()``.
    """

    def _check_params(self):
        self._validate_params()

    def _validate_images(self, X, *, reset):
        return check_images(
            X, image_shape=self.image_shape, channels="gray", estimator=self, reset=reset
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters and the images; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n, h, w) or (n, h, w, 3), or list of images
            Images in any form the image input contract takes (colour becomes luminance).
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._check_params()  # combinations of parameters, beyond the constraints
        self._validate_images(X, reset=True)
        return self

    def transform(self, X):
        """Apply the step to each image.

        Parameters
        ----------
        X : array-like of shape (n, h, w) or (n, h, w, 3), or list of images

        Returns
        -------
        X_new : ndarray of shape (n, h', w') or list of 2-D float32 arrays
            A list when the outputs differ in size; a table ``(n, h' * w')`` for tabular
            input.
        """
        return self._apply(X)

    def _apply(self, X, **params):
        self._check_params()
        images = self._validate_images(X, reset=False)
        context = self._prepare(images, **params)
        outputs = {}
        for indices, stack in images.groups:
            for index, image in zip(indices, stack):
                out = self._transform_one(image, int(index), context)
                outputs[int(index)] = np.ascontiguousarray(out, dtype=np.float32)
        return assemble_images(images, outputs)

    def _prepare(self, images):
        return None

    def set_output(self, *, transform=None):
        """Accept a container setting so that ``Pipeline.set_output`` works; images stay arrays.

        The output is images, not features, so there are no column names to give a DataFrame:
        pandas output applies to the descriptor that follows in the pipeline.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None
            Ignored.

        Returns
        -------
        self : object
        """
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False  # stateless: transform works without fit
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
