"""Descriptors and embeddings to and from zarr, with their feature names as attributes.

A thin layer over ``dask.array.to_zarr`` / ``dask.array.from_zarr``: the stored array is an
ordinary zarr array (any zarr reader opens it); the column names live in its attributes under
``"feature_names"``, so a table read back knows what its columns are.
"""

from __future__ import annotations

import numpy as np

from .._dask import is_dask_array
from .._validation import validate_params

__all__ = ["to_zarr", "read_zarr"]

_NAMES_KEY = "feature_names"


@validate_params(
    {
        "X": ["array-like"],
        "store": "no_validation",  # a path, URL or zarr store: zarr checks it
        "feature_names": ["array-like", None],
        "component": [str, None],
        "overwrite": ["boolean"],
        "compute": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def to_zarr(X, store, *, feature_names=None, component=None, overwrite=False, compute=True):
    """Write a table of descriptors or an embedding to zarr, with its feature names.

    Parameters
    ----------
    X : dask.array.Array or ndarray of shape (n_samples, n_features)
        A dask array is written chunk by chunk where it is computed (on the workers of a Dask
        cluster: nothing is gathered on the client); the zarr chunks are its chunks.
    store : str, path-like or zarr store
        Where to write, e.g. ``"descriptors.zarr"`` (a shared file system or an object store
        on a cluster).
    feature_names : array-like of str or None, default=None
        Column names, e.g. ``estimator.get_feature_names_out()``; stored in the array's
        attributes as ``"feature_names"``.
    component : str or None, default=None
        Path of the array inside the store (several arrays in one store).
    overwrite : bool, default=False
        Replace an existing array.
    compute : bool, default=True
        False returns the dask ``Delayed`` that writes the data (attributes are written now).

    Returns
    -------
    None or dask.delayed.Delayed

    See Also
    --------
    read_zarr : Read it back as a dask array, with the names.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from skmicro.io import read_zarr, to_zarr
    >>> path = tempfile.mkdtemp() + "/embedding.zarr"
    >>> to_zarr(np.arange(6.0).reshape(3, 2), path, feature_names=["mds0", "mds1"])
    >>> X, names = read_zarr(path, return_feature_names=True)
    >>> X.compute().tolist(), names
    ([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], ['mds0', 'mds1'])
    """
    import dask.array as da
    import zarr

    if not is_dask_array(X):
        X = np.asarray(X)
        X = da.from_array(X, chunks=X.shape or ())
    if X.ndim != 2:
        raise ValueError(
            f"to_zarr writes tables (n_samples, n_features); got a {X.ndim}-D array of shape "
            f"{X.shape}."
        )
    names = None
    if feature_names is not None:
        names = [str(name) for name in np.asarray(feature_names, dtype=object).ravel()]
        if len(names) != X.shape[1]:
            raise ValueError(
                f"The 'feature_names' parameter of to_zarr must hold one name per column "
                f"({X.shape[1]}); got {len(names)} names."
            )
    # Zarr chunks must be regular: dask's last chunk may be shorter, no other may differ.
    if len(set(X.chunks[0][:-1])) > 1 or (len(X.chunks[0]) > 1
                                          and X.chunks[0][-1] > X.chunks[0][0]):
        X = X.rechunk({0: max(X.chunks[0])})
    stored = da.to_zarr(X, store, component=component, overwrite=overwrite, compute=False)
    array = zarr.open_array(store, path=component or "", mode="r+")
    if names is not None:
        array.attrs[_NAMES_KEY] = names
    return stored.compute() if compute else stored


@validate_params(
    {
        "store": "no_validation",
        "component": [str, None],
        "return_feature_names": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def read_zarr(store, *, component=None, return_feature_names=False):
    """Open a zarr array (e.g. written by :func:`to_zarr`) as a lazy dask array.

    Parameters
    ----------
    store : str, path-like or zarr store
    component : str or None, default=None
        Path of the array inside the store.
    return_feature_names : bool, default=False
        Also return the ``"feature_names"`` attribute (None when the array has none).

    Returns
    -------
    X : dask.array.Array
        Chunked as stored.
    feature_names : list of str or None
        Only with ``return_feature_names=True``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from skmicro.io import read_zarr, to_zarr
    >>> path = tempfile.mkdtemp() + "/features.zarr"
    >>> to_zarr(np.ones((4, 3), np.float32), path, component="scattering")
    >>> read_zarr(path, component="scattering").chunks
    ((4,), (3,))
    """
    import dask.array as da
    import zarr

    X = da.from_zarr(store, component=component)
    if not return_feature_names:
        return X
    names = zarr.open_array(store, path=component or "", mode="r").attrs.get(_NAMES_KEY)
    return X, (None if names is None else list(names))
