"""ScatteringFeatures(average="geometric"): the mean of the log of the local maps."""

import numpy as np
import pytest

from skmicro import ScatteringFeatures


@pytest.fixture
def images(rng):
    return rng.random((3, 32, 48)).astype(np.float32)


@pytest.mark.parametrize("rotation_invariant", [False, True])
def test_geometric_is_the_mean_of_the_log_of_the_local_maps(images, rotation_invariant):
    kw = dict(J=2, L=4, rotation_invariant=rotation_invariant, device="cpu")
    local = ScatteringFeatures(average="local", **kw).fit(images)
    maps = local.transform(images).reshape(3, -1, 32 // 4 * 48 // 4).astype(np.float64)
    expected_log = np.log10(np.maximum(maps[:, 1:], 1e-6)).mean(axis=2)  # numpy reference
    geo_log = ScatteringFeatures(average="geometric", log=True, **kw).fit(images)
    out = geo_log.transform(images)
    np.testing.assert_allclose(out[:, 1:], expected_log, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out[:, 0], maps[:, 0].mean(axis=1), rtol=1e-5)  # S0: mean
    glob = ScatteringFeatures(average="global", **kw).fit(images).transform(images)
    np.testing.assert_allclose(out[:, 0], glob[:, 0], rtol=1e-4)  # the same S0
    geo = ScatteringFeatures(average="geometric", **kw).fit(images).transform(images)
    np.testing.assert_allclose(geo[:, 1:], 10.0 ** expected_log, rtol=1e-4)
    assert np.all(geo[:, 1:] <= glob[:, 1:] * (1 + 1e-4))  # geometric <= arithmetic mean
    assert list(geo_log.get_feature_names_out()) == list(
        ScatteringFeatures(average="global", **kw).fit(images).get_feature_names_out())


def test_geometric_log_is_linear_in_the_area_fraction_of_two_textures(rng):
    # Left part: strong fine texture; right part: weak. The log-mean over the windows moves
    # linearly with the share of the strong part (up to the windows on the border); the
    # log of the global mean does not.
    strong = rng.standard_normal((64, 64)).astype(np.float32)
    weak = 0.05 * strong[:, ::-1]
    kw = dict(J=2, L=4, max_order=1, rotation_invariant=True, log=True, device="cpu")
    out = {}
    for average in ("geometric", "global"):
        sf = ScatteringFeatures(average=average, **kw)
        rows = []
        for cols in (0, 16, 32, 48, 64):
            image = np.concatenate([strong[:, :cols], weak[:, cols:]], axis=1)
            rows.append(sf.fit_transform(image[None])[0, 1])  # S1 at the finest scale
        out[average] = np.array(rows)
    fractions = np.array([0, 0.25, 0.5, 0.75, 1.0])
    linear = np.polyval(np.polyfit(fractions, out["geometric"], 1), fractions)
    dev_geometric = np.abs(out["geometric"] - linear).max() / np.ptp(out["geometric"])
    linear = np.polyval(np.polyfit(fractions, out["global"], 1), fractions)
    dev_global = np.abs(out["global"] - linear).max() / np.ptp(out["global"])
    assert dev_geometric < 0.05 and dev_global > 3 * dev_geometric


def test_geometric_mixes_image_sizes(rng):
    sf = ScatteringFeatures(J=2, L=4, average="geometric", device="cpu")
    out = sf.fit_transform([rng.random((16, 16)), rng.random((24, 40))])
    assert out.shape == (2, 1 + 8 + 16 * 1) and np.isfinite(out).all()
