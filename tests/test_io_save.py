"""save_micrograph writes what load_micrographs reads back: exactly for TIFF, 8 bits otherwise."""

import numpy as np
import pytest
import tifffile
from PIL import Image

from skmicro.io import load_micrographs, save_micrograph


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_tiff_keeps_values_and_dtype(tmp_path, dtype):
    image = (np.arange(12).reshape(3, 4) * 7).astype(dtype)
    path = save_micrograph(tmp_path / "a.tif", image)
    back = tifffile.imread(path)
    assert back.dtype == dtype and np.array_equal(back, image)


def test_rgb_tiff_and_png(tmp_path):
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[..., 0] = 200
    for name in ("c.tif", "c.png"):
        back = load_micrographs(save_micrograph(tmp_path / name, rgb), as_gray=False)[0]
        assert back.shape == (2, 3, 3) and np.array_equal(back, rgb)


def test_png_float_is_the_input_contract_in_8_bits(tmp_path):
    image = np.array([[-0.5, 0.0, 0.25], [0.5, 1.0, 3.0]])
    before = image.copy()
    save_micrograph(tmp_path / "f.png", image)
    assert np.array_equal(image, before)  # the caller's array is untouched
    with Image.open(tmp_path / "f.png") as im:
        assert im.mode == "L"
        # rint(clip(x, 0, 1) * 255), by hand: 0.25 * 255 = 63.75 -> 64, 0.5 * 255 = 127.5 -> 128
        assert np.asarray(im).tolist() == [[0, 0, 64], [128, 255, 255]]


def test_png_bool_and_uint16(tmp_path):
    save_micrograph(tmp_path / "b.png", np.array([[True, False]]))
    assert load_micrographs(tmp_path / "b.png")[0].tolist() == [[255, 0]]
    deep = np.array([[0, 1000, 65535]], np.uint16)
    back = load_micrographs(save_micrograph(tmp_path / "d.png", deep))[0]
    assert back.dtype == np.uint16 and back.tolist() == [[0, 1000, 65535]]


def test_errors_name_the_problem_and_the_fix(tmp_path):
    with pytest.raises(ValueError, match=r"unknown image type '\.txt'.*\.tif"):
        save_micrograph(tmp_path / "a.txt", np.zeros((2, 2)))
    with pytest.raises(ValueError, match="folder .*missing.* does not exist"):
        save_micrograph(tmp_path / "missing" / "a.png", np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"shape \(h, w\) or \(h, w, 3\); got shape \(2, 2, 2, 2\)"):
        save_micrograph(tmp_path / "a.png", np.zeros((2, 2, 2, 2)))
    with pytest.raises(ValueError, match="int16.*Save it as .tif"):
        save_micrograph(tmp_path / "a.png", np.zeros((2, 2), np.int16))
    with pytest.raises(ValueError, match="uint16 colour.*Save it as .tif"):
        save_micrograph(tmp_path / "a.jpg", np.zeros((2, 2, 3), np.uint16))
    with pytest.raises(TypeError, match="numeric"):
        save_micrograph(tmp_path / "a.png", np.array([["a", "b"]]))
    assert not list(tmp_path.iterdir())  # nothing written by a refused call
