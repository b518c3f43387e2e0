"""tile_fractions against masks of hand-checked content, and a synthetic regression task."""

import os
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmicro import ScatteringFeatures
from skmicro.datasets import make_grain_microstructures
from skmicro.preprocessing import RescalePixelSize, extract_tiles, tile_fractions


def test_half_and_half_mask():
    mask = np.zeros((8, 8), dtype=np.uint8)
    mask[:, 4:] = 1
    image = np.arange(64, dtype=np.float32).reshape(8, 8)
    tiles, fractions, groups = tile_fractions([image], [mask], tile_size=8)
    np.testing.assert_array_equal(fractions, [[0.5, 0.5]])
    np.testing.assert_array_equal(tiles[0], image)
    tiles, fractions, groups = tile_fractions([image], [mask], tile_size=4)
    np.testing.assert_array_equal(fractions, [[1, 0], [0, 1], [1, 0], [0, 1]])
    np.testing.assert_array_equal(tiles[1], image[:4, 4:])
    assert groups.tolist() == [0, 0, 0, 0]


def test_checkerboard_across_tile_boundaries():
    # 3x3 squares cut by a 2x2 tile grid: tiles straddle the squares' edges.
    mask = np.kron([[0, 1], [1, 0]], np.ones((3, 3), dtype=np.int64))
    _, fractions, _ = tile_fractions([np.zeros((6, 6))], [mask], tile_size=2)
    # Fraction of class 1 per tile, counted by hand from the 6x6 mask (row-major tiles).
    np.testing.assert_array_equal(fractions[:, 1], [0, .5, 1, .5, .5, .5, 1, .5, 0])
    np.testing.assert_array_equal(fractions.sum(axis=1), 1.0)
    # A grid shifted by one pixel puts every tile inside one square.
    _, shifted, _ = tile_fractions([np.zeros((6, 6))], [mask], tile_size=2, offset=1)
    np.testing.assert_array_equal(shifted[:, 1], [0, 1, 1, 0])


def test_unlabelled_band_drops_touching_tiles_or_counts_labelled_area_only():
    mask = np.zeros((8, 4), dtype=np.uint8)
    mask[:, 2:] = 1
    mask[6:] = 255  # a two-row data bar, unlabelled
    images = [np.zeros((8, 4))]
    tiles, fractions, groups = tile_fractions(images, [mask], tile_size=4)
    assert len(tiles) == 1  # the tile over rows 4-7 touches the band: dropped
    np.testing.assert_array_equal(fractions, [[0.5, 0.5]])
    _, kept, _ = tile_fractions(images, [mask], tile_size=(4, 4), max_unlabelled=0.5)
    np.testing.assert_array_equal(kept, [[0.5, 0.5], [0.5, 0.5]])  # over the labelled half
    mask[4:6, :2] = 255  # now the lower tile is 3/4 unlabelled, and all of it class 1
    _, kept, _ = tile_fractions(images, [mask], tile_size=4, max_unlabelled=0.8)
    np.testing.assert_array_equal(kept, [[0.5, 0.5], [0.0, 1.0]])
    # Classes fixed by the caller: a class no pixel shows is a column of zeros.
    _, fixed, _ = tile_fractions(images, [mask], tile_size=4, classes=[1, 0, 3])
    np.testing.assert_array_equal(fixed, [[0.5, 0.5, 0.0]])


def test_tiles_and_groups_are_extract_tiles_less_the_dropped(rng):
    images = [rng.random((12, 10)), rng.random((8, 8))]
    masks = [np.zeros((12, 10), np.uint8), np.ones((8, 8), np.uint8)]
    masks[0][9:, 8:] = 255
    tiles, fractions, groups = tile_fractions(images, masks, tile_size=4, stride=(4, 3))
    all_tiles, all_groups = extract_tiles(images, tile_size=4, stride=(4, 3))
    kept = np.ones(len(all_tiles), bool)
    kept[[8]] = False  # image 0: rows 8-11, cols 6-9 holds the unlabelled corner
    np.testing.assert_array_equal(tiles, all_tiles[kept])
    np.testing.assert_array_equal(groups, all_groups[kept])
    np.testing.assert_array_equal(fractions[groups == 1], [[0.0, 1.0]] * 4)


