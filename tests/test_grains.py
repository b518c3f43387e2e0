"""make_grain_microstructures: geometry against stereology, hardness against its formula."""

import numpy as np
import pytest

from skmicro.datasets._grains import _render_grains, make_grain_microstructures

# The documented model, written out again here (not imported) so that the test is independent.
H0, K_HP, H_SAT, EPS_C, K_OR = 60.0, 150.0, 70.0, 0.6, 40.0


def documented_hardness(d, r, f, rp):
    eps = 2.0 / np.sqrt(3.0) * np.log(1.0 / (1.0 - r))
    orowan = np.array([K_OR * np.sqrt(fi) / ri if fi > 0 else 0.0 for fi, ri in zip(f, rp)])
    return H0 + K_HP / np.sqrt(d) + H_SAT * (1 - np.exp(-eps / EPS_C)) + orowan


def clean_params(**changes):
    """A noise-free, blur-light, untextured rendering for geometric measurements."""
    p = dict(
        grain_size=10.0, grain_size_spread=0.0, reduction=0.0, particle_fraction=0.0,
        particle_radius=0.0, etch_depth=0.8, etch_contrast=0.0, boundary_width=0.8,
        blur_sigma=0.3, noise_std=0.0,
    )
    p.update(changes)
    return p


def test_shapes_range_and_params():
    X, y, params = make_grain_microstructures(40, size=32, random_state=0, return_params=True)
    assert X.shape == (40, 32, 32) and X.dtype == np.float32
    assert y.shape == (40,) and y.dtype == np.float64
    assert X.min() >= 0 and X.max() <= 1
    assert 3 <= params["grain_size"].min() and params["grain_size"].max() <= 12
    assert 0 <= params["reduction"].min() and params["reduction"].max() <= 0.7
    has = params["particle_fraction"] > 0
    assert 0 < has.sum() < 40
    assert np.all((params["particle_radius"] > 0) == has)
    assert all(v.shape == (40,) for v in params.values())


