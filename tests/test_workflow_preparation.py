"""Preparation: one object for the route's data bar, pixel size, contrast and tiles; its cache
key (unchanged for the settings that existed before it), prepare_file / to_original on files
built by hand, and the same preparation reaching describe_folder, map_collection and both
commands' options."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skmicro.cli import build_parser
from skmicro.workflow import Preparation, describe_folder

Image = pytest.importorskip("PIL.Image")


def _stripes(shape, period=8):
    cols = np.arange(shape[1])[None, :] * np.ones((shape[0], 1))
    return (127.5 * (1 + np.sin(2 * np.pi * cols / period))).astype(np.uint8)


@pytest.fixture
def barred(tmp_path):
    """a.png, b.png: 100x120 stripes over a 10-row black data bar with a white scale bar."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    for name, period in (("a.png", 8), ("b.png", 12)):
        image = np.zeros((110, 120), np.uint8)
        image[:100] = _stripes((100, 120), period)
        image[104:106, 10:50] = 255
        Image.fromarray(image).save(folder / name)
    return folder


# The keys describe_folder built before Preparation existed (a list per setting, written out by
# hand from the old code); caches made by earlier versions stay valid only if they are equal.
OLD_KEYS = [
    ({}, ["prep", True, None, None, None]),
    ({"crop_data_bar": False}, ["prep", False, None, None, None]),
    ({"crop_data_bar": 38, "target_pixel_size": 0.5}, ["prep", 38, 0.5, None, None]),
    ({"tile": 64}, ["prep", True, None, 64, "mean"]),
    ({"tile": (32, 48), "aggregate": "mean_std"}, ["prep", True, None, [32, 48], "mean_std"]),
    ({"aggregate": "mean_std"}, ["prep", True, None, None, None]),
    ({"contrast": "percentile"}, ["prep", True, None, None, None, ["contrast", "percentile"]]),
    ({"pixel_size": 0.25}, ["prep", True, None, None, None]),  # enters the image's own key
]


@pytest.mark.parametrize(("settings", "old"), OLD_KEYS)
def test_cache_key_is_the_one_describe_folder_used_before(settings, old):
    from skmicro.workflow._specs import _digest

    key = Preparation(**settings).cache_key()
    assert key == old and _digest(key) == _digest(old)


def test_prepare_file_and_to_original_by_hand(barred):
    prep = Preparation(pixel_size=0.1, target_pixel_size=0.2)
    image, info = prep.prepare_file(barred / "a.png")
    assert image.dtype == np.float32 and image.flags.c_contiguous
    assert image.shape == (50, 60)  # 100 x 120 after the 10-row bar, halved
    assert info == {"height": 110, "width": 120, "data_bar_rows": 10, "top": 0, "bottom": 10,
                    "declared_pixel_size_um": None, "pixel_size_um": 0.1, "scale": 0.5,
                    "shape": (50, 60)}
    # a label image defined on the file's pixels, taken to the prepared grid by hand, and back
    labels = np.zeros((100, 120), np.uint8)
    labels[:, 60:] = 1
    labels[40:, :30] = 2
    full = prep.to_original(labels[::2, ::2], info, fill=255)
    assert full.shape == (110, 120) and full.dtype == np.uint8
    np.testing.assert_array_equal(full[:100], labels)
    assert (full[100:] == 255).all()
    # continuous values: bilinear, in the result's dtype, with channels
    probs = np.stack([labels[::2, ::2] == k for k in range(3)], axis=-1).astype(np.float32)
    back = prep.to_original(probs, info, order=1)
    assert back.shape == (110, 120, 3) and back.dtype == np.float32
    np.testing.assert_allclose(back[:100].sum(axis=-1), 1, atol=1e-6)
    # nothing resampled: only the bar rows are put back
    plain = Preparation(crop_data_bar=10)
    image, info = plain.prepare_file(barred / "b.png")
    assert image.shape == (100, 120) and info["scale"] == 1.0 and info["pixel_size_um"] is None
    np.testing.assert_array_equal(plain.to_original(image, info)[:100], image)
    assert (plain.to_original(image, info)[100:] == 0).all()


def test_to_prepared_puts_a_files_mask_on_the_prepared_grid(tmp_path):
    # a data bar at the top this time (8 rows, text on it), 2x2 blocks of labels below
    image = np.zeros((88, 96), np.uint8)
    image[8:] = _stripes((80, 96), 6)
    image[2:5, 10:40] = 255
    Image.fromarray(image).save(tmp_path / "top.png")
    prep = Preparation(pixel_size=0.5, target_pixel_size=1.0)
    prepared, info = prep.prepare_file(tmp_path / "top.png")
    assert (info["top"], info["bottom"], info["shape"]) == (8, 0, (40, 48))
    mask = np.full((88, 96), 255, np.uint8)
    mask[8:] = np.kron(np.random.default_rng(0).integers(0, 4, (40, 48)), np.ones((2, 2)))
    labels = prep.to_prepared(mask, info)
    assert labels.shape == prepared.shape and labels.dtype == np.uint8
    np.testing.assert_array_equal(labels, mask[8::2, ::2])  # one label per 2x2 block
    np.testing.assert_array_equal(prep.to_original(labels, info, fill=255), mask)
    with pytest.raises(ValueError, match="file's size, 88x96; got shape"):
        prep.to_prepared(mask[:80], info)


