"""Saving and loading a fitted segmenter with skops (no pickle: loading runs no stored code)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

#: Module prefixes whose types a skmicro segmenter file may hold without asking the user.
TRUSTED_PREFIXES = ("skmicro.", "sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


def save_segmenter(segmenter, path):
    """Write a fitted :class:`TrainableSegmenter` to a skops file.

    Parameters
    ----------
    segmenter : TrainableSegmenter
        Fitted.
    path : str or path-like
        Output file (by convention ending in ``.skops``).

    Returns
    -------
    path : pathlib.Path

    See Also
    --------
    load_segmenter : read it back.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skmicro.features import FilterBankPixelFeatures
    >>> from skmicro.segmentation import TrainableSegmenter, save_segmenter, load_segmenter
    >>> images = np.stack([np.linspace(0, 1, 64).reshape(8, 8)] * 2).astype(np.float32)
    >>> masks = (images > 0.5).astype(np.uint8)
    >>> seg = TrainableSegmenter(FilterBankPixelFeatures(sigmas=(1,), device="cpu"),
    ...                          context=None, random_state=0).fit(images, masks)
    >>> path = save_segmenter(seg, os.path.join(tempfile.mkdtemp(), "model.skops"))
    >>> load_segmenter(path).predict(images)[0, -1].tolist()
    [1, 1, 1, 1, 1, 1, 1, 1]
    """
    import skops.io as sio
    from sklearn.utils.validation import check_is_fitted

    from ._segmenter import TrainableSegmenter

    if not isinstance(segmenter, TrainableSegmenter):
        raise TypeError(f"save_segmenter: segmenter must be a TrainableSegmenter; got "
                        f"{type(segmenter).__name__}.")
    check_is_fitted(segmenter)
    path = Path(os.fspath(path))
    sio.dump(segmenter, path)
    return path


def load_segmenter(path, *, trusted=None):
    """Read a segmenter written by :func:`save_segmenter` (or ``skops.io.dump``).

    Types from scikit-learn, skmicro, numpy and scipy load without asking; any other type
    stored in the file (e.g. the function of a ``FunctionPixelFeatures``) must be named in
    ``trusted``, as ``skops.io.get_untrusted_types`` spells it, after checking that it is
    safe: loading never runs code stored in the file, but it does call the named objects.

    Parameters
    ----------
    path : str or path-like
        The model file.
    trusted : list of str or None, default=None
        Further types to trust.

    Returns
    -------
    segmenter : TrainableSegmenter

    Raises
    ------
    ValueError
        The file is not a skops file, holds something other than a segmenter, or holds
        types that are neither trusted by default nor listed in ``trusted``.

    See Also
    --------
    save_segmenter : write one.

    Examples
    --------
    >>> import os, tempfile
    >>> from skmicro.segmentation import load_segmenter
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("not a model")
    >>> try:
    ...     load_segmenter(path)
    ... except ValueError as exc:
    ...     print("is not a segmenter model file" in str(exc))
    True
    """
    import skops.io as sio

    from ._segmenter import TrainableSegmenter

    path = Path(os.fspath(path))
    if not path.is_file():
        raise ValueError(f"load_segmenter: no model file at {str(path)!r}.")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"load_segmenter: {str(path)!r} is not a segmenter model file (not a skops "
            "archive). Make one with `skmicro segment fit` or skmicro.segmentation."
            "save_segmenter.")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # a zip that is not a skops file: skops raises various errors
        raise ValueError(
            f"load_segmenter: {str(path)!r} is not a segmenter model file ({exc}).") from None
    extra = set(trusted or ())
    refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES) and t not in extra]
    if refused:
        raise ValueError(
            f"load_segmenter: {str(path)!r} holds types that are not trusted by default: "
            f"{refused}. If you trust the file's origin and these names, pass "
            f"trusted={refused!r}.")
    model = sio.load(path, trusted=list(untrusted))
    if not isinstance(model, TrainableSegmenter):
        raise ValueError(
            f"load_segmenter: {str(path)!r} holds a {type(model).__name__}, not a "
            "TrainableSegmenter.")
    return model
