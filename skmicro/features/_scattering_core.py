"""The 2-D Morlet scattering transform in torch: kymatio's filters, a faster core.

The filters are kymatio's (``kymatio.scattering2d.filter_bank``: same Morlet wavelets, same
padding, same periodized low-pass levels), so every coefficient is kymatio's; :func:`gabor_2d`
evaluates kymatio's formula bit for bit but skips the periodic images of the envelope that
cannot reach the grid (5x faster banks for real micrographs). What differs is how the output is
reduced:

* ``average="global"``: kymatio low-passes ``|U|`` with ``phi_J``, subsamples by ``2**(J-j)``,
  removes one border sample each side and we then take the spatial mean. That chain is linear
  in ``|U|``, so it equals one inner product ``sum_p |U|[p] * w_j[p]`` with a weight map
  ``w_j`` computed once per shape (:func:`_mean_weights`). The result is *exactly* the spatial
  mean of kymatio's coefficient map (up to float32 rounding) at the cost of a dot product: no
  low-pass FFTs at all.
* ``average="local"``: the low-pass is done on half spectra (``rfft2``/``irfft2``; ``phi`` is
  real and even) and the map is subsampled in space, which is what kymatio's Fourier
  periodization computes.

How it is fast (each step measured on a 2-core CPU, see docs/scattering.md):

* Filtering then subsampling by ``k`` (kymatio's Fourier periodization) is accumulated block by
  block over the few non-negligible ``k x k`` Fourier blocks of each filter stack
  (:func:`_filter_subsample`): the full-resolution product is never written.
* Work goes in chunks of about 2 MB (``_chunk_elems``) so that filter, inverse FFT, modulus
  and weighted sum run in cache; each ``|U1|`` spectrum is computed once for every ``j2``.
* On CPU, the complex modulus and the completion of real FFTs from half spectra go through
  numpy (torch's CPU complex ``abs`` is ~10x slower), and threads split the images of a batch
  (:func:`skmicro._engine.map_image_threads`) instead of each of the hundreds of small ops per image. On a
  GPU, and whenever autograd records, everything stays in torch.

Filters are cached per process (never pickled), in :data:`FILTER_BANKS`.
"""

from __future__ import annotations

import numpy as np

from .._cache import BoundedCache
from .._engine import get_torch

__all__ = ["get_filter_bank", "scattering_coefficients", "padded_shape", "FILTER_BANKS",
           "gabor_2d", "morlet_2d"]

# A bank for 256x256 images with J=4 holds 33 MB, 512x512 with J=6 about 200 MB.
FILTER_BANKS = BoundedCache("scattering filter banks", max_entries=16, max_bytes=1 << 30)


