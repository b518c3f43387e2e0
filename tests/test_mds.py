import pickle

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.base import clone
from sklearn.manifold import MDS
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline

from skmicro import MDSEmbedder, PairwiseDistances
from skmicro.metrics import kruskal_stress

import torch


def _config(n=60, dim=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, dim))


def _noisy_features(n=80, seed=0):
    rng = np.random.default_rng(seed)
    return np.c_[rng.normal(size=(n, 2)) * 3, rng.normal(size=(n, 4)) * 0.5]


def _procrustes_gap(A, B):
    """Largest point error after the best rotation/reflection of B onto A (both centred)."""
    A = A - A.mean(0)
    B = B - B.mean(0)
    U, _, Vt = np.linalg.svd(B.T @ A)
    return np.abs(B @ U @ Vt - A).max()


@pytest.mark.parametrize("dim, init", [(1, "classical_mds"), (2, "classical_mds"),
                                       (3, "classical_mds"), (2, "random"), (3, "random")])
def test_exact_configuration_recovered(dim, init):
    P = _config(dim=dim)
    # Random starts can stop in local minima (in 1-D almost always): keep the best of 4.
    mds = MDSEmbedder(n_components=dim, init=init, n_init=4 if init == "random" else 1,
                      max_iter=3000, eps=1e-12, random_state=0, device="cpu").fit(P)
    tol = 1e-8 if init == "classical_mds" else 1e-3
    assert mds.stress_ < tol
    assert _procrustes_gap(P, mds.embedding_) < 100 * tol


def test_stress_is_kruskal_stress_1():
    F = _noisy_features()
    D = cdist(F, F)
    mds = MDSEmbedder(metric="precomputed", random_state=0, device="cpu").fit(D)
    Dh = cdist(mds.embedding_, mds.embedding_)
    iu = np.triu_indices(len(D), 1)
    direct = np.sqrt(((D[iu] - Dh[iu]) ** 2).sum() / (D[iu] ** 2).sum())  # eq. 8
    assert mds.stress_ == pytest.approx(direct, rel=1e-9)
    assert 0.05 < mds.stress_ < 0.5


def test_stress_not_worse_than_sklearn():
    D = cdist(*(2 * [_noisy_features(120, seed=1)]))
    ours = MDSEmbedder(metric="precomputed", random_state=0, device="cpu").fit(D)
    peer = MDS(metric="precomputed", init="classical_mds", n_init=1, random_state=0,
               normalized_stress=True).fit(D)
    peer_stress = kruskal_stress(D, peer.embedding_)
    assert ours.stress_ <= peer_stress * (1 + 1e-3)


def test_euclidean_equals_precomputed_and_float32():
    F = _noisy_features()
    a = MDSEmbedder(random_state=0, device="cpu").fit(F)
    b = MDSEmbedder(metric="precomputed", random_state=0, device="cpu").fit(cdist(F, F))
    np.testing.assert_allclose(a.embedding_, b.embedding_, atol=1e-6)
    c = MDSEmbedder(metric="precomputed", random_state=0, device="cpu").fit(
        cdist(F, F).astype(np.float32))
    assert c.stress_ == pytest.approx(b.stress_, rel=1e-3)


def test_n_init_keeps_best_run():
    D = cdist(*(2 * [_noisy_features(50)]))
    one = MDSEmbedder(metric="precomputed", init="random", n_init=1, random_state=3,
                      device="cpu").fit(D)
    many = MDSEmbedder(metric="precomputed", init="random", n_init=4, random_state=3,
                       device="cpu").fit(D)
    assert many.stress_ <= one.stress_ + 1e-12


@pytest.mark.parametrize("eps, bound", [(1e-8, 3e-3), (1e-12, 3e-5)])
def test_transform_of_training_reproduces_embedding(eps, bound):
    # Each training point of a converged SMACOF embedding is a stationary point of its own
    # stress, which transform converges to: the gap shrinks with fit's eps (the reason for
    # the expected failures in test_common.py).
    F = _noisy_features()
    D = cdist(F, F)
    mds = MDSEmbedder(metric="precomputed", eps=eps, max_iter=5000, random_state=0,
                      device="cpu").fit(D)
    scale = np.abs(mds.embedding_).max()
    assert np.abs(mds.transform(D) - mds.embedding_).max() < bound * scale


