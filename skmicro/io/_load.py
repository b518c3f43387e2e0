"""Reading micrographs from PNG, TIFF, JPEG and BMP files into the image input contract.

TIFF goes through tifffile (8/16/32-bit, float, planar or interleaved RGB); the other formats
go through Pillow. Both are core dependencies, imported on first use.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._imports import import_dependency
from .._messages import SkmicroWarning
from .._paths import MICROGRAPH_EXTENSIONS, TIFF_EXTENSIONS, folder_micrographs
from .._validation import as_float32, rgb_to_gray, validate_params

__all__ = ["load_micrographs", "LazyMicrographs", "MICROGRAPH_EXTENSIONS"]


def _import(module, what):
    return import_dependency(module, needed_by="skmicro.io", package=what)


def list_micrograph_files(paths_or_folder):
    """The files to read, in order: a folder's known images sorted by name, or the given paths."""
    if isinstance(paths_or_folder, (str, os.PathLike)):
        path = Path(paths_or_folder)
        if path.is_dir():
            return folder_micrographs(path)
        if not path.exists() and path.suffix.lower() not in MICROGRAPH_EXTENSIONS:
            raise FileNotFoundError(
                f"Folder not found: '{path}'. Give an existing folder of micrographs, one image "
                f"file ({', '.join(MICROGRAPH_EXTENSIONS)}) or a list of files."
            )
        paths = [path]
    else:
        try:
            paths = [Path(p) for p in paths_or_folder]
        except TypeError as exc:
            raise TypeError(
                "The 'paths_or_folder' parameter of load_micrographs must be a folder, a file "
                f"path or a list of file paths. Got {type(paths_or_folder).__name__} instead."
            ) from exc
        if not paths:
            raise ValueError("The 'paths_or_folder' parameter of load_micrographs is empty.")
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(f"Micrograph file not found: '{p}'.")
        if p.suffix.lower() not in MICROGRAPH_EXTENSIONS:
            raise ValueError(
                f"Cannot read '{p}': unknown image type '{p.suffix}'. load_micrographs reads "
                f"{', '.join(MICROGRAPH_EXTENSIONS)} files."
            )
    return paths


def _read_tiff(path):
    tifffile = _import("tifffile", "tifffile to read TIFF files")
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        arr, axes = series.asarray(), series.axes
        miniswhite = tif.pages[0].photometric == tifffile.PHOTOMETRIC.MINISWHITE
    if "S" in axes:  # samples (colour channels) last, whether planar or interleaved
        arr = np.moveaxis(arr, axes.index("S"), -1)
        axes = axes.replace("S", "") + "S"
    keep = [i for i, a in enumerate(axes) if a in "YXS" or arr.shape[i] != 1]
    arr = arr.reshape([arr.shape[i] for i in keep])
    axes = "".join(axes[i] for i in keep)
    if axes not in ("YX", "YXS"):
        raise ValueError(
            f"it holds an array with axes '{axes}' and shape {arr.shape} (a stack or a "
            "volume), not one image. Split it into 2-D images, e.g. tifffile.imread(path)[i]."
        )
    if axes == "YXS" and arr.shape[-1] not in (1, 3, 4):
        if arr.shape[-1] != 2:
            raise ValueError(f"it has {arr.shape[-1]} samples per pixel; expected 1, 3 or 4.")
        arr = arr[..., 0]  # grey plus alpha
    if miniswhite and arr.dtype.kind in "ui":  # 0 means white in this photometric
        arr = np.iinfo(arr.dtype).max - arr
    return arr


# Length units SEM vendors and ImageJ write, in micrometres.
_MICROMETRES_PER = {"m": 1e6, "mm": 1e3, "um": 1.0, "\u00b5m": 1.0, "micron": 1.0,
                    "microns": 1.0, "nm": 1e-3, "pm": 1e-6}
_RESOLUTION_UNIT_UM = {2: 25400.0, 3: 10000.0, 4: 1000.0, 5: 1.0}  # inch, cm, mm, um