def padded_shape(shape, J):
    """kymatio's padded size: the next multiple of ``2**J`` plus one ``2**J`` margin."""
    return tuple(((s + 2**J) // 2**J + 1) * 2**J for s in shape)


def _periodize(x, res):
    """kymatio's ``periodize_filter_fft``, vectorised: mask high frequencies, fold blocks."""
    M, N = x.shape
    k = 2**res
    mask = np.ones(x.shape, np.float64)
    sx, lx = int(M * 2 ** (-res - 1)), int(M * (1 - 2 ** (-res)))
    sy, ly = int(N * 2 ** (-res - 1)), int(N * (1 - 2 ** (-res)))
    mask[sx:sx + lx, :] = 0
    mask[:, sy:sy + ly] = 0
    return (x * mask).reshape(k, M // k, k, N // k).sum(axis=(0, 2))


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
    mean is a cross-correlation of ``phi`` with the comb of kept samples. Computed in float64.
    """
    H, W = phi_hat.shape
    nh, nw = H // k, W // k
    comb = np.zeros((H, W))
    comb[k:(nh - 1) * k:k, k:(nw - 1) * k:k] = 1.0 / ((nh - 2) * (nw - 2))
    phi_neg = np.roll(phi_hat[::-1, ::-1], 1, axis=(0, 1))  # phi_hat(-f)
    return np.real(np.fft.ifft2(np.fft.fft2(comb) * phi_neg))


# A periodic image of the Gaussian envelope whose exponent is below -120 everywhere on its tile
# adds less than float32's smallest subnormal (1.4e-45): summing it changes no filter value.
_NEGLIGIBLE_EXPONENT = 120.0


def _axis_distance(start, stop):
    """Distance from 0 to the integer range ``[start, stop)``."""
    return 0 if start <= 0 < stop else min(abs(start), abs(stop - 1))


def gabor_2d(M, N, sigma, theta, xi, slant=1.0):
    """kymatio's ``gabor_2d`` (same formula, constants and dtypes), summing only the periodic
    images of the envelope that reach the grid: kymatio sums all 5 x 5, of which 4 matter once
    the grid is a few ``sigma`` wide (a 512x672 bank: 6x faster to build)."""
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]], np.float32)
    R_inv = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]],
                     np.float32)
    D = np.array([[1, 0], [0, slant * slant]])
    curv = np.dot(R, np.dot(D, R_inv)) / (2 * sigma * sigma)
    lam_min = min(1.0, slant * slant) / (2 * sigma * sigma)  # smallest eigenvalue of curv
    gab = np.zeros((M, N), np.complex64)
    for ex in [-2, -1, 0, 1, 2]:
        dx = _axis_distance(ex * M, M + ex * M)
        for ey in [-2, -1, 0, 1, 2]:
            dy = _axis_distance(ey * N, N + ey * N)
            if lam_min * (dx * dx + dy * dy) > _NEGLIGIBLE_EXPONENT:
                continue
            xx, yy = np.mgrid[ex * M:M + ex * M, ey * N:N + ey * N]
            arg = -(curv[0, 0] * np.multiply(xx, xx) + (curv[0, 1] + curv[1, 0])
                    * np.multiply(xx, yy) + curv[1, 1] * np.multiply(yy, yy)) + 1.j * (
                xx * xi * np.cos(theta) + yy * xi * np.sin(theta))
            gab += np.exp(arg)
    gab /= 2 * 3.1415 * sigma * sigma / slant  # kymatio's constant, 3.1415 included
    return gab


def morlet_2d(M, N, sigma, theta, xi, slant=0.5):
    """kymatio's ``morlet_2d``: the Gabor minus its zero-frequency envelope, zero mean."""
    wv = gabor_2d(M, N, sigma, theta, xi, slant)
    wv_modulus = gabor_2d(M, N, sigma, theta, 0, slant)
    return wv - np.sum(wv) / np.sum(wv_modulus) * wv_modulus


def _build_bank(shape, J, L):
    """Numpy filter bank for images of ``shape``: kymatio's filters, padding, weight maps."""
    M, N = shape
    Mp, Np = padded_shape(shape, J)
    psi = []  # psi[j][res]: (L, Mp / 2**res, Np / 2**res) real Fourier filters
    for j in range(J):
        per_theta = []
        for theta in range(L):
            sig = morlet_2d(Mp, Np, 0.8 * 2**j, (int(L - L / 2 - 1) - theta) * np.pi / L,
                            3.0 / 4.0 * np.pi / 2**j, 4.0 / L)
            f = np.real(np.fft.fft2(sig)).astype(np.float32)
            per_theta.append([_periodize(f, res) for res in range(min(j + 1, max(J - 1, 1)))])
        psi.append([np.stack([t[res] for t in per_theta]) for res in range(len(per_theta[0]))])
    phi_f = np.real(np.fft.fft2(gabor_2d(Mp, Np, 0.8 * 2 ** (J - 1), 0, 0))).astype(np.float32)
    phi = [_periodize(phi_f, res) for res in range(J)]
    weights = [_mean_weights(phi[res], 2 ** (J - res)) for res in range(J)]
    pm, pn = Mp - M, Np - N
    rows = _pad_index(M, pm // 2, (pm + 1) // 2)
    cols = _pad_index(N, pn // 2, (pn + 1) // 2)
    return {"psi": psi, "phi": phi, "weights": weights, "rows": rows, "cols": cols}


def get_filter_bank(shape, J, L, device):
    """The cached torch filter bank for ``shape``, ``J``, ``L`` on ``device`` (built lazily).

    Returns a dict of float32 tensors: ``psi[j][res]`` (L, h, w) Fourier filters,
    ``phi[res]`` (h, w) Fourier low-passes, ``weights[res]`` (h * w,) mean weights, and
    ``rows``/``cols`` int64 reflect-padding indices.
    """
    key = (tuple(int(s) for s in shape), int(J), int(L), str(device))
    return FILTER_BANKS.get(key, lambda: _build_device_bank(key[0], J, L, device))


def _build_device_bank(shape, J, L, device):
    torch = get_torch()
    host = _build_bank(shape, J, L)

    def t(a, dtype=torch.float32):
        return torch.as_tensor(np.ascontiguousarray(a)).to(device=device, dtype=dtype)

    bank = {
        "psi": [[t(f) for f in levels] for levels in host["psi"]],
        "phi": [t(f) for f in host["phi"]],
        "weights": [t(w.ravel()) for w in host["weights"]],
        "rows": t(host["rows"], torch.int64),
        "cols": t(host["cols"], torch.int64),
    }
    bank["blocked"] = [[_block_filters(f, 2 ** (j - res)) for res, f in enumerate(levels)]
                       for j, levels in enumerate(bank["psi"])]
    return bank


def _block_filters(filters, k, tol=1e-7):
    """Filters laid out for :func:`_filter_subsample`: ``(blocks, stack)``.

    Fourier subsampling by ``k`` sums the ``k x k`` blocks of the filtered spectrum. ``blocks``
    lists the ``(r, c)`` blocks where some orientation's filter exceeds ``tol`` times its
    maximum (the others are far below float32 rounding of the kept terms); ``stack`` holds
    those blocks, divided by ``k**2`` and duplicated on a last axis of 2 so that they multiply
    the real/imaginary view of a spectrum with contiguous inner loops: ``(n_blocks, L, H/k,
    W/k, 2)``.
    """
    L, H, W = filters.shape
    hk, wk = H // k, W // k
    blocks = filters.reshape(L, k, hk, k, wk).permute(1, 3, 0, 2, 4)  # (k, k, L, hk, wk)
    big = blocks.abs().amax(dim=(2, 3, 4)) > tol * filters.abs().max()
    keep = [tuple(rc) for rc in big.nonzero().tolist()]
    stack = get_torch().stack([blocks[r, c] / (k * k) for r, c in keep])
    return keep, stack.unsqueeze(-1).expand(*stack.shape, 2).contiguous()


def _filter_subsample(spec, blocked, k):
    """``subsample_fourier(spec * filters, k)`` for every filter orientation at once.

    spec : complex (n, H, W); blocked : from :func:`_block_filters`. Returns complex
    (n, L, H/k, W/k). The sum over the ``k x k`` Fourier blocks (kymatio's periodization)
    accumulates block by block into the small output, so the full-size product is never
    written to memory.
    """
    torch = get_torch()
    keep, stack = blocked
    hk, wk = spec.shape[-2] // k, spec.shape[-1] // k
    s = torch.view_as_real(spec)[:, None]
    out = None
    for (r, c), filt in zip(keep, stack):
        block = s[:, :, r * hk:(r + 1) * hk, c * wk:(c + 1) * wk]
        if out is None:
            out = block * filt
        else:
            out.addcmul_(block, filt)
    return torch.view_as_complex(out)


def _fft2_real(u):
    """Full 2-D FFT of a real tensor (even last size), complex64.

    On CPU: the half spectrum (``rfft2``) completed by Hermitian symmetry
    ``F[m, n] = conj(F[-m, -n])`` through numpy's negative-stride views, 1.3-1.7x faster than
    torch's ``fft2`` of real input (a complex copy and a full c2c transform).
    """
    torch = get_torch()
    if u.device.type != "cpu" or u.requires_grad:  # numpy views would cut autograd (synthesis)
        return torch.fft.fft2(u)
    W = u.shape[-1]
    half = torch.fft.rfft2(u).numpy()
    full = np.empty(u.shape, np.complex64)
    full[..., : W // 2 + 1] = half
    np.conjugate(half[..., :1, W // 2 - 1:0:-1], out=full[..., :1, W // 2 + 1:])
    np.conjugate(half[..., :0:-1, W // 2 - 1:0:-1], out=full[..., 1:, W // 2 + 1:])
    return torch.from_numpy(full)


def _modulus(z):
    """``|z|`` as float32. On CPU numpy's SIMD complex abs is ~10x torch's (torch 2.x).

    Tensors that need gradients (texture synthesis) stay in torch, which differentiates.
    """
    if z.device.type == "cpu" and not z.requires_grad:
        torch = get_torch()
        return torch.from_numpy(np.abs(z.numpy()))
    return z.abs()


def _reduce(U, res, J, bank, average):
    """Global: weighted sum giving the mean of kymatio's map. Local: kymatio's map itself."""
    torch = get_torch()
    if average == "global":
        return U.flatten(-2) @ bank["weights"][res]
    k = 2 ** (J - res)
    H, W = U.shape[-2:]
    phi = bank["phi"][res][:, : W // 2 + 1]
    y = torch.fft.irfft2(torch.fft.rfft2(U) * phi, s=(H, W))
    return y[..., k:(H // k - 1) * k:k, k:(W // k - 1) * k:k]


def _chunk_elems(device):
    """Complex elements per filtered chunk: cache-sized on CPU, large on accelerators.

    On CPU the filter/fold/inverse-FFT/modulus chain of a 2 MB chunk stays in cache, which
    measured 2-3x faster than whole batches; on a GPU only memory bounds it.
    """
    return 1 << 18 if device.type == "cpu" else 1 << 24


def scattering_coefficients(x, bank, J, L, max_order, average):
    """Scattering coefficients of a batch of same-size images.

    Parameters
    ----------
    x : float32 tensor (B, M, N)
    bank : dict from :func:`get_filter_bank`
    J, L, max_order : int
    average : {"global", "local"}

    Returns
    -------
    S0 : (B, *sp), S1 : (B, J, L, *sp), S2 : (B, J, L, J, L, *sp) or None
        ``sp`` is ``()`` for the global average and ``(M // 2**J, N // 2**J)`` for local maps;
        S2 is dense with zeros where ``j2 <= j1``.
    """
    torch = get_torch()
    chunk = _chunk_elems(x.device)
    xp = x.index_select(-2, bank["rows"]).index_select(-1, bank["cols"])
    S0 = _reduce(xp, 0, J, bank, average)
    X = _fft2_real(xp)
    B, (H, W) = x.shape[0], X.shape[-2:]
    S1 = S2 = None
    for j1 in range(J):
        h1, w1 = H >> j1, W >> j1
        step = max(1, chunk // (L * h1 * w1))  # images per first-order chunk
        for b0 in range(0, B, step):
            b1 = min(B, b0 + step)
            spec = _filter_subsample(X[b0:b1], bank["blocked"][j1][0], 2**j1)
            U1 = _modulus(torch.fft.ifft2(spec))  # (b, L, h1, w1)
            s1 = _reduce(U1, j1, J, bank, average)
            if S1 is None:
                S1 = s1.new_zeros((B, J, L) + s1.shape[2:])
            S1[b0:b1, j1] = s1
            if max_order < 2 or j1 == J - 1:
                continue
            U1f = _fft2_real(U1).flatten(0, 1)  # (b * L, h1, w1), reused for every j2
            for j2 in range(j1 + 1, J):
                k = 2 ** (j2 - j1)
                step2 = max(1, chunk // (L * (h1 // k) * (w1 // k)))  # (image, t1) pairs
                s2 = torch.cat([
                    _reduce(_modulus(torch.fft.ifft2(_filter_subsample(
                        U1f[i:i + step2], bank["blocked"][j2][j1], k))), j2, J, bank, average)
                    for i in range(0, U1f.shape[0], step2)
                ])
                if S2 is None:
                    S2 = s2.new_zeros((B, J, L, J, L) + s2.shape[2:])
                S2[b0:b1, j1, :, j2] = s2.reshape(b1 - b0, L, L, *s2.shape[2:])
    return S0, S1, S2


