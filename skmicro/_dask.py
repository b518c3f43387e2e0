"""Blockwise dispatch over dask arrays, written once for every skmicro estimator.

Every skmicro ``transform`` is row-wise: one output row per image (descriptors) or per feature
row (distances to a reference set, placement against a landmark embedding). A dask array in is
therefore mapped block by block along its first axis with the numpy path itself, so the numbers
are the in-memory path's whatever the chunking, and a lazy dask array comes out.

Validation that needs only metadata (ndim, dtype, shape, ``image_shape``, fitted size) runs on
the client before any graph is built: :func:`metadata_sample` is a zero-filled one-row stand-in
with the dask array's dtype and row shape, passed through the numpy path's checks so that the
messages are the same. Checks on values (NaN, infinity) run inside each block when it is
computed.

What is shipped to the workers is a small state object (a fitted descriptor pickles to well
under 1 KB: filters, networks and thread pools are rebuilt and cached per worker process; the
landmark placer carries the landmark state only). It enters the graph once, as its own key, and
every block task depends on it.

dask is imported here only when a dask array has arrived: ``import skmicro`` never imports it.
"""

from __future__ import annotations

import copy
import math
import sys

import numpy as np

__all__ = ["is_dask_array", "metadata_sample", "check_metadata", "first_rows", "map_rows",
           "worker_copy", "WORKER_MALLOC_CONFIG"]

#: Dask config for worker processes started by a nanny (LocalCluster, dask-jobqueue, ...).
#: Distributed starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also switches off
#: glibc's dynamic mmap threshold: every freed temporary of >= 128 KiB is unmapped and the next
#: one page-faults again. skmicro's torch loops allocate many such temporaries; measured here,
#: landmark placement ran 4-5x and scattering ~1.5x slower on such workers. These values
#: restore glibc's own behaviour (blocks up to 32 MiB reused from the heap). Use with
#: ``dask.config.set(WORKER_MALLOC_CONFIG)`` before the cluster starts (docs/scaling.md).
WORKER_MALLOC_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 64 * 2**20,
    "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": 32 * 2**20,
}


def is_dask_array(X):
    """True for a ``dask.array.Array`` (without importing dask when it is not loaded).

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro._dask import is_dask_array
    >>> is_dask_array(np.zeros(3))
    False
    """
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(X, module.Array)


def _check_known_shape(X, caller):
    if any(isinstance(s, float) and math.isnan(s) for s in X.shape[1:]):
        raise ValueError(
            f"{caller}: the dask array X has unknown sizes in its non-row axes (shape "
            f"{X.shape}). Call X.compute_chunk_sizes() first, or build X with known shapes."
        )


def metadata_sample(X, caller="skmicro"):
    """A zero-filled numpy stand-in for ``X``: its dtype and row shape, at most one row.

    Passing it through the numpy validation raises that path's errors (wrong ndim, dtype,
    channels, image size, feature count, no rows) from metadata alone, before any computation.

    Examples
    --------
    >>> import dask.array as da
    >>> from skmicro._dask import metadata_sample
    >>> sample = metadata_sample(da.ones((100, 8, 8), dtype="uint8", chunks=10))
    >>> sample.shape, sample.dtype.name
    ((1, 8, 8), 'uint8')
    """
    _check_known_shape(X, caller)
    n = X.shape[0]
    rows = 1 if (isinstance(n, float) and math.isnan(n)) else min(int(n), 1)
    return np.zeros((rows,) + tuple(int(s) for s in X.shape[1:]), dtype=X.dtype)


def check_metadata(X, check, caller="skmicro"):
    """``check(sample)`` on :func:`metadata_sample`; errors quote ``X``'s shape, not the sample's.

    Examples
    --------
    >>> import dask.array as da
    >>> from skmicro._dask import check_metadata
    >>> def needs_3d(a):
    ...     if a.ndim != 3:
    ...         raise ValueError(f"expected 3-D, got shape {a.shape}")
    >>> check_metadata(da.zeros((50, 4), chunks=10), needs_3d)
    Traceback (most recent call last):
    ...
    ValueError: expected 3-D, got shape (50, 4)
    """
    sample = metadata_sample(X, caller)
    try:
        return check(sample)
    except (ValueError, TypeError) as exc:
        old, new = str(sample.shape), str(tuple(X.shape))
        if old != new and len(exc.args) == 1 and old in str(exc.args[0]):
            exc.args = (str(exc.args[0]).replace(old, new),)
        raise


def first_rows(X, n=1, caller="skmicro"):
    """Compute the first ``n`` rows of ``X`` only (what a data-independent ``fit`` needs).

    Examples
    --------
    >>> import dask.array as da
    >>> from skmicro._dask import first_rows
    >>> first_rows(da.arange(10, chunks=5).reshape(5, 2)).tolist()
    [[0, 1]]
    """
    _check_known_shape(X, caller)
    return np.asarray(X[:n].compute())


def worker_copy(estimator):
    """A shallow copy to ship to workers: no progress bars there (dask reports progress)."""
    out = copy.copy(estimator)
    if hasattr(out, "verbose"):
        out.verbose = 0
    return out


def _apply_rows(block, func, state, n_out, dtype, block_info=None):
    if block.shape[0] == 0:  # dask may hold empty chunks; the numpy path refuses empty input
        return np.empty((0, n_out), dtype=dtype)
    start = block_info[0]["array-location"][0][0] if block_info else 0
    rows = np.arange(start, start + block.shape[0])
    return np.asarray(func(state, block, rows), dtype=dtype)


def map_rows(func, X, state, *, n_out, dtype, label):
    """Lazy ``func(state, block)`` over the row blocks of the dask array ``X``.

    Parameters
    ----------
    func : callable
        A module-level function ``func(state, block, rows) -> ndarray (len(block), n_out)``
        running the numpy path on one block of whole rows; ``rows`` are the block's row
        indices in ``X``.
    X : dask.array.Array of shape (n, ...)
        Rechunked so that every block holds whole rows (images); the row chunks are kept.
    state : object
        Everything ``func`` needs besides the block (a fitted estimator, a landmark placer).
        It becomes one key of the graph, sent once to each worker that needs it.
    n_out : int
        Output columns.
    dtype : numpy dtype
        Output dtype.
    label : str
        Prefix of the task names (visible in the dashboard and task stream).

    Returns
    -------
    Y : dask.array.Array of shape (n, n_out), chunks ``(X.chunks[0], (n_out,))``

    Examples
    --------
    >>> import dask.array as da
    >>> from skmicro._dask import map_rows
    >>> X = da.ones((6, 2, 2), chunks=(4, 1, 2))
    >>> Y = map_rows(lambda s, b, rows: b.sum(axis=(1, 2))[:, None] * s + rows[:, None], X, 10,
    ...              n_out=1, dtype="float64", label="demo")
    >>> Y.chunks, Y.compute().ravel().tolist()
    (((4, 2), (1,)), [40.0, 41.0, 42.0, 43.0, 44.0, 45.0])
    """
    import dask
    from dask.base import tokenize

    dtype = np.dtype(dtype)
    X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})  # blocks of whole rows
    state_key = dask.delayed(state, pure=True, name=f"{label}-state-{tokenize(state)}")
    return X.map_blocks(
        _apply_rows, func, state_key, n_out, dtype,
        dtype=dtype,
        chunks=(X.chunks[0], (int(n_out),)),
        drop_axis=tuple(range(2, X.ndim)),
        meta=np.empty((0, 0), dtype=dtype),
        name=f"{label}-{tokenize(X.name, func, state_key.key, int(n_out), dtype.str)}",
    )
