"""Reading micrographs from files (Pillow and tifffile, loaded on first use),
lazily as dask arrays, and storing descriptors in zarr (both with the ``dask`` extra)."""

from ._lazy import open_micrographs
from ._load import MICROGRAPH_EXTENSIONS, load_micrographs
from ._zarr import read_zarr, to_zarr

__all__ = ["load_micrographs", "MICROGRAPH_EXTENSIONS", "open_micrographs", "to_zarr",
           "read_zarr"]
