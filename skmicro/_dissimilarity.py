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
    step = 2048
    for i in range(0, n, step):
        for j in range(i, n, step):
            gap = np.abs(D[i:i + step, j:j + step] - D[j:j + step, i:i + step].T).max()
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
    dh = torch.sub(xq[:, :1], y[:, 0])
    dh.square_()
    tmp = torch.empty_like(dh)
    for k in range(1, xq.shape[1]):
        torch.sub(xq[:, k:k + 1], y[:, k], out=tmp)
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
