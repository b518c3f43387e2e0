"""Dissimilarity matrices read in row blocks, and the stress math shared by MDS and metrics.

``manifold`` (SMACOF, landmark placement) and ``metrics`` (``kruskal_stress``) both import this
module: a row source (:class:`DissimilarityRows`) hands out ``(rows, n_cols)`` device blocks of
a dissimilarity matrix, and :func:`guttman_sweep` visits them once per call, so no ``(n, n)``
quantity besides the matrix itself is ever formed.
"""

from __future__ import annotations

import numpy as np

from skmicro._engine import block_rows, get_torch, host_tensor, is_cuda_oom

__all__ = [
    "SWEEP_ELEMENTS",
    "check_dissimilarities",
    "DissimilarityRows",
    "embedded_distances",
    "guttman_sweep",
    "symmetric_guttman_sweep",
    "symmetric_product",
    "upper_blocks",
    "sum_squares",
    "kruskal_stress_rows",
]

# batch_size="auto": dissimilarities per block in the sweeps: 2^18 values (1-2 MB) keep the
# dozen element-wise passes of a block in cache; measured 2-10x faster than 2^22 on a 2-core
# CPU.
SWEEP_ELEMENTS = 1 << 18


def check_dissimilarities(D, *, square, caller, name="X"):
    """Non-negative (and, when square, symmetric with zero diagonal) -- checked in tiles."""
    dmin = float(D.min()) if D.size else 0.0
    if dmin < 0:
        raise ValueError(
            f"{caller}: with metric='precomputed', {name} must hold non-negative "
            f"dissimilarities; its smallest entry is {dmin:g}. Pass distances, not similarities "
            "or centred values."
        )
    if not square:
        return
    n, m = D.shape
    if n != m:
        raise ValueError(
            f"{caller}: with metric='precomputed', fit needs a square (n_samples, n_samples) "
            f"dissimilarity matrix; got shape {D.shape}. Use metric='euclidean' for features."
        )
    scale = float(D.max()) if D.size else 0.0
    tol = 1e-5 * scale if D.dtype == np.float32 else 1e-10 * max(scale, 1.0)
    if np.abs(np.diagonal(D)).max(initial=0.0) > tol:
        raise ValueError(
            f"{caller}: the precomputed dissimilarity matrix {name} must have a zero diagonal "
            f"(largest diagonal entry: {np.abs(np.diagonal(D)).max():g})."
        )
    step = 256  # tiles in cache: 4x faster than 2048 on a 2,500 x 2,500 matrix
    diff = np.empty((step, step), dtype=D.dtype)
    for i in range(0, n, step):
        for j in range(i, n, step):
            upper = D[i:i + step, j:j + step]
            out = np.subtract(upper, D[j:j + step, i:i + step].T,
                              out=diff[:upper.shape[0], :upper.shape[1]])
            gap = max(float(out.max()), -float(out.min()))
            if gap > tol:
                raise ValueError(
                    f"{caller}: the precomputed dissimilarity matrix {name} must be symmetric; "
                    f"entries differ from their transpose by up to {gap:g}. Use (D + D.T) / 2."
                )


class DissimilarityRows:
    """Row blocks of a dissimilarity matrix: a host array (streamed to the device block by
    block, or moved there once when it fits on a GPU) or a tensor already on the device."""

    def __init__(self, D, device, columns=None, batch_size="auto"):
        torch = get_torch()
        self.host, self.columns, self.device, self.resident = D, columns, device, None
        self.batch_size = batch_size
        if torch.is_tensor(D):
            self.resident, self.dtype, self.shape = D, D.dtype, tuple(D.shape)
            return
        self.dtype = torch.float64 if D.dtype == np.float64 else torch.float32
        self.shape = (D.shape[0], D.shape[1] if columns is None else len(columns))
        if device.type != "cpu" and columns is None:
            try:  # SMACOF reads D every iteration: keep it on the GPU when it fits
                self.resident = host_tensor(D).to(device)
            except Exception as exc:  # noqa: BLE001
                if not is_cuda_oom(exc):
                    raise
                torch.cuda.empty_cache()

    def __call__(self, start, stop):
        if self.resident is not None:
            return self.resident[start:stop]
        block = self.host[start:stop]
        if self.columns is not None:
            block = block[:, self.columns]
        return host_tensor(block).to(self.device, non_blocking=True)


def embedded_distances(xq, y):
    """``||xq_i - y_j||`` computed coordinate by coordinate (no cancellation for close pairs)."""
    torch = get_torch()
    yt = y.T.contiguous()  # each coordinate contiguous: strided columns take a slow path
    dh = torch.sub(xq[:, :1], yt[0])
    dh.square_()
    tmp = torch.empty_like(dh)
    for k in range(1, xq.shape[1]):
        torch.sub(xq[:, k:k + 1], yt[k], out=tmp)
        dh.addcmul_(tmp, tmp)
    return dh.sqrt_(), tmp


