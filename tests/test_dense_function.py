"""FunctionPixelFeatures: a user's per-pixel function, checked, tiled and named."""

import pickle

import numpy as np
import pytest
from scipy import ndimage
from sklearn.base import clone

from skmicro import FilterBankPixelFeatures, FunctionPixelFeatures

RNG = np.random.default_rng(0)


def local_mean(image):  # module level: picklable
    return ndimage.uniform_filter(image, size=5, mode="reflect")


def test_lambda_squared_image():
    images = RNG.random((2, 9, 11))
    est = FunctionPixelFeatures(lambda im: im**2).fit(images)
    maps = est.transform(images)
    assert maps.shape == (2, 9, 11, 1) and maps.dtype == np.float32
    np.testing.assert_allclose(maps[..., 0], images.astype(np.float32) ** 2, rtol=1e-6)
    assert est.get_feature_names_out().tolist() == ["func_0"]
    assert est.halo_ == 0


def test_several_channels_names_and_any_size():
    def pair(im):
        return np.stack([im, 1 - im], axis=-1)

    est = FunctionPixelFeatures(pair).fit(RNG.random((1, 5, 5)))
    assert est.get_feature_names_out().tolist() == ["pair_0", "pair_1"]
    image = RNG.random((1, 13, 7))
    np.testing.assert_allclose(est.transform(image)[0, ..., 1], 1 - image[0], atol=1e-6)
    named = FunctionPixelFeatures(pair, feature_names=("a", "b")).fit(image)
    assert named.get_feature_names_out().tolist() == ["a", "b"]


def test_tiling_with_the_function_reach_as_halo():
    image = RNG.random((1, 50, 45)).astype(np.float32)
    whole = FunctionPixelFeatures(local_mean, halo=2).fit_transform(image)
    tiled = FunctionPixelFeatures(local_mean, halo=2, tile_size=8).fit(image)
    np.testing.assert_allclose(tiled.transform(image), whole, atol=1e-6)
    np.testing.assert_allclose(whole[0, ..., 0], local_mean(image[0]), atol=1e-6)


def test_beside_a_built_in_descriptor():
    image = RNG.random((1, 20, 20))
    fb = FilterBankPixelFeatures(sigmas=(1,), features=("gaussian",), device="cpu")
    own = FunctionPixelFeatures(lambda im: ndimage.gaussian_filter(im, 1.0, mode="reflect"),
                                halo=6)
    np.testing.assert_allclose(own.fit_transform(image), fb.fit_transform(image), atol=1e-6)


@pytest.mark.parametrize("func, match", [
    (lambda im: im[:-1], "shape"),
    (lambda im: im[..., None, None], "shape"),
    (lambda im: np.full_like(im, np.nan), "NaN"),
    (lambda im: "text", "numeric array"),
])
def test_wrong_output_is_refused(func, match):
    with pytest.raises((ValueError, TypeError), match=match):
        FunctionPixelFeatures(func).fit(RNG.random((1, 6, 6)))


def test_changing_channel_count_and_mutation_are_refused():
    def by_size(im):
        return np.repeat(im[..., None], 1 + im.shape[0] % 2, axis=-1)

    est = FunctionPixelFeatures(by_size).fit(RNG.random((1, 6, 6)))
    with pytest.raises(ValueError, match="same number of channels"):
        est.transform(RNG.random((1, 7, 6)))

    def mutates(im):
        im += 1
        return im

    with pytest.raises(ValueError, match="modified its input"):
        FunctionPixelFeatures(mutates).fit(RNG.random((1, 6, 6)))
    with pytest.raises(ValueError, match="'feature_names' parameter"):
        FunctionPixelFeatures(local_mean, feature_names=["a", "b"]).fit(RNG.random((1, 6, 6)))
    with pytest.raises(ValueError, match="'func' parameter"):
        FunctionPixelFeatures("not callable").fit(RNG.random((1, 6, 6)))


def test_clone_pickle_set_params():
    image = RNG.random((1, 10, 10))
    est = FunctionPixelFeatures(local_mean, halo=2).fit(image)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.transform(image), est.transform(image))
    fresh = clone(est).set_params(func=np.sqrt, halo=0)
    np.testing.assert_allclose(fresh.fit_transform(image)[..., 0], np.sqrt(image), rtol=1e-6)
