"""VGGHypercolumnPixelFeatures against an independent forward pass, upsampling and tiling."""

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_methods_sample_order_invariance

from skmicro import VGGHypercolumnPixelFeatures
from skmicro.features import _vgg19 as vgg
from skmicro.features._dense_vgg import hypercolumn_halo, upsample_bilinear

RNG = np.random.default_rng(0)


def _caffe_input(images):
    """(n, h, w) grey in [0, 1] -> (n, 3, h, w) float64 BGR, 0-255, mean subtracted."""
    rgb = np.repeat(images[..., None], 3, axis=-1).astype(np.float64)
    x = torch.from_numpy(rgb[..., ::-1].copy()) * 255
    return (x - torch.tensor(vgg.CAFFE_MEAN_BGR, dtype=torch.float64)).permute(0, 3, 1, 2)


@pytest.mark.parametrize("weights", [None, "vgg19-normalized"])
def test_conv1_1_is_the_first_convolution_of_the_network(weights):
    images = RNG.random((2, 12, 17)).astype(np.float32)
    est = VGGHypercolumnPixelFeatures(weights=weights, layers=("conv1_1",), random_state=0,
                                      device="cpu").fit(images)
    state = vgg.load_state(weights, seed=est._seed)
    ref = F.relu(F.conv2d(_caffe_input(images), state["conv1_1.weight"].double(),
                          state["conv1_1.bias"].double(), padding=1))
    maps = est.transform(images)
    assert maps.shape == (2, 12, 17, 64) and maps.dtype == np.float32
    np.testing.assert_allclose(maps, ref.permute(0, 2, 3, 1).numpy(), rtol=1e-5, atol=1e-3)


def test_deeper_layer_is_the_pooled_map_upsampled():
    images = RNG.random((1, 16, 24)).astype(np.float32)
    est = VGGHypercolumnPixelFeatures(weights=None, layers=("conv1_1", "conv2_1"),
                                      random_state=1, device="cpu").fit(images)
    state = vgg.load_state(None, seed=est._seed)
    x = F.relu(F.conv2d(_caffe_input(images), state["conv1_1.weight"].double(),
                        state["conv1_1.bias"].double(), padding=1))
    x = F.relu(F.conv2d(x, state["conv1_2.weight"].double(), state["conv1_2.bias"].double(),
                        padding=1))
    x = F.relu(F.conv2d(F.avg_pool2d(x, 2), state["conv2_1.weight"].double(),
                        state["conv2_1.bias"].double(), padding=1))
    ref = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    maps = est.transform(images)
    assert est.get_feature_names_out()[64] == "conv2_1_c0"
    np.testing.assert_allclose(maps[..., 64:], ref.permute(0, 2, 3, 1).numpy(), rtol=1e-4,
                               atol=1e-3)


def test_upsample_bilinear():
    maps = torch.from_numpy(RNG.random((2, 5, 7, 3)).astype(np.float32))
    assert upsample_bilinear(maps, 1, 5, 7) is maps  # scale 1: the identity
    ref = F.interpolate(maps.permute(0, 3, 1, 2), scale_factor=4, mode="bilinear",
                        align_corners=False).permute(0, 2, 3, 1)
    np.testing.assert_allclose(upsample_bilinear(maps, 4, 20, 28), ref, atol=1e-6)
    # Rows the pooling dropped (output larger than 4 * map) repeat the last sample.
    big = upsample_bilinear(maps, 4, 23, 30)
    np.testing.assert_allclose(big[:, :20, :28], ref, atol=1e-6)
    np.testing.assert_allclose(big[:, 20:, :28], ref[:, 19:20].expand(-1, 3, -1, -1), atol=1e-6)
    # A linear ramp of samples stays a ramp between the first and last cell centres.
    ramp = torch.arange(6.0).view(1, 1, 6, 1)
    up = upsample_bilinear(ramp, 2, 1, 12)[0, 0, :, 0]
    np.testing.assert_allclose(up[1:-1], (np.arange(1, 11) + 0.5) / 2 - 0.5, atol=1e-6)


def test_halo_bounds_the_receptive_field():
    assert hypercolumn_halo(["conv1_1"]) == 3  # one 3x3 conv + 2 cells of upsampling at 1x
    assert hypercolumn_halo(["conv1_2", "conv4_4"]) == 80  # 61 + 2 * 8, up to a multiple of 8
    # Changing pixels farther than halo_ from a pixel leaves its hypercolumn unchanged.
    est = VGGHypercolumnPixelFeatures(weights=None, layers=("conv2_2",), random_state=0,
                                      device="cpu").fit(np.zeros((1, 64, 64)))
    image = RNG.random((1, 64, 64)).astype(np.float32)
    other = image.copy()
    r = est.halo_
    other[:, :, 20 + r + 1:] = 0.0
    a, b = est.transform(image), est.transform(other)
    np.testing.assert_allclose(a[:, :, :21], b[:, :, :21], atol=1e-4)
    assert np.abs(a - b).max() > 1e-2


