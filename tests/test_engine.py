"""The torch engine: device parsing, batching, CUDA out-of-memory back-off, threads."""

import os

import numpy as np
import pytest
import torch

from skmicro._engine import (
    map_batches,
    n_threads,
    progress_bar,
    resolve_device,
    torch_threads,
)


def test_resolve_device_auto_and_cpu():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", 3, None, "CPU"])
def test_bad_device_value(bad):
    with pytest.raises(ValueError, match="'device' parameter"):
        resolve_device(bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_cuda_requested_without_cuda():
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")


def test_map_batches_covers_every_row_in_order():
    X = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
    seen = []

    def f(t):
        seen.append(t.shape[0])
        return t * 2

    out = map_batches(f, X, batch_size=4, device=torch.device("cpu"))
    np.testing.assert_array_equal(out, X * 2)
    assert seen == [4, 4, 2]
    assert out.dtype == np.float32


def test_oom_halves_the_batch_and_gives_the_same_result():
    X = np.arange(16 * 2, dtype=np.float32).reshape(16, 2)
    sizes = []

    def f(t):
        sizes.append(t.shape[0])
        if t.shape[0] > 3:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return t.sum(dim=1)

    with pytest.warns(RuntimeWarning) as record:
        out = map_batches(f, X, batch_size=16, device=torch.device("cpu"))
    assert [str(w.message).split("batch_size=")[1] for w in record] == ["8.", "4.", "2."]
    np.testing.assert_array_equal(out, X.sum(axis=1))
    assert sizes[:3] == [16, 8, 4] and set(sizes[3:]) == {2}


def test_oom_at_batch_size_one_is_a_clear_memory_error():
    def f(t):
        raise torch.OutOfMemoryError("CUDA out of memory (simulated)")

    with pytest.raises(MemoryError, match="batch_size=1"), pytest.warns(RuntimeWarning):
        map_batches(f, np.zeros((2, 2), np.float32), batch_size=2, device=torch.device("cpu"))


def test_other_errors_propagate_unchanged():
    def f(t):
        raise KeyError("boom")

    with pytest.raises(KeyError):
        map_batches(f, np.zeros((2, 2), np.float32), batch_size=2, device=torch.device("cpu"))


def test_map_batches_runs_in_inference_mode():
    flags = []
    map_batches(lambda t: flags.append(torch.is_inference_mode_enabled()) or t,
                np.zeros((1, 1), np.float32), batch_size=1, device=torch.device("cpu"))
    assert flags == [True]


def test_torch_threads_restores_setting():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_progress_bar_counts(capsys):
    with progress_bar(5, verbose=1, desc="x") as bar:
        map_batches(lambda t: t, np.zeros((5, 1), np.float32), batch_size=2,
                    device=torch.device("cpu"), progress=bar)
        assert bar.n == 5


@pytest.mark.gpu
def test_map_batches_on_cuda_returns_numpy():
    out = map_batches(lambda t: t + 1, np.zeros((3, 2), np.float32), batch_size=2,
                      device=torch.device("cuda"))
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, 1.0)


def test_map_image_threads_keeps_order_and_restores_threads():
    from skmicro._engine import map_image_threads

    x = torch.arange(10.0).reshape(10, 1)
    before = torch.get_num_threads()
    with torch_threads(2):
        out = map_image_threads(lambda t: t * 3, x)
        pair = map_image_threads(lambda t: (t + 1, None), x)
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == before
    torch.testing.assert_close(out, x * 3)
    torch.testing.assert_close(pair[0], x + 1)
    assert pair[1] is None


def test_map_image_threads_runs_one_image_on_one_thread():
    # intra-op threads stall at each of a scattering's hundreds of small ops under load
    from skmicro._engine import map_image_threads

    seen = []
    with torch_threads(2):
        map_image_threads(lambda t: seen.append(torch.get_num_threads()) or t, torch.ones(1, 3))
        assert torch.get_num_threads() == 2
    assert seen == [1]


def _affinity_cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


@pytest.mark.parametrize("n_jobs, expected", [
    (None, _affinity_cores()), (-1, _affinity_cores()), (1, 1), (3, 3),
    (-2, max(1, _affinity_cores() - 1)),
])
def test_n_jobs_rule(n_jobs, expected):
    # None means every core the process may use (as BLAS under scikit-learn), like -1.
    assert n_threads(n_jobs) == expected


def _spy(monkeypatch, module, name, seen):
    """Replace ``module.name`` by a wrapper that records torch's threads when it runs."""
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)


def _work_cases():
    from skmicro import MDSEmbedder, PairwiseDistances, PowerSpectrumFeatures
    from skmicro.features import _power_spectrum
    from skmicro.manifold import _distances, _mds
    from skmicro.metrics import _embedding, kruskal_stress

    X = np.random.default_rng(0).random((6, 3))
    D = np.abs(X[:, None, 0] - X[None, :, 0])
    images = np.random.default_rng(0).random((3, 8, 8))
    return [
        ("PowerSpectrumFeatures", _power_spectrum, "map_batches",
         lambda n: PowerSpectrumFeatures(device="cpu", n_jobs=n).fit_transform(images)),
        ("PairwiseDistances", _distances, "iter_distance_blocks",
         lambda n: PairwiseDistances(device="cpu", n_jobs=n).fit_transform(X)),
        ("MDSEmbedder", _mds, "_smacof",
         lambda n: MDSEmbedder(device="cpu", n_jobs=n, random_state=0).fit(X)),
        ("kruskal_stress", _embedding, "kruskal_stress_rows",
         lambda n: kruskal_stress(D, X[:, :1], device="cpu", n_jobs=n)),
    ]


@pytest.mark.parametrize("case", range(4))
@pytest.mark.parametrize("n_jobs", [None, 1])
def test_n_jobs_means_the_same_in_every_estimator(monkeypatch, case, n_jobs):
    name, module, attr, run = _work_cases()[case]
    seen = []
    _spy(monkeypatch, module, attr, seen)
    before = torch.get_num_threads()
    torch.set_num_threads(3)  # neither 1 nor (on small machines) the core count: must return
    try:
        run(n_jobs)
        assert seen, f"{name}: the spied step did not run"
        assert set(seen) == {_affinity_cores() if n_jobs is None else 1}, name
        assert torch.get_num_threads() == 3, f"{name} did not restore torch's threads"
    finally:
        torch.set_num_threads(before)


def test_n_jobs_zero_is_rejected_with_sklearn_message():
    from skmicro import MDSEmbedder

    with pytest.raises(ValueError, match=r"The 'n_jobs' parameter of MDSEmbedder must be None, "
                                         r"an int in the range \(-inf, -1\] or an int in the "
                                         r"range \[1, inf\)\. Got 0 instead\."):
        MDSEmbedder(n_jobs=0).fit(np.random.default_rng(0).random((5, 2)))
