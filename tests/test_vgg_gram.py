"""VGGGramFeatures: the seed 001 texture vector (eqs. 1-4)."""

import pickle
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.spatial.distance import pdist
from sklearn.base import clone

from skmicro import PrecisionFallbackWarning, VGGGramFeatures
from skmicro.features import _vgg19 as vgg
from skmicro.features._vgg_gram import _projection, srht
from tests._gradcheck import directional_derivative_check

RNG = np.random.default_rng(42)
IMAGES = RNG.random((5, 16, 16, 3)).astype(np.float32)
POOL_AFTER = ("conv1_2", "conv2_2", "conv3_4", "conv4_4")


def reference_eq4(images, state, layers, layer_weights, pooling):
    """Eq. 4 computed directly, in float64, with a plain NCHW forward pass per image."""
    grams = []
    for img in images:
        x = torch.from_numpy(img[..., ::-1].copy()).double() * 255
        x = (x - torch.tensor(vgg.CAFFE_MEAN_BGR, dtype=torch.float64)).permute(2, 0, 1)[None]
        per_layer = {}
        for name in vgg.LAYER_NAMES:
            x = F.relu(F.conv2d(x, state[f"{name}.weight"].double(),
                                state[f"{name}.bias"].double(), padding=1))
            if name in layers:
                f = x[0].flatten(1).numpy()  # (N_l, M_l)
                per_layer[name] = (f @ f.T, f.shape[1])
            if len(per_layer) == len(layers):
                break
            if name in POOL_AFTER:
                x = (F.avg_pool2d if pooling == "avg" else F.max_pool2d)(x, 2)
        grams.append(per_layer)
    n = len(images)
    d2 = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            for lay, w in zip(layers, layer_weights):
                (gi, m), (gj, _) = grams[i][lay], grams[j][lay]
                n_l = gi.shape[0]
                d2[i, j] += w / (4 * n_l**2 * m**2) * np.sum((gi - gj) ** 2)
    return d2


def sq_dists(rows):
    rows = np.asarray(rows, dtype=np.float64)
    return ((rows[:, None] - rows[None]) ** 2).sum(-1)


@pytest.mark.parametrize("gram", ["upper", "full"])
@pytest.mark.parametrize("pooling", ["avg", "max"])
def test_row_distance_is_eq4(gram, pooling):
    layers = ("conv1_1", "conv2_1", "conv3_1")
    weights = (1.0, 2.0, 0.5)
    est = VGGGramFeatures(weights=None, layers=layers, layer_weights=weights, pooling=pooling,
                          gram=gram, random_state=0, device="cpu", batch_size=2)
    rows = est.fit_transform(IMAGES)
    assert rows.shape == (5, sum(n * (n + 1) // 2 if gram == "upper" else n * n
                                 for n in (64, 128, 256)))
    expected = reference_eq4(IMAGES, vgg.random_state_dict(est._seed), layers, weights, pooling)
    np.testing.assert_allclose(sq_dists(rows), expected, rtol=2e-4, atol=1e-6 * expected.max())


def test_default_layers_feature_count_and_names():
    est = VGGGramFeatures(weights=None, random_state=0, device="cpu")
    rows = est.fit_transform(IMAGES[:2])
    assert rows.shape == (2, 305_888) and rows.dtype == np.float32
    names = est.get_feature_names_out()
    assert len(names) == 305_888 and names[0] == "conv1_1_g0_0" and names[1] == "conv1_1_g0_1"
    assert est.set_params(gram="full").fit(IMAGES[:2]).n_output_features_ == 610_304


def test_default_weights_work_offline():
    rows = VGGGramFeatures(device="cpu").fit_transform(IMAGES[:2])
    assert rows.shape == (2, 305_888) and np.isfinite(rows).all() and rows.std() > 0


def test_gray_is_replicated_rgb():
    gray = IMAGES[:2, ..., 0]
    est = VGGGramFeatures(weights=None, layers=["conv1_1"], random_state=0, device="cpu")
    np.testing.assert_array_equal(est.fit_transform(gray),
                                  est.transform(np.repeat(gray[..., None], 3, axis=-1)))


