"""The image input contract and parameter checks shared by every skmicro estimator.

One place decides what an image is, how it becomes float32 and which errors a user sees.
Transformers call :func:`check_images` at the start of ``fit`` and ``transform`` and get an
:class:`ImageSet`: the images grouped by size, as float32 arrays that never alias the caller's.

Accepted input
--------------
* a numpy array ``(n, h, w)`` (grayscale) or ``(n, h, w, 3)`` (RGB); ``(n, h, w, 1)`` is grayscale;
* a list/tuple of 2-D ``(h, w)`` or 3-D ``(h, w, 1|3)`` arrays, possibly of different sizes;
* a 2-D array or DataFrame ``(n_samples, h * w)`` together with the estimator's ``image_shape``
  parameter ``(h, w)`` (one dimension may be ``-1`` as in :func:`numpy.reshape`). This is the
  tabular route that lets images travel through any scikit-learn tool; it is validated with
  scikit-learn's own ``validate_data`` (feature names, ``n_features_in_``, NaN messages).

dtype conversion to float32 (as scikit-image's ``img_as_float``):
``bool`` -> {0, 1}; unsigned integers -> ``x / iinfo.max`` in [0, 1]; signed integers ->
``x / iinfo.max`` in about [-1, 1]; floats keep their values. Object and string arrays are
refused (except that the tabular 2-D route follows scikit-learn and accepts numbers stored as
objects).
"""

from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass, field

import numpy as np

# scikit-learn's private helpers move between releases: this module is the only place that
# imports them, so a rename is a one-line fix.
from sklearn.base import _fit_context as _sklearn_fit_context
from sklearn.utils._param_validation import (  # noqa: F401  (re-exported)
    HasMethods,
    Interval,
    Options,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils.validation import check_is_fitted, validate_data  # noqa: F401

__all__ = [
    "ImageSet",
    "check_images",
    "check_image_shape_param",
    "as_float32",
    "rgb_to_gray",
    "HasMethods",
    "Interval",
    "StrOptions",
    "N_JOBS_CONSTRAINT",
    "IMAGE_SHAPE_CONSTRAINT",
    "validate_parameter_constraints",
    "validate_params",
    "validate_data",
    "check_is_fitted",
    "_fit_context",
    "check_label_masks",
    "check_mask_classes",
]

# The one ``n_jobs`` constraint of the package (the rule itself is ``_engine.n_threads``):
# joblib's convention, None, k >= 1, -1 for all cores, -2 all but one...; 0 has no meaning.
N_JOBS_CONSTRAINT = [
    None,
    Interval(numbers.Integral, None, -1, closed="right"),
    Interval(numbers.Integral, 1, None, closed="left"),
]


def _fit_context(*, prefer_skip_nested_validation):
    """scikit-learn's ``_fit_context`` for ``fit`` methods, plus: a fit that raises leaves the
    estimator exactly as it was before the call.

    scikit-learn's decorator validates the parameters and sets the nested-validation config.
    Ours also restores the instance dict when the fit fails, so no half-fitted or temporary
    state survives an error (a fresh estimator keeps only its parameters, ``clone``-equal).
    """
    sklearn_decorator = _sklearn_fit_context(
        prefer_skip_nested_validation=prefer_skip_nested_validation)

    def decorator(fit_method):
        validated_fit = sklearn_decorator(fit_method)

        @functools.wraps(validated_fit)
        def wrapper(estimator, *args, **kwargs):
            before = dict(vars(estimator))  # attributes are rebound by fit, never mutated
            try:
                return validated_fit(estimator, *args, **kwargs)
            except BaseException:
                vars(estimator).clear()
                vars(estimator).update(before)
                raise

        return wrapper

    return decorator


# ITU-R BT.709 luma weights, the ones scikit-image's rgb2gray uses.
_LUMA = np.array([0.2125, 0.7154, 0.0721], dtype=np.float32)

_SUPPORTED_KINDS = "bool, unsigned/signed integer or float"


@dataclass
class ImageSet:
    """Validated images, grouped by shape.

    Attributes
    ----------
    groups : list of (indices, array)
        ``indices`` (int64) are positions in the caller's input; ``array`` is float32 of shape
        ``(m, h, w)`` (``channels="gray"``) or ``(m, h, w, 3)`` (``channels="rgb"``). Arrays are
        fresh copies: transformers may modify them in place.
    n_samples : int
    from_tabular : bool
        True when the input was a 2-D ``(n_samples, h * w)`` table.
    """

    groups: list = field(default_factory=list)
    n_samples: int = 0
    from_tabular: bool = False

    @property
    def shapes(self):
        """Spatial shapes ``(h, w)`` of the groups, in group order."""
        return [arr.shape[1:3] for _, arr in self.groups]

    @property
    def single_shape(self):
        """The common ``(h, w)`` if all images share it, else None."""
        shapes = self.shapes
        return tuple(shapes[0]) if len(shapes) == 1 else None


def _dtype_error(name, caller, dtype):
    return TypeError(
        f"{caller}: {name} must hold numeric images ({_SUPPORTED_KINDS} dtypes); got dtype "
        f"{dtype}. Convert the images to a numeric array, e.g. np.asarray(images, dtype=float)."
    )


def as_float32(array, *, name="X", caller="skmicro"):
    """Convert one numeric array to a new float32 array, scaling integers by their range.

    Parameters
    ----------
    array : ndarray
        Any numeric array (bool, integer or float).
    name, caller : str
        Used in error messages.

    Returns
    -------
    out : ndarray of float32
        Never the caller's array: always a new buffer.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro._validation import as_float32
    >>> as_float32(np.array([0, 51, 255], dtype=np.uint8))
    array([0. , 0.2, 1. ], dtype=float32)
    """
    array = np.asarray(array)
    kind = array.dtype.kind
    if kind == "b":
        return array.astype(np.float32)
    if kind in "ui":
        scale = np.float64(np.iinfo(array.dtype).max)
        return (array.astype(np.float64) / scale).astype(np.float32)
    if kind == "f":
        with np.errstate(over="ignore"):  # float64 beyond float32 range becomes inf: caught later
            return array.astype(np.float32, copy=True)
    raise _dtype_error(name, caller, array.dtype)


def rgb_to_gray(images):
    """Luminance of RGB images ``(..., 3)`` with the BT.709 weights scikit-image uses."""
    return np.tensordot(images, _LUMA, axes=([-1], [0])).astype(np.float32, copy=False)


class _ImageShape(Options):
    """A pair (h, w) of positive ints, one of which may be -1 (as in numpy.reshape).

    An ``Options`` subclass because scikit-learn's validation accepts only its own constraint
    types; it gives the usual message "The 'image_shape' parameter of Cls must be ...".
    """

    def __init__(self):
        super().__init__((tuple, list), set())

    def is_satisfied_by(self, val):
        return (
            isinstance(val, (tuple, list))
            and len(val) == 2
            and all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in val)
            and all(s >= 1 or s == -1 for s in val)
            and list(val).count(-1) <= 1
        )

    def __str__(self):
        return "a pair (h, w) of positive ints, one of which may be -1"


