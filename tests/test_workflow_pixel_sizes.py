"""Pixel sizes from a spreadsheet's scale bar (TABLE:LENGTH/PIXELS) and the notice for a
collection of mixed magnifications described without a target pixel size."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skmicro.cli import main
from skmicro.workflow import (
    MixedMagnificationWarning,
    Preparation,
    describe_folder,
    read_features,
)

Image = pytest.importorskip("PIL.Image")
tifffile = pytest.importorskip("tifffile")

# the 24 UHCS micrographs the package ships (skmicro.datasets), with labels/ and metadata.csv
UHCS = Path(__file__).resolve().parents[1] / "skmicro" / "datasets" / "data" / "uhcs24"
SPEC = "power_spectrum:n_bins=8"


def _noise(seed, shape=(80, 96)):
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


@pytest.fixture
def folder(tmp_path):
    f = tmp_path / "imgs"
    f.mkdir()
    for i, name in enumerate(("a.png", "b.png", "c.png")):
        Image.fromarray(_noise(i)).save(f / name)
    return f


def _describe(folder, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = describe_folder(folder, SPEC, cache=False, device="cpu", **kw)
    notices = [str(w.message) for w in caught if w.category is MixedMagnificationWarning]
    return table, notices


def test_scale_bar_columns_give_the_pixel_size(folder, capsys):
    # b's bar is given in nanometres (the unit column is honoured), c has no row
    pd.DataFrame({"image": ["a", "b"], "bar": [20.0, 5000.0], "bar_units": ["um", "nm"],
                  "bar_px": [100, 50]}).to_csv(folder / "meta.csv", index=False)
    prep = Preparation(pixel_size=f"{folder / 'meta.csv'}:bar/bar_px")
    assert prep.pixel_sizes(["a.png", "b.png", "c.png"]) == [0.2, 0.1, None]
    table, _ = _describe(folder, pixel_size=f"{folder / 'meta.csv'}:bar/bar_px")
    np.testing.assert_allclose(table["meta__pixel_size_um"], [0.2, 0.1, np.nan])
    assert table["meta__pixel_size_source"].tolist() == ["given", "given", "none"]
    # the command line takes the same form
    out = folder.parent / "f.csv"
    assert main(["features", str(folder), "-d", SPEC, "--pixel-size",
                 f"{folder / 'meta.csv'}:bar/bar_px", "--out", str(out), "--no-cache", "-q",
                 "--device", "cpu"]) == 0
    assert "notice: The micrographs' pixel sizes differ by up to 2.0x" in capsys.readouterr().err
    np.testing.assert_allclose(read_features(out)["meta__pixel_size_um"], [0.2, 0.1, np.nan])


def test_scale_bar_errors_show_the_two_forms(folder):
    sheet = folder / "meta.csv"
    pd.DataFrame({"file": ["a.png", "b.png"], "bar": [20.0, 10.0], "bar_px": [100, 0],
                  "unit": ["um", "um"]}).to_csv(sheet, index=False)
    with pytest.raises(ValueError, match=r"uhm.*TABLE\.csv:COLUMN.*TABLE\.csv:LENGTH/PIXELS.*"
                                         r"micron_bar/micron_bar_px"):
        Preparation(pixel_size=f"{sheet}:bar/uhm").pixel_sizes(["a.png"])
    with pytest.raises(ValueError, match=r"scale bar of 'b\.png' is 0 pixels long"):
        Preparation(pixel_size=f"{sheet}:bar/bar_px").pixel_sizes(["a.png", "b.png"])
    for bad in (f"{sheet}:bar/", f"{sheet}:bar/bar_px/x", "metadata.csv"):
        with pytest.raises(ValueError, match="LENGTH/PIXELS"):
            Preparation(pixel_size=bad)
    pd.DataFrame({"file": ["a.png"], "bar": [1.0], "bar_units": ["inch"], "bar_px": [10]}) \
        .to_csv(sheet, index=False)
    with pytest.raises(ValueError, match="unit column 'bar_units'.*'inch'"):
        Preparation(pixel_size=f"{sheet}:bar/bar_px").pixel_sizes(["a.png"])


def test_notice_when_known_pixel_sizes_differ(folder):
    _, notices = _describe(folder, pixel_size={"a.png": 0.1, "b.png": 0.11, "c.png": 0.12})
    assert notices == []  # within 1.25x
    _, notices = _describe(folder, pixel_size={"a.png": 0.1, "b.png": 0.4})
    assert len(notices) == 1
    assert "differ by up to 4.0x (0.1 to 0.4 um per pixel)" in notices[0]
    assert "add target_pixel_size=0.25 and give the pixel sizes of the 1 micrograph(s) that " \
        "have none" in notices[0]
    _, notices = _describe(folder, pixel_size={"a.png": 0.1, "b.png": 0.4, "c.png": 0.2},
                           target_pixel_size=0.4)
    assert notices == []


def test_notice_from_a_spreadsheet_beside_the_micrographs(folder):
    _, notices = _describe(folder)
    assert notices == []  # nothing tells the scales
    pd.DataFrame({"file": ["a.png", "b.png", "c.png"], "magnification": ["500X", "1000x", "5000x"]}
                 ).to_csv(folder / "info.csv", index=False)
    _, notices = _describe(folder)
    assert len(notices) == 1 and "magnifications from 500x to 5000x" in notices[0]
    assert "info.csv" in notices[0] and "LENGTH/PIXELS" in notices[0]
    pd.DataFrame({"file": ["a.png", "b.png", "c.png"], "bar_um": [10, 10, 10],
                  "bar_um_px": [50, 100, 100]}).to_csv(folder / "bars.csv", index=False)
    _, notices = _describe(folder)  # bars.csv comes first and says how to use it
    assert len(notices) == 1
    assert f"pixel_size='{folder / 'bars.csv'}:bar_um/bar_um_px'" in notices[0]
    assert "differ by up to 2.0x" in notices[0]


def test_cli_prints_the_notice(folder, tmp_path, capsys):
    assert main(["features", str(folder), "-d", SPEC, "--pixel-size", "0.1", "--out",
                 str(tmp_path / "f.csv"), "--no-cache", "-q", "--device", "cpu"]) == 0
    assert "differ" not in capsys.readouterr().err
    pd.DataFrame({"file": ["a.png", "b.png", "c.png"], "pixel_size_um": [0.1, 0.1, 0.5]}
                 ).to_csv(folder / "s.csv", index=False)
    assert main(["features", str(folder), "-d", SPEC, "--out", str(tmp_path / "f.csv"),
                 "--no-cache", "-q", "--device", "cpu"]) == 0
    err = capsys.readouterr().err.strip()
    # one clean line, the options as typed, no Python source
    assert err.count("\n") == 0 and err.startswith("skmicro features: notice: The micrographs'")
    assert f"add --pixel-size {folder / 's.csv'}:pixel_size_um and --target-pixel-size 0.1 " \
        in err
    assert "cli.py" not in err and "Warning" not in err


def test_uhcs24_scale_bar_and_notice():
    meta = pd.read_csv(UHCS / "metadata.csv", index_col="file")
    table, notices = _describe(UHCS)
    assert len(notices) == 1 and "metadata.csv:" in notices[0]
    assert "differ by up to 10.0x" in notices[0]
    scale_bar = f"{UHCS / 'metadata.csv'}:micron_bar/micron_bar_px"
    given, notices = _describe(UHCS, pixel_size=scale_bar)
    np.testing.assert_allclose(given["meta__pixel_size_um"],
                               (meta["micron_bar"] / meta["micron_bar_px"]).loc[given.index])
    assert len(notices) == 1 and "target_pixel_size=" in notices[0]
