"""VGGHypercolumnPixelFeatures: VGG-19 activations of chosen layers, upsampled to every pixel."""

from __future__ import annotations

import numbers
import os

import numpy as np

from .._cache import BoundedCache
from .._engine import get_torch, resolve_device, resolve_precision
from .._validation import Interval, StrOptions
from ._dense import DENSE_CONSTRAINTS, DensePixelTransformer
from ._vgg_estimator import VGGNetworkMixin
from ._vgg_gram import conv_precision, network_input

__all__ = ["VGGHypercolumnPixelFeatures", "DEFAULT_HYPERCOLUMN_LAYERS", "upsample_bilinear",
           "hypercolumn_halo"]

DEFAULT_HYPERCOLUMN_LAYERS = ("conv1_2", "conv2_2", "conv3_4", "conv4_4")

# Seeded projection matrices, built once per process and device, never pickled.
PROJECTIONS = BoundedCache("VGG hypercolumn projections", max_entries=8, max_bytes=64 << 20)


def _vgg19():
    from . import _vgg19  # noqa: PLC0415 - keeps torch out of `import skmicro`

    return _vgg19


def hypercolumn_halo(layers):
    """Receptive-field radius (pixels) of the upsampled hypercolumn of ``layers``.

    Each 3x3 convolution after ``p`` poolings reaches ``2**p`` input pixels further, each 2x2
    pooling after ``p`` poolings ``2**p``; bilinear upsampling from a map pooled ``P`` times
    adds up to two of its cells, ``2 * 2**P``. Rounded up to a multiple of ``2**P``, the
    tiles' alignment. A tile whose window overlaps its core by this much gives exactly the
    whole image's values there (float rounding aside): zero padding at the window's cut
    edges only reaches this far.

    Examples
    --------
    >>> from skmicro.features._dense_vgg import hypercolumn_halo
    >>> hypercolumn_halo(["conv1_1"]), hypercolumn_halo(["conv4_4"])
    (3, 80)
    """
    vgg = _vgg19()
    deepest = max(layers, key=vgg.LAYER_NAMES.index)
    radius, pools = 0, 0
    for name in vgg.LAYER_NAMES[: vgg.LAYER_NAMES.index(deepest) + 1]:
        pools_here = vgg.pools_before(name)
        if pools_here > pools:  # a pooling between blocks
            radius += 2**pools
            pools = pools_here
        radius += 2**pools
    radius += 2 * 2**pools
    return -(-radius // 2**pools) * 2**pools


def upsample_bilinear(maps, factor, height, width):
    """Bilinear upsampling of channels-last maps ``(b, h, w, c)`` by an integer ``factor``.

    Output pixel ``x`` reads the map at ``(x + 0.5) / factor - 0.5`` (torch's
    ``align_corners=False`` convention: a cell of ``factor x factor`` pixels per map sample),
    clamped to the first and last samples, for ``height x width`` output pixels (more than
    ``factor * h`` when pooling dropped the image's last rows: those repeat the last sample).
    ``factor=1`` returns the maps. The result is a channels-last view ``(b, height, width, c)``.
    """
    torch = get_torch()
    F = torch.nn.functional
    b, h, w, c = maps.shape
    if factor == 1 and (h, w) == (height, width):
        return maps
    # torch's kernel, on an NCHW view of channels-last memory (its fast vectorized path).
    up = F.interpolate(maps.permute(0, 3, 1, 2), scale_factor=factor, mode="bilinear",
                       align_corners=False).permute(0, 2, 3, 1)
    if up.shape[1:3] != (height, width):  # replicate the last row / column
        rows = torch.arange(height, device=maps.device).clamp(max=up.shape[1] - 1)
        cols = torch.arange(width, device=maps.device).clamp(max=up.shape[2] - 1)
        up = up[:, rows][:, :, cols]
    return up


class VGGHypercolumnPixelFeatures(VGGNetworkMixin, DensePixelTransformer):
    """Hypercolumns of a frozen VGG-19: chosen layers' activations upsampled to every pixel.

    Each image goes through the same VGG-19 network as :class:`VGGGramFeatures` (same
    weights, input convention and pooling); the rectified outputs of the requested layers,
    pooled ``p`` times (``p`` = 0 for ``conv1_*``, 3 for ``conv4_*``), are upsampled
    bilinearly to the input resolution and stacked per pixel (Hariharan et al. 2015; PixelNet,
    DeCost et al. 2019, for micrographs).

    Parameters
    ----------
    weights : {"vgg19-normalized", "vgg19-caffe", "torchvision"}, path or None, \
default="vgg19-normalized"
        Network weights, as for :class:`VGGGramFeatures` (offline except "torchvision"; None
        for He-normal random weights from ``random_state``). See ``docs/weights.md``.
    layers : sequence of str, default=("conv1_2", "conv2_2", "conv3_4", "conv4_4")
        Layers whose rectified outputs are stacked, from ``conv1_1`` ... ``conv5_4``; 960
        channels for the default.
    pooling : {"avg", "max"}, default="avg"
        Pooling between blocks.
    n_components : int or None, default=None
        If set, project the stacked channels to this many with a fixed Gaussian random matrix
        (entries ``N(0, 1 / n_components)``, seeded by ``random_state``): squared distances
        between pixels' hypercolumns are kept in expectation. Each layer is projected at its
        own resolution before upsampling, which gives the same numbers (both maps are linear)
        at a fraction of the cost and memory.
    preprocessing : {"auto", "caffe", "torchvision"}, default="auto"
        Input convention, as for :class:`VGGGramFeatures`.
    precision : {"fp32", "bf16", "tf32"}, default="fp32"
        Arithmetic of the convolutions, as for :class:`VGGGramFeatures`.
    random_state : int, RandomState instance or None, default=None
        Seeds the random weights (``weights=None``) and the projection (``n_components``).
    tile_size : int or None, default=None
        Side of the square tiles an image is computed in, each grown by ``halo_`` on every
        side and aligned to the deepest pooling grid; None means 1024. See Notes.
    image_shape : tuple (h, w) or None, default=None
        Needed for 2-D tabular input ``(n_samples, h * w)``.
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
    batch_size : int, default=2
        Images (tiles) per forward pass (halved automatically on CUDA out-of-memory).
    n_jobs : int or None, default=None
        CPU threads for torch: None or -1 all cores, -2 all but one, k exactly k.
    verbose : int, default=0
        Show a progress bar (over images times tiles) when positive.

    Attributes
    ----------
    n_output_features_ : int
        Channels per pixel.
    halo_ : int
        Receptive-field radius in pixels (see Notes): 80 for ``conv4_4``, 3 for ``conv1_1``.
    layers_ : tuple of str
        The validated layers, in network order.
    n_features_in_ : int
        Only set when fitted on 2-D tabular input.

    See Also
    --------
    VGGGramFeatures : the same network's global texture vector.
    FilterBankPixelFeatures, ScatteringPixelFeatures : other dense descriptors.

    Notes
    -----
    Images are converted to RGB (grey replicated to three channels) with values in [0, 1].
    The convolutions pad with zeros, so pixels within ``halo_`` of the border see the padding,
    as in the network itself. Tiling is exact: with tiles aligned to the ``2**p`` pooling grid
    and overlapping by ``halo_``, the receptive field of every pixel of a tile's core lies
    inside its window, so tiled and whole-image results agree to float rounding (tested with
    64-pixel tiles). ``halo_`` is a bound on the receptive field (``conv4_4``: 61 pixels of
    convolutions and poolings plus two cells of upsampling); deeper layers make it larger and
    tiles more costly, not inexact.

    Images must be at least ``2**p`` pixels on each side (8 for ``conv4_4``). ``fit`` learns
    only the input contract; ``transform`` takes images of any size, one size per call.

    References
    ----------
    .. [1] B. Hariharan et al., "Hypercolumns for object segmentation and fine-grained
       localization", CVPR 2015.
    .. [2] B. L. DeCost, B. Lei, T. Francis, E. A. Holm, "High throughput quantitative
       metallography for complex microstructures using deep learning: a case study in
       ultrahigh carbon steel", Microscopy and Microanalysis 25 (2019).

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro import VGGHypercolumnPixelFeatures
    >>> images = np.random.default_rng(0).random((1, 32, 40))
    >>> hc = VGGHypercolumnPixelFeatures(layers=("conv1_1", "conv2_1"), device="cpu")
    >>> hc.fit_transform(images).shape  # 64 + 128 channels per pixel
    (1, 32, 40, 192)
    >>> hc.set_params(n_components=16, random_state=0).fit_transform(images).shape
    (1, 32, 40, 16)
    """

    _channels = "rgb"

    _parameter_constraints = {
        **DENSE_CONSTRAINTS,
        "weights": [None, str, os.PathLike],
        "layers": [list, tuple],
        "pooling": [StrOptions({"avg", "max"})],
        "n_components": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "preprocessing": [StrOptions({"auto", "caffe", "torchvision"})],
        "precision": [StrOptions({"fp32", "bf16", "tf32"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        weights="vgg19-normalized",
        layers=DEFAULT_HYPERCOLUMN_LAYERS,
        pooling="avg",
        n_components=None,
        preprocessing="auto",
        precision="fp32",
        random_state=None,
        tile_size=None,
        image_shape=None,
        device="auto",
        batch_size=2,
        n_jobs=None,
        verbose=0,
    ):
        self.weights = weights
        self.layers = layers
        self.pooling = pooling
        self.n_components = n_components
        self.preprocessing = preprocessing
        self.precision = precision
        self.random_state = random_state
        self.tile_size = tile_size
        self.image_shape = image_shape
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_common_params(self):
        super()._check_common_params()
        # Set here because the image check that follows needs the layers (minimum size).
        self.layers_ = tuple(sorted(self._checked_layers(), key=_vgg19().LAYER_NAMES.index))

    def _align(self):
        return 2 ** self._pools()

    def _fit_dense(self, images):
        self._fit_network(resolve_device(self.device, caller=type(self).__name__))
        channels = _vgg19().LAYER_CHANNELS
        self.n_output_features_ = int(self.n_components or sum(
            channels[lay] for lay in self.layers_))
        self.halo_ = hypercolumn_halo(self.layers_)

    def _feature_names(self):
        if self.n_components is not None:
            return [f"vgghc_rp{i}" for i in range(self.n_components)]
        channels = _vgg19().LAYER_CHANNELS
        return [f"{lay}_c{c}" for lay in self.layers_ for c in range(channels[lay])]

    def _projections(self, device):
        """Per layer, the rows of the (n_channels, n_components) projection for its channels."""
        vgg = _vgg19()
        sizes = [vgg.LAYER_CHANNELS[lay] for lay in self.layers_]
        key = ("hypercolumn", self._seed, tuple(sizes), self.n_components, str(device))

        def build():
            torch = get_torch()
            rng = np.random.default_rng([self._seed, 2])  # apart from the weights' stream
            full = rng.standard_normal((sum(sizes), self.n_components)) / np.sqrt(
                self.n_components)
            full = torch.as_tensor(full, dtype=torch.float32, device=device)
            return list(torch.split(full, sizes))

        return PROJECTIONS.get(key, build)

    def _window_function(self, device):
        torch = get_torch()
        net = self._network(device)
        layers, prep = self.layers_, self._preprocessing()
        factors = [2 ** _vgg19().pools_before(lay) for lay in layers]
        precision = resolve_precision(self.precision, device, caller=type(self).__name__)
        proj = None if self.n_components is None else self._projections(device)

        def run(batch):  # (b, h, w, 3) RGB in [0, 1]
            b, h, w = batch.shape[:3]
            with conv_precision(precision, batch.device, torch):
                acts = net(network_input(batch, prep, torch), layers)
            if proj is not None:
                out = None
                for lay, f, p in zip(layers, factors, proj):
                    low = acts[lay].float().permute(0, 2, 3, 1) @ p  # (b, h_l, w_l, k)
                    up = upsample_bilinear(low, f, h, w)
                    out = up if out is None else out.add_(up)
                return out
            return torch.cat([upsample_bilinear(acts[lay].float().permute(0, 2, 3, 1), f, h, w)
                              for lay, f in zip(layers, factors)], dim=-1)

        return run
