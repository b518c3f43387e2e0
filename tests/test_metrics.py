import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skmicro import AngleRecoveryScorer, MDSEmbedder, PairwiseDistances
from skmicro.metrics import (
    angle_recovery_rmse,
    embedding_knn_r2,
    embedding_r2,
    kruskal_stress,
    regression_angle,
)

THETA = np.arange(50) * np.pi / 50  # the paper's theta_i = i pi / N


def _ring(theta, rotation=0.0, reflect=False, radius=2.0, shift=(3.0, -1.0)):
    phi = 2 * theta + rotation
    pts = radius * np.c_[np.cos(phi), np.sin(phi)]
    if reflect:
        pts[:, 1] *= -1
    return pts + np.asarray(shift)


@pytest.mark.parametrize("rotation", [0.0, 1.0, -2.5, np.pi])
@pytest.mark.parametrize("reflect", [False, True])
def test_perfect_ring_gives_zero(rotation, reflect):
    rmse, theta_hat = angle_recovery_rmse(THETA, _ring(THETA, rotation, reflect))
    assert rmse == pytest.approx(0.0, abs=1e-12)
    # Angles are defined modulo pi.
    gap = (theta_hat - THETA + np.pi / 2) % np.pi - np.pi / 2
    assert np.abs(gap).max() < 1e-12


def test_known_error_hand_checked():
    # Two points half a radian off the best offset in opposite directions: RMSE = 0.25 / 2 ...
    # theta residuals: phi = 2 theta +/- 0.5, so (phi + c)/2 is off by +/- 0.25 after the best c.
    theta = np.array([0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4])
    phi = 2 * theta + np.array([0.5, -0.5, 0.5, -0.5])
    rmse, _ = angle_recovery_rmse(theta, np.c_[np.cos(phi), np.sin(phi)])
    assert rmse == pytest.approx(0.25, abs=1e-9)


def test_random_angles_near_uniform_value():
    rng = np.random.default_rng(0)
    theta = rng.uniform(0, np.pi, 4000)
    rmse, _ = angle_recovery_rmse(theta, rng.normal(size=(4000, 2)))
    assert rmse == pytest.approx(np.pi / np.sqrt(12), rel=0.05)  # uniform on [-pi/2, pi/2)


def test_wraparound_offset_is_exact():
    # Residuals concentrated around the wrap point: a naive mean would give a large error.
    rmse, _ = angle_recovery_rmse(THETA, _ring(THETA, rotation=np.pi - 1e-3))
    assert rmse < 1e-12


def test_center_argument():
    sub = THETA[:20]  # an uneven subset: its centroid is not the ring centre
    pts = _ring(sub, shift=(0.0, 0.0))
    assert angle_recovery_rmse(sub, pts)[0] > 0.01
    assert angle_recovery_rmse(sub, pts, center=[0.0, 0.0])[0] < 1e-12


def test_angle_bad_input():
    with pytest.raises(ValueError, match="at least 2 columns"):
        angle_recovery_rmse(THETA, THETA[:, None])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        angle_recovery_rmse(THETA[:5], _ring(THETA))
    with pytest.raises(ValueError, match="NaN"):
        angle_recovery_rmse(THETA, np.full((50, 2), np.nan))
    scorer = AngleRecoveryScorer(center="middle")  # __init__ only stores; checked at use
    assert scorer.center == "middle"
    with pytest.raises(ValueError, match=r"The 'center' parameter of AngleRecoveryScorer must "
                                         r"be a str among \{.*'test'.*\}\. Got 'middle'"):
        scorer(None, THETA[:, None], THETA)


def test_scorer_in_cross_val_score():
    rng = np.random.default_rng(1)
    theta = rng.permutation(np.arange(90) * np.pi / 90)

    def texture(t):  # a ring in 6-D features
        return np.c_[np.cos(2 * t), np.sin(2 * t), np.zeros((len(t), 4))]

    pipe = make_pipeline(FunctionTransformer(texture), PairwiseDistances(device="cpu"),
                         MDSEmbedder(metric="precomputed", random_state=0, device="cpu"))
    scores = cross_val_score(pipe, theta, theta, scoring=AngleRecoveryScorer(),
                             cv=KFold(3, shuffle=True, random_state=0))
    # Exact chord distances: each held-out point is placed exactly on the ring, read against
    # the training centroid (within ~0.1 of the ring centre for 60 training points).
    assert np.all(scores <= 0) and np.all(scores > -0.1)
    noise = make_pipeline(FunctionTransformer(lambda t: rng.normal(size=(len(t), 6))),
                          PairwiseDistances(device="cpu"),
                          MDSEmbedder(metric="precomputed", random_state=0, device="cpu"))
    bad = cross_val_score(noise, theta, theta, scoring=AngleRecoveryScorer(), cv=KFold(3))
    assert bad.mean() < scores.mean() - 0.3


def test_kruskal_stress_matches_direct_numpy():
    rng = np.random.default_rng(0)
    F = rng.normal(size=(40, 6))
    D = cdist(F, F)
    E = rng.normal(size=(40, 2))
    Dh = cdist(E, E)
    expected = np.sqrt(((D - Dh) ** 2).sum() / (D**2).sum())
    assert kruskal_stress(D, E) == pytest.approx(expected, rel=1e-12)
    assert kruskal_stress(D.astype(np.float32), E) == pytest.approx(expected, rel=1e-5)
    assert kruskal_stress(D, F) == pytest.approx(0.0, abs=1e-7)


