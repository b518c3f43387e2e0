"""Per-process caches of what is expensive to build and never pickled with an estimator.

Filter banks (scattering), networks, Gram index plans and projections (VGG) are built on first
use and kept in :class:`BoundedCache` objects: least-recently-used eviction, bounded both in
entries and in bytes (tensors on any device, numpy arrays and torch modules are counted).
:func:`clear_caches` empties them all. The bounds (see docs/devices.md):

=====================================  =======  =========
cache                                  entries  bytes
=====================================  =======  =========
scattering filter banks                16       1 GiB
VGG-19 networks                        4        512 MiB
VGG Gram plans and projections         16       256 MiB
=====================================  =======  =========

so at most about 1.75 GiB per process, plus one entry larger than its cache's byte bound (the
entry in use is always kept).
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict

import numpy as np

__all__ = ["BoundedCache", "clear_caches", "nbytes"]

_MIB = 1 << 20
_CACHES = []


def nbytes(value):
    """Bytes held by tensors and arrays in ``value`` (nested dicts, lists, tuples, modules)."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if hasattr(value, "element_size") and hasattr(value, "nelement"):  # torch.Tensor
        return value.element_size() * value.nelement()
    if hasattr(value, "buffers") and hasattr(value, "parameters"):  # torch.nn.Module
        return sum(map(nbytes, value.buffers())) + sum(map(nbytes, value.parameters()))
    if isinstance(value, dict):
        return sum(map(nbytes, value.values()))
    if isinstance(value, (list, tuple)):
        return sum(map(nbytes, value))
    return 0


class BoundedCache:
    """A thread-safe least-recently-used cache bounded in entries and in bytes.

    Parameters
    ----------
    name : str
        What the cache holds (for ``repr`` and the docs).
    max_entries : int
    max_bytes : int
        Entries are dropped, least recently used first, until both bounds hold; the entry
        just used is always kept, even when it alone exceeds ``max_bytes``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro._cache import BoundedCache
    >>> cache = BoundedCache("demo", max_entries=2, max_bytes=1 << 20)
    >>> for key in "abc":
    ...     _ = cache.get(key, lambda: np.zeros(4))
    >>> cache.keys()  # "a", the least recently used, was dropped
    ['b', 'c']
    """

    def __init__(self, name, *, max_entries, max_bytes):
        self.name = name
        self.max_entries = int(max_entries)
        self.max_bytes = int(max_bytes)
        self._items = OrderedDict()  # key -> (value, bytes)
        self._bytes = 0
        # Builds run under the lock: two threads asking for the same 80 MB network build it
        # once. Re-entrant, in case a build looks up another entry of the same cache.
        self._lock = threading.RLock()
        _CACHES.append(self)

    def get(self, key, build):
        """The value for ``key``, built by ``build()`` on a miss; marks it most recent."""
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
                return item[0]
            value = build()
            size = nbytes(value)
            self._items[key] = (value, size)
            self._bytes += size
            while len(self._items) > 1 and (len(self._items) > self.max_entries
                                            or self._bytes > self.max_bytes):
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped
            return value

    def clear(self):
        """Drop every entry."""
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def keys(self):
        """Keys from least to most recently used."""
        with self._lock:
            return list(self._items)

    @property
    def nbytes(self):
        """Bytes held by the cached values."""
        return self._bytes

    def __contains__(self, key):
        with self._lock:
            return key in self._items

    def __len__(self):
        return len(self._items)

    def __repr__(self):
        return (f"BoundedCache({self.name!r}, {len(self)}/{self.max_entries} entries, "
                f"{self._bytes / _MIB:.1f}/{self.max_bytes / _MIB:.0f} MiB)")


def clear_caches():
    """Drop every cached filter bank, network and projection of skmicro (frees their memory).

    Estimators never hold these objects: after this call the next ``transform`` rebuilds what
    it needs. Cached CUDA memory that torch keeps for reuse is released too.

    Examples
    --------
    >>> import skmicro
    >>> skmicro.clear_caches()
    """
    for cache in _CACHES:
        cache.clear()
    torch = sys.modules.get("torch")  # never import torch just to clear
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
