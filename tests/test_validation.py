"""The image input contract: accepted forms, dtype scaling, and one test per error path."""

import numpy as np
import pytest

from skmicro import PowerSpectrumFeatures
from skmicro._validation import as_float32, check_image_shape_param, check_images


@pytest.mark.parametrize(
    "dtype, value, expected",
    [
        (np.bool_, True, 1.0),
        (np.uint8, 255, 1.0),
        (np.uint8, 51, 0.2),
        (np.uint16, 65535, 1.0),
        (np.uint16, 13107, 0.2),
        (np.int16, 32767, 1.0),
        (np.int16, -32767, -1.0),
        (np.int32, 2**31 - 1, 1.0),
        (np.float16, 0.5, 0.5),
        (np.float32, 3.25, 3.25),
        (np.float64, -7.5, -7.5),
    ],
)
def test_dtype_scaling(dtype, value, expected):
    X = np.full((2, 4, 5), value, dtype=dtype)
    (idx, arr), = check_images(X).groups
    assert arr.dtype == np.float32
    np.testing.assert_allclose(arr, expected, rtol=1e-6)
    np.testing.assert_array_equal(idx, [0, 1])


def test_rgb_to_gray_uses_bt709_weights():
    X = np.zeros((1, 2, 2, 3), np.uint8)
    X[..., 0] = 255  # pure red
    (_, gray), = check_images(X, channels="gray").groups
    np.testing.assert_allclose(gray, 0.2125, rtol=1e-6)
    (_, rgb), = check_images(X, channels="rgb").groups
    assert rgb.shape == (1, 2, 2, 3)


def test_gray_is_replicated_for_rgb_and_single_channel_is_gray():
    X = np.arange(8, dtype=np.float64).reshape(2, 2, 2)
    (_, rgb), = check_images(X, channels="rgb").groups
    for c in range(3):
        np.testing.assert_array_equal(rgb[..., c], X)
    (_, g), = check_images(X[..., None]).groups
    np.testing.assert_array_equal(g, X)


def test_list_of_mixed_sizes_is_grouped_and_order_kept():
    imgs = [np.zeros((4, 4)), np.ones((6, 5)), np.full((4, 4), 2.0), np.ones((6, 5, 3))]
    s = check_images(imgs)
    assert s.n_samples == 4
    groups = {tuple(a.shape[1:]): (i.tolist(), a) for i, a in s.groups}
    assert groups[(4, 4)][0] == [0, 2]
    assert groups[(6, 5)][0] == [1, 3]
    np.testing.assert_array_equal(groups[(4, 4)][1][1], 2.0)
    assert s.single_shape is None


def test_tabular_with_image_shape():
    X = np.arange(24, dtype=float).reshape(2, 12)
    (_, arr), = check_images(X, image_shape=(3, 4)).groups
    np.testing.assert_array_equal(arr[1], np.arange(12, 24).reshape(3, 4))
    (_, arr), = check_images(X, image_shape=(-1, 6)).groups
    assert arr.shape == (2, 2, 6)


def test_never_mutates_or_aliases_input():
    X = np.random.default_rng(0).random((3, 5, 5)).astype(np.float32)
    before = X.copy()
    (_, arr), = check_images(X).groups
    arr += 1.0
    np.testing.assert_array_equal(X, before)
    assert not np.shares_memory(arr, X)


@pytest.mark.parametrize(
    "X, exc, match",
    [
        (np.zeros((0, 4, 4)), ValueError, "at least one image"),
        ([], ValueError, "at least one image"),
        (np.array([[[np.nan, 0.0]]]), ValueError, "NaN or infinity"),
        (np.array([[[np.inf, 0.0]]]), ValueError, "NaN or infinity"),
        ([np.zeros((3, 3)), np.full((3, 3), np.nan)], ValueError, r"image 1"),
        (np.full((1, 2, 2), 1e300), ValueError, "too large for float32"),
        (np.zeros((2, 4, 4, 2)), ValueError, "1 or 3 channels"),
        (np.zeros((2, 3, 4, 5, 6)), ValueError, "got a 5-D array"),
        ([np.zeros((3, 3)), np.zeros(3)], ValueError, r"X\[1\] must be a 2-D"),
        ([np.zeros(3)], ValueError, "image_shape"),  # a list of 1-D rows is a table
        (np.zeros((2, 4, 4), dtype=complex), TypeError, "numeric images"),
        (np.array([[["a"]]]), TypeError, "numeric images"),
        (np.zeros((2, 4, 4), dtype=object), TypeError, "numeric images"),
        (["not an image"], TypeError, r"X\[0\] must be a 2-D or 3-D numeric array"),
        ("x", TypeError, "array of images"),
        (np.zeros((2, 16)), ValueError, "image_shape"),
        ([np.zeros((0, 3))], ValueError, "empty image"),
    ],
)
def test_bad_input_errors(X, exc, match):
    with pytest.raises(exc, match=match):
        check_images(X)


