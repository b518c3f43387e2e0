"""FilterBankPixelFeatures: the classical per-pixel filter bank at an explicit list of scales."""

from __future__ import annotations

import numbers

import numpy as np

from .._engine import get_torch
from .._validation import Interval
from ._dense import DENSE_CONSTRAINTS, DensePixelTransformer
from ._vgg_gram import conv_precision

__all__ = ["FilterBankPixelFeatures", "FILTER_BANK_FEATURES", "gaussian_radius"]

#: The filters, in output order.
FILTER_BANK_FEATURES = ("intensity", "gaussian", "gradient_magnitude", "hessian_eigenvalues",
                        "difference_of_gaussians")


def gaussian_radius(sigma, truncate=4.0):
    """Half-width of the sampled Gaussian kernel, scipy's rule ``int(truncate * sigma + 0.5)``.

    Examples
    --------
    >>> from skmicro.features._dense_filter_bank import gaussian_radius
    >>> gaussian_radius(16), gaussian_radius(0.5)
    (64, 2)
    """
    return int(truncate * float(sigma) + 0.5)


class FilterBankPixelFeatures(DensePixelTransformer):
    """Per-pixel filter bank: Gaussian, gradient magnitude, Hessian eigenvalues, DoG.

    For every scale ``sigma`` of an explicit list, the image is smoothed with a Gaussian
    (``scipy.ndimage.gaussian_filter`` with ``mode="reflect"``: the image mirrored about its
    border, edge pixel repeated); derivatives are central differences of the smoothed image
    (one-sided at the border), as ``numpy.gradient`` and scikit-image's
    ``multiscale_basic_features`` compute them. The channels, in this order (each filter over
    all scales before the next filter):

    * ``"intensity"``: the image itself (1 channel);
    * ``"gaussian"``: ``G_s * x`` (1 per scale);
    * ``"gradient_magnitude"``: ``sqrt(d_row^2 + d_col^2)`` of ``G_s * x`` (1 per scale);
    * ``"hessian_eigenvalues"``: the two eigenvalues of the Hessian of ``G_s * x``, larger
      first (2 per scale; ``H_rc = d_col(d_row(G_s * x))``, as scikit-image's
      ``hessian_matrix(use_gaussian_derivatives=False)``);
    * ``"difference_of_gaussians"``: ``G_{s_i} * x - G_{s_{i+1}} * x`` for consecutive scales
      (``len(sigmas) - 1`` channels: band-passes between the listed scales).

    Parameters
    ----------
    sigmas : sequence of float, default=(0.5, 1, 2, 4, 8, 16)
        Gaussian scales in pixels, strictly increasing and positive.
    features : sequence of str, default=("intensity", "gaussian", "gradient_magnitude", \
"hessian_eigenvalues", "difference_of_gaussians")
        Which filters, any non-empty subset of the five above (output order is always the
        one above).
    truncate : float, default=4.0
        Gaussian kernels are cut at ``truncate * sigma`` (scipy's parameter).
    tile_size : int or None, default=None
        Side of the square tiles an image is computed in (each grown by ``halo_`` on every
        side); None means 1024. The result does not depend on it (to float rounding).
    image_shape : tuple (h, w) or None, default=None
        Needed for 2-D tabular input ``(n_samples, h * w)``.
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
        On the CPU the Gaussians run in scipy (5x faster there than torch's convolutions);
        elsewhere in torch, with the same kernels.
    batch_size : int, default=8
        Images per batch (halved automatically on CUDA out-of-memory).
    n_jobs : int or None, default=None
        CPU threads for torch: None or -1 all cores, -2 all but one, k exactly k. The CPU
        path itself (scipy and numpy) is single-threaded.
    verbose : int, default=0
        Show a progress bar (over images times tiles) when positive.

    Attributes
    ----------
    n_output_features_ : int
        Channels per pixel.
    halo_ : int
        Receptive-field radius in pixels: ``gaussian_radius(max(sigmas), truncate) + 2``
        (two difference steps). Tiles overlap by at least this much.
    sigmas_ : tuple of float
    features_ : tuple of str
        The validated filters, in output order.
    n_features_in_ : int
        Only set when fitted on 2-D tabular input.

    See Also
    --------
    ScatteringPixelFeatures, VGGHypercolumnPixelFeatures : other dense descriptors.
    FunctionPixelFeatures : any per-pixel function of your own.

    Notes
    -----
    ``fit`` learns only the input contract (channels, tabular shape); ``transform`` takes
    images of any size, all of one size per call. Colour images are reduced to luminance.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro import FilterBankPixelFeatures
    >>> ramp = np.tile(np.arange(32, dtype=np.float32) * 0.01, (32, 1))[None]  # slope 0.01
    >>> fb = FilterBankPixelFeatures(sigmas=(1, 2), features=("gradient_magnitude",))
    >>> maps = fb.fit_transform(ramp)
    >>> maps.shape, fb.get_feature_names_out().tolist()
    ((1, 32, 32, 2), ['gradient_magnitude_sigma1', 'gradient_magnitude_sigma2'])
    >>> float(np.round(maps[0, 16, 16, 0], 6))  # away from the border: the slope
    0.01
    """

    _parameter_constraints = {
        **DENSE_CONSTRAINTS,
        "sigmas": ["array-like"],
        "features": [list, tuple],
        "truncate": [Interval(numbers.Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        *,
        sigmas=(0.5, 1, 2, 4, 8, 16),
        features=FILTER_BANK_FEATURES,
        truncate=4.0,
        tile_size=None,
        image_shape=None,
        device="auto",
        batch_size=8,
        n_jobs=None,
        verbose=0,
    ):
        self.sigmas = sigmas
        self.features = features
        self.truncate = truncate
        self.tile_size = tile_size
        self.image_shape = image_shape
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_common_params(self):
        super()._check_common_params()
        name = type(self).__name__
        try:
            sigmas = np.asarray(self.sigmas, dtype=np.float64)
        except (TypeError, ValueError):
            sigmas = np.asarray([np.nan])
        if (sigmas.ndim != 1 or sigmas.size == 0 or not np.isfinite(sigmas).all()
                or (sigmas <= 0).any() or (np.diff(sigmas) <= 0).any()):
            raise ValueError(
                f"The 'sigmas' parameter of {name} must be a non-empty, strictly increasing "
                f"sequence of positive scales in pixels, e.g. (0.5, 1, 2, 4, 8, 16). Got "
                f"{self.sigmas!r} instead; sorted(set(sigmas)) fixes the order."
            )
        features = list(self.features)
        if (not features or len(set(features)) != len(features)
                or any(f not in FILTER_BANK_FEATURES for f in features)):
            raise ValueError(
                f"The 'features' parameter of {name} must be a non-empty sequence of distinct "
                f"names from {', '.join(map(repr, FILTER_BANK_FEATURES))}. Got "
                f"{self.features!r} instead."
            )
        if features == ["difference_of_gaussians"] and sigmas.size < 2:
            raise ValueError(
                f"{name}: features=('difference_of_gaussians',) needs at least two sigmas (it "
                f"differences consecutive scales). Got sigmas={self.sigmas!r}."
            )
        self.sigmas_ = tuple(float(s) for s in sigmas)
        self.features_ = tuple(f for f in FILTER_BANK_FEATURES if f in features)

    def _fit_dense(self, images):
        self.n_output_features_ = len(self._feature_names())
        smooths = any(f != "intensity" for f in self.features_)
        self.halo_ = gaussian_radius(self.sigmas_[-1], self.truncate) + 2 if smooths else 0

    def _feature_names(self):
        s = [f"sigma{v:g}" for v in self.sigmas_]
        per = {
            "intensity": ["intensity"],
            "gaussian": [f"gaussian_{v}" for v in s],
            "gradient_magnitude": [f"gradient_magnitude_{v}" for v in s],
            "hessian_eigenvalues": [f"hessian_eig{k}_{v}" for v in s for k in (1, 2)],
            "difference_of_gaussians": [f"dog_{a}_{b}" for a, b in zip(s, s[1:])],
        }
        return [n for f in self.features_ for n in per[f]]

    def _window_function(self, device):
        sigmas, features, truncate = self.sigmas_, self.features_, self.truncate

        def run(batch):  # numpy on the CPU (see filter_bank), torch elsewhere
            return filter_bank(batch.numpy() if batch.device.type == "cpu" else batch,
                               sigmas, features, truncate)

        return run


# ------------------------------------------------------------------------------ the math
def filter_bank(images, sigmas, features, truncate=4.0):
    """The filter-bank channels of a batch: float32 (b, h, w) -> (b, h, w, k).

    ``images`` is a numpy array (computed with scipy and numpy, single-threaded: on a loaded
    CPU numpy's element-wise loops are several times faster than torch's threaded ones) or a
    torch tensor on any device (computed in torch). See :class:`FilterBankPixelFeatures` for
    the channels; ``features`` must be in its order.
    """
    xp = np if isinstance(images, np.ndarray) else get_torch()
    out = []
    if "intensity" in features:
        out.append(images)
    smooth = ([gaussian_smooth(images, s, truncate) for s in sigmas]
              if features != ("intensity",) else [])
    if "gaussian" in features:
        out += smooth
    need_grad = "gradient_magnitude" in features or "hessian_eigenvalues" in features
    grads = [(_diff(g, 1), _diff(g, 2)) for g in smooth] if need_grad else []
    if "gradient_magnitude" in features:
        out += [xp.hypot(gr, gc) for gr, gc in grads]
    if "hessian_eigenvalues" in features:
        for gr, gc in grads:
            hrr, hrc, hcc = _diff(gr, 1), _diff(gr, 2), _diff(gc, 2)
            mean, radius = (hrr + hcc) / 2, xp.hypot((hrr - hcc) / 2, hrc)
            out += [mean + radius, mean - radius]
    if "difference_of_gaussians" in features:
        out += [a - b for a, b in zip(smooth, smooth[1:])]
    return xp.stack(out, -1)


def _diff(a, axis):
    """``numpy.gradient`` along ``axis`` 1 or 2 of a (b, h, w) array or tensor (unit spacing,
    first-order one-sided at the ends; zero along an axis of one sample)."""
    d = a * 0
    if a.shape[axis] < 2:
        return d
    if axis == 1:
        d[:, 1:-1] = (a[:, 2:] - a[:, :-2]) / 2
        d[:, 0], d[:, -1] = a[:, 1] - a[:, 0], a[:, -1] - a[:, -2]
    else:
        d[:, :, 1:-1] = (a[:, :, 2:] - a[:, :, :-2]) / 2
        d[:, :, 0], d[:, :, -1] = a[:, :, 1] - a[:, :, 0], a[:, :, -1] - a[:, :, -2]
    return d


def _gaussian_kernel(sigma, truncate):
    """scipy's sampled, normalized Gaussian (``scipy.ndimage.gaussian_filter1d``)."""
    r = gaussian_radius(sigma, truncate)
    x = np.arange(-r, r + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def gaussian_smooth(images, sigma, truncate=4.0):
    """``scipy.ndimage.gaussian_filter`` of each image of (b, h, w), mode "reflect".

    Numpy arrays go through scipy itself; torch tensors through separable convolutions with
    the same kernel and the same mirrored border.
    """
    if isinstance(images, np.ndarray):
        from scipy import ndimage  # noqa: PLC0415

        out = np.empty_like(images)
        for i in range(images.shape[0]):
            ndimage.gaussian_filter(images[i], sigma, output=out[i], mode="reflect",
                                    truncate=truncate)
        return out
    torch = get_torch()
    F = torch.nn.functional
    kernel = torch.as_tensor(_gaussian_kernel(sigma, truncate), dtype=torch.float32,
                             device=images.device)
    r = (len(kernel) - 1) // 2
    b, h, w = images.shape
    rows = torch.as_tensor(_reflect_index(h, r), device=images.device)
    cols = torch.as_tensor(_reflect_index(w, r), device=images.device)
    x = images.index_select(1, rows).index_select(2, cols)[:, None]
    with conv_precision("fp32", images.device, torch):  # never cuDNN's default TF32
        x = F.conv2d(x, kernel.view(1, 1, -1, 1))
        return F.conv2d(x, kernel.view(1, 1, 1, -1))[:, 0]


def _reflect_index(n, r):
    """Source index of each sample of ``n`` samples extended by ``r`` each side, scipy's
    "reflect" (numpy's "symmetric": ``d c b a | a b c d | d c b a``, repeated)."""
    i = np.arange(-r, n + r)
    i = np.mod(i, 2 * n)
    return np.where(i < n, i, 2 * n - 1 - i)
