"""Quality of an embedding: Kruskal stress (eq. 8), R^2 of linear read-out (Table I, eqs. 11-13),
the angle between regression vectors (eq. 14) of Lubbers et al. (2017), and a non-linear
(k-nearest-neighbour) read-out beside the linear one."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_array, check_consistent_length

from skmicro._dissimilarity import DissimilarityRows, check_dissimilarities, kruskal_stress_rows
from skmicro._engine import get_torch, resolve_device, torch_threads
from skmicro._validation import N_JOBS_CONSTRAINT, Interval, validate_params

__all__ = ["kruskal_stress", "embedding_r2", "embedding_knn_r2", "regression_angle"]


@validate_params(
    {"D": ["array-like"], "embedding": ["array-like"], "device": "no_validation",
     "n_jobs": N_JOBS_CONSTRAINT},
    prefer_skip_nested_validation=True,
)
def kruskal_stress(D, embedding, *, device="auto", n_jobs=None):
    """Kruskal stress-1 of an embedding, eq. (8): ``sqrt(sum (d - dhat)^2 / sum d^2)``.

    Parameters
    ----------
    D : array-like of shape (n_samples, n_samples)
        Symmetric, non-negative dissimilarities with a zero diagonal.
    embedding : array-like of shape (n_samples, n_components)
    device : str or torch.device, default="auto"
        Where the embedded distances are formed (in blocks; no ``(n, n)`` copy): "auto"
        (CUDA when available), "cpu", "cuda:N".
    n_jobs : int or None, default=None
        CPU threads for torch: None or -1 all cores, -2 all but one, k exactly k.

    Returns
    -------
    stress : float
        0 for a perfect embedding; Kruskal's guide: 0.025 excellent, 0.05 good, 0.1 fair.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.metrics import kruskal_stress
    >>> D = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> round(kruskal_stress(D, [[0.0], [2.0]], device="cpu"), 6)
    1.0
    """
    D = check_array(D, dtype=[np.float64, np.float32], input_name="D")
    E = check_array(embedding, dtype=np.float64, input_name="embedding")
    check_dissimilarities(D, square=True, caller="kruskal_stress", name="D")
    check_consistent_length(D, E)
    dev = resolve_device(device, caller="kruskal_stress")
    with torch_threads(n_jobs), get_torch().inference_mode():
        return kruskal_stress_rows(DissimilarityRows(D, dev), E, dev)


def _ols(embedding, params):
    E = check_array(embedding, dtype=np.float64, input_name="embedding")
    P = check_array(params, ensure_2d=False, dtype=np.float64, input_name="params")
    check_consistent_length(E, P)
    P2 = P.reshape(len(P), -1)
    A = np.c_[E, np.ones(len(E))]
    coef, *_ = np.linalg.lstsq(A, P2, rcond=None)
    return A, P2, coef


def _r2_columns(P, P_hat):
    """Per-column ``1 - SS_res / SS_tot`` (eq. 13); NaN for a constant column."""
    resid = ((P - P_hat) ** 2).sum(axis=0)
    total = ((P - P.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, 1 - resid / np.where(total > 0, total, 1.0), np.nan)


@validate_params({"embedding": ["array-like"], "params": ["array-like"]},
                 prefer_skip_nested_validation=True)
def embedding_r2(embedding, params):
    """Coefficient of determination of an OLS fit from the embedding to each parameter.

    Fits ``p_hat = beta . x_hat + gamma`` (eqs. 11-12) by ordinary least squares and returns
    ``R^2 = 1 - sum (p - p_hat)^2 / sum (p - mean p)^2`` (eq. 13), as in Table I.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, n_components)
    params : array-like of shape (n_samples,) or (n_samples, n_params)
        Generating parameters (e.g. scale k and noise amplitude A).

    Returns
    -------
    r2 : float or ndarray of shape (n_params,)
        A float for 1-D ``params``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.metrics import embedding_r2
    >>> E = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    >>> round(embedding_r2(E, 2 * E[:, 0] - E[:, 1] + 5), 6)
    1.0
    """
    A, P, coef = _ols(embedding, params)
    r2 = _r2_columns(P, A @ coef)
    return float(r2[0]) if np.ndim(params) == 1 else r2


@validate_params({"embedding": ["array-like"], "params": ["array-like"], "degrees": ["boolean"]},
                 prefer_skip_nested_validation=True)
def regression_angle(embedding, params, *, degrees=True):
    """Angle between the OLS regression vectors of two parameters, eq. (14).

    ``theta = arccos(beta_A . beta_k / (|beta_A| |beta_k|))``; 90 degrees means the embedding
    encodes the two parameters along orthogonal directions.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, n_components)
    params : array-like of shape (n_samples, 2)
        The two parameters, one per column.
    degrees : bool, default=True
        Degrees (True) or radians.

    Returns
    -------
    angle : float

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.metrics import regression_angle
    >>> E = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    >>> round(regression_angle(E, np.c_[E[:, 0], E[:, 0] + E[:, 1]]), 6)
    45.0
    """
    P = np.asarray(params)
    if P.ndim != 2 or P.shape[1] != 2:
        raise ValueError(
            f"params must have shape (n_samples, 2), one column per parameter; got shape "
            f"{P.shape}.")
    _, _, coef = _ols(embedding, params)
    b1, b2 = coef[:-1, 0], coef[:-1, 1]
    norm = np.linalg.norm(b1) * np.linalg.norm(b2)
    if norm == 0:
        raise ValueError("A regression vector is zero (a parameter is constant or not "
                         "linearly related to the embedding); the angle is undefined.")
    angle = float(np.arccos(np.clip(b1 @ b2 / norm, -1.0, 1.0)))
    return float(np.degrees(angle)) if degrees else angle


@validate_params(
    {
        "embedding": ["array-like"],
        "params": ["array-like"],
        "n_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "cv": [Interval(numbers.Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def embedding_knn_r2(embedding, params, *, n_neighbors=10, cv=5, random_state=0):
    """Cross-validated R^2 of a k-nearest-neighbour read-out from the embedding to each parameter.

    The non-linear companion of :func:`embedding_r2`: a parameter can be a smooth but curved
    function of the embedding (a ring, a fold), which a linear map misses. Each sample's
    parameter is predicted as the mean over its ``n_neighbors`` nearest embedded points
    (Euclidean, uniform weights) among the training folds of a shuffled ``cv``-fold split, and
    ``R^2 = 1 - sum (p - p_hat)^2 / sum (p - mean p)^2`` is taken over all out-of-fold
    predictions. About 1 when the embedding determines the parameter locally, about 0 (or
    below) when it carries no information about it.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, n_components)
        Embedded points; coordinates are used as they are (no rescaling), since MDS
        coordinates share one distance unit.
    params : array-like of shape (n_samples,) or (n_samples, n_params)
        Generating parameters (e.g. scale k and noise amplitude A).
    n_neighbors : int, default=10
        Neighbours averaged per prediction; at most the size of the smallest training split,
        ``n_samples - ceil(n_samples / cv)``.
    cv : int, default=5
        Number of folds of the shuffled :class:`~sklearn.model_selection.KFold` split
        (``cv = n_samples`` is leave-one-out).
    random_state : int, RandomState instance or None, default=0
        Shuffling of the folds.

    Returns
    -------
    r2 : float or ndarray of shape (n_params,)
        A float for 1-D ``params``; NaN for a constant parameter.

    See Also
    --------
    embedding_r2 : the linear read-out of Table I (eq. 13), fitted and scored in-sample.

    Examples
    --------
    A parameter that is a curved function of the embedding: invisible to the linear map,
    read off by the neighbours.

    >>> import numpy as np
    >>> from skmicro.metrics import embedding_knn_r2, embedding_r2
    >>> t = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    >>> ring = np.c_[np.cos(t), np.sin(t)]
    >>> p = np.sin(2 * t)  # a parameter that runs twice around the ring
    >>> linear = round(embedding_r2(ring, p), 2) + 0.0  # + 0.0 turns a -0.0 into 0.0
    >>> linear, round(embedding_knn_r2(ring, p), 2)
    (0.0, 1.0)
    """
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.neighbors import KNeighborsRegressor

    E = check_array(embedding, dtype=np.float64, input_name="embedding")
    P = check_array(params, ensure_2d=False, dtype=np.float64, input_name="params")
    check_consistent_length(E, P)
    n = len(E)
    if cv > n:
        raise ValueError(f"The 'cv' parameter of embedding_knn_r2 must be <= n_samples={n}. "
                         f"Got {cv} instead.")
    smallest_train = n - -(-n // cv)
    if n_neighbors > smallest_train:
        raise ValueError(
            f"The 'n_neighbors' parameter of embedding_knn_r2 must be <= {smallest_train} (the "
            f"smallest training split of {n} samples in {cv} folds). Got {n_neighbors} instead; "
            f"lower n_neighbors or raise cv.")
    P2 = P.reshape(n, -1)
    folds = KFold(n_splits=cv, shuffle=True, random_state=random_state)
    P_hat = cross_val_predict(KNeighborsRegressor(n_neighbors=n_neighbors), E, P2, cv=folds)
    r2 = _r2_columns(P2, P_hat.reshape(P2.shape))
    return float(r2[0]) if P.ndim == 1 else r2
