"""Joining a user's spreadsheet to a features table by file name (skmicro.workflow._join)."""

import numpy as np
import pandas as pd
import pytest

from skmicro.workflow import join_table, parse_table_column, read_table


def _features(files):
    return pd.DataFrame({"power_spectrum__S_r0": np.arange(len(files), dtype=float)},
                        index=pd.Index(files, name="file"))


FILES = ["a/img1.tif", "a/img2.tif", "b/img3.png"]


@pytest.mark.parametrize("values, mode", [
    (["b/img3.png", "a/img1.tif", "a/img2.tif"], "path"),
    (["./B/IMG3.PNG", "./a/img1.tif", "a\\img2.tif"], "path"),   # ./, case, Windows separator
    (["img3.png", "img1.tif", "img2.tif"], "name"),
    (["/data/run7/img3.png", "C:/x/img1.tif", "img2.tif"], "name"),  # the user's own folders
    (["img3", "img1", "img2"], "stem"),
])
def test_rows_come_back_in_the_features_order(values, mode):
    sheet = pd.DataFrame({"id": [30, 10, 20], "image": values, "y": [3.0, 1.0, 2.0]})
    joined = join_table(_features(FILES), sheet)
    assert joined.index.tolist() == FILES
    assert joined["y"].tolist() == [1.0, 2.0, 3.0]
    assert joined["id"].tolist() == [10, 20, 30]
    assert joined.attrs["join"] == {"column": "image", "match": mode, "n_matched": 3}


def test_the_column_pairing_most_rows_wins_and_file_wins_a_tie():
    sheet = pd.DataFrame({"notes": ["img1.tif", "x", "y"],           # pairs one row
                          "name": ["img1.tif", "img2.tif", "img3.png"],
                          "file": ["a/img1.tif", "a/img2.tif", "b/img3.png"],
                          "y": [1, 2, 3]})
    assert join_table(_features(FILES), sheet).attrs["join"]["column"] == "file"
    # "name" and "file" both pair three rows by stem; the column called "file" wins the tie.
    stems = sheet.assign(name=["img1", "img2", "img3"], file=["img1", "img2", "img3"])
    assert join_table(_features(FILES), stems).attrs["join"]["column"] == "file"
    # A column the user names is used even when another pairs more rows.
    joined = join_table(_features(FILES), sheet, on="notes", missing="keep")
    assert joined.attrs["join"]["column"] == "notes"
    assert joined["y"].tolist()[0] == 1 and np.isnan(joined["y"].tolist()[1:]).all()


def test_extra_spreadsheet_rows_are_left_out_and_missing_keep_gives_nan():
    sheet = pd.DataFrame({"file": ["img1.tif", "img9.tif", "img3.png"], "y": [1, 9, 3]})
    joined = join_table(_features(FILES), sheet, missing="keep")
    assert joined.index.tolist() == FILES
    assert joined["y"].iloc[0] == 1 and np.isnan(joined["y"].iloc[1]) and joined["y"].iloc[2] == 3
    assert joined.attrs["join"]["n_matched"] == 2


def test_unmatched_micrographs_are_listed_with_the_spare_spreadsheet_names():
    sheet = pd.DataFrame({"file": ["img1.tif", "img9.tif", "img3.png"], "y": [1, 9, 3]})
    with pytest.raises(ValueError, match=r"1 of 3 micrographs are not named in column 'file'"
                                         r".*'a/img2.tif'.*match no micrograph: 'img9.tif'"):
        join_table(_features(FILES), sheet)


def test_no_match_at_all_lists_both_sides_and_the_columns():
    sheet = pd.DataFrame({"sample": ["s1", "s2"], "hardness": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"No row of the table names a micrograph.*"
                                         r"'a/img1.tif'.*'sample', 'hardness'"):
        join_table(_features(FILES), sheet)
    with pytest.raises(ValueError, match=r"values of 'sample': 's1', 's2'"):
        join_table(_features(FILES), sheet, on="sample")


def test_a_missing_column_lists_the_columns(tmp_path):
    path = tmp_path / "meta.csv"
    path.write_text("file,hardness\nimg1.tif,1\n")
    with pytest.raises(ValueError, match=r"Column 'filename' is not in table '.*meta.csv'; "
                                         r"its columns are: 'file', 'hardness'"):
        join_table(_features(FILES), path, on="filename")


def test_duplicate_rows_and_ambiguous_names_are_errors():
    sheet = pd.DataFrame({"file": ["img1.tif", "IMG1.TIF", "img2.tif", "img3.png"],
                          "y": [1, 2, 3, 4]})
    with pytest.raises(ValueError, match=r"Several rows .* same micrograph.*'img1.tif'"):
        join_table(_features(FILES), sheet)
    files = ["a/x.tif", "b/x.tif"]
    with pytest.raises(ValueError, match=r"several subfolders: 'a/x.tif', 'b/x.tif'"):
        join_table(_features(files), pd.DataFrame({"file": ["x.tif"], "y": [1]}))
    # Relative paths make them distinct again.
    joined = join_table(_features(files), pd.DataFrame({"file": ["b/x.tif", "a/x.tif"],
                                                        "y": [2, 1]}))
    assert joined["y"].tolist() == [1, 2]


def test_a_duplicate_that_names_no_micrograph_is_harmless():
    sheet = pd.DataFrame({"file": ["img1.tif", "img2.tif", "img3.png", "old.tif", "old.tif"],
                          "y": [1, 2, 3, 4, 5]})
    assert join_table(_features(FILES), sheet)["y"].tolist() == [1, 2, 3]


def test_read_table_csv_semicolon_parquet_and_errors(tmp_path):
    (tmp_path / "c.csv").write_text("file,y\nimg1.tif,1.5\n")
    (tmp_path / "s.csv").write_text("file;y\nimg1.tif;1.5\n")
    pd.DataFrame({"file": ["img1.tif"], "y": [1.5]}).to_parquet(tmp_path / "p.parquet")
    for name in ("c.csv", "s.csv", "p.parquet"):
        table = read_table(tmp_path / name)
        assert table.columns.tolist() == ["file", "y"] and table["y"].tolist() == [1.5]
    with pytest.raises(FileNotFoundError, match=r"'.*nope.csv' does not exist"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(FileNotFoundError, match="is a folder"):
        read_table(tmp_path)


def test_parse_table_column():
    assert parse_table_column("m.csv:y") == ("m.csv", "y")
    assert parse_table_column("dir:1/m.csv:frac x") == ("dir:1/m.csv", "frac x")
    assert parse_table_column(("m.csv", "y")) == ("m.csv", "y")
    for bad in ("m.csv", "m.csv:", ":y", "C:/data/m.csv"):
        with pytest.raises(ValueError, match="Expected 'TABLE.csv:COLUMN'"):
            parse_table_column(bad)
    with pytest.raises(TypeError, match="Expected 'TABLE.csv:COLUMN'"):
        parse_table_column(3)


def test_the_callers_frames_are_not_modified():
    features = _features(FILES)
    sheet = pd.DataFrame({"file": ["img3.png", "img1.tif", "img2.tif"], "y": [3, 1, 2]})
    before = sheet.copy(), features.copy()
    join_table(features, sheet)
    pd.testing.assert_frame_equal(sheet, before[0])
    pd.testing.assert_frame_equal(features, before[1])
