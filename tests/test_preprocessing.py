"""skmicro.preprocessing on small synthetic images (always) and on the UHCS micrographs."""

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline

from skmicro import PowerSpectrumFeatures
from skmicro.datasets import make_grain_microstructures, make_perlin_textures
from skmicro.preprocessing import (
    CropDataBar,
    NormalizeContrast,
    RescalePixelSize,
    find_data_bar,
)


def add_bar(image, height, *, top=False, background=0.0, rng=None):
    """Burn a data bar into a copy: flat background, white 'text' blocks and a scale bar."""
    rng = rng or np.random.default_rng(1)
    out = image.copy()
    w = out.shape[1]
    bar = np.full((height, w), background, dtype=out.dtype)
    ink = 1.0 - background if background != 0.5 else 1.0
    for x0 in range(2, w - 6, 9):  # glyphs covering about 30% of each text row
        if rng.random() < 0.8:
            bar[1:max(2, height - 2), x0:x0 + 3] = ink
    bar[height // 2, w // 2:w - 4] = ink  # the scale bar
    if top:
        out[:height] = bar
    else:
        out[-height:] = bar
    return out


@pytest.fixture(scope="module")
def textures():
    X, _ = make_perlin_textures(4, size=96, random_state=0)
    return (X - X.min()) / (X.max() - X.min())


# ---------------------------------------------------------------------------- data bars

@pytest.mark.parametrize("height", [3, 8, 20])
@pytest.mark.parametrize("background", [0.0, 1.0, 0.5])
def test_bottom_bars_of_other_heights_are_cropped_exactly(textures, height, background):
    images = np.stack([add_bar(x, height, background=background) for x in textures])
    out = CropDataBar().fit_transform(images)
    assert out.shape == (4, 96 - height, 96)
    np.testing.assert_array_equal(out, textures[:, : 96 - height].astype(np.float32))


def test_top_bar_and_both_edges(textures):
    top = add_bar(textures[0], 10, top=True)
    both = add_bar(add_bar(textures[1], 7, top=True), 12)
    out = CropDataBar().transform([top, both])
    assert isinstance(out, list) and [im.shape for im in out] == [(86, 96), (77, 96)]
    np.testing.assert_array_equal(out[1], textures[1][7:84].astype(np.float32))
    # position restricts the search to one edge
    assert CropDataBar(position="bottom").transform(top[None]).shape == (1, 96, 96)
    assert find_data_bar(both, position="top") == (7, 0)


def test_images_without_bar_are_untouched(textures):
    grains, _ = make_grain_microstructures(3, size=64, random_state=0)
    for images in (textures, grains):
        out = CropDataBar().fit_transform(images)
        np.testing.assert_array_equal(out, np.asarray(images, dtype=np.float32))
    flat = np.zeros((2, 30, 30))  # a flat image has nothing that differs from a bar
    assert CropDataBar().transform(flat).shape == (2, 30, 30)


def test_uniform_region_taller_than_max_fraction_is_not_a_bar(textures):
    image = textures[0].copy()
    image[-40:] = 0.0  # 40 of 96 rows: more than max_fraction=0.25
    assert find_data_bar(image) == (0, 0)
    assert find_data_bar(image, max_fraction=0.5) == (0, 40)


def test_manual_rows_and_tabular_route(textures):
    out = CropDataBar(rows=5, position="top").transform(textures)
    np.testing.assert_array_equal(out, textures[:, 5:].astype(np.float32))
    table = add_bar(textures[0], 6)[None].reshape(1, -1)
    out = CropDataBar(image_shape=(96, 96)).fit_transform(table)
    assert out.shape == (1, 90 * 96)  # a table in gives a table out
    with pytest.raises(ValueError, match="'rows' parameter of CropDataBar must be smaller"):
        CropDataBar(rows=96).transform(textures)
    with pytest.raises(ValueError, match="'position' parameter of CropDataBar"):
        CropDataBar(position="left").fit(textures)


def test_caller_array_not_modified_and_uint8(textures):
    images = (add_bar(textures[0], 9) * 255).astype(np.uint8)[None]
    before = images.copy()
    out = CropDataBar().transform(images)
    np.testing.assert_array_equal(images, before)
    assert out.shape == (1, 87, 96) and out.dtype == np.float32
    np.testing.assert_allclose(out[0], before[0, :87] / 255.0, atol=1e-7)


# ---------------------------------------------------------------------------- pixel size

def stripes(size, period, axis=1):
    x = np.arange(size)
    row = 0.5 + 0.5 * np.cos(2 * np.pi * x / period)
    img = np.tile(row, (size, 1))
    return img if axis == 1 else img.T


def dominant_period(image):
    spectrum = np.abs(np.fft.rfft(image.mean(axis=0) - image.mean()))
    k = int(np.argmax(spectrum))
    return image.shape[1] / k


def test_rescale_gives_the_physical_period():
    # 10-pixel stripes at 0.1 um/pixel are 1 um stripes; at 0.25 um/pixel they are 4 pixels
    images = np.stack([stripes(80, 10.0), stripes(80, 10.0)])
    out = RescalePixelSize(target_pixel_size=0.25).transform(images, pixel_size=[0.1, 0.05])
    assert [im.shape for im in out] == [(32, 32), (16, 16)]
    assert dominant_period(out[0]) == pytest.approx(4.0)
    assert dominant_period(out[1]) == pytest.approx(2.0)


def test_rescale_anti_aliases():
    # a pixel checkerboard (Nyquist) shrunk 4x must become flat grey, not a false pattern
    board = (np.indices((64, 64)).sum(axis=0) % 2).astype(np.float64)
    out = RescalePixelSize(target_pixel_size=4.0, pixel_size=1.0).fit_transform(board[None])
    assert out.shape == (1, 16, 16)
    assert abs(out.mean() - 0.5) < 0.02 and out[0, 2:-2, 2:-2].std() < 0.02


def test_rescale_identity_and_scalar_constructor(textures):
    out = RescalePixelSize(target_pixel_size=0.5, pixel_size=0.5).fit_transform(textures)
    np.testing.assert_array_equal(out, textures.astype(np.float32))


def test_missing_or_bad_pixel_size_says_how_to_supply_it(textures):
    with pytest.raises(ValueError, match=r"transform\(X, pixel_size=...\).*set_transform_request"):
        RescalePixelSize(target_pixel_size=1.0).fit_transform(textures)
    with pytest.raises(ValueError, match="has 2 values but X holds 4 images"):
        RescalePixelSize(target_pixel_size=1.0).transform(textures, pixel_size=[1.0, 2.0])
    with pytest.raises(ValueError, match="image 1 has pixel size nan"):
        RescalePixelSize(target_pixel_size=1.0).transform(
            textures, pixel_size=[1.0, np.nan, 1.0, 1.0])
    with pytest.raises(ValueError, match="'target_pixel_size' parameter"):
        RescalePixelSize(target_pixel_size=0).fit(textures)


def test_pixel_sizes_follow_splits_through_metadata_routing():
    # one 40-pixel-period texture at three magnifications: only with each split's own pixel
    # sizes do all images come out 20x20, which the (non-radial) power spectrum requires
    sizes = [(40, 1.0), (80, 0.5), (20, 2.0)] * 2
    X = [stripes(n, 40.0 / ps) for n, ps in sizes]
    pixel_size = np.array([ps for _, ps in sizes])
    y = np.arange(6.0)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            RescalePixelSize(target_pixel_size=2.0).set_transform_request(pixel_size=True),
            PowerSpectrumFeatures(device="cpu"),
            Ridge(),
        )
        for train, test in KFold(3).split(X):
            pipe.fit([X[i] for i in train], y[train], pixel_size=pixel_size[train])
            pred = pipe.predict([X[i] for i in test], pixel_size=pixel_size[test])
            assert pred.shape == (2,)
        features = pipe[:-1].fit_transform(X, pixel_size=pixel_size)
    # the same texture at three magnifications has one descriptor once rescaled
    assert np.abs(features - features[0]).max() < 2e-2 * np.abs(features).max()