def _tiff_pixel_size(path):
    """Pixel width in micrometres that a TIFF declares, or NaN.

    Vendor SEM tags come first (FEI/Thermo ``[Scan] PixelWidth`` in metres, Zeiss
    ``AP_IMAGE_PIXEL_SIZE``): they hold the calibrated scan pixel. Then ImageJ's unit with
    XResolution, then XResolution with an absolute ResolutionUnit.
    """
    tifffile = _import("tifffile", "tifffile to read TIFF files")
    with tifffile.TiffFile(path) as tif:
        fei = tif.fei_metadata or {}
        width = fei.get("Scan", {}).get("PixelWidth") or fei.get("EScan", {}).get("PixelWidth")
        if isinstance(width, (int, float)) and width > 0:
            return float(width) * 1e6
        zeiss = (tif.sem_metadata or {}).get("ap_image_pixel_size") or \
            (tif.sem_metadata or {}).get("ap_pixel_size")
        if zeiss and len(zeiss) == 3 and zeiss[2] in _MICROMETRES_PER:
            return float(zeiss[1]) * _MICROMETRES_PER[zeiss[2]]
        tags = tif.pages[0].tags
        resolution, unit = tags.valueof(282), tags.valueof(296, 2)  # TIFF's default: inch
        if not resolution or not resolution[0] or not resolution[1]:
            return float("nan")
        pixels_per_unit = resolution[0] / resolution[1]
        imagej_unit = (tif.imagej_metadata or {}).get("unit")
        if tif.is_imagej and imagej_unit in _MICROMETRES_PER:
            return _MICROMETRES_PER[imagej_unit] / pixels_per_unit
        if int(unit) in _RESOLUTION_UNIT_UM and tags.get(282) is not None:
            return _RESOLUTION_UNIT_UM[int(unit)] / pixels_per_unit
    return float("nan")


def _png_bit_depth(path):
    """(bit depth, colour type) from a PNG header, or None for other files."""
    with open(path, "rb") as fh:
        head = fh.read(26)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return head[24], head[25]


def _read_pillow(path):
    Image = _import("PIL.Image", "Pillow to read PNG, JPEG and BMP files")
    header = _png_bit_depth(path)
    with Image.open(path) as im:
        im.load()
        if im.mode in ("LA", "La"):
            im = im.getchannel(0)
        elif im.mode not in ("1", "L", "F", "RGB", "RGBA") and not im.mode.startswith("I"):
            im = im.convert("RGB")  # palette, CMYK, YCbCr, ...; alpha is dropped anyway
        arr = np.asarray(im)
    if arr.ndim == 3:
        arr = arr[..., :3]  # alpha carries no micrograph information
    if header is not None and header[0] == 16 and header[1] in (2, 6):
        warnings.warn(
            f"'{path}' is a 16-bit colour PNG; Pillow reads it with 8 bits per channel. Save "
            "it as a 16-bit TIFF (or as grey) to keep the full depth.",
            SkmicroWarning, stacklevel=5,  # the caller of load_micrographs
        )
    if arr.dtype == np.int32 and arr.size and arr.min() >= 0 and arr.max() <= 65535:
        arr = arr.astype(np.uint16)  # Pillow's "I" mode for 16-bit grey: keep its real range
    return arr


def _to_channels(arr, as_gray):
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3 and arr.shape[-1] == 4:
        arr = arr[..., :3]
    if arr.ndim == 3 and as_gray:
        if (arr[..., 0] == arr[..., 1]).all() and (arr[..., 0] == arr[..., 2]).all():
            return np.ascontiguousarray(arr[..., 0])  # grey saved as RGB: keep exact integers
        return rgb_to_gray(as_float32(arr))
    return arr