def test_deterministic_and_prefix_stable():
    X1, y1 = make_grain_microstructures(3, size=32, random_state=7)
    X2, y2 = make_grain_microstructures(3, size=32, random_state=7)
    X3, y3 = make_grain_microstructures(5, size=32, random_state=7)
    X4, _ = make_grain_microstructures(3, size=32, random_state=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(X1, X3[:3])  # image i depends only on (seed, i)
    np.testing.assert_array_equal(y1, y3[:3])
    assert not np.array_equal(X1, X4)


def test_hardness_follows_documented_formula_without_noise():
    _, y, p = make_grain_microstructures(
        30, size=16, random_state=1, return_params=True, hardness_noise=0.0
    )
    expected = documented_hardness(
        p["grain_size"], p["reduction"], p["particle_fraction"], p["particle_radius"]
    )
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    np.testing.assert_allclose(p["hardness"], expected, rtol=1e-12)


def test_hardness_hand_checked_cases():
    from skmicro.datasets._grains import _hardness

    # d = 4 um annealed: 60 + 150 / 2 = 135. d = 25 um, eps = 0.6 ln 2 (half of the Voce
    # saturation), f = 0.04, r_p = 0.5 um: 60 + 30 + 70 / 2 + 40 * 0.2 / 0.5 = 141.
    r_half = 1.0 - np.exp(-np.sqrt(3.0) / 2.0 * 0.6 * np.log(2.0))
    h = _hardness(dict(grain_size=[4.0, 25.0], reduction=[0.0, r_half],
                       particle_fraction=[0.0, 0.04], particle_radius=[0.0, 0.5]))
    np.testing.assert_allclose(h, [135.0, 141.0])


def test_measurement_noise_has_requested_scatter():
    _, y, p = make_grain_microstructures(
        300, size=16, random_state=2, return_params=True, hardness_noise=3.0
    )
    residual = y - p["hardness"]
    assert abs(residual.mean()) < 0.6  # 3 / sqrt(300) = 0.17
    assert 2.5 < residual.std() < 3.5


def crossings_per_pixel(labels, axis):
    """Stereological P_L: label changes per pixel of test line along ``axis``."""
    return (np.diff(labels, axis=axis) != 0).mean()


def test_boundary_density_matches_poisson_voronoi_stereology():
    # Poisson-Voronoi with seed density lambda: boundary length per area L_A = 2 sqrt(lambda)
    # and test lines cross P_L = (2 / pi) L_A boundaries per unit length. Our density is
    # lambda = 1 / (pi/4 d^2) (d the mean equivalent diameter in pixels, 2 px per um).
    rng = np.random.default_rng(0)
    for d_um in (5.0, 12.0):
        d_px = 2 * d_um
        expected = 2 / np.pi * 2 * np.sqrt(4 / (np.pi * d_px**2))
        pl = [
            crossings_per_pixel(_render_grains(clean_params(grain_size=d_um), 192, rng,
                                               return_labels=True)[1], axis)
            for _ in range(4) for axis in (0, 1)
        ]
        assert np.mean(pl) == pytest.approx(expected, rel=0.1)


def test_larger_grains_give_fewer_boundary_pixels():
    rng = np.random.default_rng(1)
    dark = {
        d: np.mean([(_render_grains(clean_params(grain_size=d), 192, rng) < 0.4).mean()
                    for _ in range(3)])
        for d in (5.0, 15.0)
    }
    # Boundary length per area scales as 1 / d, so about 3 times fewer boundary pixels.
    assert 2.2 < dark[5.0] / dark[15.0] < 3.8


@pytest.mark.parametrize("reduction", [0.0, 0.5])
def test_rolling_stretches_grains_along_x(reduction):
    rng = np.random.default_rng(2)
    stretch = 1 / (1 - reduction)
    # An affine stretch by s along x divides crossings on horizontal lines by s and leaves
    # those on vertical lines unchanged.
    labels = [_render_grains(clean_params(reduction=reduction), 192, rng, return_labels=True)[1]
              for _ in range(4)]
    ratio = np.mean([crossings_per_pixel(lab, 0) for lab in labels]) / np.mean(
        [crossings_per_pixel(lab, 1) for lab in labels])
    assert ratio == pytest.approx(stretch, rel=0.15)

    # The image itself: its autocorrelation decays more slowly along x, by about s.
    def corr_length(img, axis):
        z = img - img.mean()
        acf = np.fft.ifft2(np.abs(np.fft.fft2(z)) ** 2).real
        line = (acf[0] if axis == 1 else acf[:, 0]) / acf[0, 0]
        return np.argmax(line < np.exp(-1))

    imgs = [_render_grains(clean_params(reduction=reduction, etch_contrast=0.15), 192, rng)
            for _ in range(4)]
    lx = np.mean([corr_length(im, 1) for im in imgs])
    ly = np.mean([corr_length(im, 0) for im in imgs])
    assert lx / ly == pytest.approx(stretch, rel=0.3)


def test_grain_size_spread_widens_the_area_distribution():
    rng = np.random.default_rng(3)

    def interior_area_cv(spread):
        areas = []
        for _ in range(3):
            _, lab = _render_grains(clean_params(grain_size_spread=spread), 256, rng,
                                    return_labels=True)
            border = np.unique(np.r_[lab[0], lab[-1], lab[:, 0], lab[:, -1]])
            ids, counts = np.unique(lab, return_counts=True)
            areas.append(counts[~np.isin(ids, border)])
        areas = np.concatenate(areas)
        return areas.std() / areas.mean()

    # Poisson-Voronoi cell areas: gamma with shape ~3.6 (Kiang 1966), CV ~ 0.53.
    cv0 = interior_area_cv(0.0)
    assert 0.42 < cv0 < 0.64
    assert interior_area_cv(0.5) > cv0 + 0.1


def test_particles_cover_boolean_model_fraction():
    rng = np.random.default_rng(4)
    f = 0.1
    img = _render_grains(
        clean_params(grain_size=25.0, etch_depth=0.0, particle_fraction=f, particle_radius=1.5),
        256, rng,
    )
    # Overlapping discs at density f cover 1 - exp(-f) of the area (Boolean model).
    assert (img < 0.45).mean() == pytest.approx(1 - np.exp(-f), rel=0.2)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_samples": 0}, "n_samples"), ({"n_samples": 2, "size": 8}, "size"),
     ({"n_samples": 2, "hardness_noise": -1.0}, "hardness_noise"),
     ({"n_samples": 2.5}, "n_samples")],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_grain_microstructures(**kwargs)
