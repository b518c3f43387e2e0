"""skmicro.segmentation.TrainableSegmenter: fitting from masks or scribbles, predictions,
auto-context, errors, persistence. Small synthetic images with known answers."""

import numpy as np
import pytest
from scipy import ndimage as ndi
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from skmicro.segmentation import (
    TrainableSegmenter,
    load_segmenter,
    pixel_uncertainty,
    save_segmenter,
)
from skmicro.segmentation._pixels import context_maps, sample_pixels


class Smooth(TransformerMixin, BaseEstimator):
    """A minimal dense transformer: the grey level smoothed at each sigma (0 = raw)."""

    def __init__(self, sigmas=(0, 2)):
        self.sigmas = sigmas

    def fit(self, X, y=None):
        self.n_fitted_ = len(X)
        return self

    def transform(self, X):
        return np.stack([np.stack([ndi.gaussian_filter(np.asarray(x, np.float32), s)
                                   for s in self.sigmas], axis=-1) for x in X])

    def get_feature_names_out(self, input_features=None):
        return np.array([f"gauss_{s}" for s in self.sigmas], dtype=object)


def two_phase(n=3, size=32, seed=0):
    """Images whose left part is dark and right part bright (plus noise); masks 0 / 1."""
    rng = np.random.default_rng(seed)
    images, masks = [], []
    for i in range(n):
        cut = size // 2 + (i % 3) - 1
        im = rng.normal(0.3, 0.05, (size, size))
        im[:, cut:] += 0.4
        m = np.zeros((size, size), np.uint8)
        m[:, cut:] = 1
        images.append(im.astype(np.float32))
        masks.append(m)
    return np.stack(images), np.stack(masks)


def fast(**kw):
    kw.setdefault("context", None)
    kw.setdefault("random_state", 0)
    kw.setdefault("n_jobs", 1)
    kw.setdefault("classifier", RandomForestClassifier(n_estimators=10, random_state=0))
    return TrainableSegmenter(kw.pop("features", Smooth()), **kw)


