import pickle

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.base import clone

from skmicro import PairwiseDistances
from skmicro.manifold import blockwise_distances, iter_distance_blocks

import torch

RNG = np.random.default_rng(0)
X = RNG.normal(size=(23, 5))
Y = RNG.normal(size=(7, 5))


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_blockwise_matches_scipy(metric, dtype, tol):
    got = blockwise_distances(X.astype(dtype), Y.astype(dtype), metric=metric)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, cdist(X, Y, metric=metric), atol=tol)


def test_small_blocks_cover_all_rows():
    blocks = list(iter_distance_blocks(X, batch_size=2))
    assert [b[:2] for b in blocks[:2]] == [(0, 2), (2, 4)]
    full = np.concatenate([b[2].numpy() for b in blocks])
    np.testing.assert_allclose(full, cdist(X, X), atol=1e-10)


def test_self_distances_symmetric_zero_diagonal():
    D = blockwise_distances(X * 1e3)
    assert np.array_equal(D, D.T)
    assert np.all(np.diagonal(D) == 0)


def test_transformer_fit_transform_and_transform():
    pd = PairwiseDistances(device="cpu")
    D = pd.fit_transform(X)
    np.testing.assert_allclose(D, cdist(X, X), atol=1e-10)
    np.testing.assert_allclose(pd.transform(Y), cdist(Y, X), atol=1e-10)
    assert pd.get_feature_names_out()[:2].tolist() == ["pairwisedistances0", "pairwisedistances1"]


def test_fit_copies_and_does_not_modify_input():
    Xc = X.copy()
    pd = PairwiseDistances(device="cpu").fit(Xc)
    assert np.array_equal(Xc, X)
    Xc[:] = 0.0
    np.testing.assert_allclose(pd.transform(Y), cdist(Y, X), atol=1e-10)


def test_float32_preserved_and_pickle_clone():
    pd = PairwiseDistances(metric="cosine", device="cpu").fit(X.astype(np.float32))
    assert pd.transform(Y.astype(np.float32)).dtype == np.float32
    again = pickle.loads(pickle.dumps(pd))
    np.testing.assert_array_equal(again.transform(Y), pd.transform(Y))
    assert clone(pd).get_params() == pd.get_params()


def test_set_output_pandas():
    out = PairwiseDistances(device="cpu").set_output(transform="pandas").fit(X).transform(Y)
    assert out.shape == (7, 23) and out.columns[0] == "pairwisedistances0"


@pytest.mark.parametrize("bad, match", [
    ({"metric": "manhattan"}, "'metric' parameter"),
    ({"device": "gpu"}, "'device' parameter"),
])
def test_bad_params(bad, match):
    with pytest.raises(ValueError, match=match):
        PairwiseDistances(**bad).fit(X)


def test_nan_and_wrong_width():
    with pytest.raises(ValueError, match="NaN"):
        PairwiseDistances(device="cpu").fit(np.r_[X, [[np.nan] * 5]])
    pd = PairwiseDistances(device="cpu").fit(X)
    with pytest.raises(ValueError, match="features"):
        pd.transform(X[:, :3])


@pytest.mark.gpu
def test_cuda_matches_cpu():
    pd = PairwiseDistances(device="cuda").fit(X)
    np.testing.assert_allclose(pd.transform(Y), cdist(Y, X), atol=1e-8)




def test_batch_size_sets_the_blocks_and_verbose_counts_rows(capsys, monkeypatch):
    from skmicro.manifold import _distances

    sizes = []
    original = _distances.iter_distance_blocks

    def spy(*args, **kwargs):
        for start, stop, block in original(*args, **kwargs):
            sizes.append(stop - start)
            yield start, stop, block

    monkeypatch.setattr(_distances, "iter_distance_blocks", spy)
    # verbose=2 keeps the finished bar on screen
    est = PairwiseDistances(batch_size=3, verbose=2, device="cpu").fit(X)
    np.testing.assert_allclose(est.transform(Y), cdist(Y, X), atol=1e-10)
    assert sizes == [3, 3, 1]
    assert "7/7" in capsys.readouterr().err  # the progress bar reached every row


def test_float32_rows_with_a_common_offset_keep_their_digits():
    # |x|^2 + |y|^2 - 2 x.y on rows near (1000, ..., 1000) cancels ~7 digits in float32 (the old
    # expanded form was off by 23% of the largest distance); centring on the reference mean and
    # recomputing near pairs directly keep float32 accuracy against float64 scipy.
    rng = np.random.default_rng(1)
    A = (1000 + rng.normal(size=(300, 50))).astype(np.float32)
    B = (1000 + rng.normal(size=(40, 50))).astype(np.float32)
    ref = cdist(A.astype(np.float64), B.astype(np.float64))
    got = blockwise_distances(A, B, device="cpu", batch_size=64)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * ref.max())


def test_transform_of_the_training_rows_has_a_zero_diagonal():
    # Long float32 rows with large norms (like VGG Gram rows): a row's distance to itself is
    # 0 to float32 rounding of |x - x|^2 = 0, not the cancellation error of the expanded form.
    rng = np.random.default_rng(2)
    F = (50 + rng.normal(size=(30, 20_000))).astype(np.float32)
    D = PairwiseDistances(device="cpu").fit(F).transform(F)
    assert np.abs(np.diag(D)).max() == 0.0
    ref = cdist(F.astype(np.float64), F.astype(np.float64))
    np.testing.assert_allclose(D, ref, rtol=1e-5, atol=1e-6 * ref.max())