@pytest.mark.parametrize("layers, n_components, shape, tile", [
    (("conv1_2", "conv3_4"), None, (100, 90), 32),
    (("conv1_2", "conv2_2", "conv3_4", "conv4_4"), 6, (150, 140), 64),  # the default layers
])
def test_tiling_does_not_change_the_result(layers, n_components, shape, tile):
    image = RNG.random((1, *shape)).astype(np.float32)
    params = dict(weights=None, layers=layers, random_state=0, n_components=n_components,
                  device="cpu")
    whole = VGGHypercolumnPixelFeatures(tile_size=4096, **params).fit_transform(image)
    tiled = VGGHypercolumnPixelFeatures(tile_size=tile, **params).fit(image)
    assert tiled.halo_ == hypercolumn_halo(layers) < tile + 80
    np.testing.assert_allclose(tiled.transform(image), whole,
                               atol=1e-5 * np.abs(whole).max())


def test_projection_is_the_projected_full_hypercolumn():
    images = RNG.random((1, 24, 40)).astype(np.float32)
    base = dict(weights=None, layers=("conv1_1", "conv2_1", "conv3_1"), random_state=3,
                device="cpu")
    full = VGGHypercolumnPixelFeatures(**base).fit_transform(images)
    est = VGGHypercolumnPixelFeatures(n_components=5, **base).fit(images)
    proj = torch.cat(est._projections("cpu")).numpy()
    assert proj.shape == (64 + 128 + 256, 5)
    np.testing.assert_allclose(est.transform(images), full @ proj,
                               atol=1e-4 * np.abs(full @ proj).max())
    assert est.get_feature_names_out().tolist() == [f"vgghc_rp{i}" for i in range(5)]


def test_grey_is_replicated_to_rgb_and_any_size_is_accepted():
    est = VGGHypercolumnPixelFeatures(weights=None, layers=("conv2_1",), random_state=0,
                                      device="cpu").fit(RNG.random((1, 8, 8)))
    grey = RNG.random((1, 10, 13))
    np.testing.assert_array_equal(est.transform(grey),
                                  est.transform(np.repeat(grey[..., None], 3, -1)))
    assert est.transform(grey).shape == (1, 10, 13, 128)


def test_errors():
    with pytest.raises(ValueError, match="at least 8x8"):
        VGGHypercolumnPixelFeatures(weights=None, layers=("conv4_1",)).fit(RNG.random((1, 7, 9)))
    with pytest.raises(ValueError, match="'layers' parameter"):
        VGGHypercolumnPixelFeatures(weights=None, layers=("conv9_1",)).fit(RNG.random((1, 8, 8)))
    with pytest.raises(ValueError, match="'weights' parameter"):
        VGGHypercolumnPixelFeatures(weights="no-such-weights").fit(RNG.random((1, 8, 8)))
    est = VGGHypercolumnPixelFeatures(weights=None, layers=("conv2_1",), device="cpu").fit(
        RNG.random((1, 8, 8)))
    bad = RNG.random((1, 8, 8))
    bad[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        est.transform(bad)
    with pytest.raises(ValueError, match="at least 2x2"):
        est.transform(RNG.random((1, 1, 8)))


def test_sample_order_invariance_with_one_image_per_batch():
    # tests/test_common.py lists this check as failing for batch_size > 1 (float32 rounding
    # of batched convolutions); one image per batch makes permuted rows identical.
    est = VGGHypercolumnPixelFeatures(weights=None, layers=("conv1_1",), image_shape=(1, -1),
                                      device="cpu", random_state=0, batch_size=1)
    check_methods_sample_order_invariance("VGGHypercolumnPixelFeatures", est)


def test_clone_pickle_set_params():
    images = RNG.random((1, 16, 16))
    est = VGGHypercolumnPixelFeatures(weights=None, layers=("conv1_1",), random_state=0,
                                      device="cpu").fit(images)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.transform(images), est.transform(images))
    fresh = clone(est).set_params(layers=("conv1_1", "conv1_2"), n_components=3)
    assert fresh.fit(images).transform(images).shape == (1, 16, 16, 3)


@pytest.mark.gpu
def test_cpu_gpu_agreement():
    images = RNG.random((2, 40, 52)).astype(np.float32)
    params = dict(weights=None, random_state=0, n_components=16)
    cpu = VGGHypercolumnPixelFeatures(device="cpu", **params).fit_transform(images)
    gpu = VGGHypercolumnPixelFeatures(device="cuda", tile_size=16, **params).fit_transform(images)
    np.testing.assert_allclose(gpu, cpu, rtol=1e-3, atol=1e-3 * np.abs(cpu).max())
