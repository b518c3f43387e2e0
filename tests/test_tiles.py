"""extract_tiles and TiledFeatures against hand-cut tiles and closed forms."""

import pickle

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.model_selection import GroupKFold

from skmicro import PowerSpectrumFeatures
from skmicro.preprocessing import TiledFeatures, extract_tiles


class TileMoments(TransformerMixin, BaseEstimator):
    """A transparent descriptor (mean and mean square of each tile) that records batch sizes."""

    def fit(self, X, y=None):
        self.n_output_features_ = 2
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=np.float64)
        type(self).seen_batches.append(len(X))
        return np.column_stack([X.mean(axis=(1, 2)), (X ** 2).mean(axis=(1, 2))])

    def get_feature_names_out(self, input_features=None):
        return np.array(["m1", "m2"], dtype=object)


TileMoments.seen_batches = []


def test_extract_tiles_matches_hand_cut_tiles():
    image = np.arange(7 * 9, dtype=np.float32).reshape(7, 9)
    tiles, groups = extract_tiles([image, image[:4, :4]], tile_size=(3, 4), stride=(2, 3))
    corners = [(0, 0), (0, 3), (2, 0), (2, 3), (4, 0), (4, 3)]  # rows 0,2,4; cols 0,3
    expected = [image[r:r + 3, c:c + 4] for r, c in corners] + [image[:3, :4]]
    np.testing.assert_array_equal(tiles, np.stack(expected))
    assert groups.tolist() == [0] * 6 + [1]
    folds = list(GroupKFold(n_splits=2).split(tiles, groups=groups))
    assert all(set(groups[tr]).isdisjoint(groups[te]) for tr, te in folds)


def test_tiled_mean_and_std_equal_hand_cut_tile_descriptors(rng):
    images = rng.random((2, 48, 80)).astype(np.float32)
    ps = PowerSpectrumFeatures(radial=True, n_bins=5, device="cpu")
    tiled = TiledFeatures(ps, tile_size=16, stride=(16, 32), aggregate="mean_std",
                          batch_size=2).fit(images)
    out = tiled.transform(images)
    reference = clone(ps).fit(images[:1, :16, :16])
    for image, row in zip(images, out):
        hand = np.stack([image[r:r + 16, c:c + 16] for r in (0, 16, 32) for c in (0, 32, 64)])
        feats = reference.transform(hand).astype(np.float64)
        np.testing.assert_allclose(row[:5], feats.mean(axis=0), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(row[5:], feats.std(axis=0), rtol=1e-5, atol=1e-7)
    names = tiled.get_feature_names_out()
    assert len(names) == 10 and names[0].endswith("_mean") and names[5].endswith("_std")
    assert ps.get_params() == clone(ps).get_params() and not hasattr(ps, "n_bins_")


def test_large_image_goes_through_in_bounded_batches():
    # 1024^2 pixels in 32^2 tiles: 1024 tiles, never more than batch_size at once; mean of the
    # tile means of a whole-covering grid is the image mean (closed form)
    image = np.random.default_rng(1).random((1, 1024, 1024)).astype(np.float32)
    TileMoments.seen_batches = []
    tiled = TiledFeatures(TileMoments(), tile_size=32, batch_size=50).fit(image)
    TileMoments.seen_batches = []
    out = tiled.transform(image)
    assert max(TileMoments.seen_batches) <= 50 and sum(TileMoments.seen_batches) == 1024
    assert out[0, 0] == pytest.approx(float(image.mean(dtype=np.float64)), rel=1e-6)
    assert out[0, 1] == pytest.approx(float((image.astype(np.float64) ** 2).mean()), rel=1e-6)


class OffsetMean(TileMoments):
    """Tile mean plus 1e8 (twice): features whose spread is tiny against their size."""

    def transform(self, X):
        return 1e8 + np.repeat(np.asarray(X, dtype=np.float64).mean(axis=(1, 2))[:, None], 2, 1)


def test_std_over_tiles_has_no_cancellation():
    # tile means alternate 0 and 1 (std 0.5) on top of 1e8: E[x^2] - E[x]^2 loses them
    image = np.tile(np.repeat([0.0, 1.0], 8), (8, 4))[None]  # 8x64, 8 tiles of 8x8
    out = TiledFeatures(OffsetMean(), tile_size=8, aggregate="mean_std",
                        batch_size=3).fit_transform(image)
    np.testing.assert_allclose(out[0], [1e8 + 0.5, 1e8 + 0.5, 0.5, 0.5], rtol=1e-6)


def test_mixed_sizes_pickle_and_errors(rng):
    images = [rng.random((40, 40)), rng.random((64, 32))]
    tiled = TiledFeatures(TileMoments(), tile_size=(16, 16)).fit(images)
    again = pickle.loads(pickle.dumps(tiled))
    np.testing.assert_array_equal(again.transform(images), tiled.transform(images))
    with pytest.raises(ValueError, match=r"smaller than one tile \(tile_size=50x50\)"):
        TiledFeatures(TileMoments(), tile_size=50).fit(images)
    with pytest.raises(ValueError, match="'tile_size' parameter of TiledFeatures"):
        TiledFeatures(TileMoments(), tile_size=(4, 0)).fit(images)
    with pytest.raises(ValueError, match="'aggregate' parameter of TiledFeatures"):
        TiledFeatures(TileMoments(), aggregate="max").fit(images)
