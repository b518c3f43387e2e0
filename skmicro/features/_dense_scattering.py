"""ScatteringPixelFeatures: the scattering transform's local maps at every pixel."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._engine import get_torch
from .._validation import Interval
from ._base import floored_log10
from ._dense import DENSE_CONSTRAINTS, DensePixelTransformer
from ._scattering_core import get_filter_bank

__all__ = ["ScatteringPixelFeatures", "scattering_halo", "scattering_maps"]

# Filters are cut (for the tiles' overlap) at this many standard deviations of their Gaussian
# envelope: what lies beyond weighs exp(-12.5) = 4e-6 of the peak, float32 rounding's order.
_ENVELOPE_SIGMAS = 5.0


def _reach(sigma):
    return int(math.ceil(_ENVELOPE_SIGMAS * sigma))


def scattering_halo(J, L, max_order, smooth):
    """Receptive-field radius (pixels) of the dense scattering maps.

    The wavelet ``psi_j`` has a Gaussian envelope of deviation ``0.8 * 2**j`` along its
    oscillation and ``0.8 * 2**j * L / 4`` across it (kymatio's slant ``4 / L``), the low-pass
    ``phi_J`` one of ``0.8 * 2**(J-1)``; each reaches 5 deviations. The radius is the sum
    along the deepest chain: ``psi_{J-1}`` (and ``psi_{J-2}`` before it for order 2), then
    ``phi_J`` when smoothing.

    Examples
    --------
    >>> from skmicro.features._dense_scattering import scattering_halo
    >>> scattering_halo(4, 8, 1, True), scattering_halo(4, 8, 1, False)
    (96, 64)
    """
    def psi(j):
        return _reach(0.8 * 2**j * max(1.0, L / 4))

    halo = psi(J - 1) + (psi(J - 2) if max_order == 2 and J >= 2 else 0)
    return halo + (_reach(0.8 * 2 ** (J - 1)) if smooth else 0)


def _layout(J, L, max_order, rotation_invariant):
    """Channel names, in output order (``ScatteringFeatures``' names and order)."""
    names = ["S0"]
    pairs = [(j1, j2) for j1 in range(J) for j2 in range(j1 + 1, J)] if max_order == 2 else []
    if rotation_invariant:
        names += [f"S1_j{j}" for j in range(J)]
        names += [f"S2_j{j1}_j{j2}_d{d}" for j1, j2 in pairs for d in range(L)]
    else:
        names += [f"S1_j{j}_t{t}" for j in range(J) for t in range(L)]
        names += [f"S2_j{j1}_t{t1}_j{j2}_t{t2}" for j1 in range(J) for t1 in range(L)
                  for j2 in range(j1 + 1, J) for t2 in range(L)] if max_order == 2 else []
    return names


class ScatteringPixelFeatures(DensePixelTransformer):
    """The scattering transform's local maps, at the input's full resolution.

    With the filters of :class:`ScatteringFeatures` (kymatio's Morlet wavelets ``psi_{j,t}``
    and low-pass ``phi_J``), every pixel gets ``S0 = x * phi_J``,
    ``S1(j, t) = |x * psi_{j,t}| * phi_J`` and, for ``max_order=2``,
    ``S2(j1, t1, j2, t2) = ||x * psi_{j1,t1}| * psi_{j2,t2}| * phi_J`` (``j2 > j1``),
    computed without subsampling (a stride-1 version of kymatio's local maps, which it
    subsamples by ``2**J``). Channel names and order are ``ScatteringFeatures``'.

    Parameters
    ----------
    J : int, default=4
        Number of scales: the largest wavelet spans about ``2**J`` pixels.
    L : int, default=8
        Number of orientations in [0, pi).
    max_order : {1, 2}, default=1
        Highest order. Order 2 costs ``L * J * (J - 1) / 2`` more full-resolution inverse FFTs
        per first-order map (192 for J=4, L=8): several seconds per megapixel on a CPU.
    smooth : bool, default=True
        Low-pass the maps with ``phi_J`` (local averages over about ``2**J`` pixels, the
        scattering coefficients proper). False keeps the wavelet modulus maps themselves
        (``S0`` is then the image).
    rotation_invariant : bool, default=False
        Average over orientations: ``S1_j{j}`` is the mean over ``t``, ``S2_j{j1}_j{j2}_d{d}``
        the mean over ``t1`` of ``S2(j1, t1, j2, t1 + d mod L)``, as in
        :class:`ScatteringFeatures`.
    log : bool, default=False
        Return ``log10(max(S, 1e-6))`` for S1 and S2 (S0 stays linear).
    tile_size : int or None, default=None
        Side of the square tiles an image is computed in (each grown by ``halo_`` on every
        side); None means 1024. See Notes.
    image_shape : tuple (h, w) or None, default=None
        Needed for 2-D tabular input ``(n_samples, h * w)``.
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
    batch_size : int, default=4
        Images (tiles) per batch (halved automatically on CUDA out-of-memory).
    n_jobs : int or None, default=None
        CPU threads for torch: None or -1 all cores, -2 all but one, k exactly k.
    verbose : int, default=0
        Show a progress bar (over images times tiles) when positive.

    Attributes
    ----------
    n_output_features_ : int
        Channels per pixel: ``1 + J*L`` (order 1), plus ``L**2 * J*(J-1)/2`` for order 2;
        ``1 + J (+ L * J*(J-1)/2)`` rotation-invariant.
    halo_ : int
        Receptive-field radius in pixels (:func:`scattering_halo`; 96 for the defaults).

    See Also
    --------
    ScatteringFeatures : the global (and subsampled local) scattering descriptor.
    FilterBankPixelFeatures, VGGHypercolumnPixelFeatures : other dense descriptors.

    Notes
    -----
    Borders: each image (or tile window) is extended by ``halo_`` pixels with kymatio's
    reflect padding (mirrored without repeating the edge pixel) before the FFT convolutions,
    so no circular wrap-around reaches the image, unlike kymatio's own maps, which wrap
    beyond a padding of about ``2**J``. Tiling is then exact up to the filters' truncation at
    5 deviations of their envelope (a relative ``4e-6``): tiled and whole-image maps agree to
    float32 rounding (tested with 64-pixel tiles). Colour images are reduced to luminance.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro import ScatteringPixelFeatures
    >>> images = np.random.default_rng(0).random((1, 40, 48))
    >>> sc = ScatteringPixelFeatures(J=2, L=4, rotation_invariant=True, device="cpu")
    >>> sc.fit_transform(images).shape, sc.get_feature_names_out().tolist()
    ((1, 40, 48, 3), ['S0', 'S1_j0', 'S1_j1'])
    """

    _parameter_constraints = {
        **DENSE_CONSTRAINTS,
        "J": [Interval(numbers.Integral, 1, None, closed="left")],
        "L": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_order": [Interval(numbers.Integral, 1, 2, closed="both")],
        "smooth": ["boolean"],
        "rotation_invariant": ["boolean"],
        "log": ["boolean"],
    }

    def __init__(
        self,
        *,
        J=4,
        L=8,
        max_order=1,
        smooth=True,
        rotation_invariant=False,
        log=False,
        tile_size=None,
        image_shape=None,
        device="auto",
        batch_size=4,
        n_jobs=None,
        verbose=0,
    ):
        self.J = J
        self.L = L
        self.max_order = max_order
        self.smooth = smooth
        self.rotation_invariant = rotation_invariant
        self.log = log
        self.tile_size = tile_size
        self.image_shape = image_shape
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit_dense(self, images):
        self.n_output_features_ = len(self._feature_names())
        self.halo_ = scattering_halo(self.J, self.L, self.max_order, self.smooth)

    def _feature_names(self):
        return _layout(self.J, self.L, self.max_order, bool(self.rotation_invariant))

    def _window_function(self, device):
        params = dict(J=int(self.J), L=int(self.L), max_order=int(self.max_order),
                      smooth=bool(self.smooth), rotation_invariant=bool(self.rotation_invariant),
                      log=bool(self.log), extend=self.halo_)

        def run(batch):
            return scattering_maps(batch, **params)

        return run


def _reflect_index(n, pad):
    """kymatio's reflect extension by ``pad`` (mirror without repeating the edge), repeated
    as often as needed; a single sample is repeated."""
    if n == 1:
        return np.zeros(n + 2 * pad, dtype=np.int64)
    i = np.mod(np.arange(-pad, n + pad), 2 * n - 2)
    return np.where(i < n, i, 2 * n - 2 - i)


def _times(spectrum, filters):
    """``spectrum * filters`` (complex times real, broadcast); on the CPU through numpy, 5x
    torch's complex-by-real product there."""
    if spectrum.device.type == "cpu":
        return get_torch().from_numpy(np.multiply(spectrum.numpy(), filters.numpy()))
    return spectrum * filters


def _modulus(z):
    """``|z|``; on the CPU through numpy, whose complex abs is several times torch's."""
    if z.device.type == "cpu":
        return get_torch().from_numpy(np.abs(z.numpy()))
    return z.abs()


def scattering_maps(x, *, J, L, max_order, smooth, rotation_invariant, log, extend):
    """Dense scattering maps of a batch: float32 tensor (b, h, w) -> (b, h, w, channels).

    The batch is reflect-extended by ``extend`` pixels (at least the receptive field, so that
    the FFTs' circular wrap never reaches it), then padded to the filter bank's size.
    """
    torch = get_torch()
    b, h, w = x.shape
    dev = x.device
    xe = x.index_select(1, torch.as_tensor(_reflect_index(h, extend), device=dev))
    xe = xe.index_select(2, torch.as_tensor(_reflect_index(w, extend), device=dev))
    bank = get_filter_bank(tuple(xe.shape[1:]), J, L, dev)
    xp = xe.index_select(1, bank["rows"]).index_select(2, bank["cols"])
    H, W = xp.shape[1:]
    top = (H - xe.shape[1]) // 2 + extend
    left = (W - xe.shape[2]) // 2 + extend
    phi = bank["phi"][0][:, : W // 2 + 1]

    def readout(u):  # (..., H, W) real -> low-passed (if smooth) and cropped to (..., h, w)
        if smooth:
            u = torch.fft.irfft2(_times(torch.fft.rfft2(u), phi), s=(H, W))
        return u[..., top:top + h, left:left + w]

    def post(s):
        return floored_log10(s) if log else s

    out = [readout(xp)[..., None]]
    spec = torch.fft.fft2(xp)[:, None]  # (b, 1, H, W)
    s1, s2 = [], []
    for j1 in range(J):
        u1 = _modulus(torch.fft.ifft2(_times(spec, bank["psi"][j1][0])))  # (b, L, H, W)
        s1.append(readout(u1))
        if max_order < 2 or j1 == J - 1:
            continue
        u1_spec = torch.fft.fft2(u1)
        for t1 in range(L):
            for j2 in range(j1 + 1, J):
                u2 = _modulus(torch.fft.ifft2(_times(u1_spec[:, t1:t1 + 1],
                                                     bank["psi"][j2][0])))
                s2.append(((j1, t1, j2), readout(u2)))  # (b, L, h, w) over t2
    s1 = torch.stack(s1, dim=1)  # (b, J, L, h, w)
    if rotation_invariant:
        out.append(post(s1.mean(dim=2)).permute(0, 2, 3, 1))
        pairs = [(j1, j2) for j1 in range(J) for j2 in range(j1 + 1, J)] if s2 else []
        for j1, j2 in pairs:
            rows = [m for (a, _, c), m in s2 if (a, c) == (j1, j2)]  # t1 = 0 .. L-1
            pooled = sum(torch.roll(m, -t1, dims=1) for t1, m in enumerate(rows)) / L
            out.append(post(pooled).permute(0, 2, 3, 1))  # over d = t2 - t1 mod L
    else:
        out.append(post(s1.flatten(1, 2)).permute(0, 2, 3, 1))
        order = sorted(range(len(s2)), key=lambda i: s2[i][0])  # (j1, t1, j2), t2 inner
        out += [post(s2[i][1]).permute(0, 2, 3, 1) for i in order]
    return torch.cat(out, dim=-1)
