"""Image descriptors: power spectrum, wavelet scattering and VGG Gram texture vectors, and
their dense (per-pixel) forms.

Each is a scikit-learn transformer. The global descriptors give one float32 row per image; the
dense ones (``*PixelFeatures``) a float32 stack ``(h, w, n_features)`` per image at the input's
resolution. torch loads when a descriptor first computes, not on import.
"""

from skmicro.features._dense_filter_bank import FilterBankPixelFeatures
from skmicro.features._dense_function import FunctionPixelFeatures
from skmicro.features._dense_scattering import ScatteringPixelFeatures
from skmicro.features._dense_vgg import VGGHypercolumnPixelFeatures
from skmicro.features._power_spectrum import PowerSpectrumFeatures
from skmicro.features._scattering import ScatteringFeatures
from skmicro.features._vgg_gram import VGGGramFeatures

__all__ = [
    "FilterBankPixelFeatures",
    "FunctionPixelFeatures",
    "PowerSpectrumFeatures",
    "ScatteringFeatures",
    "ScatteringPixelFeatures",
    "VGGGramFeatures",
    "VGGHypercolumnPixelFeatures",
]
