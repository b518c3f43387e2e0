"""The 2-D Morlet scattering transform in torch: kymatio's filters, a faster core.

The filters are kymatio's (``kymatio.scattering2d.filter_bank``: same Morlet wavelets, same
padding, same periodized low-pass levels), so every coefficient is kymatio's; they are built
in the Fourier domain (:mod:`._scattering_filters`, 0.1 s instead of kymatio's seconds for a
500x600 image). What differs is how the output is reduced:

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
  block over the few non-negligible ``k x k`` Fourier blocks of each filter stack, and inside
  each block over the box where the filters are non-negligible (:func:`_filter_subsample`):
  the full-resolution product is never written.
* Work goes in chunks of about 2 MB (``_chunk_elems``) so that filter, inverse FFT, modulus
  and weighted sum run in cache; each ``|U1|`` spectrum is computed once for every ``j2``.
* On CPU, the complex modulus and the completion of real FFTs from half spectra go through
  numpy (torch's CPU complex ``abs`` is ~10x slower), and threads split the images of a batch
  (:func:`skmicro._engine.map_image_threads`) instead of each of the hundreds of small ops per image. On a
  GPU, and whenever autograd records, everything stays in torch.

Filters are cached per process (never pickled), in :data:`FILTER_BANKS`.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np

from .._cache import BoundedCache
from .._engine import get_torch, torch_threads
from ._scattering_filters import build_filter_bank, padded_shape

__all__ = ["get_filter_bank", "scattering_coefficients", "padded_shape", "FILTER_BANKS"]

# A bank for 256x256 images with J=4 holds 33 MB, 437x551 with J=4 107 MB, 512x512 with J=6
# about 200 MB; one costs about 0.1 s to build (docs/scattering.md, "What a new image size costs").
FILTER_BANKS = BoundedCache("scattering filter banks", max_entries=16, max_bytes=1 << 30)


def get_filter_bank(shape, J, L, device):
    """The cached torch filter bank for ``shape``, ``J``, ``L`` on ``device`` (built lazily).

    Returns a dict of float32 tensors: ``psi[j][res]`` (L, h, w) Fourier filters,
    ``phi[res]`` (h, w) Fourier low-passes, ``weights[res]`` (h * w,) mean weights, and
    ``rows``/``cols`` int64 reflect-padding indices, and ``blocked`` (the ``psi`` levels laid
    out for :func:`_filter_subsample`). Kept in :data:`FILTER_BANKS`, least recently used
    first out beyond 16 banks or 1 GiB.
    """
    key = (tuple(int(s) for s in shape), int(J), int(L), str(device))
    return FILTER_BANKS.get(key, lambda: _build_device_bank(key[0], J, L, device))


def _build_device_bank(shape, J, L, device):
    # One CPU thread: a bank is a few hundred mid-sized ops, and torch's intra-op threads wait
    # for each other at every one (on a loaded 2-core machine two threads took 7x the CPU time).
    with torch_threads(1) if get_torch().device(device).type == "cpu" else nullcontext():
        bank = build_filter_bank(shape, J, L, device)
        bank["blocked"] = [[_block_filters(f, 2 ** (j - res)) for res, f in enumerate(levels)]
                           for j, levels in enumerate(bank["psi"])]
    return bank


def _block_filters(filters, k, tol=1e-7):
    """Filters laid out for :func:`_filter_subsample`: ``(L, products)``.

    Fourier subsampling by ``k`` sums the ``k x k`` blocks of the filtered spectrum. Only a
    few blocks hold filter values above ``tol`` times the stack's maximum (the others are far
    below float32 rounding of the kept terms), and inside each of them only a box: at
    ``k >= 4`` the boxes hold less than half of their blocks (J=4, 160x160: 81k of 179k
    values), so the product touches only them. ``products`` lists ``(r, c, u0, u1, v0, v1,
    filt)``: block ``(r, c)``, the box ``u0:u1, v0:v1`` (union over orientations) inside it,
    and those filter values divided by ``k**2``, ``(L, u1 - u0, v1 - v0, 2)``, duplicated on
    a last axis of 2 so that they multiply the real/imaginary view of a spectrum with
    contiguous inner loops. (A box per orientation would halve the values again, but eight
    times the products cost more than that saves, measured on a 2-core CPU.)
    """
    L, H, W = filters.shape
    hk, wk = H // k, W // k
    blocks = filters.reshape(L, k, hk, k, wk).permute(1, 3, 0, 2, 4)  # (k, k, L, hk, wk)
    big = (blocks.abs() > tol * filters.abs().max()).any(dim=2)  # (k, k, hk, wk)
    products = []
    for r in range(k):
        for c in range(k):
            if not bool(big[r, c].any()):
                continue
            rows = big[r, c].any(dim=1).nonzero()[:, 0]
            cols = big[r, c].any(dim=0).nonzero()[:, 0]
            u0, u1, v0, v1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
            filt = blocks[r, c, :, u0:u1, v0:v1] / (k * k)
            products.append((r, c, u0, u1, v0, v1,
                             filt.unsqueeze(-1).expand(*filt.shape, 2).contiguous()))
    return L, products


def _filter_subsample(spec, blocked, k):
    """``subsample_fourier(spec * filters, k)`` for every filter orientation at once.

    spec : complex (n, H, W); blocked : from :func:`_block_filters`. Returns complex
    (n, L, H/k, W/k). The sum over the ``k x k`` Fourier blocks (kymatio's periodization)
    accumulates box by box into the small output, so neither the full-size product nor the
    negligible parts of the filters are ever touched.
    """
    torch = get_torch()
    L, products = blocked
    hk, wk = spec.shape[-2] // k, spec.shape[-1] // k
    s = torch.view_as_real(spec)[:, None]
    r, c, u0, u1, v0, v1, filt = products[0]
    if (u0, u1, v0, v1) == (0, hk, 0, wk):  # the first box covers the output: no zeroing
        out = s[:, :, r * hk:(r + 1) * hk, c * wk:(c + 1) * wk] * filt
        products = products[1:]
    else:
        out = s.new_zeros((s.shape[0], L, hk, wk, 2))
    for r, c, u0, u1, v0, v1, filt in products:
        out[:, :, u0:u1, v0:v1].addcmul_(
            s[:, :, r * hk + u0:r * hk + u1, c * wk + v0:c * wk + v1], filt)
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


