"""Synthetic microstructure data sets with known generating parameters."""

from ._grains import make_grain_microstructures
from ._perlin import make_perlin_textures, perlin_noise

__all__ = ["make_grain_microstructures", "make_perlin_textures", "perlin_noise"]