# ---------------------------------------------------------------------------- contrast

def test_percentile_stretch_matches_hand_computation(rng):
    image = 0.3 + 0.1 * rng.random((50, 60))
    lo, hi = np.percentile(image.astype(np.float32), [2, 98])
    expected = np.clip((image.astype(np.float32) - lo) / (hi - lo), 0, 1)
    out = NormalizeContrast(percentiles=(2, 98)).transform(image[None])[0]
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_clahe_evens_out_an_illumination_gradient(textures):
    lit = textures[0] * np.linspace(0.2, 1.0, 96)[None, :]  # dark on the left, bright right
    out = NormalizeContrast("clahe", kernel_size=16).transform(lit[None])[0]
    def block_contrast_ratio(im):  # weakest over strongest local contrast, 16-column blocks
        stds = im.reshape(96, 6, 16).std(axis=(0, 2))
        return stds.min() / stds.max()

    assert block_contrast_ratio(lit) < 0.3
    assert block_contrast_ratio(out) > 1.5 * block_contrast_ratio(lit)
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_contrast_parameter_errors(textures):
    with pytest.raises(ValueError, match="'percentiles' parameter of NormalizeContrast"):
        NormalizeContrast(percentiles=(50, 10)).fit(textures)
    with pytest.raises(ValueError, match="'method' parameter of NormalizeContrast"):
        NormalizeContrast(method="gamma").fit(textures)


# ---------------------------------------------------------------------------- real images

# Inspected once per image (row profiles and a look at each picture): all 24 UHCS images have
# their 38-row data bar at rows 484..521, on a black background.
UHCS_BAR_FIRST_ROW = 484


@pytest.fixture(scope="module")
def uhcs():
    from skmicro.datasets import load_uhcs24

    uhcs = load_uhcs24(return_labels=False)
    return list(uhcs.images), uhcs.file_names


def test_uhcs_inspected_bar_rows_are_flat_and_micrograph_rows_are_not(uhcs):
    for image, name in zip(*uhcs):
        share_of_commonest = np.array([np.bincount(r).max() / r.size for r in image])
        assert share_of_commonest[UHCS_BAR_FIRST_ROW:].min() > 0.7, name
        assert share_of_commonest[:UHCS_BAR_FIRST_ROW].max() < 0.2, name


def test_uhcs_every_bar_is_gone_and_at_most_three_rows_lost(uhcs):
    images, names = uhcs
    out = CropDataBar().fit_transform(images)
    assert out.shape[0] == 24
    for image, cropped, name in zip(images, out, names):
        assert UHCS_BAR_FIRST_ROW - 3 <= cropped.shape[0] <= UHCS_BAR_FIRST_ROW, name
        np.testing.assert_array_equal(cropped, image[: cropped.shape[0]] / np.float32(255))