def test_mixed_sizes_are_normalized_by_their_own_pixel_count():
    est = VGGGramFeatures(weights=None, layers=["conv1_1", "conv2_1"], random_state=1,
                          device="cpu")
    small, large = IMAGES[0], RNG.random((24, 20, 3)).astype(np.float32)
    rows = est.fit_transform([small, large, small])
    np.testing.assert_array_equal(rows[0], rows[2])
    np.testing.assert_allclose(rows[1], est.transform(large[None])[0], rtol=1e-6)
    # A texture tiled 2x2 has (away from the border) the same per-pixel Gram: close rows.
    tiled = est.transform(np.tile(small, (2, 2, 1))[None])[0]
    assert np.linalg.norm(tiled - rows[0]) < 0.5 * np.linalg.norm(rows[0])


def test_projection_preserves_distances():
    images = RNG.random((10, 16, 16, 3)).astype(np.float32)
    base = dict(weights=None, layers=["conv1_1", "conv2_1"], random_state=3, device="cpu")
    full = VGGGramFeatures(**base).fit_transform(images)
    k = 1024
    proj = VGGGramFeatures(**base, n_components=k).fit_transform(images)
    assert proj.shape == (10, k)
    rel = pdist(proj, "sqeuclidean") / pdist(full, "sqeuclidean") - 1
    # SRHT: relative error of a squared distance has standard deviation about sqrt(2 / k).
    sigma = np.sqrt(2 / k)
    assert np.sqrt(np.mean(rel**2)) < 2 * sigma
    assert np.abs(rel).max() < 6 * sigma
    again = VGGGramFeatures(**base, n_components=k).fit_transform(images)
    np.testing.assert_array_equal(proj, again)


def test_srht_equals_dense_hadamard_map():
    from scipy.linalg import hadamard

    x = torch.from_numpy(RNG.standard_normal((3, 13)).astype(np.float32))
    signs, rows, padded = _projection(0, 13, 5, "cpu")
    assert padded == 16
    dense = torch.from_numpy(hadamard(16).astype(np.float32))[rows][:, :13] * signs / np.sqrt(5)
    torch.testing.assert_close(srht(x, signs, rows, padded), x @ dense.T)


def test_pickle_does_not_carry_weights():
    est = VGGGramFeatures(weights="vgg19-caffe", layers=["conv1_1"], device="cpu")
    rows = est.fit_transform(IMAGES[:2])
    blob = pickle.dumps(est)
    assert len(blob) < 5_000
    assert b"torch" not in blob
    np.testing.assert_array_equal(pickle.loads(blob).transform(IMAGES[:2]), rows)
    np.testing.assert_array_equal(clone(est).fit_transform(IMAGES[:2]), rows)


def test_pandas_output():
    est = VGGGramFeatures(weights=None, layers=["conv1_1"], n_components=4, random_state=0,
                          device="cpu").set_output(transform="pandas")
    df = est.fit_transform(IMAGES[:2])
    assert list(df.columns) == ["vgggram_jl0", "vgggram_jl1", "vgggram_jl2", "vgggram_jl3"]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"layers": ["conv1_1", "fc6"]}, "'layers' parameter of VGGGramFeatures"),
        ({"layers": []}, "'layers' parameter"),
        ({"layers": ["conv1_1", "conv1_1"]}, "distinct"),
        ({"layer_weights": [1.0, 2.0]}, "'layer_weights' parameter"),
        ({"layer_weights": [1, 1, 1, 1, -1]}, "non-negative"),
        ({"weights": "vgg16"}, "'weights' parameter of VGGGramFeatures"),
        ({"n_components": 10**7}, "'n_components' parameter"),
        ({"pooling": "median"}, "'pooling' parameter"),
        ({"gram": "lower"}, "'gram' parameter"),
    ],
)
def test_bad_parameters(params, match):
    est = VGGGramFeatures(**{"weights": None, "device": "cpu", **params})
    with pytest.raises(ValueError, match=match):
        est.fit(IMAGES[:1])