def test_kruskal_stress_bad_input():
    with pytest.raises(ValueError, match="symmetric"):
        kruskal_stress(np.array([[0.0, 1.0], [2.0, 0.0]]), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="inconsistent"):
        kruskal_stress(np.zeros((3, 3)), np.zeros((2, 1)))


def test_embedding_r2_matches_sklearn_regression():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(100, 4))
    P = np.c_[E @ [1.0, -2.0, 0.0, 0.5] + 3, rng.normal(size=100)]
    r2 = embedding_r2(E, P)
    for j in range(2):
        assert r2[j] == pytest.approx(LinearRegression().fit(E, P[:, j]).score(E, P[:, j]),
                                      rel=1e-10)
    assert r2[0] == pytest.approx(1.0)
    assert isinstance(embedding_r2(E, P[:, 0]), float)


def test_embedding_knn_r2_hand_checked_leave_one_out():
    # x = 0..5, p = x, 2 neighbours, leave-one-out: the interior points are predicted exactly
    # (symmetric neighbours); x = 0 -> mean(1, 2) = 1.5 and x = 5 -> mean(4, 3) = 3.5.
    # SS_res = 1.5^2 + 1.5^2 = 4.5, SS_tot = sum (x - 2.5)^2 = 17.5.
    x = np.arange(6.0)
    r2 = embedding_knn_r2(x[:, None], x, n_neighbors=2, cv=6)
    assert isinstance(r2, float)
    assert r2 == pytest.approx(1 - 4.5 / 17.5, rel=1e-12)


def _knn_r2_reference(E, P, n_neighbors, cv, random_state):
    """Brute-force neighbour means over the same shuffled folds, and eq. 13."""
    P_hat = np.empty_like(P)
    for train, test in KFold(cv, shuffle=True, random_state=random_state).split(E):
        nearest = np.argsort(cdist(E[test], E[train]), axis=1)[:, :n_neighbors]
        P_hat[test] = P[train][nearest].mean(axis=1)
    return 1 - ((P - P_hat) ** 2).sum(0) / ((P - P.mean(0)) ** 2).sum(0)


def test_embedding_knn_r2_matches_brute_force_neighbours():
    rng = np.random.default_rng(1)
    E = rng.normal(size=(40, 3))
    P = np.c_[np.sin(E[:, 0]) + E[:, 1] ** 2, rng.normal(size=40)]
    before = E.copy()
    r2 = embedding_knn_r2(E, P, n_neighbors=4, cv=5, random_state=3)
    assert np.array_equal(E, before)
    np.testing.assert_allclose(r2, _knn_r2_reference(E, P, 4, 5, 3), rtol=1e-12)


def test_embedding_knn_r2_encoded_vs_noise_vs_curved():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.5, 2.0, size=300)
    # A parameter that sets one embedding coordinate is read off almost exactly...
    assert embedding_knn_r2(np.c_[p, rng.normal(scale=0.01, size=300)], p) > 0.99
    # ...an embedding that knows nothing about it gives R^2 near or below 0 (for k neighbours
    # the expected value is about -1/k)...
    assert embedding_knn_r2(rng.normal(size=(300, 4)), p) < 0.05
    # ...and a parameter that runs twice around a ring is invisible to the linear map only.
    t = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    ring = np.c_[np.cos(t), np.sin(t)]
    assert abs(embedding_r2(ring, np.sin(2 * t))) < 1e-10
    assert embedding_knn_r2(ring, np.sin(2 * t)) > 0.95


def test_embedding_knn_r2_bad_input():
    E, p = np.zeros((10, 2)), np.arange(10.0)
    with pytest.raises(ValueError, match="'n_neighbors' parameter of embedding_knn_r2 must be "
                                         "<= 8"):
        embedding_knn_r2(E, p, n_neighbors=9, cv=5)
    with pytest.raises(ValueError, match="'n_neighbors' parameter of embedding_knn_r2"):
        embedding_knn_r2(E, p, n_neighbors=0)
    with pytest.raises(ValueError, match="'cv' parameter of embedding_knn_r2 must be <= "
                                         "n_samples=10"):
        embedding_knn_r2(E, p, n_neighbors=1, cv=11)
    with pytest.raises(ValueError, match="inconsistent"):
        embedding_knn_r2(E, p[:5], n_neighbors=1, cv=2)
    with pytest.raises(ValueError, match="NaN"):
        embedding_knn_r2(np.full((10, 2), np.nan), p, n_neighbors=1)


def test_regression_angle_orthogonal_and_known():
    E = np.random.default_rng(0).normal(size=(50, 3))
    assert regression_angle(E, np.c_[E[:, 0], E[:, 1]]) == pytest.approx(90.0)
    assert regression_angle(E, np.c_[E[:, 0], E[:, 0] + E[:, 1]]) == pytest.approx(45.0)
    assert regression_angle(E, np.c_[E[:, 0], -E[:, 0]], degrees=False) == pytest.approx(np.pi)
    with pytest.raises(ValueError, match=r"\(n_samples, 2\)"):
        regression_angle(E, E)
