"""A fit that raises leaves the estimator as it was: only its parameters when fresh."""

import numpy as np
import pytest
from sklearn.base import clone

from skmicro import (
    MDSEmbedder,
    PairwiseDistances,
    PowerSpectrumFeatures,
    ScatteringFeatures,
    VGGGramFeatures,
)
from skmicro.preprocessing import CropDataBar, NormalizeContrast, TiledFeatures

_rng = np.random.default_rng(0)
_IMAGES_8 = _rng.random((2, 8, 8), dtype=np.float32)
_NAN_IMAGES = _IMAGES_8.copy()
_NAN_IMAGES[0, 3, 3] = np.nan
_ASYMMETRIC = np.array([[0.0, 1.0, 2.0], [1.5, 0.0, 1.0], [2.0, 1.0, 0.0]])

# (estimator, input its fit must refuse, the message that says why)
FAILING_FITS = [
    (VGGGramFeatures(weights=None, layers=["conv5_1"], device="cpu"), _IMAGES_8, "16x16"),
    (VGGGramFeatures(weights=None, layers=["conv1_1"], n_components=10_000, device="cpu"),
     _IMAGES_8, "n_components"),
    (ScatteringFeatures(J=4, device="cpu"), _IMAGES_8, "16x16"),
    (PowerSpectrumFeatures(device="cpu"), _NAN_IMAGES, "NaN"),
    (PairwiseDistances(device="cpu"), np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN"),
    (MDSEmbedder(metric="precomputed", device="cpu"), _ASYMMETRIC, "symmetric"),
    (MDSEmbedder(n_components=3, device="cpu"), _rng.random((3, 2)), "n_components"),
    (CropDataBar(), _NAN_IMAGES, "NaN"),
    (NormalizeContrast(), _NAN_IMAGES, "NaN"),
    (TiledFeatures(PowerSpectrumFeatures(device="cpu"), tile_size=16), _IMAGES_8, "tile"),
]
_IDS = [f"{type(e).__name__}-{m}" for e, _, m in FAILING_FITS]


@pytest.mark.parametrize("method", ["fit", "fit_transform"])
@pytest.mark.parametrize("estimator, X, match", FAILING_FITS, ids=_IDS)
def test_failed_fit_leaves_only_the_parameters(estimator, X, match, method):
    est = clone(estimator)
    with pytest.raises(ValueError, match=match):
        getattr(est, method)(X)
    fresh = clone(estimator)
    # Nested estimators (TiledFeatures' descriptor) compare by identity, so they compare by
    # their attributes here.
    assert {k: vars(v) if hasattr(v, "get_params") else v for k, v in vars(est).items()} == {
        k: vars(v) if hasattr(v, "get_params") else v for k, v in vars(fresh).items()}


def test_failed_refit_keeps_the_previous_fit():
    # Fitted with layers conv1_1; a refit asking for conv5_1 on 8x8 images fails. The estimator
    # is still the conv1_1 fit: same attributes, same output.
    est = VGGGramFeatures(weights=None, layers=["conv1_1"], device="cpu", random_state=0)
    before = est.fit(_IMAGES_8).transform(_IMAGES_8)
    fitted = dict(vars(est))
    est.set_params(layers=["conv5_1"])
    with pytest.raises(ValueError, match="16x16"):
        est.fit(_IMAGES_8)
    assert {k: v for k, v in vars(est).items() if k != "layers"} == {
        k: v for k, v in fitted.items() if k != "layers"}
    assert est.layers_ == ("conv1_1",)
    np.testing.assert_array_equal(est.transform(_IMAGES_8), before)


def test_vgg_fit_keeps_no_temporary_attributes():
    est = VGGGramFeatures(weights=None, layers=["conv1_1"], device="cpu").fit(_IMAGES_8)
    params = set(est.get_params(deep=False))
    extra = {k for k in vars(est) if k not in params and not k.endswith("_")}
    assert extra <= {"_seed", "_n_features_out"}, extra