def test_image_too_small_for_deepest_layer():
    with pytest.raises(ValueError, match="at least 16x16"):
        VGGGramFeatures(weights=None, device="cpu").fit(RNG.random((1, 8, 8)))
    # conv2_1 comes after one pooling: 2x2 is enough.
    VGGGramFeatures(weights=None, layers=["conv2_1"], device="cpu").fit(RNG.random((1, 2, 2)))


def test_truncated_state_dict(tmp_path):
    state = {k: v for k, v in vgg.random_state_dict(0).items() if k.startswith("conv1")}
    path = tmp_path / "short.pt"
    torch.save(state, path)
    VGGGramFeatures(weights=str(path), layers=["conv1_2"], device="cpu").fit(IMAGES[:1])
    with pytest.raises(ValueError, match="stop at layer conv1_2"):
        VGGGramFeatures(weights=path, layers=["conv2_1"], device="cpu").fit(IMAGES[:1])


def test_torchvision_offline_fails_in_fit(monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(ValueError, match="Offline choices"):
        VGGGramFeatures(weights="torchvision", device="cpu").fit(IMAGES[:1])


def test_input_not_modified():
    images = IMAGES[:2].copy()
    VGGGramFeatures(weights=None, layers=["conv1_1"], device="cpu").fit_transform(images)
    np.testing.assert_array_equal(images, IMAGES[:2])


@pytest.mark.gpu
def test_cpu_gpu_agree():
    est = VGGGramFeatures(weights="vgg19-normalized", random_state=0, n_components=256)
    cpu = est.set_params(device="cpu").fit_transform(IMAGES)
    gpu = est.set_params(device="cuda").fit_transform(IMAGES)
    np.testing.assert_allclose(gpu, cpu, rtol=1e-3, atol=1e-3 * np.abs(cpu).max())




def _cpu_flags(monkeypatch, flags):
    """Pretend the CPU has exactly ``flags`` (the engine reads them from /proc/cpuinfo)."""
    from skmicro import _engine

    monkeypatch.setattr(_engine, "_cpu_flags", lambda: frozenset(flags))


BF16_KW = dict(weights=None, layers=("conv1_1", "conv2_1"), device="cpu", random_state=0)


def test_bf16_convolutions_keep_distances_close_to_fp32(monkeypatch):
    # bf16 autocast in the network, fp32 Gram accumulation: distances within a few percent.
    _cpu_flags(monkeypatch, {"avx2", "avx512_bf16"})  # take the bf16 path on any CPU
    X = RNG.random((4, 32, 32, 3)).astype(np.float32)
    F32 = VGGGramFeatures(**BF16_KW).fit_transform(X)
    est = VGGGramFeatures(precision="bf16", **BF16_KW)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PrecisionFallbackWarning)
        F16 = est.fit_transform(X)
    assert F16.dtype == np.float32
    assert not np.array_equal(F16, F32)  # bf16 arithmetic really ran
    np.testing.assert_allclose(pdist(F16), pdist(F32), rtol=0.05)
    with pytest.raises(ValueError, match="'precision' parameter"):
        VGGGramFeatures(precision="fp8", **BF16_KW).fit(X)


def test_bf16_without_native_support_warns_and_runs_fp32(monkeypatch):
    # AVX2 only: emulated bf16 is ~7x slower than fp32, so skmicro runs fp32 and says why.
    _cpu_flags(monkeypatch, {"avx", "avx2", "fma"})
    X = RNG.random((2, 16, 16, 3)).astype(np.float32)
    F32 = VGGGramFeatures(**BF16_KW).fit_transform(X)
    est = VGGGramFeatures(precision="bf16", **BF16_KW)
    with pytest.warns(PrecisionFallbackWarning,
                      match=r"runs as fp32.*avx512_bf16.*Use precision='fp32'"):
        F = est.fit_transform(X)
    np.testing.assert_array_equal(F, F32)


