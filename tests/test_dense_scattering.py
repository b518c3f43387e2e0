"""ScatteringPixelFeatures against direct spatial convolutions with kymatio's own filters."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from skmicro import ScatteringPixelFeatures
from skmicro.features._dense_scattering import scattering_halo

filter_bank = pytest.importorskip("kymatio.scattering2d.filter_bank").filter_bank

RNG = np.random.default_rng(0)
J, L = 2, 4
GRID = 96  # kymatio's filters on a grid much wider than their support: no periodization


def _spatial_filters():
    bank = filter_bank(GRID, GRID, J, L=L)
    psi = {(p["j"], p["theta"]): np.fft.ifft2(p["levels"][0]) for p in bank["psi"]}
    return psi, np.real(np.fft.ifft2(bank["phi"]["levels"][0]))


def _direct_conv(x, f, radius):
    """``y[p] = sum_q x[p - q] f[q]`` for |q| <= radius, over the pixels where the support fits
    (an explicit sum of shifted copies: no FFT)."""
    h, w = x.shape
    out = np.zeros((h - 2 * radius, w - 2 * radius), dtype=np.result_type(x, f))
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            out += f[dy % GRID, dx % GRID] * x[radius - dy:h - radius - dy,
                                                radius - dx:w - radius - dx]
    return out


def _reflect(x, pad):
    return np.pad(x, pad, mode="reflect")  # kymatio's padding: mirror without the edge


def test_first_order_maps_are_direct_convolutions_with_kymatio_filters():
    image = RNG.random((18, 21))
    psi, phi = _spatial_filters()
    r_psi, r_phi = 14, 12  # beyond 5 deviations of each envelope
    est = ScatteringPixelFeatures(J=J, L=L, smooth=False, device="cpu").fit(image[None])
    raw = est.transform(image[None])[0]
    smooth = ScatteringPixelFeatures(J=J, L=L, device="cpu").fit_transform(image[None])[0]
    names = est.get_feature_names_out().tolist()
    ext = _reflect(image, r_psi + r_phi)
    np.testing.assert_allclose(raw[..., 0], image, atol=1e-6)  # unsmoothed S0: the image
    np.testing.assert_allclose(smooth[..., 0], _direct_conv(_reflect(image, r_phi), phi, r_phi),
                               rtol=1e-4, atol=1e-5)
    for (j, t), f in psi.items():
        u = np.abs(_direct_conv(ext, f, r_psi))  # |x * psi| with a margin of r_phi
        k = names.index(f"S1_j{j}_t{t}")
        np.testing.assert_allclose(raw[..., k], u[r_phi:-r_phi, r_phi:-r_phi], rtol=1e-4,
                                   atol=1e-5)
        np.testing.assert_allclose(smooth[..., k], _direct_conv(u, phi, r_phi), rtol=1e-4,
                                   atol=1e-5)


def test_constant_image_and_channel_relations():
    flat = np.full((1, 30, 34), 0.4)
    maps = ScatteringPixelFeatures(J=J, L=L, device="cpu").fit_transform(flat)
    np.testing.assert_allclose(maps[..., 0], 0.4, rtol=1e-4)  # phi_hat(0) = 1.00003
    np.testing.assert_allclose(maps[..., 1:], 0, atol=1e-5)  # zero-mean wavelets
    image = RNG.random((1, 30, 34))
    base = dict(J=3, L=L, max_order=2, device="cpu")
    full = ScatteringPixelFeatures(**base).fit(image)
    names = full.get_feature_names_out().tolist()
    m = full.transform(image)
    assert len(names) == 1 + 3 * L + L * L * 3 == full.n_output_features_
    inv = ScatteringPixelFeatures(rotation_invariant=True, **base).fit(image)
    mi = inv.transform(image)
    inv_names = inv.get_feature_names_out().tolist()
    assert len(inv_names) == 1 + 3 + L * 3
    s1 = np.stack([m[..., names.index(f"S1_j1_t{t}")] for t in range(L)]).mean(0)
    np.testing.assert_allclose(mi[..., inv_names.index("S1_j1")], s1, rtol=1e-5, atol=1e-7)
    d = 1
    s2 = np.mean([m[..., names.index(f"S2_j0_t{t}_j2_t{(t + d) % L}")] for t in range(L)], 0)
    np.testing.assert_allclose(mi[..., inv_names.index(f"S2_j0_j2_d{d}")], s2, rtol=1e-5,
                               atol=1e-7)
    logged = ScatteringPixelFeatures(log=True, **base).fit_transform(image)
    np.testing.assert_allclose(logged[..., 0], m[..., 0])  # S0 stays linear
    np.testing.assert_allclose(logged[..., 1:], np.log10(np.maximum(m[..., 1:], 1e-6)),
                               rtol=1e-5, atol=1e-5)


def test_second_order_is_the_modulus_of_the_filtered_first_order_map():
    image = RNG.random((16, 17))
    psi, _ = _spatial_filters()
    est = ScatteringPixelFeatures(J=J, L=L, max_order=2, smooth=False, device="cpu")
    maps = est.fit_transform(image[None])[0]
    names = est.get_feature_names_out().tolist()
    r = 14
    u1 = np.abs(_direct_conv(_reflect(image, 2 * r), psi[(0, 1)], r))  # margin r left
    u2 = np.abs(_direct_conv(u1, psi[(1, 3)], r))
    np.testing.assert_allclose(maps[..., names.index("S2_j0_t1_j1_t3")], u2, rtol=1e-4,
                               atol=1e-5)


@pytest.mark.parametrize("params, shape", [
    (dict(J=2, L=4), (70, 80)),
    (dict(J=2, L=4, max_order=2, rotation_invariant=True, log=True), (70, 80)),
])
def test_tiling_does_not_change_the_result(params, shape):
    image = RNG.random((1, *shape)).astype(np.float32)
    whole = ScatteringPixelFeatures(device="cpu", **params).fit_transform(image)
    tiled = ScatteringPixelFeatures(device="cpu", tile_size=24, **params).fit(image)
    assert 2 * tiled.halo_ + 24 < shape[0]  # the windows really are smaller than the image
    np.testing.assert_allclose(tiled.transform(image), whole, atol=1e-5 * np.abs(whole).max())


def test_halo():
    assert scattering_halo(4, 8, 1, True) == 64 + 32
    assert scattering_halo(2, 4, 1, False) == 8
    assert scattering_halo(3, 4, 2, True) == 16 + 8 + 16


def test_errors_and_citizenship():
    with pytest.raises(ValueError, match="'max_order' parameter"):
        ScatteringPixelFeatures(max_order=3).fit(RNG.random((1, 8, 8)))
    est = ScatteringPixelFeatures(J=1, L=2, device="cpu").fit(RNG.random((1, 8, 8)))
    bad = RNG.random((1, 8, 8))
    bad[0, 1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.transform(bad)
    image = RNG.random((1, 12, 9))
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.transform(image), est.transform(image))
    assert est.transform(image).shape == (1, 12, 9, 3)
    assert clone(est).set_params(L=4).fit(image).transform(image).shape == (1, 12, 9, 5)


@pytest.mark.gpu
def test_cpu_gpu_agreement():
    images = RNG.random((2, 40, 52)).astype(np.float32)
    params = dict(J=3, L=4, max_order=2)
    cpu = ScatteringPixelFeatures(device="cpu", **params).fit_transform(images)
    gpu = ScatteringPixelFeatures(device="cuda", **params).fit_transform(images)
    np.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-5 * np.abs(cpu).max())