IMAGE_SHAPE_CONSTRAINT = [None, _ImageShape()]


def check_image_shape_param(image_shape, *, caller="skmicro"):
    """Validate an ``image_shape`` parameter (for callers outside ``_parameter_constraints``).

    Examples
    --------
    >>> from skmicro._validation import check_image_shape_param
    >>> check_image_shape_param([4, -1])
    (4, -1)
    """
    validate_parameter_constraints({"image_shape": IMAGE_SHAPE_CONSTRAINT},
                                   {"image_shape": image_shape}, caller_name=caller)
    return None if image_shape is None else tuple(int(s) for s in image_shape)


def _finite_or_raise(arr, name, caller, index=None):
    # min and max propagate NaN and show +-inf: two SIMD reductions, no image-sized temporary.
    if not (np.isfinite(arr.min()) and np.isfinite(arr.max())):
        where = "" if index is None else f" (image {index})"
        raise ValueError(
            f"{caller}: {name} contains NaN or infinity{where}, or values too large for float32. "
            "Clean or impute the images before transforming them."
        )


def _convert_channels(img, channels, name, caller, index=None):
    """img: float32 (m, h, w) or (m, h, w, c). Returns (m, h, w) or (m, h, w, 3)."""
    if img.ndim == 3:
        return img if channels == "gray" else np.repeat(img[..., None], 3, axis=-1)
    c = img.shape[-1]
    if c == 1:
        img = img[..., 0]
        return img if channels == "gray" else np.repeat(img[..., None], 3, axis=-1)
    if c == 3:
        return rgb_to_gray(img) if channels == "gray" else img
    where = "" if index is None else f" (image {index})"
    raise ValueError(
        f"{caller}: images in {name} must have 1 or 3 channels in the last axis; got {c} "
        f"channels{where} (shape {img.shape[1:] if index is None else img.shape}). Pass gray "
        "images as (h, w) and colour images as (h, w, 3)."
    )


