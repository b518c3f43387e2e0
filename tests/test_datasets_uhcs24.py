"""The example data that ships with skmicro: loader, copy, command line, and the wheel's list."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
from PIL import Image

from skmicro.cli import main
from skmicro.datasets import export_uhcs24, load_uhcs24

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "skmicro" / "datasets" / "data" / "uhcs24"


@pytest.fixture(scope="module")
def uhcs():
    return load_uhcs24()


def test_arrays_shapes_and_dtypes(uhcs):
    assert uhcs.images.shape == uhcs.labels.shape == (24, 522, 645)
    assert uhcs.images.dtype == uhcs.labels.dtype == np.uint8
    assert len(uhcs.file_names) == 24 and uhcs.file_names == sorted(uhcs.file_names)
    assert uhcs.metadata["file"].tolist() == uhcs.file_names
    assert uhcs.class_names == ["matrix", "network", "spheroidite", "widmanstatten"]
    assert uhcs.folds.shape == (24,) and uhcs.folds.dtype == np.int64
    assert "CC BY-SA 3.0 US" in uhcs.DESCR and "DeCost" in uhcs.DESCR


def test_images_are_the_tiffs_unchanged(uhcs):
    # Read independently of skmicro.io, with tifffile itself.
    for i in (0, 13, 23):
        np.testing.assert_array_equal(uhcs.images[i],
                                      tifffile.imread(SHIPPED / uhcs.file_names[i]))


def test_label_values_and_data_bar(uhcs):
    assert set(np.unique(uhcs.labels).tolist()) <= {0, 1, 2, 3, 255}
    assert uhcs.data_bar_rows == 38
    assert (uhcs.labels[:, -38:] == 255).all()
    assert (uhcs.labels[:, :-38] <= 3).all()
    np.testing.assert_array_equal(
        uhcs.labels[5], np.asarray(Image.open(SHIPPED / "labels" / "uhcs0235.png")))


def test_class_fractions_match_the_metadata(uhcs):
    labelled = uhcs.labels[:, :-uhcs.data_bar_rows]
    for k, name in enumerate(uhcs.class_names):
        fractions = (labelled == k).mean(axis=(1, 2))
        np.testing.assert_allclose(fractions, uhcs.metadata[f"frac_{name}"], atol=1e-3)


def test_pixel_size_column_is_the_scale_bar_ratio(uhcs):
    meta = uhcs.metadata
    assert (meta["micron_bar_units"] == "um").all()
    np.testing.assert_allclose(meta["pixel_size_um"], meta["micron_bar"] / meta["micron_bar_px"],
                               rtol=1e-12)
    # A hand-checked row: uhcs0006, a 20 um bar drawn 124 pixels long.
    assert meta.loc[0, "pixel_size_um"] == pytest.approx(20 / 124)


def test_shipped_metadata_keeps_the_original_columns():
    meta = pd.read_csv(SHIPPED / "metadata.csv")
    assert meta.columns[-1] == "pixel_size_um"
    assert meta.shape == (24, 19) and meta["sample_label"].nunique() == 12


def test_folds_cover_every_file_four_each(uhcs):
    assert np.bincount(uhcs.folds).tolist() == [4] * 6
    folds = json.loads((SHIPPED / "folds.json").read_text())["folds"]
    assert sorted(n for names in folds.values() for n in names) == uhcs.file_names
    assert {uhcs.file_names[i] for i in np.flatnonzero(uhcs.folds == 0)} == set(folds["0"])


def test_without_labels():
    data = load_uhcs24(return_labels=False)
    assert "labels" not in data and data.images.shape == (24, 522, 645)


def test_return_labels_must_be_a_bool():
    with pytest.raises(TypeError, match="'return_labels' parameter of load_uhcs24"):
        load_uhcs24(return_labels="yes")


def test_attribution_and_licence_sit_beside_the_data():
    readme = (SHIPPED / "README.md").read_text()
    assert "CC BY-SA 3.0 US" in readme and "https://hdl.handle.net/11256/940" in readme
    assert "Attribution-ShareAlike 3.0 United States" in (SHIPPED / "LICENSE.txt").read_text()


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_export_writes_the_files_byte_for_byte(tmp_path):
    out = export_uhcs24(tmp_path / "new" / "uhcs24")
    assert out == tmp_path / "new" / "uhcs24"
    assert _files(out) == _files(SHIPPED)
    tiffs = sorted(out.glob("*.tif"))
    assert len(tiffs) == 24 and len(list(out.glob("labels/*.png"))) == 24
    for path in tiffs:
        assert path.read_bytes() == (SHIPPED / path.name).read_bytes()
    assert (out / "metadata.csv").read_bytes() == (SHIPPED / "metadata.csv").read_bytes()


def test_export_into_an_empty_folder(tmp_path):
    export_uhcs24(tmp_path)
    assert len(list(tmp_path.glob("*.tif"))) == 24


def test_export_refuses_a_non_empty_folder_and_a_file(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not empty"):
        export_uhcs24(tmp_path)
    assert _files(tmp_path) == ["mine.txt"]
    with pytest.raises(FileExistsError, match="is a file"):
        export_uhcs24(tmp_path / "mine.txt")
    with pytest.raises(TypeError, match="'out' parameter of export_uhcs24"):
        export_uhcs24(3)


def test_command_line_writes_the_folder(tmp_path, capsys):
    assert main(["datasets", "uhcs24", "--out", str(tmp_path / "uhcs24")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert len(list((tmp_path / "uhcs24").glob("*.tif"))) == 24


def test_command_line_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "x").write_text("")
    assert main(["datasets", "uhcs24", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "skmicro datasets: error:" in err and "not empty" in err


def test_package_data_lists_every_shipped_suffix():
    # The wheel carries what pyproject's package-data matches: every file in the folder must
    # match one of its patterns (a .tif or .png left out would only show on a fresh install).
    import fnmatch

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["skmicro"]
    package = ROOT / "skmicro"
    for name in _files(SHIPPED):
        relative = str((SHIPPED / name).relative_to(package))
        assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative


def test_no_page_or_example_reads_data_outside_the_repository():
    # The docs once read ../shared/data/uhcs24, which a user who installed skmicro lacks.
    import re

    outside = re.compile(r"shared/data|\"shared\" / \"data\"|'shared' / 'data'")
    files = [ROOT / "README.md", *ROOT.glob("docs/**/*.md"), *ROOT.glob("docs/**/*.py"),
             *ROOT.glob("skmicro/**/*.py")]
    offenders = [str(f.relative_to(ROOT)) for f in files
                 if not {"_build", "auto_examples", "reference"} & set(f.parts)
                 and outside.search(f.read_text(encoding="utf-8"))]
    assert not offenders, offenders
