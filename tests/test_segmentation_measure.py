"""skmicro.segmentation.measure_label_maps against hand-made label maps."""

import numpy as np
import pandas as pd
import pytest

from skmicro.segmentation import measure_label_maps


def two_squares():
    """20x20 map: class 0 background, a 4x4 and a 6x6 square of class 2, a 2x10 band of
    class 1, and 20 unlabelled pixels (last row)."""
    m = np.zeros((20, 20), np.uint8)
    m[2:6, 2:6] = 2          # area 16
    m[10:16, 10:16] = 2      # area 36
    m[0, 10:20] = 1          # area 10
    m[1, 10:20] = 1          # area 10
    m[19, :] = 255           # unlabelled
    return m


def test_fractions_and_diameters_of_two_squares():
    table = measure_label_maps([two_squares()], class_names=["ferrite", "network", "carbide"],
                               particle_class="carbide", pixel_size=0.25, names=["a.tif"])
    row = table.loc["a.tif"]
    labelled = 400 - 20
    assert row["fraction__ferrite"] == pytest.approx((labelled - 52 - 20) / labelled)
    assert row["fraction__network"] == pytest.approx(20 / labelled)
    assert row["fraction__carbide"] == pytest.approx(52 / labelled)
    d = np.sqrt(4 * np.array([16.0, 36.0]) / np.pi)   # equivalent diameters, px
    assert row["particles__count"] == 2
    assert row["particles__diameter_mean_px"] == pytest.approx(d.mean())
    assert row["particles__diameter_median_px"] == pytest.approx(d.mean())
    assert row["particles__diameter_p10_px"] == pytest.approx(d[0] + 0.1 * (d[1] - d[0]))
    assert row["particles__diameter_mean_um"] == pytest.approx(d.mean() * 0.25)
    assert row["particles__per_um2"] == pytest.approx(2 / (labelled * 0.0625))
    assert table.index.name == "file"


def test_defaults_name_classes_by_label_and_maps_by_position():
    m = two_squares()
    table = measure_label_maps(np.stack([m, np.full_like(m, 2)]))
    assert list(table.columns) == ["fraction__0", "fraction__1", "fraction__2"]
    assert table.index.tolist() == [0, 1]
    assert table.loc[1, "fraction__2"] == 1.0 and table.loc[1, "fraction__0"] == 0.0


def test_dict_names_absent_class_and_no_particles():
    m = np.zeros((8, 8), np.uint8)
    table = measure_label_maps([m], class_names={0: "matrix", 3: "laths"},
                               particle_class=3)
    assert table.loc[0, "fraction__laths"] == 0.0
    assert table.loc[0, "particles__count"] == 0
    assert np.isnan(table.loc[0, "particles__diameter_mean_px"])


def test_diagonal_touching_pixels_are_one_particle():
    m = np.zeros((6, 6), np.uint8)
    m[1, 1] = m[2, 2] = 1                                  # 8-connected: one particle of 2 px
    m[4, 4] = 1
    table = measure_label_maps([m], particle_class=1)
    assert table.loc[0, "particles__count"] == 2


def test_tiles():
    m = two_squares()
    table = measure_label_maps([m, m], particle_class=2, tile=10, names=["a", "b"])
    assert table.index.names == ["file", "tile"] and len(table) == 8
    first = table.loc[("a", 0)]
    assert (first["meta__tile_row"], first["meta__tile_col"]) == (0, 0)
    assert first["fraction__2"] == pytest.approx(16 / 100) and first["particles__count"] == 1
    last = table.loc[("a", 3)]                            # rows 10-19, cols 10-19: 90 labelled
    assert (last["meta__tile_row"], last["meta__tile_col"]) == (10, 10)
    assert last["fraction__2"] == pytest.approx(36 / 90)
    # The tile fractions, weighted by labelled area, give the map's fraction.
    whole = measure_label_maps([m])
    w = np.array([100, 100, 90, 90])
    assert (table.loc["a", "fraction__2"] * w).sum() / w.sum() == pytest.approx(
        whole.loc[0, "fraction__2"])


def test_joins_a_features_table_by_file():
    features = pd.DataFrame({"scattering__0": [0.1, 0.2]},
                            index=pd.Index(["a.tif", "b.tif"], name="file"))
    m = two_squares()
    table = measure_label_maps([m, m], names=["b.tif", "a.tif"])
    joined = features.join(table)
    assert joined.shape == (2, 4) and not joined.isna().any().any()


@pytest.mark.parametrize("kwargs, error, match", [
    ({"label_maps": [np.zeros((4, 4), float)]}, TypeError, "integer"),
    ({"label_maps": np.zeros((4, 4), int)}, ValueError, "one 2-D map"),
    ({"class_names": ["a"]}, ValueError, r"label_maps\[0\] holds the value 1.*class_names"),
    ({"class_names": ["a", "a", "b"]}, ValueError, "distinct"),
    ({"particle_class": "carbide"}, ValueError, "'particle_class'"),
    ({"pixel_size": [1.0, 2.0]}, ValueError, "'pixel_size'"),
    ({"names": ["a", "b"]}, ValueError, "'names'"),
    ({"tile": 0}, ValueError, "'tile'"),
])
def test_errors(kwargs, error, match):
    kwargs.setdefault("label_maps", [two_squares()])
    with pytest.raises(error, match=match):
        measure_label_maps(**kwargs)
