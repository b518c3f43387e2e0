"""kymatio's 2-D Morlet filter bank, built in the Fourier domain in a fraction of the time.

kymatio (``kymatio.scattering2d.filter_bank``) samples each Gabor function
``exp(-x^T A x / 2 + i k.x) / c`` on the padded grid, sums 5 x 5 of its periodic images,
subtracts the envelope times ``beta`` (the Morlet), and takes ``real(fft2(.))``. By Poisson
summation that DFT is the continuous Fourier transform, a Gaussian, summed over its aliases::

    fft2(gabor)[w] = 2 pi / sqrt(det A) / c * sum_m exp(-u_m^T A^-1 u_m / 2),
    u_m = w + 2 pi m - k,

so the same filters come out without an FFT or a complex exponential of the full grid
(:func:`_gabor_fourier`): each Gaussian is evaluated on the box of frequencies where it
exceeds ``exp(-_TAIL)`` of its peak, and the box is folded onto the grid by a few slice
additions (the aliases). The narrowest wavelets (``j = 0``) are wide in frequency and take
many aliases, so they are instead sampled in space on their small support and transformed by
two matrix products (:func:`_morlet_spatial`); :func:`_morlet` takes whichever costs fewer
operations. kymatio's periodized levels (:func:`_periodize`) are two slice copies. All of it
is kymatio's functions up to float64 rounding; kymatio rounds to complex64 before its FFT, so
the banks agree to about 1e-7 of the filters' peak (tests/test_scattering_filters.py checks
against kymatio's own ``filter_bank``).

What a bank costs to build, and the per-process cache that keeps it, are in
docs/scattering.md ("What a new image size costs").
"""

from __future__ import annotations

import math

import numpy as np

from .._engine import get_torch

__all__ = ["build_filter_bank", "padded_shape"]

# A Gaussian's values below exp(-_TAIL) of its peak (1e-16) are left out: below float64's
# resolution of the terms kept, and 1e9 times below float32's.
_TAIL = 36.0
# One exp of the Fourier path costs about as much as this many multiply-adds of the spatial
# path's matrix products (measured on a 2-core AVX-512 CPU; only the choice of path depends on it).
_EXP_COST = 16.0