def test_held_out_point_lands_near_neighbours():
    F = _noisy_features(101)
    train, new = F[:100], F[100:]
    pipe = make_pipeline(PairwiseDistances(device="cpu"),
                         MDSEmbedder(metric="precomputed", random_state=0, device="cpu"))
    pipe.fit(train)
    emb = pipe[-1].embedding_
    x = pipe.transform(new)[0]
    near = np.argsort(cdist(new, train)[0])[:3]
    typical = np.median(cdist(emb, emb))
    assert np.linalg.norm(emb[near] - x, axis=1).max() < 0.25 * typical


def test_transform_exact_for_exact_configuration():
    P = _config(40)
    mds = MDSEmbedder(random_state=0, device="cpu").fit(P[:30])
    new = mds.transform(P[30:])
    # Distances of the placed points to the training points are exact.
    np.testing.assert_allclose(cdist(new, mds.embedding_), cdist(P[30:], P[:30]), atol=1e-8)


@pytest.mark.parametrize("metric", ["euclidean", "precomputed"])
def test_landmark_mode(metric):
    F = _noisy_features(300)
    X = F if metric == "euclidean" else cdist(F, F)
    full = MDSEmbedder(metric=metric, random_state=0, device="cpu").fit(X)
    lm = MDSEmbedder(metric=metric, method="landmark", n_landmarks=60, random_state=0,
                     device="cpu").fit(X)
    assert lm.embedding_.shape == (300, 2) and len(lm.landmark_indices_) == 60
    D = cdist(F, F)
    assert kruskal_stress(D, lm.embedding_) < 1.1 * full.stress_
    assert lm.stress_ == pytest.approx(kruskal_stress(D, lm.embedding_), rel=0.1)
    assert lm.transform(X[:5]).shape == (5, 2)
    np.testing.assert_allclose(lm.transform(X[lm.landmark_indices_[:3]]),
                               lm.embedding_[lm.landmark_indices_[:3]], atol=0.05)


def test_exact_configuration_landmarks():
    P = _config(200)
    lm = MDSEmbedder(method="landmark", n_landmarks=20, random_state=0, device="cpu").fit(P)
    assert _procrustes_gap(P, lm.embedding_) < 1e-6


def test_grid_search_pickle_clone_set_output():
    F = _noisy_features(45)
    pipe = make_pipeline(PairwiseDistances(device="cpu"),
                         MDSEmbedder(metric="precomputed", random_state=0, device="cpu"))

    def neg_stress(est, X, y=None):
        return -est[-1].stress_

    gs = GridSearchCV(pipe, {"mdsembedder__n_components": [1, 2]}, scoring=neg_stress,
                      cv=KFold(3)).fit(F)
    assert gs.best_params_ == {"mdsembedder__n_components": 2}
    mds = MDSEmbedder(method="landmark", n_landmarks=10, random_state=0, device="cpu").fit(F)
    again = pickle.loads(pickle.dumps(mds))
    np.testing.assert_array_equal(again.transform(F[:4]), mds.transform(F[:4]))
    assert clone(mds).get_params() == mds.get_params()
    out = MDSEmbedder(device="cpu", random_state=0).set_output(transform="pandas").fit(F)
    assert list(out.transform(F[:2]).columns) == ["mdsembedder0", "mdsembedder1"]


def test_does_not_modify_input():
    D = cdist(*(2 * [_noisy_features(30)]))
    D0 = D.copy()
    mds = MDSEmbedder(metric="precomputed", random_state=0, device="cpu").fit(D)
    mds.transform(D[:3])
    assert np.array_equal(D, D0)


@pytest.mark.parametrize("D, match", [
    (np.zeros((4, 3)), "square"),
    (np.array([[0.0, 1.0, 2.0], [1.5, 0.0, 1.0], [2.0, 1.0, 0.0]]), "symmetric"),
    (np.array([[0.0, -1.0], [-1.0, 0.0]]), "non-negative"),
    (np.array([[1.0, 1.0], [1.0, 1.0]]), "zero diagonal"),
    (np.array([[0.0, np.nan], [np.nan, 0.0]]), "NaN"),
])
def test_bad_precomputed(D, match):
    with pytest.raises(ValueError, match=match):
        MDSEmbedder(n_components=1, metric="precomputed", device="cpu").fit(D)


def test_bad_transform_input_and_params():
    D = cdist(*(2 * [_noisy_features(20)]))
    mds = MDSEmbedder(metric="precomputed", random_state=0, device="cpu").fit(D)
    with pytest.raises(ValueError, match="features"):
        mds.transform(D[:, :5])
    with pytest.raises(ValueError, match="non-negative"):
        mds.transform(-D[:2])
    with pytest.raises(ValueError, match="'n_components' parameter"):
        MDSEmbedder(n_components=20, metric="precomputed", device="cpu").fit(D)
    with pytest.raises(ValueError, match="'method' parameter"):
        MDSEmbedder(method="fast").fit(D)
    with pytest.raises(ValueError, match="'metric_mds' parameter"):
        MDSEmbedder(metric_mds=False, device="cpu").fit(D)


