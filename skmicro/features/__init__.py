"""Image descriptors: power spectrum, wavelet scattering and VGG Gram texture vectors.

Each is a scikit-learn transformer, images in and one float32 row per image out; torch loads
when a descriptor first computes, not on import.
"""

from skmicro.features._power_spectrum import PowerSpectrumFeatures
from skmicro.features._scattering import ScatteringFeatures
from skmicro.features._vgg_gram import VGGGramFeatures

__all__ = ["PowerSpectrumFeatures", "ScatteringFeatures", "VGGGramFeatures"]
