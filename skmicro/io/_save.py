"""Writing one micrograph to a file: TIFF keeps the array as it is, other formats 8/16 bit."""

from __future__ import annotations

import numpy as np

from .._paths import MICROGRAPH_EXTENSIONS, PILLOW_EXTENSIONS, TIFF_EXTENSIONS, check_output_path
from ._load import _import

__all__ = ["save_micrograph"]


def _check_image(image):
    arr = np.asarray(image)
    if arr.dtype.kind not in "buif":
        raise TypeError(f"save_micrograph: 'image' must be a numeric array; got dtype "
                        f"{arr.dtype}.")
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] != 3):
        raise ValueError(f"save_micrograph: 'image' must have shape (h, w) or (h, w, 3); got "
                         f"shape {arr.shape}. For several images call it once per image.")
    return arr


def _for_pillow(arr, path):
    """The array Pillow writes: uint8 (grey or RGB) or uint16 grey, without touching ``arr``."""
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    if arr.dtype.kind == "f":  # the input contract's float units: 0-1 -> 0-255
        return np.rint(np.clip(np.nan_to_num(arr), 0, 1) * 255).astype(np.uint8)
    if arr.dtype == np.uint8 or (arr.dtype == np.uint16 and arr.ndim == 2
                                 and path.suffix.lower() == ".png"):
        return arr
    raise ValueError(
        f"save_micrograph cannot write a {arr.dtype} {'colour' if arr.ndim == 3 else 'grey'} "
        f"image to '{path.name}' without losing values: {path.suffix} holds 8-bit images "
        "(16-bit grey for .png). Save it as .tif, which keeps any dtype."
    )


def save_micrograph(path, image):
    """Write one image to a file that :func:`load_micrographs` reads back.

    TIFF (``.tif``, ``.tiff``) keeps the array exactly, any dtype (through tifffile). PNG,
    JPEG and BMP (through Pillow) hold 8-bit images: float images in the input contract's
    units (0 black, 1 white) become ``rint(clip(x, 0, 1) * 255)`` as uint8, boolean images
    0/255; uint8 is written as it is and uint16 grey keeps 16 bits in PNG.

    Parameters
    ----------
    path : str or path-like
        The file to write (overwritten if it exists); its extension picks the format. The
        folder must exist.
    image : array-like of shape (h, w), (h, w, 1) or (h, w, 3)
        A grey or RGB image. It is not modified.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        Unknown extension, a missing folder, a shape that is not one image, or a dtype the
        format cannot hold (the message suggests ``.tif``).
    PermissionError
        Nothing can be written in the folder (checked before the image is converted).

    See Also
    --------
    load_micrographs : reads the file back.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from skmicro.io import load_micrographs, save_micrograph
    >>> folder = Path(tempfile.mkdtemp())
    >>> image = np.array([[0.0, 0.5], [1.0, 2.0]], np.float32)
    >>> tif = save_micrograph(folder / "a.tif", image)
    >>> load_micrographs(tif)[0].tolist()          # TIFF: exact, float values kept
    [[0.0, 0.5], [1.0, 2.0]]
    >>> png = save_micrograph(folder / "a.png", image)
    >>> load_micrographs(png)[0].tolist()          # PNG: 8 bits, clipped to [0, 1]
    [[0, 128], [255, 255]]
    """
    path = check_output_path(path, caller="save_micrograph", param="path",
                             suffixes=MICROGRAPH_EXTENSIONS, kind="image",
                             example="micrograph.tif")
    suffix = path.suffix.lower()
    arr = _check_image(image)
    if suffix in TIFF_EXTENSIONS:
        tifffile = _import("tifffile", "tifffile to write TIFF files")
        tifffile.imwrite(path, arr, photometric="rgb" if arr.ndim == 3 else "minisblack")
    else:
        assert suffix in PILLOW_EXTENSIONS
        Image = _import("PIL.Image", "Pillow to write PNG, JPEG and BMP files")
        Image.fromarray(np.ascontiguousarray(_for_pillow(arr, path))).save(path)
    return path