@validate_params(
    {
        "paths_or_folder": "no_validation",  # str, PathLike or iterable: checked below
        "as_gray": ["boolean"],
        "return_names": ["boolean"],
        "return_pixel_size": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_micrographs(paths_or_folder, *, as_gray=True, return_names=False,
                     return_pixel_size=False):
    """Read micrographs from image files into the skmicro image input contract.

    Parameters
    ----------
    paths_or_folder : str, path-like or list of them
        A folder (its files ending in ``.png``, ``.tif``, ``.tiff``, ``.jpg``, ``.jpeg`` or
        ``.bmp``, any case, read in sorted name order; sub-folders and hidden files such as
        macOS's ``._name.tif`` are ignored), one file, or a list of files (read in the given
        order).
    as_gray : bool, default=True
        Reduce colour images to luminance with the BT.709 weights the input contract uses
        (the result is float32 in [0, 1]); colour images whose three channels are equal keep
        their integer values. With False, colour images stay ``(h, w, 3)``.
    return_names : bool, default=False
        Also return the file names (``Path.name``), e.g. to join a table of measurements.
    return_pixel_size : bool, default=False
        Also return the pixel size each file declares, in micrometres: from SEM vendor tags
        (FEI/Thermo ``PixelWidth``, Zeiss ``Image Pixel Size``), ImageJ's unit, or the TIFF
        XResolution/ResolutionUnit tags. Feed it to
        :class:`~skmicro.preprocessing.RescalePixelSize`.

    Returns
    -------
    images : list of ndarray
        One array per file, ``(h, w)`` or ``(h, w, 3)``, sizes may differ. Integer images keep
        their dtype (uint8, uint16, ...): the input contract scales them by the dtype's
        maximum, so a 12-bit camera image stored in uint16 reads darker than full range.
        Transparency is dropped; float TIFFs keep their values.
    names : list of str
        Only with ``return_names=True``.
    pixel_sizes : ndarray of shape (n_files,), float64
        Only with ``return_pixel_size=True``: micrometres per pixel (along x), NaN where a
        file declares none (non-TIFF files, or a resolution without a length unit). A
        resolution in inches is often a placeholder such as 72 dpi (352.8 um): check it
        against the scale bar before trusting it.

    Raises
    ------
    FileNotFoundError
        A given folder or file does not exist (the message says which).
    ValueError
        A file cannot be decoded, has an unknown extension, holds a stack instead of one
        image, or a folder holds no micrograph. The message names the file.
    ImportError
        Pillow or tifffile cannot be imported: a broken installation (reinstall skmicro).

    Notes
    -----
    Pillow reads 16-bit colour PNGs with 8 bits per channel; such files raise a warning.
    16-bit grey PNGs and all TIFFs keep their full depth.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skmicro.io import load_micrographs
    >>> folder = Path(tempfile.mkdtemp())
    >>> Image.fromarray(np.full((4, 6), 1000, np.uint16)).save(folder / "b.png")
    >>> Image.fromarray(np.zeros((5, 5), np.uint8)).save(folder / "a.png")
    >>> images, names = load_micrographs(folder, return_names=True)
    >>> names, [(im.shape, im.dtype.name) for im in images]
    (['a.png', 'b.png'], [((5, 5), 'uint8'), ((4, 6), 'uint16')])
    """
    files = list_micrograph_files(paths_or_folder)
    images = []
    for path in files:  # a plain loop keeps the warning's stacklevel right
        images.append(read_micrograph(path, as_gray=as_gray))
    out = (images,)
    if return_names:
        out += ([p.name for p in files],)
    if return_pixel_size:
        out += (np.array([_declared_pixel_size(p) for p in files], dtype=np.float64),)
    return out[0] if len(out) == 1 else out


def _declared_pixel_size(path):
    return _tiff_pixel_size(path) if path.suffix.lower() in TIFF_EXTENSIONS else float("nan")


def read_micrograph(path, *, as_gray=True):
    """Decode one micrograph file (the per-file step of :func:`load_micrographs`).

    Parameters
    ----------
    path : pathlib.Path
        A file with one of the extensions in ``MICROGRAPH_EXTENSIONS``.
    as_gray : bool, default=True
        As in :func:`load_micrographs`.

    Returns
    -------
    image : ndarray of shape (h, w) or (h, w, 3)

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skmicro.io._load import read_micrograph
    >>> path = Path(tempfile.mkdtemp()) / "a.png"
    >>> Image.fromarray(np.zeros((5, 7), np.uint8)).save(path)
    >>> read_micrograph(path).shape
    (5, 7)
    """
    reader = _read_tiff if path.suffix.lower() in TIFF_EXTENSIONS else _read_pillow
    try:
        arr = reader(path)
    except ImportError:
        raise
    except Exception as exc:  # decoders raise their own types (OSError, TiffFileError, ...)
        raise ValueError(f"Cannot read micrograph '{path}': {exc or type(exc).__name__}") from exc
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise ValueError(f"Cannot read micrograph '{path}': decoded shape {arr.shape}.")
    return _to_channels(arr, as_gray)


class LazyMicrographs(Sequence):
    """Micrograph files as a sequence of images, each read when it is indexed.

    Nothing is read in advance and nothing is kept: ``images[i]`` decodes file ``i`` (and
    applies ``transform``) each time, so a caller that needs a few images of a large
    collection, one at a time (e.g. :func:`skmicro.plotting.collection_map`'s thumbnails),
    holds one image in memory.

    Parameters
    ----------
    paths : sequence of str or path-like
        The files, in the order of the sequence (checked when read).
    transform : callable or None, default=None
        Applied to each image after reading, e.g. a crop.
    as_gray : bool, default=False
        As in :func:`load_micrographs`; False keeps colour images ``(h, w, 3)``.

    See Also
    --------
    load_micrographs : every file read at once.
    open_micrographs : the files as a lazy dask array (one image size).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skmicro.io import LazyMicrographs
    >>> folder = Path(tempfile.mkdtemp())
    >>> for i in range(3):
    ...     Image.fromarray(np.full((4, 6), 10 * i, np.uint8)).save(folder / f"{i}.png")
    >>> images = LazyMicrographs(sorted(folder.glob("*.png")), transform=lambda im: im[:2])
    >>> len(images), images[2].shape, int(images[2][0, 0])
    (3, (2, 6), 20)
    """

    def __init__(self, paths, transform=None, *, as_gray=False):
        self.paths, self.transform, self.as_gray = [Path(p) for p in paths], transform, as_gray

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        image = read_micrograph(self.paths[i], as_gray=self.as_gray)
        return image if self.transform is None else self.transform(image)
