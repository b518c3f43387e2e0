"""The use skmicro exists for: descriptors in an ordinary sklearn regression of hardness."""

import numpy as np
import pytest
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skmicro import PowerSpectrumFeatures, ScatteringFeatures
from skmicro.datasets import make_grain_microstructures


def test_scattering_ridge_predicts_hardness():
    # The acceptance test: 300 samples, fixed seed, 5-fold CV R^2 >= 0.8 for
    # make_pipeline(ScatteringFeatures(), StandardScaler(), RidgeCV()). ScatteringFeatures learns
    # nothing from the training fold (fit records the image size only), so its rows are computed
    # once instead of once per fold; the next test checks that this gives the same scores.
    X, y = make_grain_microstructures(300, size=256, random_state=0)
    F = ScatteringFeatures().fit_transform(X)
    scores = cross_val_score(make_pipeline(StandardScaler(), RidgeCV()), F, y, cv=5,
                             scoring="r2")
    assert scores.mean() >= 0.8, scores
    assert scores.min() > 0.5, scores


def test_precomputed_scattering_equals_the_full_pipeline_under_cv():
    X, y = make_grain_microstructures(30, size=64, random_state=3)
    full = cross_val_score(make_pipeline(ScatteringFeatures(J=3), StandardScaler(), RidgeCV()),
                           X, y, cv=3)
    F = ScatteringFeatures(J=3).fit_transform(X)
    pre = cross_val_score(make_pipeline(StandardScaler(), RidgeCV()), F, y, cv=3)
    np.testing.assert_allclose(full, pre, rtol=1e-6, atol=1e-9)


def test_grid_search_over_descriptors_and_set_params():
    X, y = make_grain_microstructures(60, size=64, random_state=1)
    pipe = Pipeline([("features", PowerSpectrumFeatures(radial=True)),
                     ("scale", StandardScaler()), ("reg", RidgeCV())])
    grid = GridSearchCV(
        pipe,
        {"features": [PowerSpectrumFeatures(radial=True, log=True),
                      ScatteringFeatures(J=3, L=4, log=True)],
         "reg__alphas": [(0.1, 1.0, 10.0), (100.0, 1000.0)]},
        cv=KFold(3, shuffle=True, random_state=0), scoring="r2")
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    # the refitted best pipeline predicts on new images of another size (both descriptors
    # support mixed sizes in these modes)
    X_new, _ = make_grain_microstructures(3, size=80, random_state=2)
    assert grid.predict(X_new).shape == (3,)


def test_params_out_of_range_are_reported_by_the_pipeline():
    X, y = make_grain_microstructures(4, size=32, random_state=0)
    with pytest.raises(ValueError, match="'J' parameter|at least 64x64"):
        make_pipeline(ScatteringFeatures(J=6), RidgeCV()).fit(X, y)
