"""Dask in, dask out, on a real two-process ``distributed.LocalCluster``.

One cluster for the whole module (2 worker processes x 1 thread). Work on the workers is shown
two ways: the task stream records our blockwise tasks on the worker addresses, and the client's
own copy of the numpy transform is replaced by one that raises, so a result can only come from
the workers (they import the real class in their own process).
"""

import logging
import pickle

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from skmicro import (  # noqa: E402
    PowerSpectrumFeatures,
    ScatteringFeatures,
    VGGGramFeatures,
)
from skmicro._dask import worker_copy  # noqa: E402
from skmicro.features._base import ImageTransformer  # noqa: E402


@pytest.fixture(scope="module")
def client():
    # Workers are spawned processes; they inherit PYTHONPATH and sys.path from this one.
    import dask

    from skmicro._dask import WORKER_MALLOC_CONFIG

    with dask.config.set(WORKER_MALLOC_CONFIG), distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
            silence_logs=logging.ERROR) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def _forbid_client_side(monkeypatch, cls, method):
    def refuse(*args, **kwargs):
        raise AssertionError(f"{cls.__name__}.{method} ran on the client")

    monkeypatch.setattr(cls, method, refuse)


def _assert_close(got, expected):
    # FFT and GEMM batch sizes differ with the chunking: float32 rows agree to a few ulp.
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-9)


def _images(n=10, size=16, seed=0):
    return np.random.default_rng(seed).random((n, size, size)).astype(np.float32)


# n_jobs=1: one torch thread per single-threaded worker (as docs/scaling.md advises).
DESCRIPTORS = [
    ScatteringFeatures(J=2, L=4, device="cpu", n_jobs=1),
    PowerSpectrumFeatures(device="cpu", n_jobs=1),
    VGGGramFeatures(weights=None, layers=("conv1_1", "conv2_1"), device="cpu", random_state=0,
                    n_jobs=1),
]


@pytest.mark.parametrize("est", DESCRIPTORS, ids=lambda e: type(e).__name__)
def test_descriptor_on_workers_equals_numpy(client, monkeypatch, est):
    X = _images()
    expected = est.fit(X).transform(X)
    Xd = da.from_array(X, chunks=(4, 8, 16))  # uneven image chunks, split images
    out = est.fit(Xd).transform(Xd)
    assert isinstance(out, da.Array)
    assert out.shape == expected.shape and out.dtype == np.float32
    assert out.chunks == ((4, 4, 2), (expected.shape[1],))
    assert isinstance(out._meta, np.ndarray)
    _forbid_client_side(monkeypatch, ImageTransformer, "_transform_array")
    with distributed.get_task_stream(client) as stream:
        got = out.compute()
    workers = {t["worker"] for t in stream.data
               if t["key"][0].startswith(f"{type(est).__name__.lower()}-transform")}
    assert workers and workers <= set(client.scheduler_info()["workers"])
    _assert_close(got, expected)


@pytest.mark.parametrize("est", DESCRIPTORS, ids=lambda e: type(e).__name__)
def test_what_ships_to_workers_is_small(est):
    est.fit(_images(n=2))
    assert len(pickle.dumps(worker_copy(est))) < 1024


def test_fit_computes_only_the_first_image_and_transform_is_lazy():
    import dask

    def unreadable():
        raise OSError("block 2 must not be read")

    X = _images(n=6)
    Xd = da.concatenate([da.from_array(X, chunks=3),
                         da.from_delayed(dask.delayed(unreadable)(), X.shape, X.dtype)])
    est = PowerSpectrumFeatures(device="cpu").fit(Xd)  # would raise if it read block 2
    out = est.transform(Xd)  # lazy: nothing read yet
    _assert_close(out[:6].compute(scheduler="sync"), est.transform(X))
    with pytest.raises(OSError, match="must not be read"):
        out.compute(scheduler="sync")


def _messages_match(est, bad, error):
    with pytest.raises(error) as from_numpy:
        est.transform(bad)
    with pytest.raises(error) as from_dask:
        est.transform(da.from_array(bad, chunks=2))  # raised here, before any compute
    assert str(from_dask.value) == str(from_numpy.value)


