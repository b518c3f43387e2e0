"""Reading and writing micrographs (Pillow and tifffile, loaded on first use), reading them
one at a time on access (:class:`LazyMicrographs`) or lazily as dask arrays, and storing descriptors in zarr (both with the ``dask`` extra)."""

from ._lazy import open_micrographs
from ._load import MICROGRAPH_EXTENSIONS, LazyMicrographs, load_micrographs
from ._save import save_micrograph
from ._zarr import read_zarr, to_zarr

__all__ = ["load_micrographs", "LazyMicrographs", "save_micrograph", "MICROGRAPH_EXTENSIONS",
           "open_micrographs", "to_zarr", "read_zarr"]
