"""skmicro: scikit-learn estimators that turn micrographs into microstructure descriptors.

Public estimators are importable from the top level; torch and the descriptor modules load on
first use, so ``import skmicro`` stays fast.

>>> import skmicro
>>> {"ScatteringFeatures", "MDSEmbedder", "TrainableSegmenter"} <= set(skmicro.__all__)
True
"""

from importlib import import_module

__version__ = "0.1.0.dev0"

_LAZY = {
    "PowerSpectrumFeatures": "skmicro.features._power_spectrum",
    "FilterBankPixelFeatures": "skmicro.features._dense_filter_bank",
    "VGGHypercolumnPixelFeatures": "skmicro.features._dense_vgg",
    "ScatteringPixelFeatures": "skmicro.features._dense_scattering",
    "FunctionPixelFeatures": "skmicro.features._dense_function",
    "ScatteringFeatures": "skmicro.features._scattering",
    "VGGGramFeatures": "skmicro.features._vgg_gram",
    "PairwiseDistances": "skmicro.manifold._distances",
    "MDSEmbedder": "skmicro.manifold._mds",
    "AngleRecoveryScorer": "skmicro.metrics._angle",
    "PrecisionFallbackWarning": "skmicro._engine",
    "SkmicroWarning": "skmicro._messages",
    "clear_caches": "skmicro._cache",
    "evaluate_features": "skmicro.workflow._evaluate",
    "describe_folder": "skmicro.workflow._describe",
    "TrainableSegmenter": "skmicro.segmentation._segmenter",
}
_SUBMODULES = (
    "datasets", "features", "manifold", "metrics", "io", "plotting", "preprocessing", "reproduce",
    "segmentation", "synthesis", "workflow",
)

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return import_module(f"skmicro.{name}")
    raise AttributeError(f"module 'skmicro' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