def test_metadata_errors_are_the_numpy_messages():
    est = ScatteringFeatures(J=2, L=4, average="local", device="cpu").fit(_images(n=2))
    _messages_match(est, np.zeros((3, 2, 16, 16, 1)), ValueError)  # 5-D
    _messages_match(est, np.zeros((3, 16, 16), dtype="U3"), TypeError)  # strings
    _messages_match(est, np.zeros((3, 16, 16, 5)), ValueError)  # 5 channels
    _messages_match(est, np.zeros((3, 32, 32)), ValueError)  # not the fitted size
    _messages_match(est, np.zeros((3, 2, 2)), ValueError)  # smaller than 2**J
    _messages_match(est, np.zeros((0, 16, 16)), ValueError)  # no images
    _messages_match(est, np.zeros((3, 256)), ValueError)  # a table without image_shape
    tabular = ScatteringFeatures(J=2, L=4, image_shape=(16, 16), device="cpu")
    tabular.fit(_images(n=2).reshape(2, -1))
    _messages_match(tabular, np.zeros((3, 100)), ValueError)  # wrong number of columns


def test_nan_is_raised_when_its_block_is_computed():
    X = _images(n=6)
    X[4, 3, 3] = np.nan
    est = PowerSpectrumFeatures(device="cpu").fit(X[:2])
    with pytest.raises(ValueError) as from_numpy:
        est.transform(X[4:])
    out = est.transform(da.from_array(X, chunks=2))  # no error yet: values are not read
    _assert_close(out[:4].compute(scheduler="sync"), est.transform(X[:4]))
    with pytest.raises(ValueError) as from_dask:
        out.compute(scheduler="sync")
    assert str(from_dask.value) == str(from_numpy.value)


def test_tabular_dask_input_with_image_shape():
    X = _images(n=5)
    est = ScatteringFeatures(J=2, L=4, image_shape=(16, 16), device="cpu")
    expected = est.fit(X.reshape(5, -1)).transform(X.reshape(5, -1))
    Xd = da.from_array(X.reshape(5, -1), chunks=(2, 100))
    out = est.fit(Xd).transform(Xd)
    assert out.chunks == ((2, 2, 1), (expected.shape[1],))
    _assert_close(out.compute(scheduler="sync"), expected)


