"""Metric multidimensional scaling (SMACOF) in torch, with landmarks and out-of-sample placement.

Every ``(n, n)`` quantity is visited in row blocks (``skmicro._dissimilarity``):
the embedded distances, the ratio matrix of the Guttman transform and the stress never exist as
full matrices, so only the dissimilarity matrix itself (the caller's, never copied) is
``O(n^2)`` in memory. SMACOF and the classical start read only the upper triangle of the
(symmetric) matrix: half the distances, ratios and residuals per sweep. Another sweep places
new points against a fixed embedding (``transform`` and landmark mode).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_array, check_random_state

from skmicro._dask import check_metadata, is_dask_array, map_rows
from skmicro._dissimilarity import (
    DissimilarityRows,
    check_dissimilarities,
    embedded_distances,
    kruskal_stress_rows,
    sum_squares,
    symmetric_guttman_sweep,
    symmetric_product,
    upper_blocks,
)
from skmicro._engine import (
    block_rows,
    check_device_param,
    get_torch,
    host_tensor,
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
    blockwise_distances,
    iter_distance_blocks,
)

__all__ = ["MDSEmbedder"]

# Power (subspace) iterations and extra vectors of the randomized eigensolver behind the
# classical initialization; 8 + 10 recover the leading eigenvectors to ~1e-8 on the benchmark
# matrices, and exactly for configurations of rank <= n_components.
_CLASSICAL_POWER_ITER = 8
_CLASSICAL_OVERSAMPLE = 10
# A placed row stops when its step falls below this fraction of the reference embedding's RMS
# radius: far below the 1e-8 agreement promised across chunkings; Newton steps make it cheap.
_PLACE_TOL = 1e-12
# Distances per placement block (float64): 2^18 values, 2 MB, stay in cache.
_PLACE_ELEMENTS = 1 << 18
# Points on which the landmark mode estimates Kruskal stress.
_STRESS_SUBSAMPLE = 2000


# --------------------------------------------------------------------------------------------
# Torch kernels
# --------------------------------------------------------------------------------------------
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
        G, raw = symmetric_guttman_sweep(rows, X)
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
    def apply_b(V):
        Vc_t = (V - V.mean(dim=0)).to(rows.dtype).T.contiguous()
        out_t = torch.zeros((V.shape[1], n), dtype=torch.float64, device=device)
        for a, b, d in upper_blocks(rows):  # D^2 is symmetric: half the entries, read once
            symmetric_product(out_t, Vc_t, d * d, a, b)
        out = out_t.T
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


def _place_block(d, y, *, max_iter, tol):
    """Positions of new points from their float64 distances ``d`` (b, m) to the fixed ``y``.

    Each row minimizes its own stress ``sum_j (d_j - ||x - y_j||)^2`` from Gower's
    interpolation and stops on its own test (its last step below ``tol``), so a row's result
    depends on that row alone, never on which rows share its block: any chunking gives the same
    embedding to rounding (~1e-15 relative). Steps are safeguarded Newton steps on the
    ``p``-dimensional problem (quadratic convergence; the Guttman step alone converges
    linearly, in hundreds to thousands of iterations for some rows), falling back to the
    Guttman step ``x <- mean(y) + 1/m sum_j (d_j / dhat_j) (x - y_j)``, which never increases
    the stress, whenever the Hessian is not positive definite or Newton does not descend.
    Returns (positions, iterations of the slowest row).
    """
    torch = get_torch()
    b, m = d.shape
    p = y.shape[1]
    center = y.mean(dim=0)
    yy = (y[:, :, None] * y[:, None, :]).reshape(m, p * p)  # y_j y_j^T, for the Hessians
    eye = torch.eye(p, dtype=y.dtype, device=y.device)
    x = _interpolate(d, y)
    active = torch.arange(b, device=y.device)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        xa, da = x[active], d[active]
        r, _ = embedded_distances(xa, y)
        stress = ((da - r) ** 2).sum(dim=1)
        w = torch.div(da, r).nan_to_num_(nan=0.0, posinf=0.0)  # d_j / dhat_j (0 at dhat = 0)
        guttman = center + (w.sum(dim=1, keepdim=True) * xa - w @ y) / m
        # Newton on f/2: gradient m (x - guttman); Hessian sum_j (1 - w_j) I + c_j u_j u_j^T
        # with u_j = x - y_j, c_j = d_j / dhat_j^3, expanded with sums over j (no (b, m, p)).
        c = torch.div(w, r * r).nan_to_num_(nan=0.0, posinf=0.0)
        cy = c @ y
        outer = (c.sum(dim=1)[:, None, None] * xa[:, :, None] * xa[:, None, :]
                 - xa[:, :, None] * cy[:, None, :] - cy[:, :, None] * xa[:, None, :]
                 + (c @ yy).reshape(-1, p, p))
        hess = (m - w.sum(dim=1))[:, None, None] * eye + outer
        chol, info = torch.linalg.cholesky_ex(hess)
        grad = m * (xa - guttman)
        newton = xa - torch.cholesky_solve(grad[:, :, None], chol)[:, :, 0]
        r_new, _ = embedded_distances(newton, y)
        use_newton = (info == 0) & torch.isfinite(newton).all(dim=1) & (
            ((da - r_new) ** 2).sum(dim=1) <= stress)
        x_new = torch.where(use_newton[:, None], newton, guttman)
        moved = (x_new - xa).norm(dim=1)
        x[active] = x_new
        active = active[moved > tol]
        if len(active) == 0:
            break
    return x, n_iter




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
        Maximum SMACOF iterations per run, and iterations per row in out-of-sample
        placement (which takes Newton steps and needs a few dozen at most).
    eps : float, default=1e-6
        Convergence tolerance with scikit-learn's meaning: the decrease of raw stress divided
        by the sum of squared embedded distances.
    method : {"smacof", "landmark"}, default="smacof"
        "landmark": SMACOF on ``n_landmarks`` random samples only, then every sample is placed
        against the landmark embedding like a new point. Memory and time are
        ``O(n * n_landmarks)``, so millions of samples fit; on a dask array the rows are
        placed blockwise on the workers (docs/scaling.md).
    n_landmarks : int, default=1000
        Number of landmarks for ``method="landmark"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the randomized eigensolver, random starts and landmark choice.
    device : str or torch.device, default="auto"
        "auto" (CUDA when available), "cpu", "cuda:N".
    batch_size : int or "auto", default="auto"
        Rows of the dissimilarity matrix per device block in every sweep and placement.
        "auto": blocks of about 2^18 dissimilarities (cache-sized on a CPU).
    n_jobs : int or None, default=None
        CPU threads for torch: None or -1 all cores (as BLAS under scikit-learn), -2 all but
        one, k exactly k.
    verbose : int, default=0
        1: a progress bar; 2: also the stress of every iteration.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_samples, n_components)
        The embedding of the training samples (float64, centred for ``method="smacof"``).
        A lazy dask array after a landmark fit on a dask array.
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

    Out-of-sample placement (``transform``, and every non-landmark row in landmark mode)
    minimizes each row's own stress against the fixed reference points, from Gower's
    interpolation, with safeguarded Newton steps, and stops each row on its own test (a step
    below 1e-12 of the reference embedding's radius). A row's position therefore does not
    depend on the rows placed with it: any batching or dask chunking gives the same embedding
    to rounding. ``transform`` of the training dissimilarities reproduces ``embedding_`` up to
    SMACOF's convergence (``eps``): each training point of a converged embedding is a
    stationary point of its own stress.

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
    >>> bool(mds.stress_ < 1e-6)
    True
    >>> centre = mds.transform([[1.5, 2.0, 0.0]])  # the centre of the rectangle
    >>> centre.shape, bool(np.allclose(centre, 0.0, atol=1e-6))
    ((1, 2), True)
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
        if (not reset and self.metric == "precomputed" and self.landmark_indices_ is not None
                and _n_columns(X) == len(self.landmark_indices_)):
            # Dissimilarities to the landmarks only: all that placement reads.
            X = check_array(X, dtype=[np.float64, np.float32], estimator=name)
        else:
            X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32],
                              ensure_min_samples=1 if not reset else 2)
        if self.metric == "precomputed":
            check_dissimilarities(X, square=reset, caller=name)
        return X

    def _placement(self, *, pin_landmarks=False):
        """The placement state: reference embedding (and features), no O(n) array."""
        landmarks = self.landmark_indices_ is not None
        return _Placement(
            self._reference_embedding if landmarks else self.embedding_,
            None if self.metric == "precomputed" else self._reference_features,
            self.landmark_indices_, pin_landmarks=pin_landmarks, max_iter=self.max_iter,
            device=self.device, batch_size=self.batch_size, n_jobs=self.n_jobs,
            caller=type(self).__name__,
        )

    # -- fit -------------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Embed the training samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
            Features, or a symmetric dissimilarity matrix with ``metric="precomputed"``. A
            dask array with ``method="landmark"`` is read only for the landmark rows (and
            2,000 rows for ``stress_``); ``embedding_`` is then a lazy dask array whose rows
            are placed blockwise where it is computed.
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
            A lazy dask array for a dask ``X`` with ``method="landmark"``.
        """
        self._fit(X)
        return self.embedding_ if is_dask_array(self.embedding_) else self.embedding_.copy()

    def _check_fit_params(self):
        name = type(self).__name__
        check_device_param(self.device, caller=name)
        if not self.metric_mds:
            raise ValueError(
                f"The 'metric_mds' parameter of {name} must be True: only metric MDS is "
                "implemented. Use sklearn.manifold.MDS(metric_mds=False) for non-metric MDS."
            )

    def _check_n_samples(self, n):
        if self.n_components >= n:
            raise ValueError(
                f"The 'n_components' parameter of {type(self).__name__} must be smaller than "
                f"the number of samples ({n}); got {self.n_components}."
            )

    def _fit(self, X):
        self._check_fit_params()
        if is_dask_array(X):
            return self._fit_dask(X)
        X = self._validate_X(X, reset=True)
        n = X.shape[0]
        self._check_n_samples(n)
        device = resolve_device(self.device, caller=type(self).__name__)
        rng = check_random_state(self.random_state)
        torch = get_torch()
        with torch_threads(self.n_jobs), torch.inference_mode():
            if self.method == "landmark" and self.n_landmarks < n:
                idx = self._fit_landmarks(X, rng, device, n)
                placement = self._placement(pin_landmarks=True)
                with progress_bar(n, verbose=self.verbose, unit="point",
                                  desc=f"{type(self).__name__} landmarks") as bar:
                    self.embedding_ = placement(X, rows=np.arange(n), bar=bar)
                self._landmark_stress(X, idx, placement, rng, device)
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

    def _fit_dask(self, X):
        """Landmark fit on a dask array: landmarks local, every row placed on the workers."""
        name = type(self).__name__
        n = X.shape[0]
        # Metadata first (dtype, 2-D, feature count, square), on a one-row stand-in.
        check_metadata(X, lambda sample: validate_data(
            self, sample, reset=True, dtype=[np.float64, np.float32]), caller=name)
        if self.metric == "precomputed" and X.shape[1] != n:  # not square: the numpy message
            check_metadata(X, lambda sample: check_dissimilarities(
                sample, square=True, caller=name), caller=name)
        if n < 2:
            raise ValueError(f"{name}: X must hold at least 2 samples; got {n}.")
        self._check_n_samples(n)
        if self.method != "landmark" or self.n_landmarks >= n:
            # SMACOF reads every pairwise distance: there is nothing blockwise to do.
            return self._fit(X.compute())
        device = resolve_device(self.device, caller=name)
        rng = check_random_state(self.random_state)
        torch = get_torch()
        with torch_threads(self.n_jobs), torch.inference_mode():
            idx = self._fit_landmarks(X, rng, device, n)
            rows = X[:, idx] if self.metric == "precomputed" else X
            self.embedding_ = map_rows(
                _place_rows, rows, self._placement(pin_landmarks=True),
                n_out=self.n_components, dtype=np.float64, label=f"{name.lower()}-place")
            self._landmark_stress(X, idx, self._placement(pin_landmarks=True), rng, device)
        self._n_features_out = self.n_components
        return self

    def _smacof_runs(self, D, device, rng):
        torch = get_torch()
        rows = DissimilarityRows(D, device, batch_size=self.batch_size)
        best = None
        total = sum_squares(rows) / 2.0
        with progress_bar(self.n_init * self.max_iter, verbose=self.verbose, unit="iter",
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

    def _fit_landmarks(self, X, rng, device, n):
        """Draw the landmarks, embed them by SMACOF; X is a numpy or a dask array."""
        idx = np.sort(rng.choice(n, size=self.n_landmarks, replace=False))
        self.landmark_indices_ = idx
        name = type(self).__name__
        if self.metric == "precomputed":
            D_ll = _computed(X[idx][:, idx])
            if is_dask_array(X):
                D_ll = check_array(D_ll, dtype=[np.float64, np.float32], estimator=name)
                check_dissimilarities(D_ll, square=True, caller=name)
            self._reference_features = None
        else:
            self._reference_features = _computed(X[idx]).copy()
            if is_dask_array(X):
                self._reference_features = check_array(
                    self._reference_features, dtype=[np.float64, np.float32], estimator=name)
            D_ll = blockwise_distances(self._reference_features, device=device,
                                       n_jobs=self.n_jobs)
        Y, _, self.n_iter_ = self._smacof_runs(np.ascontiguousarray(D_ll), device, rng)
        self._reference_embedding = to_numpy(Y, np.float64)
        return idx

    def _landmark_stress(self, X, idx, placement, rng, device):
        """Kruskal stress on a random subsample: the full (n, n) matrix is what landmarks avoid.

        The subsample is placed again here; per-row placement makes that the embedding's own
        rows (to rounding), also when ``embedding_`` is a lazy dask array.
        """
        n = X.shape[0]
        sub = np.sort(rng.choice(n, size=min(n, _STRESS_SUBSAMPLE), replace=False))
        if self.metric == "precomputed":
            block = _computed(X[sub][:, sub])
            E = placement(_computed(X[sub][:, idx]), rows=sub)
        else:
            feats = _computed(X[sub])
            block = blockwise_distances(feats, device=device, n_jobs=self.n_jobs)
            E = placement(feats, rows=sub)
        rows = DissimilarityRows(np.ascontiguousarray(block), device, batch_size=self.batch_size)
        self.stress_ = kruskal_stress_rows(rows, E, device)

    # -- transform -------------------------------------------------------------------------
    def transform(self, X):
        """Place new samples against the fixed training (or landmark) embedding.

        Every row is placed on its own (stress minimization from Gower's interpolation, with
        its own convergence test), so the result of a row does not depend on the other rows
        passed with it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_train)
            Features, or with ``metric="precomputed"`` the dissimilarities of the new samples
            to the ``n_train`` training samples (columns in training order); after a landmark
            fit, the dissimilarities to the landmarks only, ``(n_samples, n_landmarks)``
            (columns in ``landmark_indices_`` order), are enough. A dask array gives a lazy
            dask array, placed blockwise.

        Returns
        -------
        embedding : ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self)
        name = type(self).__name__
        if is_dask_array(X):
            check_metadata(X, lambda sample: self._validate_X(sample, reset=False),
                           caller=name)
            if (self.metric == "precomputed" and self.landmark_indices_ is not None
                    and X.shape[1] != len(self.landmark_indices_)):
                X = X[:, self.landmark_indices_]  # read only the landmark columns
            return map_rows(_place_rows, X, self._placement(), n_out=self.n_components,
                            dtype=np.float64, label=f"{name.lower()}-transform")
        X = self._validate_X(X, reset=False)
        with progress_bar(len(X), verbose=self.verbose, unit="point",
                          desc=f"{name} transform") as bar:
            return self._placement()(X, bar=bar)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.metric == "precomputed"
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags




def _n_columns(X):
    shape = np.shape(X) if not hasattr(X, "shape") else X.shape
    return shape[1] if len(shape) == 2 else None


def _computed(a):
    """A numpy array from a numpy or dask (sub)array."""
    return np.asarray(a.compute() if is_dask_array(a) else a)


class _Placement:
    """Everything placing rows needs, and nothing that grows with the number of samples.

    The reference embedding (landmarks, or the training set for ``method="smacof"``), the
    reference features (None for precomputed dissimilarities), the landmark indices and the
    parameters. This is what a dask graph ships to the workers.
    """

    def __init__(self, embedding, features, landmarks, *, pin_landmarks, max_iter, device,
                 batch_size, n_jobs, caller):
        self.embedding, self.features, self.landmarks = embedding, features, landmarks
        self.pin_landmarks, self.max_iter = pin_landmarks, max_iter
        self.device, self.batch_size = device, batch_size
        self.n_jobs, self.caller = n_jobs, caller

    def _distances(self, X, device):
        """Float64 distances to the reference points: float32 GEMMs round differently for
        different block heights, float64 keeps every row's distances the same to ~1e-15."""
        torch = get_torch()
        if self.features is None:
            if self.landmarks is not None and X.shape[1] != len(self.landmarks):
                X = X[:, self.landmarks]
            return host_tensor(np.asarray(X, dtype=np.float64)).to(device)
        X = np.asarray(X, dtype=np.float64)
        ref = np.asarray(self.features, dtype=np.float64)
        return torch.cat([block for _, _, block in iter_distance_blocks(
            X, ref, device=device, dtype=torch.float64)])

    def __call__(self, X, *, rows=None, bar=None):
        """Positions of the rows of ``X``; ``rows``: their sample indices (to pin landmarks)."""
        torch = get_torch()
        device = resolve_device(self.device, caller=self.caller)
        y = torch.as_tensor(self.embedding, dtype=torch.float64, device=device)
        radius = float(((y - y.mean(dim=0)) ** 2).sum(dim=1).mean().sqrt())
        tol = _PLACE_TOL * (radius if radius > 0 else 1.0)
        out = np.empty((len(X), y.shape[1]), dtype=np.float64)
        step = block_rows(len(y), _PLACE_ELEMENTS, self.batch_size)
        with torch_threads(self.n_jobs), torch.inference_mode():
            for start in range(0, len(X), step):
                stop = min(len(X), start + step)
                x, _ = _place_block(self._distances(X[start:stop], device), y,
                                    max_iter=self.max_iter, tol=tol)
                out[start:stop] = to_numpy(x, np.float64)
                if bar is not None:
                    bar.update(stop - start)
        if self.pin_landmarks and rows is not None:  # landmarks keep their SMACOF positions
            k = np.minimum(np.searchsorted(self.landmarks, rows), len(self.landmarks) - 1)
            hit = self.landmarks[k] == rows
            out[hit] = self.embedding[k[hit]]
        return out


def _place_rows(placement, block, rows):
    """One dask block: the value checks of the numpy path, then the placement."""
    block = check_array(block, dtype=[np.float64, np.float32], estimator=placement.caller)
    if placement.features is None:
        check_dissimilarities(block, square=False, caller=placement.caller)
    return placement(block, rows=rows)