@pytest.mark.gpu
def test_cuda_matches_cpu():
    F = _noisy_features()
    a = MDSEmbedder(random_state=0, device="cpu").fit(F)
    b = MDSEmbedder(random_state=0, device="cuda").fit(F)
    assert b.stress_ == pytest.approx(a.stress_, rel=1e-6)
    np.testing.assert_allclose(b.transform(F[:5]), a.transform(F[:5]), atol=1e-5)




def _manifold_features(n, seed=0):
    """Rows near a curved 2-D sheet in 12-D: landmark MDS has real work to do (stress > 0)."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(-2, 2, size=(n, 2))
    sheet = np.c_[t, np.sin(t[:, :1] * 2), np.cos(t[:, 1:] * 3)]
    return np.c_[sheet * 3, rng.normal(size=(n, 8)) * 0.3]


@pytest.mark.parametrize("metric", ["euclidean", "precomputed"])
def test_landmark_placement_does_not_depend_on_batching(metric):
    F = _manifold_features(2000)
    lm = MDSEmbedder(method="landmark", n_landmarks=100, metric=metric, random_state=0,
                     device="cpu")
    X = F if metric == "euclidean" else cdist(F, F)
    lm.fit(X)
    extent = np.ptp(lm.embedding_, axis=0).max()
    whole = lm.transform(X)
    for size in (1, 16, 1000):
        stop = 160 if size == 1 else len(X)  # one row at a time: 160 calls suffice
        parts = np.concatenate([lm.transform(X[i:i + size]) for i in range(0, stop, size)])
        assert np.abs(parts - whole[:stop]).max() < 1e-8 * extent, size
    # fit's placement is the same per-row placement; only the landmarks are pinned
    free = np.setdiff1d(np.arange(len(X)), lm.landmark_indices_)
    assert np.abs(lm.embedding_[free] - whole[free]).max() < 1e-8 * extent


def test_landmark_placement_reaches_stationary_points():
    # Each placed row is a minimum of its own stress against the landmarks: the gradient
    # sum_j (1 - d_j / dhat_j)(x - y_j) vanishes (checked with scipy's cdist, not our kernel).
    F = _manifold_features(400)
    lm = MDSEmbedder(method="landmark", n_landmarks=50, random_state=0, device="cpu").fit(F)
    E = lm.transform(F)
    Y = lm.embedding_[lm.landmark_indices_]
    d = cdist(F, F[lm.landmark_indices_])
    dhat = cdist(E, Y)
    w = np.where(dhat > 0, d / np.where(dhat > 0, dhat, 1), 0)
    grad = ((1 - w)[:, :, None] * (E[:, None, :] - Y[None])).sum(axis=1)
    assert np.abs(grad).max() < 1e-8 * np.abs(d).max() * len(Y)


def test_precomputed_transform_takes_landmark_columns_only():
    F = _manifold_features(300)
    D = cdist(F, F)
    lm = MDSEmbedder(method="landmark", n_landmarks=40, metric="precomputed", random_state=0,
                     device="cpu").fit(D)
    np.testing.assert_allclose(lm.transform(D[:, lm.landmark_indices_][:7]),
                               lm.transform(D[:7]), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="300 features"):
        lm.transform(D[:7, :39])


def test_batch_size_bounds_blocks_without_changing_the_embedding():
    D = cdist(_config(), _config())
    kw = dict(metric="precomputed", random_state=0, device="cpu")
    auto = MDSEmbedder(**kw).fit(D)
    small = MDSEmbedder(batch_size=7, **kw).fit(D)  # 60 rows in blocks of 7
    np.testing.assert_allclose(small.embedding_, auto.embedding_, atol=1e-9)
    assert small.n_iter_ == auto.n_iter_


def test_progress_bars_count_iterations_and_points(capsys):
    X = np.random.default_rng(0).normal(size=(12, 3))
    MDSEmbedder(n_init=1, max_iter=5, device="cpu", verbose=1).fit(X)
    err = capsys.readouterr().err
    assert "MDSEmbedder SMACOF" in err and ("iter/s" in err or "s/iter" in err), err
    assert "img" not in err
    MDSEmbedder(method="landmark", n_landmarks=6, n_init=1, max_iter=5, device="cpu",
                verbose=1).fit(X)
    err = capsys.readouterr().err
    assert "MDSEmbedder landmarks" in err and "point" in err and "img" not in err, err
