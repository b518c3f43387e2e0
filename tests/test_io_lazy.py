"""open_micrographs (lazy folders) and the zarr helpers, on dask's synchronous scheduler."""

import numpy as np
import pytest
import tifffile
from PIL import Image

da = pytest.importorskip("dask.array")
pytest.importorskip("zarr")

from skmicro import PowerSpectrumFeatures  # noqa: E402
from skmicro.io import load_micrographs, open_micrographs, read_zarr, to_zarr  # noqa: E402


def _folder(tmp_path, n=7, shape=(12, 10), dtype=np.uint16, seed=0):
    rng = np.random.default_rng(seed)
    for i in range(n):
        img = rng.integers(0, np.iinfo(dtype).max, size=shape, dtype=dtype)
        tifffile.imwrite(tmp_path / f"m{i:02d}.tif", img)
    return tmp_path


@pytest.mark.parametrize("chunks", [1, 3, "auto"])
def test_lazy_folder_equals_load_micrographs(tmp_path, chunks):
    folder = _folder(tmp_path)
    lazy, names = open_micrographs(folder, chunks=chunks, return_names=True)
    eager, eager_names = load_micrographs(folder, return_names=True)
    assert names == eager_names and lazy.dtype == np.uint16 and lazy.shape == (7, 12, 10)
    if chunks == 3:
        assert lazy.chunks[0] == (3, 3, 1)
    np.testing.assert_array_equal(lazy.compute(scheduler="sync"), np.stack(eager))


def test_pattern_list_and_rgb(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(4):
        rgb = rng.integers(0, 255, (6, 5, 3), dtype=np.uint8)
        Image.fromarray(rgb).save(tmp_path / f"c{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    rgb = open_micrographs(str(tmp_path / "c*.png"), as_gray=False)
    assert rgb.shape == (4, 6, 5, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb.compute(scheduler="sync"),
                                  np.stack(load_micrographs(tmp_path, as_gray=False)))
    files = [tmp_path / "c3.png", tmp_path / "c0.png"]
    gray = open_micrographs(files, chunks=1)
    np.testing.assert_array_equal(gray.compute(scheduler="sync"),
                                  np.stack(load_micrographs(files)))
    with pytest.raises(ValueError, match="matches no file"):
        open_micrographs(str(tmp_path / "*.bmp"))


def test_mixed_sizes_and_broken_files_raise_naming_the_file(tmp_path):
    folder = _folder(tmp_path, n=4)
    tifffile.imwrite(folder / "m99.tif", np.zeros((14, 10), np.uint16))
    lazy = open_micrographs(folder, chunks=2)  # only the first file is read here
    np.testing.assert_array_equal(lazy[:4].compute(scheduler="sync"),
                                  np.stack(load_micrographs(folder)[:4]))
    with pytest.raises(ValueError, match=r"'.*m99.tif' is 14x10 uint16 .* Options: crop"):
        lazy.compute(scheduler="sync")
    (folder / "m99.tif").write_bytes(b"II*\x00 not really a tiff")
    with pytest.raises(ValueError) as eager:
        load_micrographs(folder)
    with pytest.raises(ValueError) as lazy_error:
        open_micrographs(folder).compute(scheduler="sync")
    assert str(lazy_error.value) == str(eager.value)
    with pytest.raises(FileNotFoundError):
        open_micrographs([folder / "m00.tif", folder / "missing.tif"])


def test_descriptors_of_a_lazy_folder_round_trip_through_zarr(tmp_path):
    (tmp_path / "scans").mkdir()
    folder = _folder(tmp_path / "scans")
    est = PowerSpectrumFeatures(device="cpu", radial=True)
    images = open_micrographs(folder, chunks=3)
    features = est.fit(images).transform(images)
    store = tmp_path / "features.zarr"
    to_zarr(features, store, feature_names=est.get_feature_names_out(),
            component="power_spectrum")
    back, names = read_zarr(store, component="power_spectrum", return_feature_names=True)
    assert names == list(est.get_feature_names_out())
    import zarr  # any zarr reader sees the names

    stored = zarr.open_array(store, path="power_spectrum", mode="r")
    assert list(stored.attrs["feature_names"]) == names
    assert back.chunks == features.chunks
    expected = est.transform(load_micrographs(folder))
    np.testing.assert_allclose(back.compute(scheduler="sync"), expected, rtol=1e-5)


def test_to_zarr_checks_and_irregular_chunks(tmp_path):
    X = da.from_array(np.arange(20.0).reshape(10, 2), chunks=2)
    X = da.concatenate([X[:3], X[3:]])  # chunks (2, 1, 1, 2, 2, 2): not regular for zarr
    to_zarr(X, tmp_path / "a.zarr")
    back, names = read_zarr(tmp_path / "a.zarr", return_feature_names=True)
    assert names is None
    np.testing.assert_array_equal(back.compute(scheduler="sync"),
                                  np.arange(20.0).reshape(10, 2))
    with pytest.raises(ValueError, match="one name per column"):
        to_zarr(X, tmp_path / "b.zarr", feature_names=["only one"])
    with pytest.raises(ValueError, match="tables"):
        to_zarr(np.zeros((2, 2, 2)), tmp_path / "c.zarr")