def test_bf16_support_reads_cpu_flags(monkeypatch):
    from skmicro._engine import bf16_support

    cpu = torch.device("cpu")
    for flags, native in (({"avx2"}, False), ({"avx2", "avx512_bf16"}, True),
                          ({"amx_bf16"}, True), ({"fp", "asimd", "bf16"}, True)):
        _cpu_flags(monkeypatch, flags)
        assert bf16_support(cpu)[0] is native, flags


# ------------------------------------------------------------------ transform_tensor
def test_transform_tensor_is_transform_and_differentiable():
    vgg = VGGGramFeatures(weights=None, layers=["conv1_1", "conv2_1"], random_state=0,
                          device="cpu").fit(IMAGES)
    x = torch.from_numpy(IMAGES[:2])
    rows = vgg.transform_tensor(x)
    assert rows.dtype == torch.float32 and rows.shape == (2, vgg.n_output_features_)
    np.testing.assert_allclose(rows.numpy(), vgg.transform(IMAGES[:2]), rtol=1e-4, atol=1e-7)
    # Grey tensors are replicated to RGB, as transform does with grey arrays.
    grey = x[..., 0]
    np.testing.assert_allclose(vgg.transform_tensor(grey).numpy(),
                               vgg.transform(IMAGES[:2, ..., 0]), rtol=1e-4, atol=1e-7)
    target = rows[1].detach()
    auto, numeric = directional_derivative_check(
        lambda z: (vgg.transform_tensor(z)[0] - target).pow(2).sum(), x[:1])
    # ReLU kinks make the difference converge slowly in h: 2% at h=3e-4 (0.4% measured).
    assert auto == pytest.approx(numeric, rel=2e-2)


def test_transform_tensor_circular_is_shift_invariant():
    vgg = VGGGramFeatures(weights=None, layers=["conv3_1"], random_state=0,
                          device="cpu").fit(IMAGES)
    x = torch.from_numpy(IMAGES[:1])
    rolled = torch.roll(x, shifts=(4, -8), dims=(1, 2))  # multiples of 2**2 poolings
    a = vgg.transform_tensor(x, padding_mode="circular")
    torch.testing.assert_close(vgg.transform_tensor(rolled, padding_mode="circular"), a,
                               rtol=1e-4, atol=1e-6)
    assert not torch.allclose(vgg.transform_tensor(rolled), vgg.transform_tensor(x),
                              rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "images, kwargs, error, match",
    [
        (IMAGES, {}, TypeError, "floating-point torch.Tensor"),
        (torch.zeros(2, 16, 16, 2), {}, ValueError, r"\(n, h, w\) or \(n, h, w, 3\)"),
        (torch.zeros(2, 8, 8), {}, ValueError, "at least 16x16 for the layers up to conv5_1"),
        (torch.zeros(2, 40, 40), dict(padding_mode="circular"), ValueError, "divisible by 16"),
        (torch.zeros(2, 16, 16), dict(padding_mode="reflect"), ValueError, "'padding_mode'"),
    ],
)
def test_transform_tensor_errors(images, kwargs, error, match):
    vgg = VGGGramFeatures(weights=None, random_state=0, device="cpu").fit(IMAGES)
    with pytest.raises(error, match=match):
        vgg.transform_tensor(images, **kwargs)


@pytest.mark.parametrize("precision, tf32", [("fp32", False), ("tf32", True)])
def test_cuda_fp32_convolutions_do_not_use_tf32(precision, tf32):
    # cuDNN allows TF32 by default; "fp32" must switch it off, "tf32" on, and both restore it.
    # Only the flags are checked, so a stand-in for a CUDA device does (no GPU needed).
    from types import SimpleNamespace

    from skmicro.features._vgg_gram import conv_precision

    cudnn = torch.backends.cudnn
    before = cudnn.allow_tf32
    with conv_precision(precision, SimpleNamespace(type="cuda"), torch):
        assert cudnn.allow_tf32 is tf32
    assert cudnn.allow_tf32 is before