def guttman_sweep(rows, xq, y):
    """One pass over the dissimilarities ``rows`` between query points ``xq`` and ``y``.

    Returns ``(G, raw)`` with ``G_i = sum_j b_ij (xq_i - y_j)``, ``b_ij = d_ij / dhat_ij``
    (0 where ``dhat_ij = 0``), i.e. the numerator of the Guttman transform, and ``raw`` the
    float64 sum of ``(d_ij - dhat_ij)^2`` over all entries for the current ``xq``.
    """
    torch = get_torch()
    n = xq.shape[0]
    dtype = rows.dtype
    yc = y.to(dtype)
    G = torch.empty_like(xq)
    raw = 0.0
    step = block_rows(rows.shape[1], SWEEP_ELEMENTS, rows.batch_size)
    for start in range(0, n, step):
        stop = min(n, start + step)
        d = rows(start, stop)
        xb = xq[start:stop].to(dtype)
        dh, tmp = embedded_distances(xb, yc)
        torch.sub(d, dh, out=tmp)
        # float32 row sums of a few thousand terms, then a float64 total: ~1e-9 relative.
        raw += float(tmp.square_().sum(dim=1).double().sum())
        r = torch.div(d, dh, out=dh).nan_to_num_(nan=0.0, posinf=0.0)
        G[start:stop] = (r.sum(dim=1).double()[:, None] * xq[start:stop]
                         - (r @ yc).double())
    return G, raw


def upper_blocks(rows):
    """Row blocks of a symmetric row source, upper triangle only: ``(a, b, block)``.

    ``block`` holds rows ``a:b`` and columns ``a:n`` (a view on CPU); the rows get fewer
    as the blocks get wider, so each block holds about ``SWEEP_ELEMENTS`` values.
    """
    n = rows.shape[0]
    a = 0
    while a < n:
        b = min(n, a + block_rows(n - a, SWEEP_ELEMENTS, rows.batch_size))
        yield a, b, rows(a, b)[:, a:]
        a = b


def symmetric_product(acc_t, v_t, block, a, b):
    """Add a block's share of ``(S @ V).T`` to ``acc_t`` for a symmetric ``S``.

    ``block`` is ``S[a:b, a:]`` from :func:`upper_blocks`, ``v_t`` is ``V.T`` (k, n) and
    ``acc_t`` (k, n) accumulates in its own dtype: the square part ``S[a:b, a:b]`` is full,
    the rectangle ``S[a:b, b:]`` also stands for its mirror ``S[b:, a:b]``, so each entry of
    ``S`` off the diagonal blocks is read once and used twice. The short side (k) goes first:
    ``(k, m) @ (m, b)`` products run 2-4x faster than ``(b, m) @ (m, k)`` in MKL.
    """
    acc_t[:, a:b] += (v_t[:, a:] @ block.T).to(acc_t.dtype)
    if b < acc_t.shape[1]:
        acc_t[:, b:] += (v_t[:, a:b] @ block[:, b - a:]).to(acc_t.dtype)


def symmetric_guttman_sweep(rows, X):
    """:func:`guttman_sweep` of a configuration against itself over a symmetric matrix.

    Same ``(G, raw)`` as ``guttman_sweep(rows, X, X)`` (to rounding) from the upper triangle
    only: embedded distances, ratios and the squared residuals are formed for half the pairs,
    and ``G = diag(B 1) X - B X`` comes from :func:`symmetric_product` of ``[X, 1]``.
    """
    torch = get_torch()
    n, p = X.shape
    dtype = rows.dtype
    xc = X.to(dtype)
    v_t = torch.cat([xc, torch.ones((n, 1), dtype=dtype, device=X.device)], dim=1).T
    v_t = v_t.contiguous()
    acc_t = torch.zeros((p + 1, n), dtype=torch.float64, device=X.device)
    raw = 0.0
    for a, b, d in upper_blocks(rows):
        # Direct differences (no |x|^2 + |y|^2 - 2 x.y cancellation for close pairs).
        dh = torch.cdist(xc[a:b], xc[a:], compute_mode="donot_use_mm_for_euclid_dist")
        w = b - a  # the square part counts each ordered pair, the rectangle stands for two
        raw += float(torch.dist(d[:, :w], dh[:, :w])) ** 2
        if b < n:
            raw += 2.0 * float(torch.dist(d[:, w:], dh[:, w:])) ** 2
        r = torch.div(d, dh, out=dh).nan_to_num_(nan=0.0, posinf=0.0)
        symmetric_product(acc_t, v_t, r, a, b)
    G = acc_t[p][:, None] * X - acc_t[:p].T
    return G, raw


def sum_squares(rows):
    """Float64 sum of the squared entries of a row source."""
    total = 0.0
    step = block_rows(rows.shape[1], SWEEP_ELEMENTS, rows.batch_size)
    for start in range(0, rows.shape[0], step):
        d = rows(start, min(rows.shape[0], start + step))
        total += float((d * d).sum(dim=1).double().sum())
    return total


def kruskal_stress_rows(rows, E, device):
    """Kruskal stress-1 (eq. 8) between the dissimilarities ``rows`` and the embedding ``E``."""
    torch = get_torch()
    E = torch.as_tensor(np.asarray(E, dtype=np.float64), device=device)
    _, raw = guttman_sweep(rows, E, E)
    total = sum_squares(rows)
    return float(np.sqrt(raw / total)) if total > 0 else 0.0