def _check_min_shape(shape, min_shape, name, caller, index=None):
    if min_shape is None:
        return
    h, w = shape
    mh, mw = min_shape
    if h < mh or w < mw:
        where = "" if index is None else f" image {index} is"
        where = where or " images are"
        raise ValueError(
            f"{caller} needs images of at least {mh}x{mw} pixels, but in {name}{where} "
            f"{h}x{w}. Use larger images or a smaller descriptor (e.g. a smaller J)."
        )


def check_images(
    X,
    *,
    image_shape=None,
    channels="gray",
    min_shape=None,
    allow_mixed_sizes=True,
    estimator=None,
    reset=True,
    name="X",
):
    """Validate images and return them as float32, grouped by shape.

    Parameters
    ----------
    X : array-like or list of array-like
        See the module docstring for the accepted forms.
    image_shape : tuple (h, w) or None
        Needed for 2-D tabular input ``(n_samples, h * w)``.
    channels : {"gray", "rgb"}
        Output channel convention: RGB is reduced to luminance for "gray"; gray is replicated
        to three channels for "rgb".
    min_shape : tuple (h, w) or None
        Smallest spatial size the caller supports.
    allow_mixed_sizes : bool
        If False, images of different sizes raise a ValueError.
    estimator : estimator or None
        For the tabular route, passed to scikit-learn's ``validate_data`` (which records or
        checks ``n_features_in_`` and ``feature_names_in_``); also names the caller.
    reset : bool
        With ``estimator``: True in fit, False in transform.
    name : str
        The argument's name in error messages.

    Returns
    -------
    ImageSet

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro._validation import check_images
    >>> imgs = check_images([np.zeros((4, 4), np.uint8), np.ones((6, 6))])
    >>> [(idx.tolist(), arr.shape, arr.dtype.name) for idx, arr in imgs.groups]
    [([0], (1, 4, 4), 'float32'), ([1], (1, 6, 6), 'float32')]
    """
    caller = type(estimator).__name__ if estimator is not None else "skmicro"
    if channels not in ("gray", "rgb"):  # pragma: no cover - programming error
        raise ValueError(f"channels must be 'gray' or 'rgb', got {channels!r}")

    if isinstance(X, (list, tuple)) and len(X) and all(
        not isinstance(row, (str, bytes)) and np.ndim(row) == 1 for row in X
    ):  # a list of 1-D rows is a table, not a list of images
        return _check_tabular(X, image_shape, channels, min_shape, estimator, reset, name, caller)
    if isinstance(X, (list, tuple)):
        _forget_tabular_fit(estimator, reset)
        return _check_image_list(X, channels, min_shape, allow_mixed_sizes, name, caller)

    if hasattr(X, "iloc") or (hasattr(X, "ndim") and getattr(X, "ndim", None) == 2) or (
        hasattr(X, "format") and hasattr(X, "tocsr")
    ):
        return _check_tabular(
            X, image_shape, channels, min_shape, estimator, reset, name, caller
        )

    if X is None or isinstance(X, (str, bytes, numbers.Number)):
        raise TypeError(
            f"{caller}: {name} must be an array of images (n, h, w) or (n, h, w, 3), or a list "
            f"of 2-D/3-D arrays; got {type(X).__name__}."
        )
    _forget_tabular_fit(estimator, reset)
    arr = np.asarray(X)
    if arr.dtype.kind == "O" and arr.ndim == 1:
        return _check_image_list(list(arr), channels, min_shape, allow_mixed_sizes, name, caller)
    if arr.ndim <= 2:  # scikit-learn's messages for 1-D ("Reshape your data") and 2-D input
        return _check_tabular(arr, image_shape, channels, min_shape, estimator, reset, name, caller)
    if arr.ndim not in (3, 4):
        raise ValueError(
            f"{caller}: {name} must be 3-D (n, h, w), 4-D (n, h, w, channels), 2-D "
            f"(n_samples, h*w) with image_shape, or a list of images; got a {arr.ndim}-D array "
            f"of shape {arr.shape}."
        )
    if arr.dtype.kind not in "buif":
        raise _dtype_error(name, caller, arr.dtype)
    if arr.shape[0] == 0:
        raise ValueError(f"{caller}: {name} must contain at least one image; got 0 images.")
    img = as_float32(arr, name=name, caller=caller)
    _finite_or_raise(img, name, caller)
    img = _convert_channels(img, channels, name, caller)
    _check_min_shape(img.shape[1:3], min_shape, name, caller)
    if img.shape[1] == 0 or img.shape[2] == 0:
        raise ValueError(f"{caller}: images in {name} are empty (shape {arr.shape}).")
    return ImageSet([(np.arange(img.shape[0]), img)], n_samples=img.shape[0])