def test_rescaled_tiles_cover_the_same_area_and_fractions_are_areas():
    # Stripes of 10 pixels at 0.1 um/pixel = 1 um; brought to 0.2 um/pixel they are 5
    # pixels wide, and an 8-pixel tile at the same corner covers 1.6 um, i.e. 16 source pixels.
    mask = ((np.arange(40) // 10) % 2).astype(np.uint8)[None].repeat(40, 0)
    image = mask.astype(np.float32)
    tiles, fractions, _ = tile_fractions([image], [mask], tile_size=(20, 20),
                                         pixel_size=0.1, target_pixel_size=0.2)
    assert tiles.shape == (1, 20, 20)
    np.testing.assert_allclose(fractions, [[0.5, 0.5]], atol=1e-6)  # the whole image
    np.testing.assert_array_equal(
        tiles, RescalePixelSize(target_pixel_size=0.2).transform(image[None], pixel_size=0.1))
    _, quarters, _ = tile_fractions([image], [mask], tile_size=(20, 5), pixel_size=0.1,
                                    target_pixel_size=0.2)
    # Each 5-column tile is one stripe; the anti-aliasing blur leaks a little across edges.
    np.testing.assert_allclose(quarters[:, 1], [0, 1, 0, 1], atol=0.1)
    # Area is conserved: the mean over tiles is the physical fraction.
    assert abs(quarters[:, 1].mean() - 0.5) < 1e-6
    # Upsampling: 0.4 um/pixel to 0.2 doubles the image; 4 tiles of 10 columns = 4 stripes.
    _, up, _ = tile_fractions([image[:, ::4]], [mask[:, ::4]], tile_size=(20, 5),
                              pixel_size=0.4, target_pixel_size=0.2)
    assert up.shape == (16, 2)


def test_rescaling_keeps_tiles_near_the_bar_out():
    mask = np.zeros((40, 40), np.uint8)
    mask[32:] = 255
    _, plain, _ = tile_fractions([np.zeros((40, 40))], [mask], tile_size=8)
    assert len(plain) == 4 * 5  # rows 0-31 exactly
    # Shrunk by 2 (with anti-aliasing): rows 0-15 of 20; the blur reaches row 15 from row 16,
    # so the last row of tiles (rows 8-15) counts as touching the bar.
    _, shrunk, _ = tile_fractions([np.zeros((40, 40))], [mask], tile_size=4,
                                  pixel_size=1.0, target_pixel_size=2.0)
    assert len(shrunk) == 5 * 3


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"masks": [np.zeros((8, 9), np.uint8)]}, ValueError, r"masks\[0\] has shape \(8, 9\)"),
        ({"masks": [np.zeros((8, 8))]}, TypeError, "integer class labels"),
        ({"masks": [np.zeros((8, 8), int)] * 2}, ValueError, "2 label masks but images holds 1"),
        ({"masks": [np.full((8, 8), 7)], "classes": [0, 1]}, ValueError, "holds the value 7"),
        ({"classes": [0, 255]}, ValueError, "'classes' parameter"),
        ({"pixel_size": 0.1}, ValueError, "give both pixel_size and target_pixel_size"),
        ({"max_unlabelled": 1.0}, ValueError, "'max_unlabelled' parameter"),
        ({"masks": [np.full((8, 8), 255)]}, ValueError, "no labelled pixel"),
        ({"offset": (6, 0)}, ValueError, "smaller than one tile from offset 6,0"),
        ({"masks": None}, TypeError, "masks must be an array"),
    ],
)
def test_errors_name_the_argument_and_the_fix(kwargs, error, match):
    args = {"images": [np.zeros((8, 8))], "masks": [np.zeros((8, 8), np.uint8)],
            "tile_size": 4, **kwargs}
    with pytest.raises(error, match=match):
        tile_fractions(**args)


def test_does_not_modify_inputs(rng):
    image = rng.random((8, 8))
    mask = (rng.random((8, 8)) > 0.5).astype(np.uint8)
    before = image.copy(), mask.copy()
    tile_fractions([image], [mask], tile_size=4, pixel_size=0.5, target_pixel_size=1.0)
    np.testing.assert_array_equal(image, before[0])
    np.testing.assert_array_equal(mask, before[1])


def _two_constituent_composites(n, size, seed):
    """Micrographs made of two microconstituents laid out by a smooth random blob field: a
    cold-rolled grain section (grains stretched along x, ``reduction > 0.5``) and the same
    section turned 90 degrees (grains stretched along y), as in a sample whose colonies roll
    differently. Same grains, same etching: only the orientation tells the constituents
    apart, and the class fraction of every tile is known exactly from the layout."""
    X, _, params = make_grain_microstructures(5 * n, size=size, random_state=seed,
                                              return_params=True)
    rolled = np.flatnonzero(params["reduction"] > 0.5)[:n]
    assert len(rolled) == n
    rng = np.random.default_rng(seed)
    images, masks = [], []
    for a in rolled:
        field = ndi.gaussian_filter(rng.standard_normal((size, size)), size / 12, mode="wrap")
        layout = field > np.quantile(field, rng.uniform(0.2, 0.8))
        images.append(np.where(layout, X[a].T, X[a]))
        masks.append(layout.astype(np.uint8))
    return images, masks


