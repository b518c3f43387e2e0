"""fit_segmenter / segment_folder and `skmicro segment`: folders of generated micrographs whose
two textures meet at a known column (so the true label map and class fractions are known), a
data bar at the bottom, label images of the full size; outputs checked against that truth,
the per-file cache (nothing recomputed on a rerun), the mask preparation (data bar cut,
nearest resampling, checked on hand-made blocks), every error the route promises, and two
packaged UHCS micrographs."""

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skmicro.cli import main
from skmicro.segmentation import TrainableSegmenter, load_segmenter
from skmicro.workflow import fit_segmenter, segment_folder

Image = pytest.importorskip("PIL.Image")

H, W, BAR = 48, 64, 6
NAMES = ["smooth", "stripes"]
CHEAP = dict(features="filter_bank:sigmas=[1,2]", context=None, pixels_per_image=600,
             crop_data_bar=BAR, n_jobs=1, verbose=0)


def split_column(i):
    return 20 + 8 * i  # columns left of it are "smooth" (0), the rest "stripes" (1)


def write_folder(root, n=3, seed=0):
    """``n`` micrographs m<i>.png (H x W, a data bar of BAR rows) and their full label images."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    rows = H - BAR
    yy, xx = np.mgrid[:rows, :W]
    for i in range(n):
        truth = (xx >= split_column(i)).astype(np.uint8)
        smooth = 90 + 10 * rng.standard_normal((rows, W))
        stripes = 128 + 80 * np.sin(xx * 2.2) * np.sin(yy * 2.2) + 10 * rng.standard_normal(
            (rows, W))
        full = np.zeros((H, W))
        full[:rows] = np.where(truth == 1, stripes, smooth)
        full[rows + 2:rows + 4, 5:30] = 255  # the data bar's "text"
        Image.fromarray(np.clip(full, 0, 255).astype(np.uint8)).save(root / "images" /
                                                                     f"m{i}.png")
        mask = np.full((H, W), 255, np.uint8)
        mask[:rows] = truth
        Image.fromarray(mask).save(root / "labels" / f"m{i}.png")
    return root / "images", root / "labels"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("seg")
    images, labels = write_folder(root)
    model = root / "model.skops"
    fit_segmenter(images, labels, model, class_names=NAMES, random_state=0, **CHEAP)
    return images, labels, model


def png(path):
    return np.asarray(Image.open(path))


def test_the_model_file_is_a_segmenter_file_holding_the_preparation(trained):
    _, _, model = trained
    seg = load_segmenter(model)
    assert isinstance(seg, TrainableSegmenter) and seg.classes_.tolist() == [0, 1]
    with zipfile.ZipFile(model) as archive:
        route = json.loads(archive.read("skmicro-route.json"))
    assert route["class_names"] == NAMES
    assert route["preparation"] == {"crop_data_bar": BAR, "target_pixel_size": None,
                                    "contrast": None}
    assert route["trained_on"] == ["m0.png", "m1.png", "m2.png"]


def test_predict_writes_full_size_label_maps_overlays_and_measurements(trained, tmp_path):
    images, _, model = trained
    out = tmp_path / "out"
    table = segment_folder(model, images, out, uncertainty=True, cache=False, n_jobs=1,
                           verbose=0)
    rows = H - BAR
    for i in range(3):
        labels = png(out / f"m{i}.png")
        assert labels.dtype == np.uint8 and labels.shape == (H, W)
        assert (labels[rows:] == 255).all()  # the data bar is not segmented
        truth = (np.arange(W) >= split_column(i)).astype(np.uint8)
        assert (labels[:rows] == truth).mean() > 0.95
        over = png(out / "overlays" / f"m{i}.png")
        assert over.ndim == 3 and over.shape[2] == 3 and over.shape[0] > H
        unsure = png(out / "uncertainty" / f"m{i}.png")
        assert unsure.shape == (H, W) and (unsure[rows:] == 0).all()
    assert table.index.name == "file" and table.index.tolist() == ["m0.png", "m1.png",
                                                                   "m2.png"]
    expected = [split_column(i) / W for i in range(3)]
    np.testing.assert_allclose(table["fraction__smooth"], expected, atol=0.05)
    np.testing.assert_allclose(table["fraction__smooth"] + table["fraction__stripes"], 1.0)
    written = pd.read_csv(out / "measurements.csv", index_col="file")
    np.testing.assert_allclose(written.to_numpy(), table.to_numpy())


def test_a_rerun_recomputes_nothing(trained, tmp_path, monkeypatch):
    images, _, model = trained
    first = segment_folder(model, images, tmp_path / "a", cache=tmp_path / "cache", n_jobs=1,
                           verbose=0)
    assert first.attrs["computed"] == 3 and first.attrs["cached"] == 0

    def never(*args, **kwargs):
        raise AssertionError("recomputed a cached prediction")

    monkeypatch.setattr(TrainableSegmenter, "predict_proba", never)
    second = segment_folder(model, images, tmp_path / "b", cache=tmp_path / "cache",
                            verbose=0)
    assert second.attrs["computed"] == 0 and second.attrs["cached"] == 3
    pd.testing.assert_frame_equal(first, second)
    for i in range(3):
        assert (tmp_path / "a" / f"m{i}.png").read_bytes() == (
            tmp_path / "b" / f"m{i}.png").read_bytes()


def test_an_interrupted_run_keeps_the_finished_images(trained, tmp_path, monkeypatch, capsys):
    images, _, model = trained
    real, calls = TrainableSegmenter.predict_proba, []

    def interrupted_at_the_second(self, X):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, X)

    monkeypatch.setattr(TrainableSegmenter, "predict_proba", interrupted_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        segment_folder(model, images, tmp_path / "out", cache=tmp_path / "cache", n_jobs=1)
    assert "interrupted: the label maps of 1 of 3" in capsys.readouterr().err
    assert (tmp_path / "out" / "m0.png").is_file() and not (tmp_path / "out" / "m1.png").exists()
    assert not list((tmp_path / "out").glob(".*"))  # no temporary file left behind
    monkeypatch.setattr(TrainableSegmenter, "predict_proba", real)
    again = segment_folder(model, images, tmp_path / "out", cache=tmp_path / "cache", n_jobs=1,
                           verbose=0)
    assert again.attrs == {"computed": 2, "cached": 1}


def test_fitting_again_on_the_same_files_reuses_the_model(trained, monkeypatch):
    images, labels, model = trained
    before = model.stat().st_mtime_ns

    def never(*args, **kwargs):
        raise AssertionError("refitted an up-to-date model")

    monkeypatch.setattr(TrainableSegmenter, "fit", never)
    seg = fit_segmenter(images, labels, model, class_names=NAMES, random_state=0, **CHEAP)
    assert seg.classes_.tolist() == [0, 1] and model.stat().st_mtime_ns == before
    with pytest.raises(AssertionError, match="refitted"):  # another setting: a new model
        fit_segmenter(images, labels, model, class_names=NAMES, random_state=1, **CHEAP)


def test_masks_are_cut_and_resampled_like_their_images():
    from skmicro.workflow import Preparation

    blocks = np.kron(np.arange(12).reshape(3, 4), np.ones((2, 2), int)).astype(np.uint8)
    mask = np.vstack([np.full((1, 8), 9, np.uint8), blocks, np.full((3, 8), 255, np.uint8)])
    info = {"height": 10, "width": 8, "top": 1, "bottom": 3, "shape": (6, 8)}
    assert Preparation().to_prepared(mask, info).tolist() == blocks.tolist()
    halved = Preparation().to_prepared(mask, {**info, "shape": (3, 4)})  # nearest: a block
    assert halved.tolist() == np.arange(12).reshape(3, 4).tolist()     # -> one pixel


def test_a_resampling_preparation_maps_back_to_the_files_pixels(tmp_path):
    images, labels = write_folder(tmp_path / "data", n=2)
    model = tmp_path / "m.skops"
    seg = fit_segmenter(images, labels, model, class_names=NAMES, pixel_size=0.5,
                        target_pixel_size=1.0, random_state=0, **CHEAP)
    assert seg.n_training_pixels_ <= 2 * (H - BAR) * W // 4
    segment_folder(model, images, tmp_path / "out", pixel_size=0.5, cache=False, verbose=0)
    labels_map = png(tmp_path / "out" / "m0.png")
    assert labels_map.shape == (H, W) and (labels_map[H - BAR:] == 255).all()
    truth = (np.arange(W) >= split_column(0)).astype(np.uint8)
    assert (labels_map[:H - BAR] == truth).mean() > 0.9


def _mask(labels, i, change):
    path = labels / f"m{i}.png"
    mask = png(path).copy()
    change(mask)
    Image.fromarray(mask).save(path)


@pytest.mark.parametrize("change, message", [
    (lambda p: Image.fromarray(np.zeros((H, W + 1), np.uint8)).save(p),
     r"m1\.png' is 65x48 pixels, but its micrograph is 64x48"),
    (lambda p: _mask(p.parent, 1, lambda m: m.__setitem__((0, 0), 7)),
     r"m1\.png' holds the value\(s\) \[7\], beyond the 2 classes"),
    (lambda p: _mask(p.parent, 1, lambda m: m.__setitem__(slice(None, H - BAR), 255)),
     r"m1\.png' has no labelled pixel"),
    (lambda p: [_mask(p.parent, i, lambda m: m.__setitem__(m == 1, 0)) for i in range(3)],
     "class\\(es\\) stripes have no pixel in any label image"),
])
def test_fit_errors_name_the_file_or_class(tmp_path, change, message):
    images, labels = write_folder(tmp_path)
    change(labels / "m1.png")
    with pytest.raises(ValueError, match=message):
        fit_segmenter(images, labels, tmp_path / "m.skops", class_names=NAMES, **CHEAP)


def test_fit_errors_before_any_work(tmp_path):
    images, labels = write_folder(tmp_path)
    with pytest.raises(ValueError, match="unknown dense descriptor 'gabor'"):
        fit_segmenter(images, labels, features="gabor")
    with pytest.raises(ValueError, match="unknown option.*sigma.*of filter_bank"):
        fit_segmenter(images, labels, features="filter_bank:sigma=2")
    with pytest.raises(ValueError, match=r"must end in \.skops"):
        fit_segmenter(images, labels, tmp_path / "model.pkl", **CHEAP)
    empty = tmp_path / "none"
    empty.mkdir()
    Image.fromarray(np.zeros((H, W), np.uint8)).save(empty / "other.png")
    with pytest.raises(ValueError, match="no micrograph in .* has a label image"):
        fit_segmenter(images, empty, **CHEAP)


def test_predict_refuses_what_is_not_a_model(trained, tmp_path):
    images, _, _ = trained
    text = tmp_path / "notes.skops"
    text.write_text("not a model")
    with pytest.raises(ValueError, match="not a segmenter model file"):
        segment_folder(text, images, tmp_path / "out", verbose=0)
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    other = tmp_path / "other.skops"
    sio.dump(LogisticRegression(), other)
    with pytest.raises(ValueError, match="holds a LogisticRegression, not a TrainableSegmenter"):
        segment_folder(other, images, tmp_path / "out", verbose=0)


def test_predict_never_writes_into_the_micrographs_folder(trained):
    images, _, model = trained
    with pytest.raises(ValueError, match="holds the micrographs"):
        segment_folder(model, images, images, verbose=0)


def test_the_command_line_round_trip(tmp_path, capsys):
    images, labels = write_folder(tmp_path / "data")
    model, out = tmp_path / "model.skops", tmp_path / "out"
    assert main(["segment", "fit", str(images), "--labels", str(labels), "--out", str(model),
                 "--features", "filter_bank:sigmas=[1,2]", "--context", "none",
                 "--pixels-per-image", "600", "--class-names", "smooth,stripes",
                 "--data-bar-rows", str(BAR), "--n-jobs", "1", "-q"]) == 0
    assert main(["segment", "predict", str(model), str(images), "--out", str(out),
                 "--particle-class", "stripes", "--measurements", str(tmp_path / "m.parquet"),
                 "--no-cache", "--n-jobs", "1", "-q"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"wrote {model}",
                                                    f"wrote 3 label maps to {out}"]
    assert png(out / "m2.png").shape == (H, W) and (out / "overlays" / "m2.png").is_file()
    table = pd.read_parquet(tmp_path / "m.parquet")
    assert table.index.name == "file" and (table["particles__count"] >= 1).all()
    assert main(["segment", "predict", str(images / "m0.png"), str(images), "--out",
                 str(out)]) == 2
    assert "not a segmenter model file" in capsys.readouterr().err


def test_two_packaged_uhcs_micrographs(tmp_path):
    """Real micrographs (two at 982x): the data bar found and cut from image and mask alike,
    the contrast normalized; a filter-bank segmenter trained on one labels the other (a check
    of the plumbing: its accuracy is well above chance, 0.25, not a benchmark)."""
    from skmicro.datasets import load_uhcs24

    uhcs = load_uhcs24(return_labels=False)
    for where in ("train", "labels", "test"):
        (tmp_path / where).mkdir()
    for name, where in (("uhcs0007.tif", "train"), ("uhcs0075.tif", "test")):
        (tmp_path / where / name).write_bytes((uhcs.folder / name).read_bytes())
        stem = Path(name).stem + ".png"
        (tmp_path / "labels" / stem).write_bytes((uhcs.folder / "labels" / stem).read_bytes())
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = tmp_path / "model.skops"
    fit_segmenter(tmp_path / "train", tmp_path / "labels", model,
                  features="filter_bank:sigmas=[1,4]", context=None, pixels_per_image=1000,
                  classifier=HistGradientBoostingClassifier(max_iter=15, random_state=0),
                  class_names=uhcs.class_names, contrast="percentile", random_state=0,
                  n_jobs=1, verbose=0)
    table = segment_folder(model, tmp_path / "test", tmp_path / "out", cache=False, n_jobs=1,
                           overlays=False, verbose=0)
    pred = png(tmp_path / "out" / "uhcs0075.png")
    truth = png(uhcs.folder / "labels" / "uhcs0075.png")
    assert pred.shape == truth.shape == (522, 645)
    assert (pred[484:] == 255).all() and (pred[:484] != 255).all()
    assert (pred[:484] == truth[:484]).mean() > 0.4
    assert table.columns.tolist() == [f"fraction__{c}" for c in uhcs.class_names]