def test_fit_predict_shapes_dtypes_and_accuracy():
    X, y = two_phase()
    seg = fast(pixels_per_image=200).fit(X, y)
    assert seg.classes_.tolist() == [0, 1]
    assert seg.n_features_in_ == 2
    assert seg.feature_names_.tolist() == ["0:gauss_0", "0:gauss_2"]
    assert seg.n_training_pixels_ == 3 * 200
    labels = seg.predict(X)
    assert labels.dtype == np.uint8 and labels.shape == X.shape
    assert (labels == y).mean() > 0.95
    proba = seg.predict_proba(X)
    assert proba.dtype == np.float32 and proba.shape == X.shape + (2,)
    np.testing.assert_allclose(proba.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(labels, seg.classes_[proba.argmax(-1)])
    assert seg.score(X, y) == pytest.approx((labels == y).mean())


def test_scribbles_train_like_full_masks():
    X, y = two_phase()
    scribbles = np.full_like(y, 255)
    scribbles[:, 5:27:3, 3] = 0                   # a dotted line in each phase
    scribbles[:, 5:27:3, 28] = 1
    seg = fast().fit(X, scribbles)
    assert seg.n_training_pixels_ == 3 * 2 * 8     # every labelled pixel, fewer than asked
    assert (seg.predict(X) == y).mean() > 0.95


def test_labels_keep_their_values_and_mixed_sizes_give_lists():
    X, y = two_phase()
    y = np.where(y == 1, 7, 3).astype(np.uint8)   # classes 3 and 7, not 0 and 1
    small = X[0, :20, :24]
    seg = fast().fit([X[0], small], [y[0], y[0, :20, :24]])
    assert seg.classes_.tolist() == [3, 7]
    out = seg.predict([X[1], small])
    assert isinstance(out, list) and [o.shape for o in out] == [(32, 32), (20, 24)]
    assert set(np.unique(out[0])) <= {3, 7}
    proba = seg.predict_proba([small, X[1]])
    assert [p.shape for p in proba] == [(20, 24, 2), (32, 32, 2)]


def test_sampling_is_stratified_and_refills_from_larger_classes():
    mask = np.full((20, 20), 255)
    mask[:5] = 0                                   # 100 pixels of class 0
    mask[10, :10] = 1                              # 10 pixels of class 1
    flat = sample_pixels(mask, np.array([0, 1, 2]), 40, np.random.default_rng(0))
    values = mask.ravel()[flat]
    assert np.sum(values == 1) == 10 and np.sum(values == 0) == 30 and flat.size == 40
    assert np.unique(flat).size == 40
    half = sample_pixels(mask, np.array([0, 1]), 12, np.random.default_rng(0))
    assert np.sum(mask.ravel()[half] == 1) == 6


def test_same_seed_same_model_and_inputs_untouched():
    X, y = two_phase()
    X0, y0 = X.copy(), y.copy()
    a = fast(pixels_per_image=100, context=(4,)).fit(X, y).predict_proba(X)
    b = fast(pixels_per_image=100, context=(4,)).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def dots_and_plain(n=4, size=48, seed=0):
    """Left half: dark background with sparse bright dots (class 0); right half: plain dark
    background (class 1). A dark pixel alone cannot tell the halves apart; its surroundings
    can."""
    rng = np.random.default_rng(seed)
    images, masks = [], []
    for _ in range(n):
        im = np.full((size, size), 0.2) + rng.normal(0, 0.01, (size, size))
        dots = rng.random((size, size // 2)) < 0.08
        im[:, :size // 2][dots] = 0.9
        m = np.zeros((size, size), np.uint8)
        m[:, size // 2:] = 1
        images.append(im.astype(np.float32))
        masks.append(m)
    return np.stack(images), np.stack(masks)


def test_auto_context_resolves_what_a_pixel_alone_cannot():
    X, y = dots_and_plain()
    Xt, yt = dots_and_plain(n=2, seed=1)
    clf = LogisticRegression()
    plain = TrainableSegmenter(Smooth(sigmas=(0,)), clf, context=None, random_state=0)
    ctx = TrainableSegmenter(Smooth(sigmas=(0,)), clf, context=(4, 8), random_state=0)
    acc_plain = (plain.fit(X, y).predict(Xt) == yt).mean()
    acc_ctx = (ctx.fit(X, y).predict(Xt) == yt).mean()
    assert acc_plain < 0.65                         # dark pixels of both halves look alike
    assert acc_ctx > 0.9
    assert ctx.context_classifier_.n_features_in_ == 1 + 2 * 2   # grey + 2 classes x 2 sigmas


def test_context_maps_read_smoothed_coarse_maps_at_pixels():
    # A constant coarse map stays constant; a linear ramp is read back linearly in between.
    coarse = np.zeros((5, 5, 2), np.float32)
    coarse[..., 0] = 1.0
    out = context_maps(coarse, (4.0,), 2, (10, 10))
    np.testing.assert_allclose(out[:, 0], 1.0, atol=1e-6)
    ramp = np.repeat(np.arange(5, dtype=np.float32)[None, :, None], 5, axis=0)
    vals = context_maps(ramp, (0.01,), 2, (10, 10), flat=np.array([0, 1, 2, 3]))
    np.testing.assert_allclose(vals[:, 0], [0.0, 0.5, 1.0, 1.5], atol=1e-3)


def test_predict_uncertainty_matches_pixel_uncertainty():
    X, y = two_phase()
    seg = fast().fit(X, y)
    np.testing.assert_allclose(seg.predict_uncertainty(X, method="least_confident"),
                               1 - seg.predict_proba(X).max(-1), atol=1e-6)
    p = np.full((3, 4), 0.25)
    np.testing.assert_allclose(pixel_uncertainty(p), 1.0)
    assert pixel_uncertainty(np.eye(3)).tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(pixel_uncertainty(np.array([[0.6, 0.3, 0.1]]), "margin"), [0.7])
    with pytest.raises(ValueError, match="'method' parameter"):
        seg.predict_uncertainty(X, method="variance")


@pytest.mark.parametrize("classifier", [LogisticRegression(), None])
def test_any_classifier_and_the_default(classifier):
    X, y = two_phase()
    seg = TrainableSegmenter(Smooth(), classifier, context=None, pixels_per_image=100,
                             random_state=0, n_jobs=1).fit(X, y)
    assert (seg.predict(X) == y).mean() > 0.95
    if classifier is None:
        assert type(seg.classifier_).__name__ == "HistGradientBoostingClassifier"
    else:
        assert seg.classifier_ is not classifier and not hasattr(classifier, "classes_")


def test_a_list_of_transformers_is_concatenated_and_cloned():
    X, y = two_phase()
    first = Smooth(sigmas=(0,))
    seg = fast(features=[first, Smooth(sigmas=(1, 3))]).fit(X, y)
    assert seg.n_features_in_ == 3
    assert seg.feature_names_.tolist() == ["0:gauss_0", "1:gauss_1", "1:gauss_3"]
    assert not hasattr(first, "n_fitted_") and seg.features_[0].n_fitted_ == 3


# ------------------------------------------------------------------------------- errors
def test_mask_of_another_size_names_its_index():
    X, y = two_phase()
    with pytest.raises(ValueError, match=r"y\[1\] has shape \(32, 30\) but image 1 is 32x32"):
        fast().fit(X, [y[0], y[1, :, :30], y[2]])


def test_label_beyond_declared_classes():
    X, y = two_phase()
    y = y.copy()
    y[2, 0, 0] = 5
    with pytest.raises(ValueError, match=r"y\[2\] holds the value 5.*classes \[0, 1\]"):
        fast(classes=[0, 1]).fit(X, y)


def test_image_without_labelled_pixel_names_it():
    X, y = two_phase()
    y = y.copy()
    y[1] = 255
    with pytest.raises(ValueError, match=r"y\[1\] has no labelled pixel"):
        fast().fit(X, y)


def test_declared_class_without_pixels_is_named():
    X, y = two_phase()
    with pytest.raises(ValueError, match="class 2 of classes=\\[0, 1, 2\\] has no pixel"):
        fast(classes=[0, 1, 2]).fit(X, y)


def test_nan_image_and_bad_parameters():
    X, y = two_phase()
    X = X.copy()
    X[1, 3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fast().fit(X, y)
    X, y = two_phase()
    with pytest.raises(ValueError, match="'context' parameter"):
        fast(context=(0, 8)).fit(X, y)
    with pytest.raises(ValueError, match="'pixels_per_image' parameter"):
        fast(pixels_per_image=0).fit(X, y)
    with pytest.raises(ValueError, match="0-254"):
        fast().fit(X, y.astype(np.int64) * 300)
    with pytest.raises(ValueError, match=r"returned shape \(1, 2\)"):
        fast(features=BadTransformer()).fit(X, y)


class BadTransformer(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.zeros((len(X), 2))


def test_failed_fit_leaves_the_estimator_as_it_was():
    X, y = two_phase()
    seg = fast()
    with pytest.raises(ValueError):
        seg.fit(X, y[:, :, :5])
    assert not hasattr(seg, "classes_") and not hasattr(seg, "n_features_in_")


# ------------------------------------------------------------------------------- persistence
def test_skops_round_trip(tmp_path):
    import skops.io as sio

    X, y = two_phase()
    seg = fast(context=(4,)).fit(X, y)
    path = save_segmenter(seg, tmp_path / "model.skops")
    untrusted = sio.get_untrusted_types(file=path)
    loaded = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict_proba(X), seg.predict_proba(X))
    again = load_segmenter(path, trusted=[t for t in untrusted if t.startswith("tests.")])
    np.testing.assert_array_equal(again.predict(X), seg.predict(X))


def test_load_refuses_what_is_not_a_segmenter(tmp_path):
    import skops.io as sio

    X, y = two_phase()
    seg = fast().fit(X, y)
    path = save_segmenter(seg, tmp_path / "model.skops")
    with pytest.raises(ValueError, match="not trusted by default.*tests.test_segmentation.Smooth"):
        load_segmenter(path)
    text = tmp_path / "notes.txt"
    text.write_text("not a model")
    with pytest.raises(ValueError, match="not a segmenter model file"):
        load_segmenter(text)
    other = tmp_path / "other.skops"
    sio.dump(LogisticRegression(), other)
    with pytest.raises(ValueError, match="holds a LogisticRegression"):
        load_segmenter(other)
    with pytest.raises(ValueError, match="no model file"):
        load_segmenter(tmp_path / "missing.skops")
    with pytest.raises(TypeError, match="TrainableSegmenter"):
        save_segmenter(LogisticRegression(), tmp_path / "x.skops")


def test_clone_and_params():
    seg = fast(pixels_per_image=123)
    assert clone(seg).get_params()["pixels_per_image"] == 123
    assert "TrainableSegmenter" in repr(seg)


def test_frequency_weights_restore_each_images_class_shares():
    from skmicro.segmentation._pixels import frequency_weights

    mask = np.full((20, 20), 255)
    mask[:5] = 0                                   # 100 pixels of class 0
    mask[10, :10] = 1                              # 10 pixels of class 1
    flat = sample_pixels(mask, np.array([0, 1]), 40, np.random.default_rng(0))
    w = frequency_weights(mask, flat, np.array([0, 1]))
    values = mask.ravel()[flat]
    assert w[values == 0].sum() == pytest.approx(100) and w[values == 1].sum() == pytest.approx(10)


def test_class_weight_balanced_and_classifiers_without_sample_weight():
    from sklearn.neighbors import KNeighborsClassifier

    X, y = two_phase()
    seg = fast(classifier=KNeighborsClassifier(3), class_weight="balanced").fit(X, y)
    assert (seg.predict(X) == y).mean() > 0.95
    with pytest.raises(ValueError, match="takes no sample_weight.*class_weight='balanced'"):
        fast(classifier=KNeighborsClassifier(3)).fit(X, y)


def test_default_features_are_the_hypercolumn_and_the_filter_bank():
    X, y = two_phase(n=2, size=48)
    seg = TrainableSegmenter(pixels_per_image=100, context=None, random_state=0, n_jobs=1,
                             device="cpu").fit(X, y)
    assert [type(t).__name__ for t in seg.features_] == [
        "VGGHypercolumnPixelFeatures", "FilterBankPixelFeatures"]
    assert seg.n_features_in_ == 64 + 30 and len(seg.feature_names_) == 94
    assert seg.features_[0].device == "cpu" and seg.features_[1].n_jobs == 1
    assert seg.predict(X[:1]).shape == (1, 48, 48)
