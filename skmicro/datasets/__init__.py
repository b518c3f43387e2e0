"""Synthetic microstructure data sets with known generating parameters."""

from ._perlin import make_perlin_textures, perlin_noise

__all__ = ["make_perlin_textures", "perlin_noise"]