def test_too_small_images_name_the_size():
    with pytest.raises(ValueError, match=r"at least 8x8 pixels.*4x4"):
        check_images(np.zeros((1, 4, 4)), min_shape=(8, 8))
    with pytest.raises(ValueError, match=r"image 1 is 4x4"):
        check_images([np.zeros((8, 8)), np.zeros((4, 4))], min_shape=(8, 8))


def test_mixed_sizes_rejected_when_not_allowed():
    with pytest.raises(ValueError, match="same size"):
        check_images([np.zeros((4, 4)), np.zeros((5, 5))], allow_mixed_sizes=False)


def test_too_small_tabular_images_name_the_table_width_and_image_shape():
    with pytest.raises(ValueError, match=r"at least 2x2 pixels, but in X \(rows of n_features=3 "
                                         r"with image_shape=\(1, -1\)\) images are 1x3"):
        check_images(np.zeros((2, 3)), image_shape=(1, -1), min_shape=(2, 2))


def test_image_shape_must_fit_the_row():
    with pytest.raises(ValueError, match=r"does not fit the rows of X \(n_features=10\)"):
        check_images(np.zeros((2, 10)), image_shape=(3, 3))


@pytest.mark.parametrize("bad", [(0, 4), (3,), (-1, -1), "3x3", (2.0, 3), (True, 2)])
def test_image_shape_param(bad):
    with pytest.raises(ValueError, match="'image_shape' parameter"):
        check_image_shape_param(bad)


def test_as_float32_returns_new_buffer():
    x = np.ones(3, np.float32)
    y = as_float32(x)
    assert y is not x and not np.shares_memory(x, y)


@pytest.mark.parametrize("X", [
    [["a", "b"], ["c", "d"]],                              # a 2-D list of strings
    np.array([["a", "b"], ["c", "d"]]),
    np.array([[b"a", b"b"]]),
    np.array([[1.0, "a"]], dtype=object),                  # text among numbers
])
def test_text_in_a_table_is_the_estimators_type_error(X):
    # docs/images.md: string arrays get a TypeError naming the estimator, not scikit-learn's
    # generic "dtype='numeric' is not compatible with arrays of bytes/strings".
    est = PowerSpectrumFeatures(image_shape=(1, -1), device="cpu")
    with pytest.raises(TypeError, match=r"^PowerSpectrumFeatures: X must hold numeric images"):
        est.fit(X)
    with pytest.raises(TypeError, match=r"^PowerSpectrumFeatures: X must hold numeric images"):
        PowerSpectrumFeatures(device="cpu").fit(X)  # without image_shape too


def test_text_column_of_a_dataframe_is_named():
    import pandas as pd

    X = pd.DataFrame({"a": [0.1, 0.2], "name": ["x", "y"]})
    with pytest.raises(TypeError, match=r"text in column 'name'"):
        PowerSpectrumFeatures(image_shape=(1, -1), device="cpu").fit(X)


def test_numbers_stored_as_objects_stay_accepted():
    X = np.array([[0.0, 0.5], [1.0, 0.25]], dtype=object)  # scikit-learn's convention
    (_, arr), = check_images(X, image_shape=(1, 2)).groups
    assert arr.dtype == np.float32 and arr.tolist() == [[[0.0, 0.5]], [[1.0, 0.25]]]


def test_one_2d_image_gets_the_one_image_hint():
    image = np.zeros((6, 7))
    with pytest.raises(ValueError, match=r"shape \(6, 7\)\. One image\? Pass X\[None\] "):
        PowerSpectrumFeatures(device="cpu").fit(image)
    with pytest.raises(ValueError, match=r"np\.asarray\(X\)\[None\]"):
        check_images(image.tolist())
    # the hint is right: X[None] is accepted as one image
    (_, arr), = check_images(image[None]).groups
    assert arr.shape == (1, 6, 7)
