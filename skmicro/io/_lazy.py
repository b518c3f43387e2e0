"""A folder of micrographs as one lazy dask array: files are decoded on the workers, per chunk.

The decoding is :func:`skmicro.io.load_micrographs`'s own per-file step, so dtypes, channel
handling and per-file errors are the same; only the first file is read on the client (for the
shape and dtype every chunk promises).
"""

from __future__ import annotations

import glob
import os
from numbers import Integral

import numpy as np

from .._validation import Interval, StrOptions, validate_params
from ._load import list_micrograph_files, read_micrograph

__all__ = ["open_micrographs"]

_GLOB_CHARS = "*?["


def _resolve(paths_or_pattern):
    if isinstance(paths_or_pattern, (str, os.PathLike)) and any(
            c in os.fspath(paths_or_pattern) for c in _GLOB_CHARS) and not os.path.exists(
            paths_or_pattern):
        matches = sorted(glob.glob(os.fspath(paths_or_pattern)))
        if not matches:
            raise ValueError(
                f"The pattern '{os.fspath(paths_or_pattern)}' of open_micrographs matches no "
                "file."
            )
        return list_micrograph_files(matches)
    return list_micrograph_files(paths_or_pattern)


def _images_per_chunk(chunks, image_bytes):
    if chunks != "auto":
        return int(chunks)
    import dask
    from dask.utils import parse_bytes

    return max(1, parse_bytes(dask.config.get("array.chunk-size")) // max(1, image_bytes))


def _mismatch(path, arr, first_path, shape, dtype):
    got = f"{'x'.join(map(str, arr.shape))} {arr.dtype}"
    want = f"{'x'.join(map(str, shape))} {np.dtype(dtype)}"
    return ValueError(
        f"open_micrographs needs files of one size and dtype: '{path}' is {got} but the first "
        f"file '{first_path}' is {want}. Options: crop or resize the files to one size (e.g. "
        "skmicro.preprocessing); open each size group separately (pass a list of paths); or "
        "load them with load_micrographs, whose list of images of mixed sizes "
        "ScatteringFeatures(average='global') and PowerSpectrumFeatures(radial=True) accept."
    )


def _read_chunk(paths, first_path, shape, dtype, as_gray):
    out = np.empty((len(paths),) + shape, dtype=dtype)
    for i, path in enumerate(paths):
        arr = read_micrograph(path, as_gray=as_gray)
        if arr.shape != shape or arr.dtype != dtype:
            raise _mismatch(path, arr, first_path, shape, dtype)
        out[i] = arr
    return out


@validate_params(
    {
        "paths_or_pattern": "no_validation",  # str, PathLike or iterable: checked below
        "chunks": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "as_gray": ["boolean"],
        "return_names": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def open_micrographs(paths_or_pattern, *, chunks="auto", as_gray=True, return_names=False):
    """Open a collection of micrograph files as one lazy dask array ``(n, h, w[, 3])``.

    Nothing but the first file is read now; each chunk of files is decoded when (and where,
    on a Dask cluster: on a worker) it is computed. Pass the result to any skmicro descriptor
    to get a lazy dask array of descriptors.

    Parameters
    ----------
    paths_or_pattern : str, path-like or list of them
        A folder (its micrographs in sorted name order, as :func:`load_micrographs`), a glob
        pattern such as ``"scans/*.tif"`` (matches in sorted order), one file, or a list of
        files (in the given order).
    chunks : int or "auto", default="auto"
        Images per chunk; "auto": about ``dask.config.get("array.chunk-size")`` bytes
        (128 MiB by default) per chunk.
    as_gray : bool, default=True
        As in :func:`load_micrographs`.
    return_names : bool, default=False
        Also return the file names (``Path.name``).

    Returns
    -------
    images : dask.array.Array of shape (n, h, w) or (n, h, w, 3)
        The first file's dtype (uint8, uint16, float32, ...), chunked along the images only.
    names : list of str
        Only with ``return_names=True``.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`load_micrographs` for the file list and the first file, at once. A file
        that cannot be decoded, or whose size or dtype differs from the first file's, raises
        a ValueError naming it when its chunk is computed.

    See Also
    --------
    load_micrographs : The same files as a list of numpy arrays (mixed sizes allowed).
    skmicro.io.to_zarr : Store descriptors or embeddings with their feature names.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skmicro.io import open_micrographs
    >>> folder = Path(tempfile.mkdtemp())
    >>> for i in range(5):
    ...     Image.fromarray(np.full((8, 6), 50 * i, np.uint8)).save(folder / f"m{i}.png")
    >>> images = open_micrographs(folder, chunks=2)
    >>> images.shape, images.chunks[0], images.dtype.name
    ((5, 8, 6), (2, 2, 1), 'uint8')
    >>> images[:, 0, 0].compute().tolist()
    [0, 50, 100, 150, 200]
    """
    import dask
    import dask.array as da

    files = _resolve(paths_or_pattern)
    first = read_micrograph(files[0], as_gray=as_gray)
    step = _images_per_chunk(chunks, first.nbytes)
    read = dask.delayed(_read_chunk, pure=True)
    blocks = [
        da.from_delayed(read(files[i:i + step], files[0], first.shape, first.dtype, as_gray),
                        shape=(len(files[i:i + step]),) + first.shape, dtype=first.dtype,
                        meta=np.empty((0,) * (first.ndim + 1), dtype=first.dtype))
        for i in range(0, len(files), step)
    ]
    images = da.concatenate(blocks, axis=0)
    return (images, [p.name for p in files]) if return_names else images
