"""Which files a recursive run takes: label-mask folders left out by default with a notice,
exclude= / --exclude patterns, and a notice for a sub-folder that repeats the micrographs'
names."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from skmicro.cli import main
from skmicro.workflow import DEFAULT_EXCLUDE, FilesLeftOutWarning, describe_folder, read_features

Image = pytest.importorskip("PIL.Image")

# the 24 UHCS micrographs the package ships (skmicro.datasets), with labels/ and metadata.csv
UHCS = Path(__file__).resolve().parents[1] / "skmicro" / "datasets" / "data" / "uhcs24"
SPEC = "power_spectrum:n_bins=8"


def _save(path, seed=0, mask=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 4, (32, 32)) if mask else rng.integers(0, 256, (32, 32))
    Image.fromarray(image.astype(np.uint8)).save(path)


@pytest.fixture
def tree(tmp_path):
    """a.png, b.png, Labels/a.png, Labels/b.png (masks), batch2/c.png, batch2/old_d.png,
    batch2/masks/c.png."""
    root = tmp_path / "data"
    for i, name in enumerate(("a.png", "b.png", "batch2/c.png", "batch2/old_d.png")):
        _save(root / name, seed=i)
    for name in ("Labels/a.png", "Labels/b.png", "batch2/masks/c.png"):
        _save(root / name, mask=True)
    return root


def _run(paths, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = describe_folder(paths, SPEC, cache=False, device="cpu", **kw)
    return table, [str(w.message) for w in caught if w.category is FilesLeftOutWarning]


def test_label_folders_are_left_out_by_default_with_a_notice(tree):
    assert "labels" in DEFAULT_EXCLUDE and "masks" in DEFAULT_EXCLUDE
    table, notices = _run(tree, recursive=True)
    assert table.index.tolist() == ["a.png", "b.png", "batch2/c.png", "batch2/old_d.png"]
    assert table.attrs["excluded"] == {"labels": ["Labels/a.png", "Labels/b.png"],
                                       "masks": ["batch2/masks/c.png"]}
    assert len(notices) == 1
    assert notices[0].startswith("Left out 3 image files in Labels/ (2), batch2/masks/ (1): ")
    assert "exclude=[]" in notices[0]
    # not recursive: no sub-folder is looked at, nothing is said
    table, notices = _run(tree)
    assert table.index.tolist() == ["a.png", "b.png"] and notices == []


def test_exclude_patterns(tree):
    table, notices = _run(tree, recursive=True, exclude=["old_*", "labels", "masks"])
    assert table.index.tolist() == ["a.png", "b.png", "batch2/c.png"]
    assert notices[0] == ("Left out 4 image files matching the exclude patterns labels, masks, "
                          "old_*: Labels/ (2), batch2/ (1), batch2/masks/ (1).")
    table, _ = _run(tree, recursive=True, exclude="batch2/*")  # a path pattern
    assert table.index.tolist() == ["Labels/a.png", "Labels/b.png", "a.png", "b.png"]
    # every file taken: the mask folders repeat the micrographs' names, which is said
    table, notices = _run(tree, recursive=True, exclude=[])
    assert len(table) == 7 and table.attrs["excluded"] == {}
    assert len(notices) == 1 and "Took Labels/ (2), batch2/masks/ (1)" in notices[0]
    assert "exclude='Labels'" in notices[0]
    # files named directly are never left out
    table, notices = _run([tree / "Labels" / "a.png", tree / "b.png"], exclude=["*a.png"])
    assert table.index.tolist() == ["Labels/a.png", "b.png"] and notices == []


def test_exclude_errors(tree):
    with pytest.raises(ValueError, match=r"Every micrograph of '.*Labels' \(2\) matches the "
                                         r"exclude patterns \*\.png.*exclude=\[\]"):
        describe_folder(tree / "Labels", exclude=["*.png"], cache=False)
    with pytest.raises(TypeError, match="'exclude' parameter of describe_folder.*Got 3"):
        describe_folder(tree, exclude=3, cache=False)


def test_cli_exclude(tree, tmp_path, capsys):
    out = tmp_path / "f.csv"
    assert main(["features", str(tree), "--recursive", "--exclude", "old_*", "--exclude",
                 "Labels", "--exclude", "masks", "-d", SPEC, "--out", str(out), "--no-cache",
                 "-q", "--device", "cpu"]) == 0
    assert capsys.readouterr().err == (
        "skmicro features: notice: Left out 4 image files matching the exclude patterns "
        "Labels, masks, old_*: Labels/ (2), batch2/ (1), batch2/masks/ (1).\n")
    assert read_features(out).index.tolist() == ["a.png", "b.png", "batch2/c.png"]
    assert main(["features", str(tree), "--recursive", "--exclude", "", "-d", SPEC,
                 "--out", str(out), "--no-cache", "-q", "--device", "cpu"]) == 0
    assert len(read_features(out)) == 7
    assert "notice: Took Labels/ (2), batch2/masks/ (1)" in capsys.readouterr().err
    # the default: the notice names the option that takes them, as typed
    assert main(["features", str(tree), "--recursive", "-d", SPEC, "--out", str(out),
                 "--no-cache", "-q", "--device", "cpu"]) == 0
    assert "; pass --exclude '' to describe them too." in capsys.readouterr().err
    assert main(["features", str(tree), "--recursive", "--exclude", "[]", "-d", SPEC, "--out",
                 str(out), "--no-cache", "-q", "--device", "cpu"]) == 0
    assert len(read_features(out)) == 7


def test_uhcs24_recursive_leaves_out_its_labels():
    table, notices = _run(UHCS, recursive=True)
    assert len(table) == 24 and not any(f.startswith("labels/") for f in table.index)
    assert len(table.attrs["excluded"]["labels"]) == 24
    assert len(notices) == 1 and "labels/ (24)" in notices[0]


def test_a_folder_of_links_is_named_by_its_links(tmp_path):
    # links to files in another folder, as a user gathers a collection without copying it
    store, folder = tmp_path / "store", tmp_path / "collection"
    folder.mkdir()
    for i, name in enumerate(("x1.png", "x2.png")):
        _save(store / name, seed=i)
        (folder / f"link_{name}").symlink_to(store / name)
    table, _ = _run(folder)
    assert table.index.tolist() == ["link_x1.png", "link_x2.png"]
    direct, _ = _run(store)
    np.testing.assert_array_equal(table.filter(like='power_spectrum__').to_numpy(),
                                  direct.filter(like='power_spectrum__').to_numpy())
