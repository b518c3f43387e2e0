"""PowerSpectrumFeatures against closed forms and direct numpy computations (seed 001 eqs. 5-7)."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from skmicro import PowerSpectrumFeatures
from skmicro.datasets import make_perlin_textures
from tests._gradcheck import directional_derivative_check


def _ps(**kw):
    return PowerSpectrumFeatures(device="cpu", **kw)


def _rescale(x):
    return (x - x.min()) / (x.max() - x.min()) * 2 - 1


def _qx_of(names):
    """q_x of every feature, parsed from its name."""
    qx = np.array([int(n.split("_qx")[1]) for n in names])
    return qx


def test_hand_computed_4x4():
    nyquist = np.tile([1.0, -1.0, 1.0, -1.0], (4, 1))  # (-1)^x: all power at q = (0, 2)
    quarter = np.tile([1.0, 0.0, -1.0, 0.0], (4, 1))  # cos(pi x / 2): q = (0, +-1), phi~ = 1/2
    ps = _ps().fit(np.stack([nyquist, quarter]))
    F = ps.transform(np.stack([nyquist, quarter]))
    names = list(ps.get_feature_names_out())
    assert F.shape == (2, 4 * 3)
    expected = np.zeros((2, 12))
    expected[0, names.index("S_qy0_qx2")] = 1.0
    expected[1, names.index("S_qy0_qx1")] = np.sqrt(2) / 4  # S = 1/4, mirrored column
    np.testing.assert_allclose(F, expected, atol=1e-7)
    # eq. 7 by hand: (1 - 0)^2 + 2 * (0 - 1/4)^2
    assert np.linalg.norm(F[0] - F[1]) == pytest.approx(np.sqrt(1.125), rel=1e-6)


@pytest.mark.parametrize("shape", [(9, 10), (8, 8), (7, 5)])
def test_row_distance_is_eq7_against_full_numpy_spectrum(shape):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3,) + shape)
    F = _ps().fit(X).transform(X)
    S = [np.abs(np.fft.fft2(_rescale(x)) / x.size) ** 2 for x in X]
    for i, j in [(0, 1), (1, 2), (0, 2)]:
        d_ref = np.sqrt(((S[i] - S[j]) ** 2).sum())
        assert np.linalg.norm(F[i] - F[j]) == pytest.approx(d_ref, rel=1e-5)


def test_parseval():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(2, 12, 9))
    ps = _ps().fit(X)
    F = ps.transform(X)
    qx = _qx_of(ps.get_feature_names_out())
    mirrored = qx != 0  # width 9 is odd: no Nyquist column
    total = F[:, ~mirrored].sum(1) + np.sqrt(2) * F[:, mirrored].sum(1)
    expected = [np.mean(_rescale(x) ** 2) for x in X]
    np.testing.assert_allclose(total, expected, rtol=1e-5)


def test_pure_sinusoid_peak_and_value():
    X, _ = make_perlin_textures(1, size=32, angle=[np.pi / 2], scale=6, noise_amplitude=0.0)
    ps = _ps().fit(X)
    F = ps.transform(X)[0]
    names = ps.get_feature_names_out()
    top = set(names[np.argsort(F)[-2:]])
    assert top == {"S_qy6_qx0", "S_qy-6_qx0"}
    # cos has phi~ = 1/2 at +-q: S = 1/4; q_x = 0 column is unweighted.
    np.testing.assert_allclose(np.sort(F)[-2:], 0.25, rtol=1e-5)


def test_autocorrelation_matches_direct_sum():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2, 6, 5))
    ps = _ps(statistic="autocorrelation").fit(X)
    F = ps.transform(X)
    names = list(ps.get_feature_names_out())
    x = _rescale(X[0])
    for dy, dx in [(0, 0), (1, 0), (-2, 1), (-3, 2)]:
        p2 = np.mean(x * np.roll(x, shift=(-dy, -dx), axis=(0, 1)))  # (1/hw) sum phi(r) phi(r+d)
        weight = 1.0 if dx == 0 else np.sqrt(2)
        got = F[0, names.index(f"P2_dy{dy}_dx{dx}")]
        assert got == pytest.approx(p2 * weight / np.sqrt(x.size), rel=1e-5, abs=1e-7)
    # Parseval-Plancherel: the autocorrelation and spectrum distances agree exactly.
    G = _ps().fit(X).transform(X)
    assert np.linalg.norm(F[0] - F[1]) == pytest.approx(np.linalg.norm(G[0] - G[1]), rel=1e-5)


def test_crop_keeps_the_low_frequency_window():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(2, 16, 16))
    full = _ps().fit(X)
    crop = _ps(crop=3).fit(X)
    Ff, Fc = full.transform(X), crop.transform(X)
    assert Fc.shape == (2, 7 * 4)
    names_f = list(full.get_feature_names_out())
    for j, name in enumerate(crop.get_feature_names_out()):
        np.testing.assert_allclose(Fc[:, j], Ff[:, names_f.index(name)], rtol=1e-6)


def test_radial_white_noise_is_flat_and_sizes_mix():
    rng = np.random.default_rng(5)
    imgs = [rng.normal(size=(64, 64)), rng.normal(size=(96, 80))]
    ps = _ps(radial=True, n_bins=8, rescale=False).fit(imgs)
    F = ps.transform(imgs)
    assert F.shape == (2, 8)
    # periodogram of unit white noise has expectation 1 at every frequency
    np.testing.assert_allclose(F[:, 1:].mean(1), 1.0, atol=0.15)
    assert ps.frequencies_[0] == pytest.approx(0.5 / 16)


def test_radial_peak_in_physical_frequency():
    # period of 8 pixels on both sizes: 0.125 cycles/pixel, bin 4 of 16 bins of width 1/32
    imgs = []
    for n in (64, 128):
        x = np.cos(2 * np.pi * np.arange(n) / 8.0)
        imgs.append(np.tile(x, (n, 1)))
    ps = _ps(radial=True, n_bins=16).fit(imgs)
    F = ps.transform(imgs)
    assert list(np.argmax(F, axis=1)) == [4, 4]


def test_log_option():
    X = np.random.default_rng(6).normal(size=(2, 8, 8))
    lin = _ps().fit(X).transform(X)
    log = _ps(log=True).fit(X).transform(X)
    np.testing.assert_allclose(log, np.log10(np.maximum(lin, 1e-12)), rtol=1e-5, atol=1e-5)


def test_rgb_is_reduced_to_luminance():
    rgb = np.random.default_rng(7).random((2, 8, 8, 3))
    gray = rgb @ np.array([0.2125, 0.7154, 0.0721])
    np.testing.assert_allclose(_ps().fit(rgb).transform(rgb), _ps().fit(gray).transform(gray),
                               rtol=1e-4, atol=1e-7)


def test_pandas_output_and_names():
    import pandas as pd
    X = np.random.default_rng(8).normal(size=(3, 4, 4))
    df = _ps().set_output(transform="pandas").fit_transform(X)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns)[:2] == ["S_qy0_qx0", "S_qy0_qx1"]


def test_pickle_clone_and_no_mutation():
    X = np.random.default_rng(9).normal(size=(3, 8, 8)).astype(np.float32)
    before = X.copy()
    ps = _ps(crop=2).fit(X)
    again = pickle.loads(pickle.dumps(ps))
    np.testing.assert_array_equal(again.transform(X), ps.transform(X))
    assert clone(ps).get_params() == ps.get_params()
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize(
    "kwargs, X, exc, match",
    [
        ({}, [np.zeros((4, 4)), np.zeros((5, 5))], ValueError, "same size"),
        (dict(crop=5), np.zeros((1, 8, 8)), ValueError, r"at least 11x11"),
        (dict(statistic="autocorrelation", log=True), np.zeros((1, 8, 8)), ValueError,
         "log=True needs"),
        (dict(statistic="cepstrum"), np.zeros((1, 8, 8)), ValueError, "'statistic' parameter"),
        (dict(batch_size=0), np.zeros((1, 8, 8)), ValueError, "'batch_size' parameter"),
        (dict(device="gpu"), np.zeros((1, 8, 8)), ValueError, "'device' parameter"),
        (dict(image_shape=(3, 0)), np.zeros((1, 8, 8)), ValueError, "'image_shape' parameter"),
        (dict(radial=True, n_bins=20), np.zeros((1, 8, 8)), ValueError, "at least 40x40"),
    ],
)
def test_bad_input(kwargs, X, exc, match):
    with pytest.raises(exc, match=match):
        PowerSpectrumFeatures(**kwargs).fit(X)


def test_transform_size_must_match_fit():
    ps = _ps().fit(np.zeros((1, 8, 8)))
    with pytest.raises(ValueError, match="fitted on 8x8 images but X holds 6x6"):
        ps.transform(np.zeros((1, 6, 6)))


@pytest.mark.gpu
def test_cpu_gpu_agreement():
    X, _ = make_perlin_textures(4, size=32, noise_amplitude=2.0, random_state=0)
    cpu = PowerSpectrumFeatures(device="cpu").fit(X).transform(X)
    gpu = PowerSpectrumFeatures(device="cuda").fit(X).transform(X)
    np.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-8)


# ------------------------------------------------------------------ transform_tensor
@pytest.mark.parametrize("params", [dict(), dict(radial=True), dict(log=True, crop=3),
                                    dict(statistic="autocorrelation"), dict(rescale=False)])
def test_transform_tensor_is_transform_and_differentiable(params):
    import torch
    X = np.random.default_rng(0).random((2, 16, 16)).astype(np.float32)
    ps = PowerSpectrumFeatures(**params, device="cpu").fit(X)
    x = torch.from_numpy(X).requires_grad_(True)
    rows = ps.transform_tensor(x)
    np.testing.assert_allclose(rows.detach().numpy(), ps.transform(X), rtol=1e-5, atol=1e-8)
    # The derivative along a random direction agrees with a central difference (in
    # float32, hence the loose tolerance).
    weights = torch.randn(rows.shape, generator=torch.Generator().manual_seed(1))
    auto, numeric = directional_derivative_check(
        lambda z: (ps.transform_tensor(z) * weights).sum(), x, h=1e-3)
    assert auto == pytest.approx(numeric, rel=2e-2, abs=1e-6)


@pytest.mark.parametrize(
    "images, match",
    [(np.zeros((1, 16, 16), np.float32), "floating-point torch.Tensor"),
     ("16,16,3", r"shape \(n, h, w\)"), ("8,8", "fitted on 16x16")],
)
def test_transform_tensor_errors(images, match):
    import torch
    if isinstance(images, str):
        images = torch.zeros(1, *map(int, images.split(",")))
    ps = PowerSpectrumFeatures(device="cpu").fit(np.zeros((1, 16, 16)))
    with pytest.raises((TypeError, ValueError), match=match):
        ps.transform_tensor(images)


def test_log_floor_is_shared_with_scattering():
    # Blank images: every power is 0 and every scattering amplitude S1, S2 is 0, so log=True
    # shows the floors themselves: 1e-6 for amplitudes, its square 1e-12 for powers.
    from skmicro import ScatteringFeatures

    blank = np.zeros((1, 8, 8))
    power = _ps(log=True).fit_transform(blank)
    amplitude = ScatteringFeatures(J=2, L=2, log=True, device="cpu").fit_transform(blank)
    np.testing.assert_array_equal(power, -12.0)
    np.testing.assert_array_equal(amplitude[:, 1:], -6.0)
