"""Wavelet scattering descriptors (seed 000, eqs. 1-3): the "microstructure genome"."""

from __future__ import annotations

import functools
import numbers
from types import SimpleNamespace

import numpy as np

from .._engine import get_torch, map_batches
from .._validation import Interval, StrOptions
from ._base import (
    IMAGE_TRANSFORMER_CONSTRAINTS,
    LOG_FLOOR,
    ImageTransformer,
    check_image_tensor,
    floored_log10,
)
from .._engine import map_image_threads
from ._scattering_core import get_filter_bank, padded_shape, scattering_coefficients
from ._scattering_readout import depth_of_well, orientation_profile

__all__ = ["ScatteringFeatures", "LOG_FLOOR"]


def _wrap_index(shape, J, device):
    """Padding indices that wrap around (the periodic continuation) instead of reflecting."""
    torch = get_torch()
    padded = padded_shape(shape, J)
    index = [torch.as_tensor((np.arange(p) - (p - s) // 2) % s, device=device)
             for s, p in zip(shape, padded)]
    return {"rows": index[0], "cols": index[1]}


@functools.lru_cache(maxsize=64)
def _layout(J, L, max_order, rotation_invariant):
    """Names and flat indices of the output paths, in kymatio's order.

    Returns (names, s1_index, s2_index): indices into the flattened S1 (J, L) [or (J,) when
    rotation invariant] and S2 (J, L, J, L) [or (J, J, L) = (j1, j2, delta)] tensors.
    """
    names = ["S0"]
    pairs = [(j1, j2) for j1 in range(J) for j2 in range(j1 + 1, J)] if max_order == 2 else []
    if rotation_invariant:
        names += [f"S1_j{j}" for j in range(J)]
        s1 = np.arange(J)
        s2 = [(j1 * J + j2) * L + d for j1, j2 in pairs for d in range(L)]
        names += [f"S2_j{j1}_j{j2}_d{d}" for j1, j2 in pairs for d in range(L)]
    else:
        names += [f"S1_j{j}_t{t}" for j in range(J) for t in range(L)]
        s1 = np.arange(J * L)
        quads = [(j1, t1, j2, t2) for j1 in range(J) for t1 in range(L)
                 for j2 in range(j1 + 1, J) for t2 in range(L)] if max_order == 2 else []
        s2 = [np.ravel_multi_index(q, (J, L, J, L)) for q in quads]
        names += [f"S2_j{a}_t{b}_j{c}_t{d}" for a, b, c, d in quads]
    return tuple(names), s1, np.asarray(s2, dtype=np.int64)


class ScatteringFeatures(ImageTransformer):
    """Morlet wavelet scattering coefficients S0, S1, S2 of each image (seed 000, eqs. 1-3).

    ``S0 = x * phi_J``, ``S1(j1, t1) = |x * psi_{j1,t1}| * phi_J`` and
    ``S2(j1, t1, j2, t2) = ||x * psi_{j1,t1}| * psi_{j2,t2}| * phi_J`` (``j2 > j1``) with
    kymatio's Morlet filters, reflect padding and order: S0, then S1 with scale ``j`` outer and
    orientation ``t`` inner, then S2 ordered by ``(j1, t1, j2, t2)``. There are
    ``1 + J*L + L**2 * J*(J-1)/2`` paths (417 for J=4, L=8).

    Parameters
    ----------
    J : int, default=4
        Number of scales; the largest wavelet and the averaging window span ``2**J`` pixels.
        Images must be at least ``2**J`` pixels in each dimension.
    L : int, default=8
        Number of orientations in [0, pi).
    max_order : {1, 2}, default=2
        Highest scattering order computed.
    average : {"global", "local", "geometric"}, default="global"
        "global": one number per path, the spatial mean of kymatio's coefficient map (exactly,
        up to float32 rounding; see Notes), so images of any size can be mixed. "local": the
        maps themselves, ``(M // 2**J) x (N // 2**J)`` per path, flattened path-major; all
        images must then have the training size. "geometric": one number per path, the
        geometric mean of the map, ``10 ** mean(log10(max(map, LOG_FLOOR)))`` (with
        ``log=True`` its log10, the spatial mean of the log of the local coefficients), S0
        staying the arithmetic mean; images of any size can be mixed. Not in the seed: an
        opt-in pooling for area fractions (see Notes).
    log : bool, default=False
        Return ``log10(max(S, LOG_FLOOR))`` for S1 and S2 (``LOG_FLOOR = 1e-6``, the floor
        shared by the descriptors, ``skmicro.features._base.LOG_FLOOR``), as in the
        seed's figures. S0 stays linear: it is a weighted mean intensity and can be negative.
    rotation_invariant : bool, default=False
        Average over orientations: S1 becomes ``S1_j{j}`` (mean over t) and S2 becomes
        ``S2_j{j1}_j{j2}_d{d}``, the mean over ``t1`` of ``S2(j1, t1, j2, t1 + d mod L)``.
        Output size ``1 + J + L * J*(J-1)/2`` (53 for J=4, L=8). Exactly invariant to
        rotations by multiples of ``pi / L`` of the filters; for images, rotations by 90
        degrees hold up to the boundary handling.
    normalize : bool, default=False
        Divide S2 by its parent S1 ``(j1, t1)`` (Bruna & Mallat), parents below ``LOG_FLOOR``
        being replaced by it. Applied before the rotation average and the log.
    image_shape : tuple (h, w) or None, default=None
        Shape of one image when X is a 2-D table ``(n_samples, h * w)``.
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
    batch_size : int, default=16
        Images per device batch (halved automatically on CUDA out-of-memory). On CPU a
        batch needs about 1 MB per 256x256 image plus tens of MB per thread (the work runs
        in cache-sized chunks).
    n_jobs : int or None, default=None
        CPU threads during transform: None or -1 all cores, -2 all but one, k exactly k. On
        CPU each thread computes its own share of a batch's images.
    verbose : int, default=0
        Show a progress bar when > 0.

    Attributes
    ----------
    image_shape_ : tuple (h, w) or None
        Training image size (None for mixed sizes in global mode).
    n_output_features_ : int
    n_features_in_ : int
        Only set when fitted on a 2-D table.

    See Also
    --------
    PowerSpectrumFeatures : Fourier power spectrum and two-point statistics.
    VGGGramFeatures : CNN Gram-matrix texture vector.

    Notes
    -----
    **What "global" computes.** kymatio low-passes ``|U|`` with ``phi_J``, subsamples by
    ``2**(J-j)`` and drops one border sample each side; all of that is linear in ``|U|``, so the
    spatial mean of the map equals ``sum_p |U|[p] w_j[p]`` for a fixed weight map ``w_j``
    that is computed once per image size. This skips every low-pass FFT, and matches kymatio's
    numpy frontend to about 1e-6 relative (float32). In particular **S0** is not
    ``np.mean(image)`` but kymatio's smoothed mean: a weighted mean of the reflect-padded image
    whose weights sum to ``phi_hat(0) = 1.00003`` (the filter's normalization), so a constant
    image ``c`` gives ``1.00003 c`` and other images differ from ``np.mean`` by border
    weighting (a few per cent on small images). The seed's "total sum" is this mean times the
    number of samples; its plots use log10, i.e. ``log=True`` up to a constant shift.

    **Geometric pooling** (``average="geometric"``). The log of a spatial mean,
    ``log(f a + (1 - f) b)`` for a region made of a fraction ``f`` of one texture (local
    coefficient ``a``) and ``1 - f`` of another (``b``), is not linear in ``f``; the mean of
    the log over the ``2**J``-pixel windows, ``f log a + (1 - f) log b``, is. So a linear
    model of ``log=True`` geometric features can read area fractions of textures (phase or
    microconstituent fractions of a tile) where the global average blends them; the texture
    of each window must still be told apart at the ``2**J`` scale (``J=3`` on the UHCS
    micrographs at 0.194 um per pixel, docs/phase_fractions.md). Costs the local maps'
    low-pass filtering, like ``average="local"``.

    **Image sizes.** Filters are built on first use and cached per process for each (image
    size, J, L, device) in a least-recently-used cache of at most 16 banks and 1 GiB
    (``skmicro.clear_caches()`` empties it; a 437x551 bank at J=4, L=8 holds 107 MB, so
    about nine sizes of 400-600 pixels a side stay cached). A new size costs 0.3-0.6 s of
    set-up on an idle 2-core CPU (J=4, L=8, 400-600 pixels a side; kymatio's frontends spend tens
    of seconds on the same bank), and images of a cached size reuse it in any order. Images are
    never padded to shared sizes: that changed the coefficients by 1-2% (median; up to 22%)
    for little saving (docs/scattering.md, "What a new image size costs"). Filters are never stored on the estimator, so ``clone``,
    pickling and ``set_params`` inside a grid search always see the current parameters.

    References
    ----------
    S. Mallat, "Group invariant scattering", Comm. Pure Appl. Math. 65 (2012).
    J. Bruna, S. Mallat, "Invariant scattering convolution networks", IEEE TPAMI 35 (2013).
    M. Andreux et al., "Kymatio: Scattering transforms in Python", JMLR 21 (2020).

    Examples
    --------
    The seed's 48-number first-order descriptor (6 scales x 8 orientations) of an image of
    horizontal bands: the strongest orientation at the band's scale is ``t = 3``, the wavelet
    that oscillates down the rows.

    >>> import numpy as np
    >>> from skmicro import ScatteringFeatures
    >>> bands = np.sin(2 * np.pi * np.arange(64) / 8)[:, None] * np.ones((1, 64))
    >>> sf = ScatteringFeatures(J=6, L=8, max_order=1, log=True, device="cpu")
    >>> F = sf.fit_transform(bands[None])
    >>> F.shape, sf.get_feature_names_out()[1:3].tolist()
    ((1, 49), ['S1_j0_t0', 'S1_j0_t1'])
    >>> profile = sf.orientation_profile(F)             # (n, J, L) = the 48 numbers
    >>> profile.shape, int(profile[0, 2].argmax())
    ((1, 6, 8), 3)
    """

    _parameter_constraints = {
        **IMAGE_TRANSFORMER_CONSTRAINTS,
        "J": [Interval(numbers.Integral, 1, None, closed="left")],
        "L": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_order": [Interval(numbers.Integral, 1, 2, closed="both")],
        "average": [StrOptions({"global", "local", "geometric"})],
        "log": ["boolean"],
        "rotation_invariant": ["boolean"],
        "normalize": ["boolean"],
    }

    def __init__(
        self,
        *,
        J=4,
        L=8,
        max_order=2,
        average="global",
        log=False,
        rotation_invariant=False,
        normalize=False,
        image_shape=None,
        device="auto",
        batch_size=16,
        n_jobs=None,
        verbose=0,
    ):
        self.J = J
        self.L = L
        self.max_order = max_order
        self.average = average
        self.log = log
        self.rotation_invariant = rotation_invariant
        self.normalize = normalize
        self.image_shape = image_shape
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- ImageTransformer hooks ---------------------------------------------------------------
    def _min_shape(self):
        return (2**self.J, 2**self.J)

    def _allow_mixed_sizes(self):
        return self.average != "local"

    def _layout_key(self):
        """The parameters that fix the output layout (a change needs a new fit)."""
        return (int(self.J), int(self.L), int(self.max_order), self.average,
                bool(self.rotation_invariant))

    def _map_shape(self, shape):
        return (shape[0] // 2**self.J, shape[1] // 2**self.J) if self.average == "local" else ()

    def _fit_images(self, images):
        self.image_shape_ = images.single_shape
        names = _layout(*self._layout_key()[:3], bool(self.rotation_invariant))[0]
        self._fitted_layout = self._layout_key()
        self.n_output_features_ = len(names) * int(np.prod(self._map_shape(self.image_shape_
                                                                           or (0, 0))))
        return self

    def _check_transform_images(self, images):
        if self._layout_key() != self._fitted_layout:
            raise ValueError(
                "ScatteringFeatures: J, L, max_order, average or rotation_invariant changed "
                f"since fit (fitted with {self._fitted_layout}, now {self._layout_key()}). "
                "Call fit again."
            )
        if self.average == "local":
            self._check_same_size_as_fit(images, "average='global' for mixed sizes")

    def _feature_names(self):
        names = _layout(*self._layout_key()[:3], bool(self.rotation_invariant))[0]
        if self.average != "local":
            return list(names)
        h, w = self._map_shape(self.image_shape_)
        return [f"{n}_y{i}_x{k}" for n in names for i in range(h) for k in range(w)]

    # -- the computation ----------------------------------------------------------------------
    def _transform_group(self, array, device, progress):
        J, L, order = int(self.J), int(self.L), int(self.max_order)
        bank = get_filter_bank(array.shape[1:3], J, L, device)

        def coefficients(batch):
            return scattering_coefficients(batch, bank, J, L, order, self._maps())

        def func(batch):
            return self._assemble(*map_image_threads(coefficients, batch))

        return map_batches(func, array, batch_size=self.batch_size, device=device,
                           progress=progress, caller="ScatteringFeatures")

    def transform_tensor(self, images, *, padding_mode="reflect"):
        """Differentiable ``transform`` on a torch tensor: the scattering rows of a batch.

        The same computation as :meth:`transform` (the same rows up to float rounding), kept
        in torch on the tensor's device, so that gradients flow back to the pixels: texture
        synthesis (:func:`skmicro.synthesis.synthesize_texture`) optimizes images through it,
        and any torch loss can use it (like kymatio's torch frontend, but with this
        estimator's output layout, normalization, rotation average and log).

        Parameters
        ----------
        images : torch.Tensor of shape (n, h, w)
            Grey floating-point images in the input contract's float convention, each side
            at least ``2**J``; with ``average="local"`` they must have the fitted size.
        padding_mode : {"reflect", "circular"}, default="reflect"
            How the images are extended before the wavelet convolutions: ``"reflect"`` is
            kymatio's (and ``transform``'s); ``"circular"`` wraps around (each image is a
            torus, for periodic textures).

        Returns
        -------
        rows : torch.Tensor of shape (n, n_output_features), float32

        Examples
        --------
        >>> import numpy as np
        >>> import torch
        >>> from skmicro import ScatteringFeatures
        >>> images = np.random.default_rng(0).random((2, 16, 16)).astype(np.float32)
        >>> sf = ScatteringFeatures(J=2, L=4, device="cpu").fit(images)
        >>> x = torch.tensor(images, requires_grad=True)
        >>> rows = sf.transform_tensor(x)
        >>> rows.shape, bool(np.allclose(rows.detach().numpy(), sf.transform(images),
        ...                              rtol=1e-4, atol=1e-6))
        (torch.Size([2, 25]), True)
        >>> rows[:, 1:].sum().backward()  # gradients reach the pixels
        >>> x.grad.shape
        torch.Size([2, 16, 16])
        """
        from .._validation import check_is_fitted

        check_is_fitted(self)
        caller = "ScatteringFeatures.transform_tensor"
        images = check_image_tensor(images, caller)
        if padding_mode not in ("reflect", "circular"):
            raise ValueError(
                f"{caller}: 'padding_mode' must be 'reflect' or 'circular'. Got "
                f"{padding_mode!r} instead."
            )
        J, L, order = int(self.J), int(self.L), int(self.max_order)
        shape = tuple(int(s) for s in images.shape[1:])
        self._check_transform_images(SimpleNamespace(shapes=[shape]))  # transform's checks
        if min(shape) < 2**J:
            raise ValueError(
                f"{caller}: images must be at least {2**J}x{2**J} for J={J}. Got "
                f"{shape[0]}x{shape[1]} instead."
            )
        bank = get_filter_bank(shape, J, L, images.device)
        if padding_mode == "circular":
            bank = dict(bank, **_wrap_index(shape, J, images.device))
        S = scattering_coefficients(images, bank, J, L, order, self._maps())
        return self._assemble(*S)

    def _maps(self):
        """What the core computes: global means, or local maps (geometric pools them)."""
        return "global" if self.average == "global" else "local"

    def _assemble(self, S0, S1, S2):
        """normalize -> rotation average -> select paths -> log; flatten to (B, features)."""
        torch = get_torch()
        J, L = int(self.J), int(self.L)
        _, s1_idx, s2_idx = _layout(J, L, int(self.max_order), bool(self.rotation_invariant))
        B, sp = S0.shape[0], S0.shape[1:]
        if S2 is not None and self.normalize:
            parent = S1.clamp(min=LOG_FLOOR)[:, :, :, None, None]
            S2 = S2 / parent
        if self.rotation_invariant:
            S1 = S1.mean(dim=2)
            if S2 is not None:
                t1 = torch.arange(L, device=S2.device)[:, None]
                t2 = (t1 + torch.arange(L, device=S2.device)[None]) % L
                # (B, j1, j2, t1, t2) -> S2[t1, t1 + d] -> mean over t1: (B, j1, j2, d)
                S2 = S2.transpose(2, 3)[:, :, :, t1, t2].mean(dim=3)
        parts = [S1.reshape(B, -1, *sp)[:, torch.as_tensor(s1_idx, device=S1.device)]]
        if S2 is not None and len(s2_idx):
            parts.append(S2.reshape(B, -1, *sp)[:, torch.as_tensor(s2_idx, device=S2.device)])
        rest = torch.cat(parts, dim=1)
        if self.average == "geometric":  # mean of the log over the windows (B, paths, h, w)
            rest = floored_log10(rest).mean(dim=(2, 3))
            rest = rest if self.log else 10.0 ** rest
            return torch.cat([S0.mean(dim=(1, 2))[:, None], rest], dim=1)
        if self.log:
            rest = floored_log10(rest)
        return torch.cat([S0[:, None], rest], dim=1).reshape(B, -1)

    # -- reading the descriptor (seed 000) ----------------------------------------------------
    def _check_readable(self):
        from .._validation import check_is_fitted

        check_is_fitted(self)
        if self.average != "global" or self.rotation_invariant:
            raise ValueError(
                "ScatteringFeatures: the orientation read-outs need average='global' and "
                f"rotation_invariant=False; got average={self.average!r}, "
                f"rotation_invariant={self.rotation_invariant!r}."
            )

    def orientation_profile(self, features):
        """First-order coefficients of ``transform``'s output as ``(n, J, L)``.

        Parameters
        ----------
        features : array-like of shape (n, n_output_features)
            Output of this (fitted) estimator's ``transform``.

        Returns
        -------
        profile : ndarray of shape (n, J, L)

        Examples
        --------
        >>> import numpy as np
        >>> from skmicro import ScatteringFeatures
        >>> sf = ScatteringFeatures(J=2, L=4, device="cpu").fit(np.zeros((1, 8, 8)))
        >>> sf.orientation_profile(sf.transform(np.zeros((1, 8, 8)))).shape
        (1, 2, 4)
        """
        self._check_readable()
        return orientation_profile(features, J=int(self.J), L=int(self.L))

    def depth_of_well(self, features, orientations=None):
        """Seed 000's anisotropy "depth of well" per scale (see ``depth_of_well``).

        Parameters
        ----------
        features : array-like of shape (n, n_output_features)
            Output of this (fitted) estimator's ``transform``.
        orientations : tuple (a, b) of int or None, default=None
            None means the seed's ``(0, L // 2)``.

        Returns
        -------
        depth : ndarray of shape (n, J)
            ``S1[:, j, a] - S1[:, j, b]``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmicro import ScatteringFeatures
        >>> sf = ScatteringFeatures(J=2, L=4, device="cpu").fit(np.zeros((1, 8, 8)))
        >>> sf.depth_of_well(sf.transform(np.ones((1, 8, 8)))).shape
        (1, 2)
        """
        self._check_readable()
        return depth_of_well(features, J=int(self.J), L=int(self.L), orientations=orientations)