def padded_shape(shape, J):
    """kymatio's padded size: the next multiple of ``2**J`` plus one ``2**J`` margin."""
    return tuple(((s + 2**J) // 2**J + 1) * 2**J for s in shape)


def _quadratic(sigma, theta, slant):
    """``A`` of kymatio's envelope ``exp(-x^T A x / 2)``: its ``curv`` (built from float32
    rotations, as kymatio does) made symmetric, times two."""
    c, s = np.cos(theta), np.sin(theta)
    R = np.array([[c, -s], [s, c]], np.float32)
    R_inv = np.array([[c, s], [-s, c]], np.float32)
    D = np.array([[1, 0], [0, slant * slant]])
    curv = np.dot(R, np.dot(D, R_inv)) / (2 * sigma * sigma)
    return curv + curv.T


def _box(cov, centre, n_grid, period):
    """Grid indices ``[lo, hi)`` per axis covering ``{v : v^T cov^-1 v / 2 <= _TAIL}`` around
    ``centre`` (in units of ``period / n_grid``)."""
    half = np.sqrt(2 * _TAIL * np.diag(cov))
    lo = [math.floor((c - h) * n / period) for c, h, n in zip(centre, half, n_grid)]
    hi = [math.ceil((c + h) * n / period) + 1 for c, h, n in zip(centre, half, n_grid)]
    return lo, hi


def _fold(values, start, n, dim):
    """Sum ``values`` (indices ``start, start + 1, ...`` along ``dim``) onto ``0 .. n-1`` mod n:
    a few slice additions, one per period the box spans."""
    shape = list(values.shape)
    shape[dim] = n
    out = values.new_zeros(shape)
    i, length = 0, values.shape[dim]
    while i < length:
        p = (start + i) % n
        m = min(n - p, length - i)
        out.narrow(dim, p, m).add_(values.narrow(dim, i, m))
        i += m
    return out


def _gaussian_fourier(shape, A, centre, device):
    """``exp(-(w - centre)^T A^-1 (w - centre) / 2)`` summed over the aliases ``w + 2 pi m`` of
    each DFT frequency ``w = 2 pi (p / M, q / N)``: evaluated on the box of frequencies where
    it exceeds ``exp(-_TAIL)``, then folded onto the grid. (M, N) float64."""
    torch = get_torch()
    B = np.linalg.inv(A)
    lo, hi = _box(A, centre, shape, 2 * np.pi)
    v0, v1 = (torch.arange(a, b, dtype=torch.float64, device=device) * (2 * np.pi / n) - c
              for a, b, n, c in zip(lo, hi, shape, centre))
    v0, v1 = v0[:, None], v1[None, :]
    g = torch.exp_((v0 * v0) * (-B[0, 0] / 2) + (v0 * v1) * -B[0, 1] + (v1 * v1) * (-B[1, 1] / 2))
    return _fold(_fold(g, lo[0], shape[0], 0), lo[1], shape[1], 1)


def _gabor_fourier(shape, A, wavevector, norm, device):
    """``real(fft2(.))`` of kymatio's Gabor function by Poisson summation: its continuous
    Fourier transform, ``2 pi / sqrt(det A) / norm`` times the Gaussian, summed over aliases."""
    scale = 2 * np.pi / math.sqrt(np.linalg.det(A)) / norm
    return _gaussian_fourier(shape, A, wavevector, device) * scale


def _dft_matrix(n, idx, device):
    """``cos`` and ``sin`` of ``2 pi p x / n`` for ``p < n`` and the sample positions ``x``."""
    torch = get_torch()
    p = torch.arange(n, dtype=torch.int64, device=device)
    phase = (p[:, None] * torch.as_tensor(idx, device=device)[None, :]) % n  # exact integers
    angle = phase.to(torch.float64) * (2 * np.pi / n)
    return torch.cos(angle), torch.sin(angle)


def _morlet_spatial(shape, A, wavevector, norm, device):
    """``real(fft2(.))`` of kymatio's Morlet function, sampled in space on the support of its
    envelope (positions taken modulo the grid: the periodic images) and transformed by two
    real matrix products. (M, N) float64."""
    torch = get_torch()
    lo, hi = _box(np.linalg.inv(A), (0.0, 0.0), (1, 1), 1.0)
    x0, x1 = np.arange(lo[0], hi[0]), np.arange(lo[1], hi[1])
    xx = torch.as_tensor(x0, dtype=torch.float64, device=device)[:, None]
    yy = torch.as_tensor(x1, dtype=torch.float64, device=device)[None, :]
    envelope = torch.exp(-(A[0, 0] / 2 * xx * xx + A[0, 1] * xx * yy + A[1, 1] / 2 * yy * yy))
    wave = torch.polar(envelope, wavevector[0] * xx + wavevector[1] * yy)
    # kymatio's morlet_2d: the Gabor minus the envelope scaled to a zero mean
    g = (wave - wave.sum() / envelope.sum() * envelope) / norm
    c0, s0 = _dft_matrix(shape[0], x0, device)
    c1, s1 = _dft_matrix(shape[1], x1, device)
    # fft2 = E0 g E1^T with E = c - i s; real(X E1^T) = Re(X) c1^T + Im(X) s1^T for X = E0 g
    xr = c0 @ g.real + s0 @ g.imag
    xi = c0 @ g.imag - s0 @ g.real
    return xr @ c1.T + xi @ s1.T


def _morlet(shape, sigma, theta, xi, slant, device):
    """``real(fft2(morlet_2d(M, N, sigma, theta, xi, slant)))`` (M, N) float64.

    Built where it costs fewer operations: the Fourier path evaluates two Gaussians (wave and
    envelope) on boxes that grow as ``1 / sigma**2``, the spatial path does a matrix product
    whose inner size grows as ``sigma``.
    """
    norm = 2 * 3.1415 * sigma * sigma / slant  # kymatio's constant, 3.1415 included
    A = _quadratic(sigma, theta, slant)
    k = (xi * np.cos(theta), xi * np.sin(theta))
    fourier_lo, fourier_hi = _box(A, (0.0, 0.0), shape, 2 * np.pi)
    spatial_lo, spatial_hi = _box(np.linalg.inv(A), (0.0, 0.0), (1, 1), 1.0)
    fourier_cost = 2 * _EXP_COST * np.prod(np.subtract(fourier_hi, fourier_lo))
    spatial_cost = 2 * (spatial_hi[1] - spatial_lo[1]) * shape[0] * shape[1]
    if spatial_cost < fourier_cost:
        return _morlet_spatial(shape, A, k, norm, device)
    wave = _gabor_fourier(shape, A, k, norm, device)
    envelope = _gabor_fourier(shape, A, (0.0, 0.0), norm, device)
    return wave.sub_(envelope, alpha=float(wave[0, 0] / envelope[0, 0]))


def _periodize(filters, res):
    """kymatio's ``periodize_filter_fft`` on the last two axes, as two slice copies.

    kymatio zeroes all but the lowest ``h / 2`` frequencies of each sign (``h = M / 2**res``)
    and sums the ``2**res x 2**res`` blocks of size ``h``: each output frequency then receives
    exactly one kept input frequency, the one equal to it modulo ``h``.
    """
    torch = get_torch()
    for dim in (-2, -1):
        n = filters.shape[dim]
        h, start = n // 2**res, int(n * 2 ** (-res - 1))
        if h < n:
            filters = torch.cat([filters.narrow(dim, 0, start),
                                 filters.narrow(dim, n - (h - start), h - start)], dim=dim)
    return filters


def _pad_index(n, before, after):
    """Source index of each padded sample: kymatio's reflect padding (torch frontend)."""
    idx = np.arange(n)
    if before == n:  # ReflectionPad2d cannot pad by the full size: kymatio's work-around
        idx = np.pad(idx, (before - 1, after - 1), mode="reflect")
        return np.concatenate([idx[1:2], idx, idx[-2:-1]])
    return np.pad(idx, (before, after), mode="reflect")


def _mean_weights(phi_hat, k):
    """Weights ``w`` with ``sum(U * w) == mean(unpad(subsample(ifft(fft(U) * phi_hat), k)))``.

    kymatio's coefficient at kept output sample ``u`` is ``Re sum_p U[p] phi[k u - p]``
    (``phi = ifft2(phi_hat)``), and the unpad keeps ``u = 1 .. n - 2`` on each axis, so the
    mean is a cross-correlation of ``phi`` with the comb of kept samples. ``phi_hat`` is real
    and even, so half spectra suffice. Computed in float64.
    """
    torch = get_torch()
    H, W = phi_hat.shape
    nh, nw = H // k, W // k
    comb = phi_hat.new_zeros((H, W))
    comb[k:(nh - 1) * k:k, k:(nw - 1) * k:k] = 1.0 / ((nh - 2) * (nw - 2))
    phi_neg = torch.roll(phi_hat.flip(0, 1), (1, 1), dims=(0, 1))  # phi_hat(-f)
    return torch.fft.irfft2(torch.fft.rfft2(comb) * phi_neg[:, : W // 2 + 1], s=(H, W))


def _filters(shape, J, L, work, device):
    """psi levels (float32 on ``device``), phi levels and mean weights (float64 on ``work``)
    for the padded ``shape``."""
    torch = get_torch()
    psi = []
    for j in range(J):
        levels = [[] for _ in range(min(j + 1, max(J - 1, 1)))]
        for t in range(L):
            f = _morlet(shape, 0.8 * 2**j, (int(L - L / 2 - 1) - t) * np.pi / L,
                        3.0 / 4.0 * np.pi / 2**j, 4.0 / L, work)
            for res, level in enumerate(levels):
                level.append(_periodize(f, res).to(torch.float32))
        psi.append([torch.stack(level).to(device) for level in levels])
    sigma = 0.8 * 2 ** (J - 1)
    phi_f = _gabor_fourier(shape, _quadratic(sigma, 0, 1.0), (0.0, 0.0),
                           2 * 3.1415 * sigma * sigma, work)
    phi = [_periodize(phi_f, res) for res in range(J)]
    weights = [_mean_weights(phi[res], 2 ** (J - res)) for res in range(J)]
    return psi, phi, weights


def build_filter_bank(shape, J, L, device):
    """kymatio's filters for images of ``shape``, as float32 tensors on ``device``.

    Returns a dict: ``psi[j][res]`` (L, Mp / 2**res, Np / 2**res) real Fourier filters for
    ``res < min(j + 1, max(J - 1, 1))`` (kymatio's levels), ``phi[res]`` the low-pass for
    ``res < J``, ``weights[res]`` (flattened) mean weights for ``average="global"``, and
    ``rows``/``cols`` int64 reflect-padding indices (``Mp, Np = padded_shape(shape, J)``).
    Built in float64 on CUDA devices, else on the CPU, then cast.
    """
    torch = get_torch()
    device = torch.device(device)
    work = device if device.type == "cuda" else torch.device("cpu")
    Mp, Np = padded_shape(shape, J)
    psi, phi, weights = _filters((Mp, Np), J, L, work, device)
    M, N = shape
    pm, pn = Mp - M, Np - N
    rows = _pad_index(M, pm // 2, (pm + 1) // 2)
    cols = _pad_index(N, pn // 2, (pn + 1) // 2)

    def f32(t):
        return t.to(torch.float32).to(device).contiguous()  # MPS has no float64

    return {
        "psi": psi,
        "phi": [f32(f) for f in phi],
        "weights": [f32(w.ravel()) for w in weights],
        "rows": torch.as_tensor(rows, device=device),
        "cols": torch.as_tensor(cols, device=device),
    }