def _forget_tabular_fit(estimator, reset):
    """A fit on image stacks must not keep n_features_in_ from an earlier tabular fit."""
    if estimator is not None and reset:
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(estimator, attr):
                delattr(estimator, attr)


def _check_image_list(X, channels, min_shape, allow_mixed, name, caller):
    if len(X) == 0:
        raise ValueError(f"{caller}: {name} must contain at least one image; got an empty list.")
    by_shape = {}
    for i, item in enumerate(X):
        if isinstance(item, (str, bytes)) or item is None:
            raise TypeError(
                f"{caller}: {name}[{i}] must be a 2-D or 3-D numeric array; got "
                f"{type(item).__name__}. Load files first, e.g. with skmicro.io.load_micrographs."
            )
        a = np.asarray(item)
        if a.dtype.kind not in "buif":
            raise _dtype_error(f"{name}[{i}]", caller, a.dtype)
        if a.ndim not in (2, 3):
            raise ValueError(
                f"{caller}: {name}[{i}] must be a 2-D (h, w) or 3-D (h, w, channels) image; got "
                f"a {a.ndim}-D array of shape {a.shape}."
            )
        if a.shape[0] == 0 or a.shape[1] == 0:
            raise ValueError(f"{caller}: {name}[{i}] is an empty image (shape {a.shape}).")
        img = as_float32(a[None], name=f"{name}[{i}]", caller=caller)
        _finite_or_raise(img, name, caller, index=i)
        img = _convert_channels(img, channels, name, caller, index=i)
        _check_min_shape(img.shape[1:3], min_shape, name, caller, index=i)
        by_shape.setdefault(img.shape[1:3], []).append((i, img))
    if not allow_mixed and len(by_shape) > 1:
        sizes = ", ".join(f"{h}x{w}" for h, w in list(by_shape)[:4])
        raise ValueError(
            f"{caller}: all images in {name} must have the same size with these settings; got "
            f"several sizes ({sizes}{', ...' if len(by_shape) > 4 else ''}). Resize or crop them, "
            "or use an option that supports mixed sizes."
        )
    groups = [
        (np.array([i for i, _ in items], dtype=np.int64), np.concatenate([im for _, im in items]))
        for items in by_shape.values()
    ]
    return ImageSet(groups, n_samples=len(X))


def _text_dtype(X):
    """The dtype to report when a 2-D input holds text (strings are never pixels), else None.

    Numbers stored as objects stay accepted (scikit-learn's convention); only string and bytes
    arrays, and object arrays or DataFrame columns with str/bytes cells, are text.
    """
    if hasattr(X, "iloc") and hasattr(X, "dtypes"):  # DataFrame: scan non-numeric columns only
        for i, dtype in enumerate(X.dtypes):
            if getattr(dtype, "kind", "O") not in "biufc" and any(
                    isinstance(v, (str, bytes)) for v in X.iloc[:, i]):
                return f"{dtype} (text in column {X.columns[i]!r})"
        return None
    if hasattr(X, "format") and hasattr(X, "tocsr"):  # sparse matrices hold numbers
        return None
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError):  # ragged or odd input: scikit-learn's checks explain it
        return None
    if arr.dtype.kind in "US":
        return str(arr.dtype)
    if arr.dtype.kind == "O" and any(isinstance(v, (str, bytes)) for v in arr.flat):
        return "object (text)"
    return None


def _check_tabular(X, image_shape, channels, min_shape, estimator, reset, name, caller):
    text = _text_dtype(X)
    if text is not None:
        raise _dtype_error(name, caller, text)
    if estimator is not None:
        arr = validate_data(
            estimator, X, reset=reset, dtype="numeric", ensure_all_finite=True,
            ensure_2d=True, allow_nd=False,
        )
    else:
        from sklearn.utils import check_array

        arr = check_array(X, dtype="numeric", ensure_all_finite=True)
    shape = check_image_shape_param(image_shape, caller=caller)
    n, d = arr.shape
    if shape is None:
        arraylike = hasattr(X, "ndim") and not hasattr(X, "iloc")  # numpy or dask, not lists
        one = f"{name}[None]" if arraylike else f"np.asarray({name})[None]"
        raise ValueError(
            f"{caller}: {name} is 2-D with shape {arr.shape}. One image? Pass {one} "
            f"(a stack of one, (1, h, w)) or a list [{name}]. Several images "
            "flattened into rows? Set image_shape=(h, w) so that each row is reshaped to one "
            "image (image_shape=(1, -1) treats rows as 1-D signals)."
        )
    h, w = shape
    if h == -1:
        h = d // w if d % w == 0 else -1
    elif w == -1:
        w = d // h if d % h == 0 else -1
    if h < 1 or w < 1 or h * w != d:
        raise ValueError(
            f"{caller}: image_shape={tuple(image_shape)} does not fit the rows of {name} "
            f"(n_features={d}); h * w must equal the number of columns."
        )
    img = as_float32(arr, name=name, caller=caller).reshape(n, h, w)
    _finite_or_raise(img, name, caller)
    img = _convert_channels(img, channels, name, caller)
    # Say where the image size came from: the table's width and image_shape.
    _check_min_shape((h, w), min_shape,
                     f"{name} (rows of n_features={d} with image_shape={tuple(image_shape)})",
                     caller)
    return ImageSet([(np.arange(n), img)], n_samples=n, from_tabular=True)


