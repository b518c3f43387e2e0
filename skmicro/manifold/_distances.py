"""Pairwise distances computed in row blocks on the torch device.

:func:`iter_distance_blocks` is the one distance kernel of the package: it yields the distances
from consecutive row blocks of ``X`` to all rows of ``Y`` as device tensors, so a caller can
consume them (SMACOF, landmark placement, stress) without ever holding an ``(n, n)`` matrix.
:func:`blockwise_distances` fills a host array with them; :class:`PairwiseDistances` is the
transformer that makes the ``metric="precomputed"`` route a Pipeline step.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from skmicro._dask import check_metadata, is_dask_array, map_rows, worker_copy
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
    validate_params,
)

__all__ = ["PairwiseDistances", "blockwise_distances", "iter_distance_blocks"]

_METRICS = ("euclidean", "cosine")
# batch_size="auto": 4 M float32 distances (16 MB) per device block keep a block and its
# temporaries in cache-friendly territory on the CPU and far below any GPU's memory.
_BLOCK_ELEMENTS = 1 << 22
# The one batch_size constraint of the distance and MDS estimators and functions.
BATCH_SIZE_CONSTRAINT = [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")]


# Squared distances below this fraction of |x|^2 + |y|^2 are recomputed as |x - y|^2: there the
# expanded form |x|^2 + |y|^2 - 2 x.y has cancelled most of its digits (float32: 0.3 absolute
# error on the zero distance of a VGG row to itself, against typical distances of 90).
_CANCELLATION = 1e-3


def _prepare(A, metric, device, dtype, center=None):
    """Rows on the device, with their squared norms and the centre used (euclidean: the rows
    are moved by ``center``, by default their own mean; distances do not change, and a common
    offset stops costing digits)."""
    torch = get_torch()
    t = host_tensor(A).to(device=device, dtype=dtype)
    if metric == "cosine":
        norms = torch.linalg.vector_norm(t, dim=1, keepdim=True)
        t = t / torch.where(norms > 0, norms, torch.ones_like(norms))
        return t, None, None
    if center is None:
        center = t.mean(dim=0)
    t = t - center
    return t, (t * t).sum(dim=1), center


def _refine_near_pairs(sq, xt, xsq, yt, ysq, ysq_max):
    """Recompute, directly, the squared distances that cancellation made inexact (in place)."""
    if not bool(sq.amin() < _CANCELLATION * (xsq.max() + ysq_max)):  # one cheap pass: none
        return
    near = sq < _CANCELLATION * (xsq[:, None] + ysq[None, :])
    rows, cols = near.nonzero(as_tuple=True)
    step = max(1, _BLOCK_ELEMENTS // max(1, xt.shape[1]))  # pairs per difference batch
    for start in range(0, len(rows), step):
        r, c = rows[start:start + step], cols[start:start + step]
        diff = xt[r] - yt[c]
        sq[r, c] = (diff * diff).sum(dim=1)


@validate_params(
    {"X": ["array-like"], "Y": [None, "array-like"], "metric": [StrOptions(set(_METRICS))],
     "device": "no_validation", "dtype": "no_validation", "batch_size": BATCH_SIZE_CONSTRAINT},
    prefer_skip_nested_validation=True,
)
def iter_distance_blocks(X, Y=None, *, metric="euclidean", device="auto", dtype=None,
                         batch_size="auto"):
    """Yield ``(start, stop, block)`` with ``block`` the distances ``X[start:stop]`` -> ``Y``.

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
    Y : ndarray of shape (m, n_features) or None
        None means ``Y = X`` (then the diagonal is exactly 0).
    metric : {"euclidean", "cosine"}
        Euclidean distance, or cosine distance ``1 - cos(x, y)`` in [0, 2].
    device : str or torch.device, default="auto"
        Where the blocks are computed (and live): "auto" (CUDA when available), "cpu",
        "cuda:N".
    dtype : torch dtype or None
        Compute dtype; default: float64 for float64 input, else float32.
    batch_size : int or "auto", default="auto"
        Rows of ``X`` per block; "auto" makes a block hold about 4 M distances (16 MB).

    Yields
    ------
    start, stop : int
    block : torch.Tensor of shape (stop - start, m), on ``device``

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.manifold import iter_distance_blocks
    >>> X = np.array([[0.0, 0.0], [3.0, 4.0]])
    >>> [(i, j, b.tolist()) for i, j, b in iter_distance_blocks(X, device="cpu")]
    [(0, 2, [[0.0, 5.0], [5.0, 0.0]])]
    """
    torch = get_torch()
    device = (resolve_device(device, caller="iter_distance_blocks")
              if isinstance(device, str) else device)
    if dtype is None:
        dtype = torch.float64 if np.asarray(X).dtype == np.float64 else torch.float32
    same = Y is None
    yt, ysq, center = _prepare(X if same else Y, metric, device, dtype)
    ysq_max = None if ysq is None else ysq.max()
    n = len(X)
    step = block_rows(len(yt), _BLOCK_ELEMENTS, batch_size)
    with torch.inference_mode():
        for start in range(0, n, step):
            stop = min(n, start + step)
            if same:
                xt, xsq = yt[start:stop], (None if ysq is None else ysq[start:stop])
            else:
                xt, xsq, _ = _prepare(X[start:stop], metric, device, dtype, center)
            # One GEMM per block on centred rows; the expanded form loses digits only for
            # nearly equal rows, which are recomputed directly (the diagonal is exact for X is Y).
            block = xt @ yt.T
            if metric == "cosine":
                block.neg_().add_(1.0).clamp_(0.0, 2.0)
            else:
                block.mul_(-2.0).add_(xsq[:, None]).add_(ysq[None, :])
                if same:  # exactly 0 below; kept out of the near pairs
                    block.diagonal(offset=start).fill_(float("inf"))
                _refine_near_pairs(block, xt, xsq, yt, ysq, ysq_max)
                block.clamp_(min=0.0).sqrt_()
            if same:
                block.diagonal(offset=start).zero_()
            yield start, stop, block


@validate_params(
    {"X": ["array-like"], "Y": [None, "array-like"], "metric": [StrOptions(set(_METRICS))],
     "device": "no_validation", "out": [None, np.ndarray], "dtype": "no_validation",
     "batch_size": BATCH_SIZE_CONSTRAINT, "n_jobs": N_JOBS_CONSTRAINT, "verbose": ["verbose"]},
    prefer_skip_nested_validation=True,
)
def blockwise_distances(X, Y=None, *, metric="euclidean", device="auto", out=None, dtype=None,
                        batch_size="auto", n_jobs=None, verbose=0):
    """Distances from each row of ``X`` to each row of ``Y``, computed in blocks on ``device``.

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
    Y : ndarray of shape (m, n_features) or None
        None means ``Y = X``; the result is then exactly symmetric with a zero diagonal.
    metric : {"euclidean", "cosine"}, default="euclidean"
    device : str or torch.device, default="auto"
        "auto" (CUDA when available), "cpu", "cuda:N".
    out : ndarray of shape (n, m) or None
        Host array to fill (avoids one more ``(n, m)`` allocation).
    dtype : numpy dtype or None
        Result dtype; default float64 for float64 input, else float32.
    batch_size : int or "auto", default="auto"
        Rows of ``X`` per device block; "auto" makes a block hold about 4 M distances.
    n_jobs : int or None, default=None
        CPU threads for torch: None or -1 all cores, -2 all but one, k exactly k.
    verbose : int, default=0
        Show a progress bar over the rows of ``X`` when positive.

    Returns
    -------
    D : ndarray of shape (n, m)

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.manifold import blockwise_distances
    >>> blockwise_distances(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[0.0, 0.0]]),
    ...                     device="cpu")
    array([[0.],
           [5.]])
    """
    torch = get_torch()
    X = np.asarray(X)
    if dtype is None:
        dtype = np.float64 if X.dtype == np.float64 else np.float32
    dtype = np.dtype(dtype)
    m = len(X) if Y is None else len(Y)
    if out is None:
        out = np.empty((len(X), m), dtype=dtype)
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    with torch_threads(n_jobs), progress_bar(len(X), verbose=verbose, desc="distances",
                                             unit="row") as bar:
        for start, stop, block in iter_distance_blocks(X, Y, metric=metric, device=device,
                                                       dtype=tdtype, batch_size=batch_size):
            out[start:stop] = to_numpy(block, dtype)
            bar.update(stop - start)
    if Y is None and metric == "euclidean":
        # Symmetrize the GEMM round-off so that the matrix passes strict symmetry checks.
        _symmetrize_inplace(out)
    return out


def _symmetrize_inplace(D, step=2048):
    """``D = (D + D.T) / 2`` in place, in tiles (no ``(n, n)`` temporary)."""
    n = len(D)
    for i in range(0, n, step):
        for j in range(i, n, step):
            a = D[i:i + step, j:j + step]
            b = D[j:j + step, i:i + step]
            avg = (a + b.T) * 0.5
            D[i:i + step, j:j + step] = avg
            D[j:j + step, i:i + step] = avg.T


class PairwiseDistances(TransformerMixin, BaseEstimator):
    """Distances to the training samples, as a Pipeline step.

    ``fit`` keeps the training rows; ``transform(X)`` returns the distances of each row of
    ``X`` to them, shape ``(n_samples, n_train)``, computed in blocks on the torch device. This
    makes ``MDSEmbedder(metric="precomputed")`` usable after any feature extractor, with
    out-of-sample test samples.

    Parameters
    ----------
    metric : {"euclidean", "cosine"}, default="euclidean"
        Euclidean distance (eq. 4 of Lubbers et al. for texture vectors), or cosine distance
        ``1 - cos(x, y)``.
    device : str or torch.device, default="auto"
        Where the distances are computed: "auto" (CUDA when available), "cpu", "cuda:N".
    batch_size : int or "auto", default="auto"
        Rows per device block; "auto" makes a block hold about 4 M distances (16 MB).
    n_jobs : int or None, default=None
        CPU threads for torch: None or -1 all cores, -2 all but one, k exactly k.
    verbose : int, default=0
        Show a progress bar over the rows when positive.

    Attributes
    ----------
    X_fit_ : ndarray of shape (n_train, n_features_in)
        The training rows (float32 or float64, as given).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.

    See Also
    --------
    MDSEmbedder : Embeds the distances in a low-dimensional space.
    sklearn.metrics.pairwise_distances : The same distances on the CPU, in one piece.

    Notes
    -----
    ``fit_transform(X)`` returns the training matrix, exactly symmetric with a zero diagonal
    for the Euclidean metric. The result has the input's float dtype (float32 input gives a
    float32 matrix, half the memory). Output columns are named ``pairwisedistances0``, ...

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro import PairwiseDistances
    >>> pd = PairwiseDistances(device="cpu").fit(np.array([[0.0, 0.0], [3.0, 4.0]]))
    >>> pd.transform(np.array([[0.0, 4.0]]))
    array([[4., 3.]])
    """

    _parameter_constraints: dict = {
        "metric": [StrOptions(set(_METRICS))],
        "device": "no_validation",  # checked by the engine, which knows torch.device
        "batch_size": BATCH_SIZE_CONSTRAINT,
        "n_jobs": N_JOBS_CONSTRAINT,
        "verbose": ["verbose"],
    }

    def __init__(self, *, metric="euclidean", device="auto", batch_size="auto", n_jobs=None,
                 verbose=0):
        self.metric = metric
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Store the training rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A dask array is computed: the training rows are the reference set every
            distance needs.
        y : ignored

        Returns
        -------
        self : PairwiseDistances
        """
        check_device_param(self.device, caller=type(self).__name__)
        if is_dask_array(X):
            X = X.compute()
        # copy=True: the caller may change X later; our reference rows must not move.
        self.X_fit_ = validate_data(self, X, dtype=[np.float64, np.float32], copy=True)
        return self

    def transform(self, X):
        """Distances of each row of ``X`` to the training rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A dask array gives a lazy dask array, one block of rows at a time.

        Returns
        -------
        D : ndarray of shape (n_samples, n_train)
        """
        check_is_fitted(self)
        if is_dask_array(X):
            sample = check_metadata(X, self._validate_rows, caller=type(self).__name__)
            return map_rows(_distance_rows, X, worker_copy(self), n_out=len(self.X_fit_),
                            dtype=np.result_type(sample.dtype, self.X_fit_.dtype),
                            label="pairwisedistances-transform")
        return self._distances(self._validate_rows(X), self.X_fit_)

    def _validate_rows(self, X):
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=False)

    def fit_transform(self, X, y=None):
        """Fit, then return the symmetric training distance matrix (computed once).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        D : ndarray of shape (n_samples, n_samples)
            For a dask ``X``, the lazy ``transform(X)`` (rows computed block by block, so
            symmetric only to rounding).
        """
        self.fit(X)
        if is_dask_array(X):
            return self.transform(X)
        return self._distances(self.X_fit_, None)

    def _distances(self, X, Y):
        dtype = np.result_type(X.dtype, self.X_fit_.dtype)
        device = resolve_device(self.device, caller=type(self).__name__)
        return blockwise_distances(X.astype(dtype, copy=False),
                                   None if Y is None else Y.astype(dtype, copy=False),
                                   metric=self.metric, device=device, dtype=dtype,
                                   batch_size=self.batch_size, n_jobs=self.n_jobs,
                                   verbose=self.verbose)

    def get_feature_names_out(self, input_features=None):
        """One output name per training sample: ``pairwisedistances0``, ... .

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self)
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(len(self.X_fit_))], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _distance_rows(estimator, block, rows):
    """One dask block through the numpy path (validation included)."""
    return estimator._distances(estimator._validate_rows(block), estimator.X_fit_)
