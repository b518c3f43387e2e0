"""Figures for reading descriptors and embeddings (matplotlib, imported on first use), and the
interactive collection map (:func:`collection_map`, Bokeh: the ``map`` extra).

matplotlib is imported only when a function draws, so ``import skmicro.plotting`` stays
fast; every function returns the matplotlib Axes it drew on and accepts ``ax=``.
"""

from ._collection_map import collection_map
from ._descriptor import plot_power_spectrum, plot_s2_spectrum, plot_scattering_descriptor
from ._embedding import plot_embedding
from ._synthesis import plot_synthesis

__all__ = [
    "collection_map",
    "plot_embedding",
    "plot_power_spectrum",
    "plot_s2_spectrum",
    "plot_scattering_descriptor",
    "plot_synthesis",
]