# --------------------------------------------------------------------------------------------
# Label masks (per-pixel class labels beside images: tile fractions, segmentation)
# --------------------------------------------------------------------------------------------
def check_label_masks(masks, shapes, *, image_shape=None, caller="skmicro", name="masks",
                      images="images"):
    """Label masks as a list of 2-D int64 arrays (fresh or read-only views: never written to),
    one per image and of its shape ``shapes[i]``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro._validation import check_label_masks
    >>> [m.shape for m in check_label_masks([np.zeros((2, 3), np.uint8)], [(2, 3)])]
    [(2, 3)]
    """
    if isinstance(masks, (str, bytes)) or masks is None or np.isscalar(masks):
        raise TypeError(
            f"{caller}: {name} must be an array (n, h, w) or a list of 2-D integer label "
            f"arrays, one per image; got {type(masks).__name__}."
        )
    if isinstance(masks, np.ndarray) and masks.ndim == 2 and image_shape is not None:
        masks = list(masks)  # tabular rows, reshaped below with each image's shape
    masks = list(masks)
    if len(masks) != len(shapes):
        raise ValueError(
            f"{caller}: {name} holds {len(masks)} label masks but {images} holds {len(shapes)} "
            "images; give one mask per image, in the same order."
        )
    out = []
    for i, (mask, shape) in enumerate(zip(masks, shapes)):
        mask = np.asarray(mask)
        if mask.dtype.kind not in "biu":
            raise TypeError(
                f"{caller}: {name}[{i}] must hold integer class labels (e.g. a PNG label image "
                f"read as uint8); got dtype {mask.dtype}. Convert it with mask.astype(int) if "
                "its values are whole numbers."
            )
        if mask.ndim == 1 and image_shape is not None and mask.size == shape[0] * shape[1]:
            mask = mask.reshape(shape)
        if mask.shape != tuple(shape):
            raise ValueError(
                f"{caller}: {name}[{i}] has shape {mask.shape} but image {i} is "
                f"{shape[0]}x{shape[1]}; each mask must label its image pixel for pixel."
            )
        out.append(mask.astype(np.int64, copy=False))
    return out


def check_mask_classes(classes, masks, unlabelled, *, caller="skmicro", name="masks",
                       classes_name="classes"):
    """The class labels as an int64 array (as given, or the sorted labels found in ``masks``);
    every mask value must be a class or the unlabelled value.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro._validation import check_mask_classes
    >>> check_mask_classes(None, [np.array([[2, 0], [255, 2]])], 255).tolist()
    [0, 2]
    """
    values = np.unique(np.concatenate([np.unique(m) for m in masks]))
    if classes is None:
        found = values[values != unlabelled] if unlabelled is not None else values
        if found.size == 0:
            raise ValueError(
                f"{caller}: {name} hold no labelled pixel (every pixel is the unlabelled "
                f"value {unlabelled}); label at least some pixels of each class."
            )
        return found
    labels = np.asarray(classes)
    if (labels.ndim != 1 or labels.size == 0 or labels.dtype.kind not in "iu"
            or np.unique(labels).size != labels.size
            or (unlabelled is not None and (labels == unlabelled).any())):
        raise ValueError(
            f"The 'classes' parameter of {caller} must be None or a non-empty sequence of "
            f"distinct integer labels other than unlabelled={unlabelled!r}. Got {classes!r} "
            "instead."
        )
    allowed = set(labels.tolist()) | ({unlabelled} if unlabelled is not None else set())
    for i, mask in enumerate(masks):
        stray = np.setdiff1d(np.unique(mask), list(allowed))
        if stray.size:
            raise ValueError(
                f"{caller}: {name}[{i}] holds the value {int(stray[0])}, which is neither one "
                f"of the classes {labels.tolist()} nor the unlabelled value {unlabelled!r}. "
                f"Add it to {classes_name}, or mark unannotated pixels with {unlabelled!r}."
            )
    return labels.astype(np.int64)
