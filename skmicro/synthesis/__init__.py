"""Texture synthesis: new microstructure images with the statistics of given micrographs."""

from ._synthesize import synthesize_texture, synthesize_textures

__all__ = ["synthesize_texture", "synthesize_textures"]
