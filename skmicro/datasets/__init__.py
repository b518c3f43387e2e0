"""Data sets: synthetic microstructures with known generating parameters, and the real
example micrographs that ship with skmicro (24 SEM images of ultrahigh-carbon steel)."""

from ._grains import make_grain_microstructures
from ._perlin import make_perlin_textures, perlin_noise
from ._uhcs24 import export_uhcs24, load_uhcs24

__all__ = ["make_grain_microstructures", "make_perlin_textures", "perlin_noise", "load_uhcs24",
           "export_uhcs24"]
