"""Embeddings of microstructure descriptors: pairwise distances and multidimensional scaling.

Both estimators work on plain 2-D arrays, so they follow any feature extractor in a Pipeline.
"""

from skmicro.manifold._distances import PairwiseDistances, blockwise_distances, iter_distance_blocks
from skmicro.manifold._mds import MDSEmbedder

__all__ = ["MDSEmbedder", "PairwiseDistances", "blockwise_distances", "iter_distance_blocks"]