def test_numpy_path_never_imports_dask():
    import subprocess
    import sys

    code = ("import sys, numpy as np, skmicro; "
            "skmicro.PowerSpectrumFeatures(device='cpu').fit_transform(np.zeros((2, 8, 8))); "
            "assert 'dask' not in sys.modules, 'dask was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- distances and landmark MDS ------------------------------------------------------------
from scipy.spatial.distance import cdist  # noqa: E402

from skmicro import MDSEmbedder, PairwiseDistances  # noqa: E402
from skmicro.manifold import _mds  # noqa: E402


def _sheet(n, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(-2, 2, size=(n, 2))
    return np.c_[t * 3, np.sin(2 * t[:, :1]) * 3, rng.normal(size=(n, 5)) * 0.3]


def test_pairwise_distances_blockwise(client, monkeypatch):
    F = _sheet(300)
    pd = PairwiseDistances(device="cpu", n_jobs=1).fit(da.from_array(F[:50], chunks=20))
    out = pd.transform(da.from_array(F, chunks=(64, 3)))
    assert out.shape == (300, 50) and out.chunks[0] == (64, 64, 64, 64, 44)
    _forbid_client_side(monkeypatch, PairwiseDistances, "_distances")
    # GEMM-expanded distances: ~1e-7 absolute at zero distance (sqrt of rounding).
    np.testing.assert_allclose(out.compute(), cdist(F, F[:50]), rtol=1e-10, atol=1e-6)
    with pytest.raises(ValueError, match="8 features"):
        pd.transform(da.zeros((4, 7), chunks=2))


def test_landmark_mds_fit_on_workers_equals_numpy_for_any_chunking(client, monkeypatch):
    F = _sheet(3000)
    params = dict(method="landmark", n_landmarks=80, random_state=0, device="cpu", n_jobs=1)
    ref = MDSEmbedder(**params).fit(F)
    extent = np.ptp(ref.embedding_, axis=0).max()
    new = _sheet(100, seed=1)
    expected_new = ref.transform(new)
    fitted = [MDSEmbedder(**params).fit(da.from_array(F, chunks=c)) for c in (1000, 100)]
    _forbid_client_side(monkeypatch, _mds, "_place_block")  # placement only on the workers
    for lm, chunk in zip(fitted, (1000, 100)):
        assert isinstance(lm.embedding_, da.Array) and lm.embedding_.chunks[0][0] == chunk
        np.testing.assert_array_equal(lm.landmark_indices_, ref.landmark_indices_)
        assert lm.stress_ == pytest.approx(ref.stress_, rel=1e-9)
        assert np.abs(lm.embedding_.compute() - ref.embedding_).max() < 1e-8 * extent
    np.testing.assert_allclose(fitted[0].transform(da.from_array(new, chunks=7)).compute(),
                               expected_new, rtol=0, atol=1e-8 * extent)


def test_landmark_state_shipped_does_not_grow_with_n():
    sizes = []
    for n in (500, 4000):
        lm = MDSEmbedder(method="landmark", n_landmarks=50, random_state=0, device="cpu",
                         n_jobs=1)
        lm.fit(da.from_array(_sheet(n), chunks=250))
        graph = dict(lm.embedding_.__dask_graph__())
        states = [v for k, v in graph.items() if "state" in str(k)]
        assert len(states) == 1
        sizes.append(len(pickle.dumps(states[0])))
    assert sizes[0] == sizes[1] < 20_000


def test_precomputed_landmark_fit_and_transform_on_dask(client):
    F = _sheet(600)
    D = cdist(F, F)
    params = dict(method="landmark", n_landmarks=40, metric="precomputed", random_state=0,
                  device="cpu", n_jobs=1)
    ref = MDSEmbedder(**params).fit(D)
    lm = MDSEmbedder(**params).fit(da.from_array(D, chunks=(100, 600)))
    extent = np.ptp(ref.embedding_, axis=0).max()
    assert np.abs(lm.embedding_.compute() - ref.embedding_).max() < 1e-8 * extent
    to_landmarks = da.from_array(D[:, ref.landmark_indices_], chunks=(128, 40))
    np.testing.assert_allclose(lm.transform(to_landmarks).compute(), ref.transform(D),
                               rtol=0, atol=1e-8 * extent)
    with pytest.raises(ValueError) as from_numpy:
        MDSEmbedder(**params).fit(D[:, :500])
    with pytest.raises(ValueError) as from_dask:
        MDSEmbedder(**params).fit(da.from_array(D[:, :500], chunks=100))
    assert str(from_dask.value) == str(from_numpy.value)  # names shape (600, 500)
    bad = D[:, ref.landmark_indices_].copy()
    bad[5, 3] = -1.0
    lazy = lm.transform(da.from_array(bad, chunks=(128, 40)))  # values not read yet
    with pytest.raises(ValueError, match="non-negative"):
        lazy.compute()


# -- model selection on the cluster ----------------------------------------------------------
def test_grid_search_with_joblib_dask_backend(client, monkeypatch):
    import joblib
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.pipeline import make_pipeline

    from skmicro.datasets import make_perlin_textures

    amplitude = np.random.default_rng(0).uniform(0.5, 3.0, size=30)
    X, params = make_perlin_textures(n_samples=30, size=16, noise_amplitude=amplitude,
                                     random_state=0)
    y = params["noise_amplitude"]
    pipe = make_pipeline(PowerSpectrumFeatures(device="cpu", radial=True, n_jobs=1), Ridge())
    grid = {"powerspectrumfeatures__n_bins": [4, 8], "ridge__alpha": [0.1, 10.0]}
    search = dict(cv=KFold(3), refit=False)  # refit would run on the client
    local = GridSearchCV(pipe, grid, **search).fit(X, y)
    _forbid_client_side(monkeypatch, ImageTransformer, "_transform_array")
    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        remote = GridSearchCV(pipe, grid, n_jobs=-1, **search).fit(X, y)
    assert stream.data  # the fits ran as tasks on the workers
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"], rtol=1e-6)
