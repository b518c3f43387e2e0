"""FilterBankPixelFeatures against scipy/numpy references, closed forms and tiling."""

import pickle

import numpy as np
import pytest
import torch
from scipy import ndimage
from sklearn.base import clone

from skmicro import FilterBankPixelFeatures
from skmicro.features._dense import tile_windows
from skmicro.features._dense_filter_bank import filter_bank, gaussian_smooth

RNG = np.random.default_rng(0)
IMAGE = RNG.random((23, 31)).astype(np.float32)
ALL = ("intensity", "gaussian", "gradient_magnitude", "hessian_eigenvalues",
       "difference_of_gaussians")


def _maps(image, **params):
    est = FilterBankPixelFeatures(device="cpu", **params).fit(image[None])
    return est, est.transform(image[None])[0]


@pytest.mark.parametrize("sigma", [0.5, 1.5, 3.0, 9.0])  # 9: the kernel is wider than the image
def test_gaussian_is_scipy_gaussian_filter(sigma):
    _, maps = _maps(IMAGE, sigmas=(sigma,), features=("gaussian",))
    ref = ndimage.gaussian_filter(IMAGE.astype(np.float64), sigma, mode="reflect")
    np.testing.assert_allclose(maps[..., 0], ref, atol=1e-6)


def test_gradient_and_hessian_are_numpy_gradients_of_the_smoothed_image():
    sigmas = (1.0, 2.0)
    est, maps = _maps(IMAGE, sigmas=sigmas, features=("gradient_magnitude", "hessian_eigenvalues"))
    names = est.get_feature_names_out().tolist()
    for s in sigmas:
        g = ndimage.gaussian_filter(IMAGE.astype(np.float64), s, mode="reflect")
        gr, gc = np.gradient(g)
        np.testing.assert_allclose(maps[..., names.index(f"gradient_magnitude_sigma{s:g}")],
                                   np.hypot(gr, gc), atol=1e-6)
        hrr, hrc = np.gradient(gr)
        hcc = np.gradient(gc, axis=1)
        hess = np.stack([np.stack([hrr, hrc], -1), np.stack([hrc, hcc], -1)], -2)
        eig = np.linalg.eigvalsh(hess)[..., ::-1]  # larger first
        np.testing.assert_allclose(maps[..., names.index(f"hessian_eig1_sigma{s:g}")],
                                   eig[..., 0], atol=1e-6)
        np.testing.assert_allclose(maps[..., names.index(f"hessian_eig2_sigma{s:g}")],
                                   eig[..., 1], atol=1e-6)


def test_channels_names_and_order():
    est, maps = _maps(IMAGE, sigmas=(1, 2, 4))
    names = est.get_feature_names_out().tolist()
    assert maps.shape == (23, 31, est.n_output_features_) and maps.dtype == np.float32
    assert est.n_output_features_ == 1 + 3 + 3 + 6 + 2 == len(names)
    assert names[:5] == ["intensity", "gaussian_sigma1", "gaussian_sigma2", "gaussian_sigma4",
                         "gradient_magnitude_sigma1"]
    assert names[-2:] == ["dog_sigma1_sigma2", "dog_sigma2_sigma4"]
    np.testing.assert_array_equal(maps[..., 0], IMAGE)
    np.testing.assert_allclose(maps[..., names.index("dog_sigma1_sigma2")],
                               maps[..., 1] - maps[..., 2], atol=1e-7)
    # The order of `features` does not matter: the output order is fixed.
    est2, maps2 = _maps(IMAGE, sigmas=(1, 2, 4), features=ALL[::-1])
    assert est2.get_feature_names_out().tolist() == names
    np.testing.assert_array_equal(maps2, maps)


def test_closed_forms():
    rows, cols = np.mgrid[0:60, 0:60].astype(np.float64)
    inner = (slice(25, 35), slice(25, 35))  # farther than 4 * sigma + 2 from the border
    # A linear ramp: gradient magnitude = slope, zero Hessian.
    ramp = (0.003 * rows + 0.004 * cols).astype(np.float32)
    est, maps = _maps(ramp, sigmas=(1, 4), features=("gradient_magnitude", "hessian_eigenvalues"))
    np.testing.assert_allclose(maps[inner][..., :2], 0.005, rtol=1e-4)
    np.testing.assert_allclose(maps[inner][..., 2:], 0, atol=1e-5)
    # A constant image: no gradient, Hessian or band-pass anywhere, Gaussian = the constant.
    _, maps = _maps(np.full((20, 24), 0.3, np.float32), sigmas=(1, 2, 8))
    np.testing.assert_allclose(maps[..., :4], 0.3, atol=1e-6)
    np.testing.assert_allclose(maps[..., 4:], 0, atol=1e-6)
    # A parabola c^2 / 2 (scaled): Hessian eigenvalues (a, 0) in the interior.
    a = 1e-3
    parab = (a * (cols - 30) ** 2 / 2).astype(np.float32)
    _, maps = _maps(parab, sigmas=(2,), features=("hessian_eigenvalues",))
    np.testing.assert_allclose(maps[inner][..., 0], a, rtol=1e-3)
    np.testing.assert_allclose(maps[inner][..., 1], 0, atol=1e-6)


