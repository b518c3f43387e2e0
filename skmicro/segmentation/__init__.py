"""Trainable segmentation of micrographs and measurements from the label maps.

:class:`TrainableSegmenter` classifies every pixel from dense descriptors
(:mod:`skmicro.features`' per-pixel transformers) after training on label masks, full or
sparse (255 = unlabelled); :func:`measure_label_maps` turns the label maps into a table of
class area fractions and particle statistics that joins the features table;
:func:`save_segmenter` / :func:`load_segmenter` persist a fitted segmenter with skops.
"""

from ._measure import measure_label_maps
from ._persist import load_segmenter, save_segmenter
from ._pixels import UNLABELLED, pixel_uncertainty
from ._segmenter import TrainableSegmenter, default_features

__all__ = [
    "TrainableSegmenter",
    "UNLABELLED",
    "default_features",
    "load_segmenter",
    "measure_label_maps",
    "pixel_uncertainty",
    "save_segmenter",
]
