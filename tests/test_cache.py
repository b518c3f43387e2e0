"""The one cache helper: LRU eviction, entry and byte bounds, clear_caches()."""

import numpy as np
import pytest
import torch

import skmicro
from skmicro._cache import BoundedCache, nbytes


def _fill(cache, keys, size=8):
    built = []
    for key in keys:
        cache.get(key, lambda key=key: built.append(key) or np.zeros(size, np.uint8))
    return built


def test_least_recently_used_is_evicted_first():
    cache = BoundedCache("t", max_entries=3, max_bytes=1 << 20)
    _fill(cache, "abc")
    cache.get("a", pytest.fail)  # a hit: must not build, and makes "a" the most recent
    _fill(cache, "d")
    assert cache.keys() == ["c", "a", "d"]  # "b" was least recently used


def test_builds_once_per_key():
    cache = BoundedCache("t", max_entries=4, max_bytes=1 << 20)
    assert _fill(cache, "abab") == ["a", "b"]


def test_byte_bound_holds_and_counts_tensors_and_arrays():
    cache = BoundedCache("t", max_entries=100, max_bytes=100)
    _fill(cache, "abcd", size=40)  # 40 bytes each: at most two fit under 100
    assert cache.keys() == ["c", "d"] and cache.nbytes == 80
    assert nbytes({"w": [torch.zeros(3, 5), (np.zeros(7, np.float64), 1)]}) == 60 + 56
    assert nbytes(torch.nn.Linear(4, 2)) == (8 + 2) * 4


def test_entry_larger_than_the_bound_is_kept_alone():
    cache = BoundedCache("t", max_entries=4, max_bytes=10)
    _fill(cache, "a", size=4)
    _fill(cache, "b", size=50)  # needed by the caller right now: kept, everything else goes
    assert cache.keys() == ["b"]


def test_clear_caches_empties_every_skmicro_cache():
    from skmicro.features import _scattering_core, _vgg19, _vgg_gram

    images = np.random.default_rng(0).random((2, 16, 16))
    skmicro.ScatteringFeatures(J=2, L=2, device="cpu").fit_transform(images)
    skmicro.VGGGramFeatures(weights=None, layers=["conv1_1"], n_components=8, random_state=0,
                            device="cpu").fit_transform(images)
    caches = (_scattering_core.FILTER_BANKS, _vgg19.NETWORKS, _vgg_gram.PLANS)
    assert all(len(c) > 0 for c in caches)
    skmicro.clear_caches()
    assert [len(c) for c in caches] == [0, 0, 0] and all(c.nbytes == 0 for c in caches)
