"""Perlin textures of seed 001 eq. 9."""

import numpy as np
import pytest

from skmicro.datasets import make_perlin_textures, perlin_noise


@pytest.mark.parametrize("theta, k, peak", [(0.0, 15, (0, 15)), (np.pi / 2, 15, (15, 0)),
                                            (np.pi / 4, 10 * np.sqrt(2), (10, 10))])
def test_zero_noise_is_an_exact_sinusoid_with_peak_at_k_along_theta(theta, k, peak):
    size = 64
    X, params = make_perlin_textures(1, size=size, angle=[theta], scale=k, noise_amplitude=0.0,
                                     random_state=0)
    r = np.arange(size) / size
    ry, rx = np.meshgrid(r, r, indexing="ij")
    expected = np.cos(2 * np.pi * k * (rx * np.cos(theta) + ry * np.sin(theta)))
    np.testing.assert_allclose(X[0], expected, atol=2e-5)
    S = np.abs(np.fft.fft2(X[0])) ** 2
    qy, qx = np.unravel_index(np.argmax(S), S.shape)
    qy, qx = (qy + size // 2) % size - size // 2, (qx + size // 2) % size - size // 2
    assert {(qy, qx), (-qy, -qx)} == {peak, (-peak[0], -peak[1])}
    # All power in the two peaks for an integer wave vector.
    assert np.sort(S.ravel())[-2:].sum() / S.sum() > 1 - 1e-6


def test_angle_sweep_design():
    X, p = make_perlin_textures(6, size=16, design="angle_sweep", scale=15, noise_amplitude=2.5,
                                random_state=0)
    np.testing.assert_allclose(p["angle"], np.arange(6) * np.pi / 6)
    assert np.all(p["scale"] == 15) and np.all(p["noise_amplitude"] == 2.5)
    assert X.shape == (6, 16, 16) and X.dtype == np.float32


def test_grid_design_matches_the_paper():
    X, p = make_perlin_textures(design="grid", size=8, random_state=0)
    assert X.shape == (1000, 8, 8)
    np.testing.assert_allclose(np.unique(p["angle"]), np.arange(10) * np.pi / 10)
    np.testing.assert_allclose(np.unique(p["scale"]), np.arange(5, 15))
    np.testing.assert_allclose(np.unique(p["noise_amplitude"]), 0.5 + 0.15 * np.arange(10))
    assert len({tuple(row) for row in np.c_[p["angle"], p["scale"], p["noise_amplitude"]]}) == 1000


def test_deterministic_and_seed_dependent():
    a, _ = make_perlin_textures(3, size=32, noise_amplitude=2.0, random_state=1)
    b, _ = make_perlin_textures(3, size=32, noise_amplitude=2.0, random_state=1)
    c, _ = make_perlin_textures(3, size=32, noise_amplitude=2.0, random_state=2)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0.1


def test_noise_broadens_the_spectrum():
    peak = []
    for amp in (0.0, 1.0, 4.0):
        X, _ = make_perlin_textures(4, size=64, angle=np.zeros(4), scale=10,
                                    noise_amplitude=amp, random_state=0)
        S = np.abs(np.fft.fft2(X)) ** 2
        peak.append(float((S.reshape(4, -1).max(1) / S.reshape(4, -1).sum(1)).mean()))
    assert peak[0] > peak[1] > peak[2]


def test_perlin_noise_is_smooth_periodic_unit_rms():
    h = perlin_noise(3, 64, random_state=0)
    np.testing.assert_allclose((h.astype(np.float64) ** 2).mean(axis=(1, 2)), 1.0, rtol=1e-5)
    # Periodic: the wrap-around step is no larger than typical neighbour steps.
    inner = np.abs(np.diff(h, axis=2)).max()
    wrap = np.abs(h[:, :, 0] - h[:, :, -1]).max()
    assert wrap <= inner * 1.5
    assert abs(float(h.mean())) < 0.5


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(design="spiral"), "'design' parameter"),
        (dict(size=1), "'size' parameter"),
        (dict(n_samples=0), "'n_samples' parameter"),
        (dict(n_samples=3, scale=[1, 2]), "'scale' parameter"),
        (dict(design="grid", angle=0.1), "'angle' must be None"),
        (dict(n_samples=2, noise_amplitude=-1.0), "noise_amplitude"),
        (dict(n_samples=2, angle=[0.0, np.nan]), "NaN"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_perlin_textures(**{"size": 8, **kwargs})
