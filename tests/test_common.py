"""scikit-learn's estimator checks over every skmicro estimator.

Image transformers take 2-D tabular input through ``image_shape``; the checks use
``image_shape=(1, -1)`` so every row becomes a 1-row image of any width. Each expected failure
is listed with its reason.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmicro import PowerSpectrumFeatures

ESTIMATORS = {
    # estimator instance -> {check name: reason it is expected to fail}
    "power_spectrum": (PowerSpectrumFeatures(image_shape=(1, -1), device="cpu"), {}),
}

_BY_ID = {id(est): failures for est, failures in ESTIMATORS.values()}


def _expected_failed_checks(estimator):
    return _BY_ID.get(id(estimator), {})


@parametrize_with_checks(
    [est for est, _ in ESTIMATORS.values()], expected_failed_checks=_expected_failed_checks
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