@pytest.mark.parametrize("tile_size", [64, 16, 5])
def test_tiling_does_not_change_the_result(tile_size):
    image = RNG.random((150, 170)).astype(np.float32)
    params = dict(sigmas=(0.5, 2, 4))
    whole = FilterBankPixelFeatures(device="cpu", tile_size=1000, **params).fit_transform(
        image[None])
    tiled_est = FilterBankPixelFeatures(device="cpu", tile_size=tile_size, **params).fit(
        image[None])
    assert tiled_est.halo_ == 4 * 4 + 2
    assert len(tile_windows(150, 170, tile_size, tiled_est.halo_)) > 1
    np.testing.assert_allclose(tiled_est.transform(image[None]), whole, atol=2e-6)


def test_torch_path_matches_the_scipy_path():
    # The non-CPU path (torch convolutions), run here on CPU tensors.
    images = RNG.random((2, 17, 29)).astype(np.float32)
    for sigma in (0.7, 3.0, 12.0):  # 12: reflect folds the 49-tap kernel more than once
        t = gaussian_smooth(torch.from_numpy(images), sigma).numpy()
        np.testing.assert_allclose(t, gaussian_smooth(images, sigma), atol=1e-6)
    ref = filter_bank(images, (1.0, 2.0), ALL)
    np.testing.assert_allclose(filter_bank(torch.from_numpy(images), (1.0, 2.0), ALL).numpy(),
                               ref, atol=1e-6)


def test_any_size_at_transform_and_colour_input():
    est = FilterBankPixelFeatures(sigmas=(1,), device="cpu").fit(RNG.random((2, 8, 8)))
    assert est.transform(RNG.random((1, 40, 13))).shape == (1, 40, 13, 5)
    assert est.transform([RNG.random((5, 6))]).shape == (1, 5, 6, 5)
    rgb = RNG.random((1, 9, 9, 3))
    gray = rgb @ np.array([0.2125, 0.7154, 0.0721])
    np.testing.assert_allclose(est.transform(rgb), est.transform(gray), atol=1e-6)


def test_input_is_not_modified_and_integers_are_scaled():
    image = (RNG.random((1, 12, 12)) * 255).astype(np.uint8)
    before = image.copy()
    maps = FilterBankPixelFeatures(sigmas=(1,), features=("intensity",)).fit_transform(image)
    np.testing.assert_array_equal(image, before)
    np.testing.assert_allclose(maps[..., 0], image / 255, atol=1e-7)


@pytest.mark.parametrize("params, match", [
    (dict(sigmas=(2, 1)), "strictly increasing"),
    (dict(sigmas=(0, 1)), "positive"),
    (dict(sigmas=()), "non-empty"),
    (dict(sigmas=(1, np.nan)), "'sigmas'"),
    (dict(features=("gaussian", "laplacian")), "'features' parameter"),
    (dict(features=()), "'features' parameter"),
    (dict(features=("difference_of_gaussians",), sigmas=(1,)), "two sigmas"),
    (dict(tile_size=0), "'tile_size' parameter"),
    (dict(truncate=0), "'truncate' parameter"),
])
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        FilterBankPixelFeatures(**params).fit(RNG.random((1, 8, 8)))


def test_bad_input():
    est = FilterBankPixelFeatures(sigmas=(1,), device="cpu").fit(RNG.random((1, 8, 8)))
    bad = RNG.random((1, 8, 8))
    bad[0, 3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.transform(bad)
    with pytest.raises(ValueError, match="5-D array"):
        est.transform(RNG.random((1, 2, 8, 8, 3)))
    with pytest.raises(ValueError, match="same size|share their size"):
        est.transform([RNG.random((8, 8)), RNG.random((9, 8))])
    with pytest.raises(ValueError, match="2-D"):
        est.transform(RNG.random((8, 8)))


def test_dask_input_is_refused_with_a_fix():
    da = pytest.importorskip("dask.array")
    est = FilterBankPixelFeatures(sigmas=(1,), device="cpu").fit(RNG.random((1, 8, 8)))
    with pytest.raises(TypeError, match="compute"):
        est.transform(da.zeros((2, 8, 8), chunks=1))


def test_clone_pickle_set_params():
    image = RNG.random((1, 20, 20))
    est = FilterBankPixelFeatures(sigmas=(1, 2), device="cpu").fit(image)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.transform(image), est.transform(image))
    fresh = clone(est).set_params(sigmas=(1, 2, 3), features=("gaussian",))
    assert fresh.fit(image).transform(image).shape == (1, 20, 20, 3)
    assert fresh.get_feature_names_out().tolist() == [
        "gaussian_sigma1", "gaussian_sigma2", "gaussian_sigma3"]


def test_set_output_refuses_tables_and_global_config_keeps_numpy():
    import sklearn

    est = FilterBankPixelFeatures(sigmas=(1,), device="cpu")
    with pytest.raises(ValueError, match="reshape"):
        est.set_output(transform="pandas")
    assert est.set_output(transform="default") is est
    with sklearn.config_context(transform_output="pandas"):
        assert isinstance(est.fit_transform(RNG.random((1, 6, 7))), np.ndarray)


@pytest.mark.gpu
def test_cpu_gpu_agreement():
    # CPU: scipy; CUDA: torch convolutions with the same kernels (fp32, never TF32).
    images = RNG.random((2, 40, 52)).astype(np.float32)
    cpu = FilterBankPixelFeatures(device="cpu").fit_transform(images)
    gpu = FilterBankPixelFeatures(device="cuda").fit_transform(images)
    np.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-6)
