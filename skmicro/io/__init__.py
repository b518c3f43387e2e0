"""Reading micrographs from files (Pillow and tifffile, the ``io`` extra, loaded on first use)."""

from ._load import MICROGRAPH_EXTENSIONS, load_micrographs

__all__ = ["load_micrographs", "MICROGRAPH_EXTENSIONS"]