def test_synthetic_constituent_fraction_is_learnable_and_a_shuffled_target_is_not():
    images, masks = _two_constituent_composites(12, 192, seed=0)
    tiles, fractions, groups = tile_fractions(images, masks, tile_size=48, classes=[0, 1])
    y = fractions[:, 1]
    assert len(y) == 12 * 16 and y.std() > 0.25  # tiles span pure and mixed layouts
    model = make_pipeline(
        ScatteringFeatures(J=2, L=4, max_order=1, log=True, device="cpu"),
        StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    cv = GroupKFold(n_splits=4)  # a composite's tiles never on both sides
    r2 = r2_score(y, cross_val_predict(model, tiles, y, groups=groups, cv=cv))
    shuffled = np.random.default_rng(1).permutation(y)
    r2_shuffled = r2_score(shuffled, cross_val_predict(model, tiles, shuffled, groups=groups,
                                                       cv=cv))
    assert r2 > 0.8, r2  # 0.85-0.90 over seeds 0-3
    assert r2_shuffled < 0.1, r2_shuffled


def test_extract_tiles_offset_shifts_the_grid():
    image = np.arange(7 * 9, dtype=np.float32).reshape(7, 9)
    tiles, groups = extract_tiles([image], tile_size=3, offset=(1, 2))
    expected = [image[r:r + 3, c:c + 3] for r in (1, 4) for c in (2, 5)]
    np.testing.assert_array_equal(tiles, np.stack(expected))
    with pytest.raises(ValueError, match="'offset' parameter of extract_tiles"):
        extract_tiles([image], tile_size=3, offset=-1)


# ---------------------------------------------------------------- real micrographs (UHCS)
@pytest.fixture(scope="module")
def uhcs_labelled():
    from skmicro.datasets import load_uhcs24

    uhcs = load_uhcs24()
    rows = uhcs.metadata.to_dict("records")[:6]  # a few images: seconds
    return list(uhcs.images[:6]), list(uhcs.labels[:6]), rows


def test_uhcs_whole_image_tiles_give_the_published_fractions(uhcs_labelled):
    images, masks, rows = uhcs_labelled
    # One tile = the annotated rows 0-483 of each micrograph: the metadata's area fractions
    # (computed by the data's curators from the same annotations, rounded to 4 decimals).
    _, fractions, groups = tile_fractions(images, masks, tile_size=(484, 645),
                                          classes=[0, 1, 2, 3])
    assert groups.tolist() == list(range(len(rows)))
    published = [[float(r[f"frac_{c}"]) for c in ("matrix", "network", "spheroidite",
                                                    "widmanstatten")] for r in rows]
    np.testing.assert_allclose(fractions, published, atol=6e-5)
    # 128-pixel tiles: 3 rows x 5 columns per image, none touching the data bar (row 484+).
    _, small, groups = tile_fractions(images, masks, tile_size=128, classes=[0, 1, 2, 3])
    assert np.bincount(groups).tolist() == [15] * len(rows)


def test_uhcs_rescaled_tiles_keep_the_area_fractions(uhcs_labelled):
    images, masks, rows = uhcs_labelled
    sizes = [float(r["micron_bar"]) / float(r["micron_bar_px"]) for r in rows]
    # 8-pixel tiles at twice the pixel size cover (almost) the whole annotated area, so their
    # mean fractions are the image's, up to the strip along the data bar left out.
    _, fractions, groups = tile_fractions(images, masks, tile_size=8, pixel_size=sizes,
                                          target_pixel_size=2 * max(sizes),
                                          classes=[0, 1, 2, 3])
    for i, r in enumerate(rows):
        mean = fractions[groups == i].mean(axis=0)
        assert abs(mean[2] - float(r["frac_spheroidite"])) < 0.03, r["file"]
        assert abs(mean[1] - float(r["frac_network"])) < 0.03, r["file"]


def test_phase_fraction_benchmark_exits_cleanly_without_the_data(tmp_path):
    # SKMICRO_UHCS24 points the benchmark at another copy of the data; a wrong one is named.
    import subprocess
    import sys

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_phase_fraction.py"
    env = {**os.environ, "SKMICRO_UHCS24": str(tmp_path / "absent")}
    done = subprocess.run([sys.executable, str(path)], env=env, capture_output=True,
                          text=True, timeout=60, cwd=path.parent)
    assert done.returncode == 0 and "not found" in done.stdout and "Nothing to do" in done.stdout
