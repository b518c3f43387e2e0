"""What every estimator built on the VGG-19 network shares: its parameter checks, minimum
image size, input convention, seed and cached network."""

from __future__ import annotations

import os

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["VGGNetworkMixin"]


def _vgg19():
    from . import _vgg19  # noqa: PLC0415 - keeps torch out of `import skmicro`

    return _vgg19


class VGGNetworkMixin:
    """For estimators with ``weights``, ``layers``, ``pooling``, ``preprocessing`` and
    ``random_state`` parameters and a fitted ``layers_``."""

    def _checked_layers(self):
        """The ``layers`` parameter as a list, or a ValueError naming the choices."""
        vgg = _vgg19()
        layers = list(self.layers) if isinstance(self.layers, (list, tuple)) else []
        if (not layers or any(not isinstance(lay, str) or lay not in vgg.LAYER_NAMES
                              for lay in layers) or len(set(layers)) != len(layers)):
            raise ValueError(
                f"The 'layers' parameter of {type(self).__name__} must be a non-empty sequence "
                f"of distinct layer names from {', '.join(vgg.LAYER_NAMES)}. Got "
                f"{self.layers!r} instead."
            )
        w = self.weights
        if isinstance(w, str) and w not in vgg.WEIGHT_CHOICES and not os.path.exists(w):
            raise ValueError(
                f"The 'weights' parameter of {type(self).__name__} must be one of "
                f"{', '.join(map(repr, vgg.WEIGHT_CHOICES))}, None (random weights) or the path "
                f"of an existing weight file. Got {w!r} instead."
            )
        return layers

    def _pools(self):
        """Poolings before the deepest fitted layer."""
        return max(_vgg19().pools_before(lay) for lay in self.layers_)

    def _min_shape(self):
        return (2 ** self._pools(),) * 2

    def _preprocessing(self):
        if self.preprocessing != "auto":
            return self.preprocessing
        return _vgg19().preprocessing_for(self.weights)

    def _fit_network(self, device):
        """Draw the fitted seed and check the weights reach the deepest layer.

        One integer seed drawn at fit: transform is deterministic and the network cache key
        is hashable, whatever ``random_state`` was.
        """
        name = type(self).__name__
        self._seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        net = self._network(device)
        deepest = max(self.layers_, key=_vgg19().LAYER_NAMES.index)
        if deepest not in net.names:
            raise ValueError(
                f"{name}: the weights {self.weights!r} stop at layer {net.names[-1]}, but "
                f"layer {deepest} was requested. Choose layers up to {net.names[-1]}."
            )

    def _network(self, device):
        return _vgg19().get_network(self.weights, pooling=self.pooling, device=device,
                                    seed=self._seed, caller=type(self).__name__)
