"""ScatteringFeatures against kymatio's own frontends, symmetry properties and sklearn rules."""

import pickle

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import skmicro
from skmicro import ScatteringFeatures
from skmicro.features import _scattering_core
from skmicro.features._scattering import LOG_FLOOR
from skmicro.features._scattering_readout import depth_of_well, orientation_profile
from tests._gradcheck import directional_derivative_check


# float32 throughout; kymatio's torch and numpy frontends differ from each other by ~2e-7.
RTOL = 2e-5


def kymatio_numpy(x, J, L=8, max_order=2):
    """Reference maps (n, paths, h, w) from kymatio's numpy frontend (float32)."""
    from kymatio.scattering2d.frontend.numpy_frontend import ScatteringNumPy2D

    S = ScatteringNumPy2D(J=J, shape=x.shape[1:], L=L, max_order=max_order)
    return S.scattering(np.ascontiguousarray(x, dtype=np.float32)).astype(np.float64)


def assert_close(ours, ref, rtol=RTOL):
    np.testing.assert_allclose(ours, ref, rtol=0, atol=rtol * np.abs(ref).max())


def smooth_noise(rng, shape, sigma):
    return gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap").astype(np.float32)


@pytest.mark.parametrize("shape, J", [((32, 40), 3), ((21, 17), 2), ((16, 16), 4)])
def test_global_equals_spatial_mean_of_kymatio_numpy(rng, shape, J):
    x = rng.random((3,) + shape).astype(np.float32)
    ref = kymatio_numpy(x, J).mean(axis=(-2, -1))
    ours = ScatteringFeatures(J=J, device="cpu").fit_transform(x)
    assert ours.shape == (3, 1 + J * 8 + 64 * J * (J - 1) // 2) == ref.shape
    assert_close(ours, ref)


def test_local_maps_equal_kymatio_numpy(rng):
    x = rng.random((2, 24, 36)).astype(np.float32)
    ref = kymatio_numpy(x, 2, L=4)  # (2, 1 + 8 + 16, 6, 9)
    ours = ScatteringFeatures(J=2, L=4, average="local", device="cpu").fit(x)
    assert_close(ours.transform(x), ref.reshape(2, -1))
    names = ours.get_feature_names_out()
    assert len(names) == ref[0].size and names[0] == "S0_y0_x0" and names[-1] == (
        "S2_j0_t3_j1_t3_y5_x8"
    )


def test_max_order_1_log_and_normalize_against_kymatio(rng):
    x = rng.random((2, 32, 32)).astype(np.float32)
    ref = kymatio_numpy(x, 3, L=4).mean(axis=(-2, -1))
    S1 = ref[:, 1:13].reshape(2, 3, 4)
    order1 = ScatteringFeatures(J=3, L=4, max_order=1, device="cpu").fit_transform(x)
    assert_close(order1, ref[:, :13])
    # log10 with a floor on S1 and S2, S0 linear
    logged = ScatteringFeatures(J=3, L=4, log=True, device="cpu").fit_transform(x)
    assert_close(logged[:, 0], ref[:, 0])
    np.testing.assert_allclose(logged[:, 1:], np.log10(np.maximum(ref[:, 1:], LOG_FLOOR)),
                               atol=1e-5)
    # S2 / parent S1, parents in kymatio's order (j1, t1, j2 > j1, t2)
    expected = [ref[:, 0]] + list(ref[:, 1:13].T)
    col = 13
    for j1 in range(3):
        for t1 in range(4):
            for _j2 in range(j1 + 1, 3):
                for _t2 in range(4):
                    expected.append(ref[:, col] / S1[:, j1, t1])
                    col += 1
    normed = ScatteringFeatures(J=3, L=4, normalize=True, device="cpu").fit_transform(x)
    np.testing.assert_allclose(normed, np.stack(expected, axis=1), rtol=1e-4)


def test_rotation_invariant_is_orientation_average_of_kymatio(rng):
    J, L = 3, 4
    x = rng.random((2, 32, 32)).astype(np.float32)
    ref = kymatio_numpy(x, J, L=L).mean(axis=(-2, -1))
    S1 = ref[:, 1:1 + J * L].reshape(2, J, L)
    S2 = {}
    col = 1 + J * L
    for j1 in range(J):
        for t1 in range(L):
            for j2 in range(j1 + 1, J):
                for t2 in range(L):
                    S2[j1, t1, j2, t2] = ref[:, col]
                    col += 1
    expected = [ref[:, 0]] + list(S1.mean(axis=2).T)
    for j1 in range(J):
        for j2 in range(j1 + 1, J):
            for d in range(L):
                expected.append(np.mean([S2[j1, t, j2, (t + d) % L] for t in range(L)], axis=0))
    est = ScatteringFeatures(J=J, L=L, rotation_invariant=True, device="cpu")
    out = est.fit_transform(x)
    assert out.shape == (2, 1 + J + L * J * (J - 1) // 2)
    assert_close(out, np.stack(expected, axis=1))
    assert est.get_feature_names_out()[[1, 4, -1]].tolist() == ["S1_j0", "S2_j0_j1_d0",
                                                                "S2_j1_j2_d3"]


@pytest.mark.parametrize("J, L, order, ri, n", [
    (4, 8, 2, False, 417), (6, 8, 1, False, 49), (4, 8, 2, True, 53), (3, 6, 2, False, 127),
])
def test_feature_count(J, L, order, ri, n):
    est = ScatteringFeatures(J=J, L=L, max_order=order, rotation_invariant=ri, device="cpu")
    est.fit(np.zeros((1, 2**J, 2**J)))
    names = est.get_feature_names_out()
    n_paths = 1 + J * L + (order == 2) * L * L * J * (J - 1) // 2
    assert len(names) == est.n_output_features_ == n == (n_paths if not ri else n)
    assert names[0] == "S0" and len(set(names)) == n
    if not ri:
        assert names[1] == "S1_j0_t0" and names[J * L] == f"S1_j{J - 1}_t{L - 1}"


def test_set_params_J_on_16x16_gives_576_fresh_features(rng):
    # kymatio's sklearn frontend keeps its J=2 filters here and returns 8100 features.
    x = rng.random((3, 16, 16)).astype(np.float32)
    est = ScatteringFeatures(J=2, average="local", device="cpu").fit(x)
    assert est.transform(x).shape == (3, 81 * 16)
    est.set_params(J=1)
    with pytest.raises(ValueError, match="changed since fit"):
        est.transform(x)
    out = est.fit(x).transform(x)
    assert out.shape == (3, 576)
    assert_close(out, kymatio_numpy(x, 1).reshape(3, -1))
    # the same through clone + set_params, as GridSearchCV does
    cloned = clone(ScatteringFeatures(J=2, average="local", device="cpu")).set_params(J=1)
    assert cloned.fit_transform(x).shape == (3, 576)


def test_grid_search_over_J(rng):
    from sklearn.linear_model import LogisticRegression

    X = np.concatenate([smooth_noise(rng, (6, 16, 16), 0.5), smooth_noise(rng, (6, 16, 16), 3)])
    y = np.repeat([0, 1], 6)
    pipe = make_pipeline(ScatteringFeatures(device="cpu", log=True, image_shape=(16, 16)),
                         LogisticRegression())
    gs = GridSearchCV(pipe, {"scatteringfeatures__J": [1, 2]}, cv=2).fit(X.reshape(12, -1), y)
    sf = gs.best_estimator_[0]
    assert sf.n_output_features_ == (9 if sf.J == 1 else 81)


def test_mixed_sizes_match_separate_calls(rng):
    a, b = rng.random((20, 24)), rng.random((33, 18))
    est = ScatteringFeatures(J=2, L=4, device="cpu").fit([a])
    out = est.transform([a, b, a])
    assert_close(out[1], kymatio_numpy(b[None], 2, L=4).mean(axis=(-2, -1))[0])
    assert_close(out[[0, 2]], np.repeat(kymatio_numpy(a[None], 2, L=4).mean(axis=(-2, -1)),
                                        2, axis=0))


def test_s0_is_kymatio_weighted_mean(rng):
    est = ScatteringFeatures(J=3, L=2, max_order=1, device="cpu")
    const = est.fit_transform(np.full((1, 40, 40), 0.7))[0, 0]
    # phi_hat(0) = 2 pi sigma^2 / (2 * 3.1415 sigma^2): kymatio's normalisation constant
    np.testing.assert_allclose(const, 0.7 * np.pi / 3.1415, rtol=1e-6)
    x = rng.random((4, 64, 64))
    np.testing.assert_allclose(est.transform(x)[:, 0], x.mean(axis=(1, 2)), rtol=0.02)


def test_circular_shift_leaves_global_features_almost_unchanged(rng):
    x = smooth_noise(rng, (96, 96), (1, 4))  # periodic, so only the border handling differs
    other = smooth_noise(rng, (96, 96), (4, 1))
    est = ScatteringFeatures(J=3, device="cpu").fit(x[None])
    # S1 and S2 (S0 of this zero-mean noise is ~0, all border weighting)
    F = est.transform(np.stack([x, np.roll(x, (9, 21), axis=(0, 1)), other]))[:, 1:]
    scale = np.abs(F[0]).max()
    assert np.abs(F[1] - F[0]).max() < 0.1 * scale
    assert np.abs(F[2] - F[0]).max() > 0.3 * scale


def test_rot90_permutes_orientations_by_half(rng):
    x = smooth_noise(rng, (96, 96), (1, 4))  # strongly anisotropic
    est = ScatteringFeatures(J=3, L=8, device="cpu").fit(x[None])
    p = est.orientation_profile(est.transform(np.stack([x, np.rot90(x)])))
    top = p[0].max(axis=1, keepdims=True)
    assert (np.abs(np.roll(p[1], 4, axis=1) - p[0]) < 0.1 * top).all()
    assert (np.abs(p[1] - p[0]).max(axis=1) > 0.5 * top[:, 0]).all()
    ri = ScatteringFeatures(J=3, L=8, rotation_invariant=True, device="cpu").fit(x[None])
    G = ri.transform(np.stack([x, np.rot90(x), np.rot90(x, -1)]))[:, 1:]  # S0 ~ 0 here
    assert np.abs(G[1:] - G[0]).max() < 0.05 * np.abs(G[0]).max()


def test_orientation_convention_and_depth_of_well():
    rows = np.arange(64)[:, None] * np.ones((1, 64))
    bands = np.sin(2 * np.pi * rows / 8)  # horizontal bands: intensity varies down the rows
    est = ScatteringFeatures(J=4, L=8, max_order=1, device="cpu").fit(bands[None])
    F = est.transform(np.stack([bands, bands.T]))
    p = est.orientation_profile(F)
    assert p.shape == (2, 4, 8)
    assert p[0, 2].argmax() == 3 and p[1, 2].argmax() == 7  # wave vector along rows / columns
    depth = est.depth_of_well(F, orientations=(3, 7))
    assert depth.shape == (2, 4) and depth[0, 2] > 0 > depth[1, 2]
    np.testing.assert_allclose(depth, p[:, :, 3] - p[:, :, 7])
    np.testing.assert_allclose(depth_of_well(F, J=4, L=8), p[:, :, 0] - p[:, :, 4])


def test_readout_errors():
    with pytest.raises(ValueError, match="at least 1 \\+ J\\*L = 9 columns"):
        orientation_profile(np.zeros((2, 5)), J=2, L=4)
    with pytest.raises(ValueError, match=r"'J' parameter of orientation_profile must be an int "
                                         r"in the range \[1, inf\)\. Got 0 instead"):
        orientation_profile(np.zeros((2, 9)), J=0, L=4)
    with pytest.raises(ValueError, match="orientation index in \\[0, L\\)"):
        depth_of_well(np.zeros((2, 9)), J=2, L=4, orientations=(0, 4))
    est = ScatteringFeatures(J=1, rotation_invariant=True, device="cpu").fit(np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match="rotation_invariant=False"):
        est.orientation_profile(np.zeros((1, 2)))


@pytest.mark.parametrize("params, match", [
    ({"J": 0}, "'J' parameter"), ({"L": 0}, "'L' parameter"), ({"max_order": 3}, "max_order"),
    ({"average": "mean"}, "'average' parameter"), ({"log": "yes"}, "'log' parameter"),
    ({"device": "gpu"}, "'device' parameter"),
])
def test_bad_parameters(params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ScatteringFeatures(**params).fit(np.zeros((1, 16, 16)))


def test_bad_images(rng):
    with pytest.raises(ValueError, match="at least 8x8 pixels.*7x9"):
        ScatteringFeatures(J=3, device="cpu").fit(np.zeros((1, 7, 9)))
    with pytest.raises(ValueError, match="same size"):
        ScatteringFeatures(J=1, average="local", device="cpu").fit([np.zeros((4, 4)),
                                                                    np.zeros((6, 6))])
    est = ScatteringFeatures(J=1, average="local", device="cpu").fit(np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match="fitted on 4x4 images but X holds 6x6"):
        est.transform(np.zeros((1, 6, 6)))
    with pytest.raises(TypeError, match="numeric"):
        ScatteringFeatures(device="cpu").fit(np.array([[["a"] * 16] * 16]))


def test_input_untouched_pickle_and_lazy_filters(rng):
    x = rng.random((2, 20, 20))
    before = x.copy()
    est = ScatteringFeatures(J=2, L=3, device="cpu")
    key = ((20, 20), 2, 3, "cpu")
    skmicro.clear_caches()
    est.fit(x)
    assert key not in _scattering_core.FILTER_BANKS  # nothing built before transform
    out = est.transform(x)
    assert key in _scattering_core.FILTER_BANKS
    np.testing.assert_array_equal(x, before)
    blob = pickle.dumps(est)
    assert len(blob) < 5000  # parameters and a few attributes, no filters
    np.testing.assert_array_equal(pickle.loads(blob).transform(x), out)


def test_pandas_output(rng):
    est = ScatteringFeatures(J=1, L=2, device="cpu").set_output(transform="pandas")
    df = est.fit_transform(rng.random((2, 8, 8)))
    assert list(df.columns) == ["S0", "S1_j0_t0", "S1_j0_t1"]


def test_batching_does_not_change_results(rng):
    x = rng.random((5, 16, 16))
    a = ScatteringFeatures(J=2, L=4, batch_size=2, device="cpu").fit_transform(x)
    b = ScatteringFeatures(J=2, L=4, batch_size=5, device="cpu").fit_transform(x)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.gpu
def test_cpu_gpu_agree(rng):
    x = rng.random((3, 40, 48))
    for average in ("global", "local"):
        cpu = ScatteringFeatures(J=3, average=average, device="cpu").fit_transform(x)
        gpu = ScatteringFeatures(J=3, average=average, device="cuda").fit_transform(x)
        assert_close(gpu, cpu, rtol=1e-5)


def test_cpu_fast_paths_match_torch_reference(rng):
    import torch
    u = torch.from_numpy(rng.random((3, 6, 10)).astype(np.float32))
    np.testing.assert_allclose(_scattering_core._fft2_real(u).numpy(),
                               torch.fft.fft2(u).numpy(), rtol=0, atol=1e-5)
    z = torch.from_numpy((rng.standard_normal((2, 5, 4))
                          + 1j * rng.standard_normal((2, 5, 4))).astype(np.complex64))
    np.testing.assert_allclose(_scattering_core._modulus(z).numpy(), z.abs().numpy(), rtol=1e-6)


def test_threads_over_images_and_autograd_path_agree(rng):
    import torch
    x = rng.random((5, 24, 20)).astype(np.float32)
    one = ScatteringFeatures(J=2, L=4, n_jobs=1, device="cpu").fit_transform(x)
    two = ScatteringFeatures(J=2, L=4, n_jobs=2, device="cpu").fit_transform(x)
    np.testing.assert_allclose(one, two, rtol=1e-6, atol=1e-7)  # batch-size rounding only
    # with gradients recorded the core stays in torch (fft2, abs): same numbers, and a gradient
    bank = _scattering_core.get_filter_bank((24, 20), 2, 4, torch.device("cpu"))
    xt = torch.from_numpy(x[:2]).requires_grad_(True)
    S0, S1, S2 = _scattering_core.scattering_coefficients(xt, bank, 2, 4, 2, "global")
    (S1.sum() + S2.sum()).backward()
    assert xt.grad is not None and torch.isfinite(xt.grad).all() and xt.grad.abs().max() > 0
    flat = torch.cat([S0[:, None], S1.flatten(1), S2[:, 0, :, 1].flatten(1)], 1).detach()
    assert_close(flat.numpy(), one[:2])


# ------------------------------------------------------------------ transform_tensor
@pytest.mark.parametrize("params", [dict(J=2, L=4), dict(J=2, L=4, log=True, normalize=True,
                                                          rotation_invariant=True),
                                    dict(J=2, L=4, average="local")])
def test_transform_tensor_is_transform_and_differentiable(params):
    import torch
    X = np.random.default_rng(0).random((2, 16, 16)).astype(np.float32)
    sf = ScatteringFeatures(**params, device="cpu").fit(X)
    x = torch.from_numpy(X).requires_grad_(True)
    rows = sf.transform_tensor(x)
    np.testing.assert_allclose(rows.detach().numpy(), sf.transform(X), rtol=1e-4, atol=1e-6)
    # The derivative along a random direction agrees with a central difference.
    auto, numeric = directional_derivative_check(
        lambda z: sf.transform_tensor(z)[:, 1:].sum(), x, h=1e-3)
    assert auto == pytest.approx(numeric, rel=1e-2)


def test_transform_tensor_circular_wraps_around():
    """With circular padding the padded image is the periodic continuation: an image that
    tiles seamlessly gives the same S0 both ways, a discontinuous one does not."""
    import torch
    sf = ScatteringFeatures(J=2, L=4, device="cpu").fit(np.zeros((1, 16, 16)))
    periodic = torch.cos(2 * np.pi * torch.arange(16) / 8)[:, None].expand(16, 16)[None]
    ramp = torch.linspace(0, 1, 16)[:, None].expand(16, 16)[None]
    S0 = {m: [float(sf.transform_tensor(x.float(), padding_mode=m)[0, 0])
              for x in (periodic, ramp)] for m in ("reflect", "circular")}
    # Circular S0 of a periodic image: the weighted mean of a periodic image over whole
    # periods of the padding, which is its exact mean (0) up to the filter normalization.
    assert abs(S0["circular"][0]) < 1e-3
    assert abs(S0["circular"][1] - S0["reflect"][1]) > 1e-3


@pytest.mark.parametrize(
    "images, kwargs, error, match",
    [
        (np.zeros((2, 16, 16), np.float32), {}, TypeError, "floating-point torch.Tensor"),
        ("torch:2,16,16,3", {}, ValueError, r"shape \(n, h, w\)"),
        ("torch:2,2,2", {}, ValueError, "at least 4x4 for J=2"),
        ("torch:2,16,16", dict(padding_mode="zeros"), ValueError, "'padding_mode'"),
    ],
)
def test_transform_tensor_errors(images, kwargs, error, match):
    import torch
    if isinstance(images, str):
        images = torch.zeros(*map(int, images[6:].split(",")))
    sf = ScatteringFeatures(J=2, L=4, device="cpu").fit(np.zeros((1, 16, 16)))
    with pytest.raises(error, match=match):
        sf.transform_tensor(images, **kwargs)
