"""Metric multidimensional scaling (SMACOF) in torch, with landmarks and out-of-sample placement.

Every ``(n, n)`` quantity is visited in row blocks (:func:`_guttman_sweep`): the embedded
distances, the ratio matrix of the Guttman transform and the stress never exist as full matrices,
so only the dissimilarity matrix itself (the caller's, never copied) is ``O(n^2)`` in memory.
The same sweep places new points against a fixed embedding (``transform`` and landmark mode).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state

from skmicro._engine import (
    check_device_param,
    get_torch,
    is_cuda_oom,
    progress_bar,
    resolve_device,
    to_numpy,
    torch_threads,
)
from skmicro._validation import (
    N_JOBS_CONSTRAINT,
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from skmicro.manifold._distances import (
    BATCH_SIZE_CONSTRAINT,
    block_rows,
    blockwise_distances,
    host_tensor,
    iter_distance_blocks,
)

__all__ = ["MDSEmbedder"]

# Power (subspace) iterations and extra vectors of the randomized eigensolver behind the
# classical initialization; 8 + 10 recover the leading eigenvectors to ~1e-8 on the benchmark
# matrices, and exactly for configurations of rank <= n_components.
_CLASSICAL_POWER_ITER = 8
_CLASSICAL_OVERSAMPLE = 10
# Points on which the landmark mode estimates Kruskal stress.
_STRESS_SUBSAMPLE = 2000
# batch_size="auto": dissimilarities per block in the SMACOF sweeps: 2^18 values (1-2 MB)
# keep the dozen element-wise passes of a block in cache; measured 2-10x faster than 2^22 on
# a 2-core CPU. Out-of-sample placement uses blocks of 2^20.
_SWEEP_ELEMENTS = 1 << 18
_PLACE_ELEMENTS = 1 << 20


# --------------------------------------------------------------------------------------------
# Validation of dissimilarities
# --------------------------------------------------------------------------------------------
def _check_dissimilarities(D, *, square, caller, name="X"):
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


# --------------------------------------------------------------------------------------------
# Torch kernels
# --------------------------------------------------------------------------------------------
class _Rows:
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


def _embedded_distances(xq, y):
    """``||xq_i - y_j||`` computed coordinate by coordinate (no cancellation for close pairs)."""
    torch = get_torch()
    dh = torch.sub(xq[:, :1], y[:, 0])
    dh.square_()
    tmp = torch.empty_like(dh)
    for k in range(1, xq.shape[1]):
        torch.sub(xq[:, k:k + 1], y[:, k], out=tmp)
        dh.addcmul_(tmp, tmp)
    return dh.sqrt_(), tmp


def _guttman_sweep(rows, xq, y):
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
    step = block_rows(rows.shape[1], _SWEEP_ELEMENTS, rows.batch_size)
    for start in range(0, n, step):
        stop = min(n, start + step)
        d = rows(start, stop)
        xb = xq[start:stop].to(dtype)
        dh, tmp = _embedded_distances(xb, yc)
        torch.sub(d, dh, out=tmp)
        # float32 row sums of a few thousand terms, then a float64 total: ~1e-9 relative.
        raw += float(tmp.square_().sum(dim=1).double().sum())
        r = torch.div(d, dh, out=dh).nan_to_num_(nan=0.0, posinf=0.0)
        G[start:stop] = (r.sum(dim=1).double()[:, None] * xq[start:stop]
                         - (r @ yc).double())
    return G, raw


def _sum_sq_embedded(X):
    """``sum_{i,j} ||x_i - x_j||^2 = 2 n sum ||x_i||^2 - 2 ||sum x_i||^2`` (O(n p))."""
    n = X.shape[0]
    return float(2 * n * (X * X).sum() - 2 * (X.sum(dim=0) ** 2).sum())


def _smacof(rows, init, *, max_iter, eps, verbose=0, bar=None):
    """Metric SMACOF from ``init`` (float64 tensor). Returns (X, raw stress over pairs, n_iter).

    Convergence follows scikit-learn: stop when the decrease of the raw stress, divided by the
    sum of squared embedded distances over pairs, falls below ``eps``.
    """
    n = init.shape[0]
    X = init - init.mean(dim=0)
    old = None
    for it in range(1, max_iter + 1):
        G, raw = _guttman_sweep(rows, X, X)
        stress = raw / 2.0  # each pair was counted twice
        if bar is not None:
            bar.update(1)
        if verbose >= 2:
            print(f"SMACOF iteration {it}: raw stress {stress:.6g}")
        if old is not None and (old - stress) / (_sum_sq_embedded(X) / 2.0) < eps:
            break
        if it == max_iter:
            break
        old = stress
        X = G / n
    return X, stress, it


def _classical_mds(rows, n_components, random_state, device):
    """Torgerson's classical MDS: top eigenvectors of ``B = -1/2 J D^2 J``.

    Randomized subspace iteration with Rayleigh-Ritz; ``B`` is applied block by block.
    """
    torch = get_torch()
    n = rows.shape[0]
    k = min(n, n_components + _CLASSICAL_OVERSAMPLE)
    rng = check_random_state(random_state)
    V = torch.as_tensor(rng.standard_normal((n, k)), device=device, dtype=torch.float64)
    step = block_rows(n, _SWEEP_ELEMENTS, rows.batch_size)

    def apply_b(V):
        Vc = (V - V.mean(dim=0)).to(rows.dtype)
        out = torch.empty((n, V.shape[1]), dtype=torch.float64, device=device)
        for start in range(0, n, step):
            stop = min(n, start + step)
            d = rows(start, stop)
            out[start:stop] = ((d * d) @ Vc).double()
        return -0.5 * (out - out.mean(dim=0))

    Q = torch.linalg.qr(V).Q
    for _ in range(_CLASSICAL_POWER_ITER):
        Q = torch.linalg.qr(apply_b(Q)).Q
    BQ = apply_b(Q)
    evals, evecs = torch.linalg.eigh(Q.T @ BQ)
    order = torch.argsort(evals, descending=True)[:n_components]
    lam = evals[order].clamp(min=0.0)
    return (Q @ evecs[:, order]) * lam.sqrt()


def _interpolate(d, y):
    """Least-squares positions of new points from their distances ``d`` (block, (b, m)) to ``y``.

    With centred ``y``, ``||x - y_j||^2 = d_j^2`` gives
    ``x = 1/2 (Y^T Y)^+ Y^T (||y_j||^2 - d_j^2)`` (Gower's interpolation; exact for Euclidean
    distances; the landmark-MDS triangulation of de Silva and Tenenbaum).
    """
    torch = get_torch()
    center = y.mean(dim=0)
    yc = y - center
    q = (yc * yc).sum(dim=1)
    proj = torch.linalg.pinv(yc.T @ yc) @ yc.T  # (p, m)
    d = d.double()
    return center + 0.5 * ((q[None, :] - d * d) @ proj.T)


def _place(rows, y, *, max_iter, eps, bar=None):
    """Place every row of ``rows`` (distances to ``y``) by stress minimization, ``y`` fixed.

    Interpolation start, then the single-point Guttman update
    ``x <- mean(y) + 1/m sum_j b_j (x - y_j)``, vectorized over a block of points whose
    distances are formed once; each block stops as in :func:`_smacof`.
    Returns (positions, iterations of the slowest block).
    """
    torch = get_torch()
    n, m = rows.shape
    X = torch.empty((n, y.shape[1]), dtype=torch.float64, device=y.device)
    center = y.mean(dim=0)
    step = block_rows(m, _PLACE_ELEMENTS, rows.batch_size)
    n_iter = 0
    for start in range(0, n, step):
        stop = min(n, start + step)
        d = rows(start, stop)
        block = _Rows(d, y.device, batch_size=rows.batch_size)
        x = _interpolate(d, y)
        old = None
        for it in range(1, max_iter + 1):
            G, stress = _guttman_sweep(block, x, y)
            if old is not None and (old - stress) / _sum_sq_cross(x, y) < eps:
                break
            old = stress
            x = center + G / m
        X[start:stop] = x
        n_iter = max(n_iter, it)
        if bar is not None:
            bar.update(stop - start)
    return X, n_iter


def _sum_sq_cross(x, y):
    """``sum_{i,j} ||x_i - y_j||^2`` in O((n + m) p)."""
    return float(len(y) * (x * x).sum() + len(x) * (y * y).sum()
                 - 2 * (x.sum(dim=0) * y.sum(dim=0)).sum())


def _sum_sq(rows):
    """Float64 sum of the squared entries of a row source."""
    total = 0.0
    step = block_rows(rows.shape[1], _SWEEP_ELEMENTS, rows.batch_size)
    for start in range(0, rows.shape[0], step):
        d = rows(start, min(rows.shape[0], start + step))
        total += float((d * d).sum(dim=1).double().sum())
    return total


class _FeatureRows:
    """Distances from feature rows to reference rows, computed on demand, block by block."""

    def __init__(self, X, ref, device, batch_size="auto"):
        torch = get_torch()
        self.X, self.ref, self.device, self.batch_size = X, ref, device, batch_size
        self.dtype = torch.float64 if X.dtype == np.float64 else torch.float32
        self.shape = (len(X), len(ref))

    def __call__(self, start, stop):
        _, _, block = next(iter_distance_blocks(self.X[start:stop], self.ref,
                                                device=self.device, dtype=self.dtype,
                                                batch_size=stop - start))
        return block


def _kruskal_stress(rows, E, device):
    """Kruskal stress-1 (eq. 8) between the dissimilarities ``rows`` and the embedding ``E``."""
    torch = get_torch()
    E = torch.as_tensor(np.asarray(E, dtype=np.float64), device=device)
    _, raw = _guttman_sweep(rows, E, E)
    total = _sum_sq(rows)
    return float(np.sqrt(raw / total)) if total > 0 else 0.0


# --------------------------------------------------------------------------------------------
# Estimator
# --------------------------------------------------------------------------------------------
class MDSEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Metric multidimensional scaling by SMACOF in torch, with out-of-sample ``transform``.

    Finds points ``x_i`` in ``n_components`` dimensions whose Euclidean distances match the
    given dissimilarities ``d_ij`` (Lubbers et al., Sec. III C), by stress majorization
    (SMACOF) from a classical (Torgerson) start. New samples are placed against the fixed
    training embedding, so the estimator works in Pipelines, ``cross_val_score`` and
    ``GridSearchCV``.

    Parameters
    ----------
    n_components : int, default=2
        Embedding dimension ``D*``.
    metric : {"euclidean", "precomputed"}, default="euclidean"
        "euclidean": ``X`` holds features and the distances are computed in blocks on the
        device. "precomputed": ``fit`` takes a square dissimilarity matrix and ``transform``
        the dissimilarities of new samples to the training samples, ``(n_new, n_train)``.
    metric_mds : bool, default=True
        Metric MDS (scikit-learn's name). Only metric MDS is implemented; False raises.
    init : {"classical_mds", "random"}, default="classical_mds"
        Start of the first SMACOF run. Further runs (``n_init > 1``) start at random.
    n_init : int, default=1
        Number of SMACOF runs; the one with the lowest stress is kept.
    max_iter : int, default=300
        Maximum SMACOF iterations per run (and per block in out-of-sample placement).
    eps : float, default=1e-6
        Convergence tolerance with scikit-learn's meaning: the decrease of raw stress divided
        by the sum of squared embedded distances.
    method : {"smacof", "landmark"}, default="smacof"
        "landmark": SMACOF on ``n_landmarks`` random samples only, then every sample is placed
        against the landmark embedding like a new point. Memory and time are
        ``O(n * n_landmarks)``, so millions of samples fit.
    n_landmarks : int, default=1000
        Number of landmarks for ``method="landmark"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the randomized eigensolver, random starts and landmark choice.
    device : str or torch.device, default="auto"
        "auto" (CUDA when available), "cpu", "cuda:N".
    batch_size : int or "auto", default="auto"
        Rows of the dissimilarity matrix per device block in every sweep. "auto": blocks of
        about 2^18 dissimilarities (cache-sized on a CPU), 2^20 when placing new points.
    n_jobs : int or None, default=None
        CPU threads for torch: None or -1 all cores (as BLAS under scikit-learn), -2 all but
        one, k exactly k.
    verbose : int, default=0
        1: a progress bar; 2: also the stress of every iteration.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_samples, n_components)
        The embedding of the training samples (float64, centred for ``method="smacof"``).
    stress_ : float
        Kruskal stress-1 of ``embedding_``, eq. (8): ``sqrt(sum (d - dhat)^2 / sum d^2)``.
        For ``method="landmark"`` it is estimated on 2,000 random samples.
    n_iter_ : int
        SMACOF iterations of the kept run.
    landmark_indices_ : ndarray of int or None
        Training samples used as landmarks (``method="landmark"``), else None.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.

    See Also
    --------
    PairwiseDistances : Distances to the training samples, for ``metric="precomputed"``.
    skmicro.metrics.kruskal_stress : The stress of any embedding.
    sklearn.manifold.MDS : scikit-learn's MDS (no ``transform``).

    Notes
    -----
    Numerics: the dissimilarity matrix is used in its own dtype (float32 halves the memory
    of ``(n, n)``; float64 is kept as float64) and is never copied. The configuration, the
    Guttman-transform accumulation and every stress sum are float64; block-wise row sums are
    formed in the matrix dtype and added in float64.

    ``stress_`` differs from :class:`sklearn.manifold.MDS`, whose ``stress_`` is the raw
    stress ``sum_{i<j} (d - dhat)^2`` for metric MDS unless ``normalized_stress=True``.

    ``transform`` of the training dissimilarities reproduces ``embedding_`` up to the
    convergence tolerance: each training point is a stationary point of its own stress.

    References
    ----------
    .. [1] N. Lubbers, T. Lookman, K. Barros, "Inferring low-dimensional microstructure
       representations using convolutional neural networks", Phys. Rev. E 96 (2017).
    .. [2] J. B. Kruskal, "Multidimensional scaling by optimizing goodness of fit to a
       nonmetric hypothesis", Psychometrika 29 (1964).
    .. [3] I. Borg, P. Groenen, "Modern Multidimensional Scaling", Springer (2005).
    .. [4] V. de Silva, J. B. Tenenbaum, "Sparse multidimensional scaling using landmark
       points", Stanford technical report (2004).

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro import MDSEmbedder
    >>> X = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 0.0], [0.0, 4.0, 0.0], [3.0, 4.0, 0.0]])
    >>> mds = MDSEmbedder(n_components=2, random_state=0, device="cpu").fit(X)
    >>> round(mds.stress_, 6)
    0.0
    >>> mds.transform([[1.5, 2.0, 0.0]]).round(6)  # the centre of the rectangle
    array([[0., 0.]])
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions({"euclidean", "precomputed"})],
        "metric_mds": ["boolean"],
        "init": [StrOptions({"classical_mds", "random"})],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "eps": [Interval(Real, 0.0, None, closed="left")],
        "method": [StrOptions({"smacof", "landmark"})],
        "n_landmarks": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
        "device": "no_validation",  # checked by the engine, which knows torch.device
        "batch_size": BATCH_SIZE_CONSTRAINT,
        "n_jobs": N_JOBS_CONSTRAINT,
        "verbose": ["verbose"],
    }

    def __init__(self, n_components=2, *, metric="euclidean", metric_mds=True,
                 init="classical_mds", n_init=1, max_iter=300, eps=1e-6, method="smacof",
                 n_landmarks=1000, random_state=None, device="auto", batch_size="auto",
                 n_jobs=None, verbose=0):
        self.n_components = n_components
        self.metric = metric
        self.metric_mds = metric_mds
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.eps = eps
        self.method = method
        self.n_landmarks = n_landmarks
        self.random_state = random_state
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- helpers ---------------------------------------------------------------------------
    def _validate_X(self, X, *, reset):
        name = type(self).__name__
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32],
                          ensure_min_samples=1 if not reset else 2)
        if self.metric == "precomputed":
            _check_dissimilarities(X, square=reset, caller=name)
        return X

    def _rows_to_reference(self, X, device):
        """Row source of distances from the samples of ``X`` to the reference points."""
        if self.metric == "precomputed":
            return _Rows(X, device, columns=self.landmark_indices_, batch_size=self.batch_size)
        return _FeatureRows(X, self._reference_features, device, batch_size=self.batch_size)

    # -- fit -------------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Embed the training samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
            Features, or a symmetric dissimilarity matrix with ``metric="precomputed"``.
        y : ignored

        Returns
        -------
        self : MDSEmbedder
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit and return ``embedding_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
        y : ignored

        Returns
        -------
        embedding : ndarray of shape (n_samples, n_components)
        """
        self._fit(X)
        return self.embedding_.copy()

    def _fit(self, X):
        name = type(self).__name__
        check_device_param(self.device, caller=name)
        if not self.metric_mds:
            raise ValueError(
                f"The 'metric_mds' parameter of {name} must be True: only metric MDS is "
                "implemented. Use sklearn.manifold.MDS(metric_mds=False) for non-metric MDS."
            )
        X = self._validate_X(X, reset=True)
        n = X.shape[0]
        if self.n_components >= n:
            raise ValueError(
                f"The 'n_components' parameter of {name} must be smaller than the number of "
                f"samples ({n}); got {self.n_components}."
            )
        device = resolve_device(self.device, caller=name)
        rng = check_random_state(self.random_state)
        torch = get_torch()
        with torch_threads(self.n_jobs), torch.inference_mode():
            if self.method == "landmark" and self.n_landmarks < n:
                self._fit_landmarks(X, device, rng)
            else:
                self.landmark_indices_ = None
                if self.metric == "precomputed":
                    D = X
                else:
                    self._reference_features = X.copy()
                    D = blockwise_distances(X, device=device, n_jobs=self.n_jobs)
                E, self.stress_, self.n_iter_ = self._smacof_runs(D, device, rng)
                self.embedding_ = to_numpy(E, np.float64)
        self._n_features_out = self.n_components
        return self

    def _smacof_runs(self, D, device, rng):
        torch = get_torch()
        rows = _Rows(D, device, batch_size=self.batch_size)
        best = None
        total = _sum_sq(rows) / 2.0
        with progress_bar(self.n_init * self.max_iter, verbose=self.verbose,
                          desc=f"{type(self).__name__} SMACOF") as bar:
            for run in range(self.n_init):
                if run == 0 and self.init == "classical_mds":
                    init = _classical_mds(rows, self.n_components, rng, device)
                else:
                    init = torch.as_tensor(rng.uniform(size=(rows.shape[0], self.n_components)),
                                           device=device, dtype=torch.float64)
                X, raw, n_iter = _smacof(rows, init, max_iter=self.max_iter, eps=self.eps,
                                         verbose=self.verbose, bar=bar)
                stress1 = float(np.sqrt(raw / total)) if total > 0 else 0.0
                if best is None or stress1 < best[1]:
                    best = (X, stress1, n_iter)
        return best

    def _fit_landmarks(self, X, device, rng):
        torch = get_torch()
        n = X.shape[0]
        idx = np.sort(rng.choice(n, size=self.n_landmarks, replace=False))
        self.landmark_indices_ = idx
        if self.metric == "precomputed":
            D_ll = np.ascontiguousarray(X[np.ix_(idx, idx)])
        else:
            self._reference_features = X[idx].copy()
            D_ll = blockwise_distances(self._reference_features, device=device,
                                       n_jobs=self.n_jobs)
        Y, _, self.n_iter_ = self._smacof_runs(D_ll, device, rng)
        self._reference_embedding = to_numpy(Y, np.float64)
        with progress_bar(n, verbose=self.verbose, desc=f"{type(self).__name__} landmarks") as bar:
            E, _ = _place(self._rows_to_reference(X, device), Y, max_iter=self.max_iter,
                          eps=self.eps, bar=bar)
        E[torch.as_tensor(idx, device=device)] = Y  # landmarks keep their SMACOF positions
        self.embedding_ = to_numpy(E, np.float64)
        # Stress on a random subsample: the full (n, n) matrix is what this mode avoids.
        sub = np.sort(rng.choice(n, size=min(n, _STRESS_SUBSAMPLE), replace=False))
        if self.metric == "precomputed":
            rows = _Rows(np.ascontiguousarray(X[np.ix_(sub, sub)]), device,
                         batch_size=self.batch_size)
        else:
            D_sub = blockwise_distances(X[sub], device=device, n_jobs=self.n_jobs)
            rows = _Rows(D_sub, device, batch_size=self.batch_size)
        self.stress_ = _kruskal_stress(rows, self.embedding_[sub], device)

    # -- transform -------------------------------------------------------------------------
    def transform(self, X):
        """Place new samples against the fixed training embedding.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_train)
            Features, or with ``metric="precomputed"`` the dissimilarities of the new samples
            to the ``n_train`` training samples (columns in training order).

        Returns
        -------
        embedding : ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        device = resolve_device(self.device, caller=type(self).__name__)
        torch = get_torch()
        if self.landmark_indices_ is None:
            ref = torch.as_tensor(self.embedding_, device=device)
        else:
            ref = torch.as_tensor(self._reference_embedding, device=device)
        with torch_threads(self.n_jobs), torch.inference_mode():
            with progress_bar(len(X), verbose=self.verbose,
                              desc=f"{type(self).__name__} transform") as bar:
                E, _ = _place(self._rows_to_reference(X, device), ref, max_iter=self.max_iter,
                              eps=self.eps, bar=bar)
        return to_numpy(E, np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.metric == "precomputed"
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

