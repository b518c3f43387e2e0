"""VGGGramFeatures(normalize="sqrt_l2"): signed square root and L2 norm of each layer's Gram."""

import numpy as np
import pytest

from skmicro import VGGGramFeatures

LAYERS = ["conv1_1", "conv2_1"]
CHANNELS = {"conv1_1": 64, "conv2_1": 128}


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((3, 16, 16)).astype(np.float32)


def _vgg(**kw):
    return VGGGramFeatures(weights=None, layers=LAYERS, random_state=0, device="cpu", **kw)


def test_sqrt_l2_is_the_normalized_square_root_of_each_gram_matrix(images):
    # Reference: the eq. 4 full Gram rows (G / M / (2N), tested elsewhere) undone to G / M,
    # then numpy's signed square root and Frobenius normalization, layer by layer.
    raw = _vgg(gram="full").fit_transform(images).astype(np.float64)
    out = _vgg(gram="full", normalize="sqrt_l2", layer_weights=[1.0, 4.0]).fit_transform(images)
    start = 0
    for lay, weight in zip(LAYERS, (1.0, 4.0)):
        n = CHANNELS[lay]
        G = raw[:, start:start + n * n] * (2 * n)
        S = np.sign(G) * np.sqrt(np.abs(G))
        expected = S / np.linalg.norm(S, axis=1, keepdims=True) * np.sqrt(weight)
        np.testing.assert_allclose(out[:, start:start + n * n], expected, rtol=1e-4, atol=1e-6)
        start += n * n
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), np.sqrt(5.0), rtol=1e-5)


def test_sqrt_l2_upper_triangle_keeps_the_full_matrix_distances(images):
    full = _vgg(gram="full", normalize="sqrt_l2").fit_transform(images)
    upper = _vgg(normalize="sqrt_l2").fit_transform(images)
    assert upper.shape[1] == 64 * 65 // 2 + 128 * 129 // 2
    for i, k in [(0, 1), (0, 2), (1, 2)]:
        np.testing.assert_allclose(np.linalg.norm(upper[i] - upper[k]),
                                   np.linalg.norm(full[i] - full[k]), rtol=1e-4)


def test_default_is_unchanged_and_bad_value_is_refused(images):
    plain = _vgg().fit_transform(images)
    np.testing.assert_array_equal(plain, _vgg(normalize=None).fit_transform(images))
    with pytest.raises(ValueError, match="'normalize' parameter of VGGGramFeatures"):
        _vgg(normalize="l2").fit(images)