def test_prepare_file_looks_pixel_sizes_up_by_file_name(barred, tmp_path):
    sheet = tmp_path / "sizes.csv"
    sheet.write_text("file,um\na.png,0.4\nb.png,0.1\n")
    prep = Preparation(pixel_size=f"{sheet}:um", target_pixel_size=0.2)
    assert prep.pixel_sizes(["a.png", "b.png", "c.png"]) == [0.4, 0.1, None]
    assert prep.prepare_file(barred / "a.png")[0].shape == (200, 240)
    assert prep.prepare_file(barred / "a.png", pixel_size=0.2)[0].shape == (100, 120)
    with pytest.raises(ValueError, match=r"Cannot prepare micrograph '.*a\.png'.*declares no "
                                         "pixel size"):
        Preparation(target_pixel_size=0.2).prepare_file(barred / "a.png")


def test_checks_name_the_function_that_was_called(barred, tmp_path):
    with pytest.raises(ValueError, match="The 'contrast' parameter of Preparation"):
        Preparation(contrast="stretch")
    with pytest.raises(ValueError, match="The 'tile' parameter of describe_folder"):
        describe_folder(barred, tile=0, cache=False)
    with pytest.raises(ValueError, match="The 'crop_data_bar' parameter of map_collection"):
        from skmicro.workflow import map_collection

        map_collection(barred, crop_data_bar=-1, out=tmp_path / "m.html")
    with pytest.raises(TypeError, match="'pixel_size' parameter of Preparation.*LENGTH/PIXELS"):
        Preparation(pixel_size=[0.1])
    with pytest.raises(ValueError, match="TABLE.csv:LENGTH/PIXELS"):
        Preparation(pixel_size="metadata.csv")
    with pytest.raises(ValueError, match="got preparation= and contrast=: set contrast in the "
                                         "Preparation"):
        describe_folder(barred, preparation=Preparation(), contrast="clahe")
    with pytest.raises(TypeError, match="'preparation' parameter of describe_folder"):
        describe_folder(barred, preparation={"contrast": "clahe"})


def test_describe_folder_with_a_preparation_is_describe_folder_with_its_settings(barred):
    settings = dict(crop_data_bar=10, contrast="percentile", tile=48, aggregate="mean_std")
    by_keywords = describe_folder(barred, "power_spectrum:n_bins=8", cache=False, device="cpu",
                                  **settings)
    by_object = describe_folder(barred, "power_spectrum:n_bins=8", cache=False, device="cpu",
                                preparation=Preparation(**settings))
    pd.testing.assert_frame_equal(by_object, by_keywords)
    assert (by_object["meta__data_bar_rows"] == 10).all()


def test_map_prepares_a_folder_as_features_does(barred, tmp_path):
    pytest.importorskip("bokeh")
    from skmicro.workflow import map_collection

    Image.fromarray(_stripes((110, 120), 5)).save(barred / "c.png")
    cache = tmp_path / "cache"
    map_collection(barred, descriptor="power_spectrum:n_bins=8", crop_data_bar=10,
                   contrast="clahe", cache=cache, out=tmp_path / "map.html", verbose=0)
    # the page says what placed the points
    assert "Collection map: imgs (power_spectrum:n_bins=8, metric MDS)" in \
        (tmp_path / "map.html").read_text()
    # the same preparation through describe_folder finds every row in the map's cache
    table = describe_folder(barred, "power_spectrum:n_bins=8", preparation=Preparation(
        crop_data_bar=10, contrast="clahe"), cache=cache)
    assert table.attrs["cached"] == 3 and table.attrs["computed"] == 0
    assert (table["meta__data_bar_rows"] == 10).all()


def test_features_and_map_share_every_preparation_option(tmp_path):
    from skmicro.cli import _preparation_options

    options = ["--data-bar-rows", "7", "--pixel-size", "m.csv:bar/bar_px",
               "--target-pixel-size", "0.5", "--contrast", "clahe", "--tile", "64",
               "--aggregate", "mean_std"]
    parser = build_parser()
    features = parser.parse_args(["features", "x", "--out", "f.csv", *options])
    page = parser.parse_args(["map", "x", "--out", "m.html", *options])
    expected = dict(crop_data_bar=7, pixel_size="m.csv:bar/bar_px", target_pixel_size=0.5,
                    contrast="clahe", tile=64, aggregate="mean_std")
    assert _preparation_options(features) == _preparation_options(page) == expected
    Preparation(**{**expected, "pixel_size": None})  # what the group gives, Preparation takes
    assert _preparation_options(parser.parse_args(
        ["map", "x", "--out", "m.html", "--no-crop-data-bar"]))["crop_data_bar"] is False


def test_thumbnail_reader_is_public_in_io(barred):
    from skmicro.io import LazyMicrographs

    files = sorted(Path(barred).glob("*.png"))
    images = LazyMicrographs(files, transform=lambda im: im[:100])
    assert len(images) == 2 and images[1].shape == (100, 120)
    assert [im.shape for im in images[:2]] == [(100, 120)] * 2
