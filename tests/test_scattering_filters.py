"""The Fourier-domain filter bank against kymatio's own filter_bank and the definitions."""

import numpy as np
import pytest

import skmicro
from skmicro.features import _scattering_core, _scattering_filters
from skmicro.features._scattering_filters import build_filter_bank, padded_shape

# kymatio builds its filters in complex64 (sampled, then fft2): they carry rounding noise of
# ~1e-8 of their peak; ours are float64 until the final cast. 5e-7 of the peak is float32.
TOL = 5e-7


def kymatio_filter_bank(M, N, J, L):
    """kymatio 0.3.0's bank, imported from its 2-D module (the umbrella import can fail)."""
    from kymatio.scattering2d.filter_bank import filter_bank

    return filter_bank(M, N, J, L)


def assert_filters_equal(ours, ref):
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=0, atol=TOL * np.abs(ref).max())


@pytest.mark.parametrize("shape, J, L", [
    ((21, 17), 2, 4), ((48, 64), 3, 8), ((16, 16), 4, 8), ((40, 40), 1, 6), ((33, 70), 3, 5),
])
def test_bank_equals_kymatio_filter_bank(shape, J, L):
    bank = build_filter_bank(shape, J, L, "cpu")
    ref = kymatio_filter_bank(*padded_shape(shape, J), J, L)
    assert len(bank["psi"]) == J
    for j in range(J):
        levels = [p["levels"] for p in ref["psi"] if p["j"] == j]  # one entry per theta
        assert len(bank["psi"][j]) == len(levels[0])
        for res, ours in enumerate(bank["psi"][j]):
            assert ours.dtype == skmicro._engine.get_torch().float32
            assert_filters_equal(ours.numpy(), np.stack([lv[res] for lv in levels]))
    assert len(bank["phi"]) == len(ref["phi"]["levels"]) == J
    for ours, theirs in zip(bank["phi"], ref["phi"]["levels"]):
        assert_filters_equal(ours.numpy(), theirs)


@pytest.mark.parametrize("path", ["fourier", "spatial"])
def test_both_construction_paths_equal_kymatio_morlet(monkeypatch, path):
    # Each wavelet is built in the Fourier domain or in space, whichever costs less; force
    # each path for every scale of a J=4 bank of a mid-size image.
    from kymatio.scattering2d.filter_bank import morlet_2d

    monkeypatch.setattr(_scattering_filters, "_EXP_COST", 0.0 if path == "fourier" else 1e9)
    M, N, L = 64, 80, 8
    for j in range(4):
        for t in (0, 3, 6):
            args = (0.8 * 2**j, (int(L - L / 2 - 1) - t) * np.pi / L, 3 / 4 * np.pi / 2**j, 4 / L)
            ours = _scattering_filters._morlet((M, N), *args, "cpu").numpy()
            ref = np.real(np.fft.fft2(morlet_2d(M, N, *args)))
            assert_filters_equal(ours, ref)


@pytest.mark.parametrize("shape, J", [((20, 28), 2), ((16, 16), 4)])
def test_mean_weights_give_the_mean_of_the_lowpassed_map(rng, shape, J):
    # The definition: low-pass U with phi (Fourier product), subsample by k = 2**(J - res),
    # drop one output sample each side, average. One weighted sum must give the same.
    bank = build_filter_bank(shape, J, 4, "cpu")
    for res, (phi, w) in enumerate(zip(bank["phi"], bank["weights"])):
        k = 2 ** (J - res)
        U = rng.random(tuple(phi.shape))
        y = np.real(np.fft.ifft2(np.fft.fft2(U) * phi.numpy().astype(np.float64)))[::k, ::k]
        expected = y[1:-1, 1:-1].mean()
        np.testing.assert_allclose(U.ravel() @ w.numpy().astype(np.float64), expected, rtol=1e-6)


@pytest.mark.parametrize("n", [5, 16, 17, 40])
def test_padding_indices_are_reflections(n):
    # kymatio pads the image by reflection (no edge repeat) to padded_shape; n=16 with J=4
    # pads by the full size on one side, which ReflectionPad2d cannot do (kymatio's work-around).
    J = 4 if n >= 16 else 2
    bank = build_filter_bank((n, n), J, 2, "cpu")
    rows = bank["rows"].numpy()
    (Mp, _), pad = padded_shape((n, n), J), padded_shape((n, n), J)[0] - n
    assert rows.shape == (Mp,)
    np.testing.assert_array_equal(rows[pad // 2:pad // 2 + n], np.arange(n))
    np.testing.assert_array_equal(rows, bank["cols"].numpy())
    if pad // 2 < n:
        np.testing.assert_array_equal(rows[:pad // 2], np.arange(pad // 2, 0, -1))


@pytest.fixture
def count_builds(monkeypatch):
    """The shapes for which a filter bank is built, from an empty cache."""
    builds = []

    def counting(shape, J, L, device):
        builds.append(tuple(shape))
        return build_filter_bank(shape, J, L, device)

    monkeypatch.setattr(_scattering_core, "build_filter_bank", counting)
    skmicro.clear_caches()
    return builds


def test_get_filter_bank_caches_per_size_j_l_and_device(count_builds):
    cpu = skmicro._engine.get_torch().device("cpu")
    for shape in [(20, 24), (24, 20), (20, 24), (24, 20)]:
        _scattering_core.get_filter_bank(shape, 2, 4, cpu)
    assert count_builds == [(20, 24), (24, 20)]
    _scattering_core.get_filter_bank((20, 24), 2, 3, cpu)  # another L is another bank
    _scattering_core.get_filter_bank((20, 24), 1, 4, cpu)  # another J too
    assert len(count_builds) == 4


def test_alternating_sizes_build_each_bank_once_in_the_estimator(rng, count_builds):
    A, B = (24, 32), (32, 24)
    sf = skmicro.ScatteringFeatures(J=2, L=4, device="cpu").fit(np.zeros((1, *A)))
    for shape in [A, B, A, B, A]:
        sf.transform(rng.random((1, *shape)))
    sf.transform([rng.random(A), rng.random(B)])  # a mixed batch: grouped by size
    assert count_builds == [A, B]


def test_alternating_sizes_build_each_bank_once_in_describe_folder(rng, tmp_path, count_builds):
    # Files A B A B ... span several of describe_folder's chunks; each chunk needs both sizes.
    from PIL import Image

    from skmicro.workflow import describe_folder

    A, B = (24, 32), (32, 24)
    for i in range(18):
        image = rng.integers(0, 256, A if i % 2 == 0 else B, dtype=np.uint8)
        Image.fromarray(image).save(tmp_path / f"im{i:02d}.png")
    table = describe_folder(tmp_path, "scattering:J=2,L=4", crop_data_bar=False, cache=False,
                            device="cpu", n_jobs=1)
    assert len(table) == 18
    assert sorted(count_builds) == sorted([A, B])


def test_alternating_sizes_build_no_new_bank_in_the_dense_maps(rng, count_builds):
    # The dense maps (segmentation) take their banks from the same cache, per extended size.
    A, B = (24, 32), (32, 24)
    dense = skmicro.ScatteringPixelFeatures(J=2, L=4, device="cpu").fit(np.zeros((1, *A)))
    for shape in [A, B]:
        dense.transform(rng.random((1, *shape)))
    first = list(count_builds)
    assert len(first) == 2
    for shape in [A, B, A, B]:
        dense.transform(rng.random((1, *shape)))
    assert count_builds == first
