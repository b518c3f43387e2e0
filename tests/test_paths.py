"""skmicro._paths: the one listing of micrograph files and the one output-path check."""

import numpy as np
import pytest
from PIL import Image

from skmicro._paths import check_output_path, folder_micrographs
from skmicro.io import load_micrographs


def _png(path, value=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((3, 4), value, np.uint8)).save(path)


def test_folder_listing_skips_hidden_and_other_files(tmp_path):
    _png(tmp_path / "b.PNG")
    _png(tmp_path / "a.png")
    (tmp_path / "._a.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble, not an image")
    (tmp_path / "notes.txt").write_text("x")
    _png(tmp_path / "sub" / "c.png")
    _png(tmp_path / ".thumbs" / "d.png")
    names = [p.relative_to(tmp_path).as_posix() for p in folder_micrographs(tmp_path)]
    assert names == ["a.png", "b.PNG"]
    deep = folder_micrographs(tmp_path, recursive=True)
    assert [p.relative_to(tmp_path).as_posix() for p in deep] == ["a.png", "b.PNG", "sub/c.png"]
    # load_micrographs reads the same files: the hidden one would not decode
    images, read = load_micrographs(tmp_path, return_names=True)
    assert read == ["a.png", "b.PNG"] and len(images) == 2


def test_output_path_errors_name_the_parameter_and_the_fix(tmp_path):
    with pytest.raises(ValueError, match=r"f cannot write out='.*t\.txt': unknown table type "
                                         r"'\.txt'\. The file name must end in \.parquet or \.csv"):
        check_output_path(tmp_path / "t.txt", caller="f", suffixes=(".parquet", ".csv"),
                          kind="table", example="t.csv")
    missing = tmp_path / "no" / "t.csv"
    for error in (ValueError, FileNotFoundError):  # a bad value, and a missing folder
        with pytest.raises(error, match=r"the folder '.*no' does not exist\. Create it first"):
            check_output_path(missing, caller="f", example="t.csv")
    for error in (ValueError, IsADirectoryError):
        with pytest.raises(error, match="it is a folder.*e.g. '.*map.html'"):
            check_output_path(tmp_path, caller="f", example="map.html")


def test_output_path_probe_leaves_the_folder_as_it_was(tmp_path):
    (tmp_path / "old.csv").write_text("kept")
    for name in ("old.csv", "new.csv"):
        checked = check_output_path(str(tmp_path / name), caller="f", example="t.csv")
        assert checked == tmp_path / name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.csv"]
    assert (tmp_path / "old.csv").read_text() == "kept"
