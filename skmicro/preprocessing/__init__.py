"""Real-micrograph preprocessing: images in, images out, as scikit-learn transformers.

Steps to put in a Pipeline before any descriptor: :class:`CropDataBar` removes the
microscope's data bar, :class:`RescalePixelSize` brings images to one physical pixel size,
:class:`NormalizeContrast` evens out contrast; :class:`TiledFeatures` describes large images by
their tiles and :func:`extract_tiles` turns tiles into samples with group labels
(:func:`tile_fractions`: with per-tile class fractions from label masks). Resampling and
contrast use scikit-image, imported on first use.
"""

from ._contrast import NormalizeContrast
from ._data_bar import CropDataBar, find_data_bar
from ._pixel_size import RescalePixelSize
from ._tiles import TiledFeatures, extract_tiles, tile_fractions

__all__ = [
    "CropDataBar",
    "NormalizeContrast",
    "RescalePixelSize",
    "TiledFeatures",
    "extract_tiles",
    "find_data_bar",
    "tile_fractions",
]
