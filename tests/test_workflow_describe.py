"""describe_folder and `skmicro features`: a folder of generated micrographs with known content
(stripes of known period, a constant image, another size, a data bar) through the API and the
command line, checked against the estimators called directly; the per-file cache (counted
computations), interrupted runs (a killed subprocess) and bad input."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skmicro import PowerSpectrumFeatures, ScatteringFeatures
from skmicro.cli import main
from skmicro.preprocessing import TiledFeatures
from skmicro.workflow import (
    DESCRIPTORS,
    default_cache_dir,
    describe_folder,
    parse_descriptor,
    read_features,
    write_features,
)

from ._workflow_slow import CountingPowerSpectrum, counting_descriptor, write_stripes

tifffile = pytest.importorskip("tifffile")
Image = pytest.importorskip("PIL.Image")

ROOT = Path(__file__).resolve().parents[1]
UHCS = ROOT / "skmicro" / "datasets" / "data" / "uhcs24"  # skmicro.datasets.load_uhcs24's files

H, W = 128, 160
BAR = 12  # rows of the data bar drawn on bar.png


def _stripes(period, shape=(H, W)):
    """Vertical stripes (horizontal ones have uniform rows, which look like a data bar)."""
    cols = np.arange(shape[1])[None, :] * np.ones((shape[0], 1))
    return (127.5 * (1 + np.sin(2 * np.pi * cols / period))).astype(np.uint8)


@pytest.fixture
def folder(tmp_path):
    """p08.png, p16.png (stripes), constant.png, bar.png (stripes over a data bar), big.tif
    (another size, 0.2 um pixels declared), notes.txt (ignored)."""
    f = tmp_path / "micrographs"
    f.mkdir()
    Image.fromarray(_stripes(8)).save(f / "p08.png")
    Image.fromarray(_stripes(16)).save(f / "p16.png")
    Image.fromarray(np.full((H, W), 100, np.uint8)).save(f / "constant.png")
    bar = np.zeros((H + BAR, W), np.uint8)
    bar[:H] = _stripes(8)
    bar[H + 3:H + 6, 10:60] = 255  # the scale bar
    Image.fromarray(bar).save(f / "bar.png")
    tifffile.imwrite(f / "big.tif", _stripes(10, (192, 256)), resolution=(50000, 50000),
                     resolutionunit="CENTIMETER")
    (f / "notes.txt").write_text("not an image\n")
    return f


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "skmicro"


def _read(path):
    return np.asarray(Image.open(path)) if path.suffix == ".png" else tifffile.imread(path)


NAMES = ["bar.png", "big.tif", "constant.png", "p08.png", "p16.png"]


def test_table_matches_the_estimators_called_directly(folder):
    table = describe_folder(folder, ["power_spectrum", "scattering:J=3,L=4"], cache=False,
                            device="cpu")
    assert table.index.name == "file" and table.index.tolist() == NAMES
    ps = PowerSpectrumFeatures(radial=True, log=True, n_bins=64, device="cpu")
    sc = ScatteringFeatures(J=3, L=4, log=True, device="cpu")
    for name in NAMES:
        image = _read(folder / name)
        if name == "bar.png":
            image = image[:H]  # the bar is cut, nothing else
            assert (image == _stripes(8)).all()
        for prefix, est in (("power_spectrum", ps), ("scattering", sc)):
            expected = est.fit_transform(image[None])[0]
            got = table.loc[name].filter(like=f"{prefix}__").to_numpy(np.float32)
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert [c for c in table.columns if c.startswith("power_spectrum__")] == [
        f"power_spectrum__{n}" for n in ps.get_feature_names_out()]
    assert sum(c.startswith("scattering__") for c in table.columns) == 1 + 3 * 4 + 16 * 3
    assert (table.filter(like="__").dtypes.drop(table.filter(like="meta__").columns)
            == np.float32).all()


def test_known_content_and_metadata(folder):
    table = describe_folder(folder, "power_spectrum", cache=False, device="cpu")
    spectrum = table.filter(like="power_spectrum__")
    # a constant image rescales to all zeros: the log spectrum is the floor, log10(1e-12)
    assert (spectrum.loc["constant.png"] == -12).all()
    # the peak of each stripe image sits in the bin of its frequency 1 / period
    centres = (np.arange(64) + 0.5) / 128
    for name, period in (("p08.png", 8), ("p16.png", 16), ("big.tif", 10)):
        peak = centres[np.argmax(spectrum.loc[name].to_numpy())]
        assert abs(peak - 1 / period) <= 1 / 128, name
    assert table["meta__height"].tolist() == [H + BAR, 192, H, H, H]
    assert table["meta__width"].tolist() == [W, 256, W, W, W]
    assert table["meta__data_bar_rows"].tolist() == [BAR, 0, 0, 0, 0]
    np.testing.assert_allclose(table["meta__pixel_size_um"].to_numpy(),
                               [np.nan, 0.2, np.nan, np.nan, np.nan], rtol=1e-12)
    assert table["meta__pixel_size_source"].tolist() == ["none", "file", "none", "none", "none"]
    given = describe_folder(folder, "power_spectrum", cache=False, device="cpu",
                            pixel_size={"p08.png": 0.5, "constant.png": 0.25})
    assert given["meta__pixel_size_source"].tolist() == ["none", "file", "given", "given",
                                                         "none"]
    assert given.loc["p08.png", "meta__pixel_size_um"] == 0.5


def test_pixel_size_from_a_spreadsheet_column(folder, tmp_path):
    sheet = tmp_path / "sheet.csv"
    pd.DataFrame({"image": ["p16", "bar"], "um": [0.3, 0.7]}).to_csv(sheet, index=False)
    out = tmp_path / "f.csv"
    main(["features", str(folder), "-d", "power_spectrum:n_bins=4", "--out", str(out),
          "--pixel-size", f"{sheet}:um", "--no-cache", "--quiet", "--device", "cpu"])
    table = read_features(out)
    assert table["meta__pixel_size_source"].tolist() == ["given", "file", "none", "none",
                                                         "given"]
    np.testing.assert_allclose(table["meta__pixel_size_um"], [0.7, 0.2, np.nan, np.nan, 0.3])
    with pytest.raises(ValueError, match="no column 'pixel'.*image, um"):
        describe_folder(folder, pixel_size=f"{sheet}:pixel", cache=False)


def test_8_and_16_bit_files_of_one_size_are_described_alike(folder):
    # a 16-bit copy (values x 257) is the same image in the input contract's [0, 1] units
    Image.fromarray(_stripes(16).astype(np.uint16) * 257).save(folder / "p16_16bit.png")
    table = describe_folder(folder, "power_spectrum", cache=False, device="cpu")
    np.testing.assert_allclose(table.filter(like="power_spectrum__").loc["p16_16bit.png"],
                               table.filter(like="power_spectrum__").loc["p16.png"], rtol=1e-6)


def test_no_crop_and_fixed_rows(folder):
    kept = describe_folder(folder / "bar.png", "power_spectrum", crop_data_bar=False,
                           cache=False, device="cpu")
    assert kept.index.tolist() == ["bar.png"] and kept["meta__data_bar_rows"].tolist() == [0]
    ps = PowerSpectrumFeatures(radial=True, log=True, n_bins=64, device="cpu")
    np.testing.assert_allclose(kept.filter(like="power_spectrum__").to_numpy()[0],
                               ps.fit_transform(_read(folder / "bar.png")[None])[0], rtol=1e-5)
    cut = describe_folder(folder / "bar.png", "power_spectrum", crop_data_bar=5, cache=False,
                          device="cpu")
    assert cut["meta__data_bar_rows"].tolist() == [5]


def test_mixed_sizes_need_tiles_and_tiles_match_tiled_features(folder):
    with pytest.raises(ValueError, match=r"big\.tif.*tile=") as info:
        describe_folder(folder, "power_spectrum:radial=false,crop=3", cache=False,
                        device="cpu")
    assert "on_error" in str(info.value)
    table = describe_folder(folder, "power_spectrum:radial=false,crop=3", tile=64,
                            aggregate="mean_std", cache=False, device="cpu")
    tiled = TiledFeatures(PowerSpectrumFeatures(crop=3, log=True, n_bins=64, device="cpu"),
                          tile_size=64, aggregate="mean_std")
    image = _read(folder / "big.tif")
    np.testing.assert_allclose(table.filter(like="power_spectrum__").loc["big.tif"],
                               tiled.fit_transform(image[None])[0], rtol=1e-5, atol=1e-6)
    assert table.columns[-1] == "power_spectrum__" + tiled.get_feature_names_out()[-1]


def test_names_of_several_folders_and_sub_folders(tmp_path):
    for sub in ("batch1", "batch2", "batch2/deeper"):
        (tmp_path / sub).mkdir()
    write_stripes(tmp_path / "batch1", ["x.png"])
    write_stripes(tmp_path / "batch2", ["x.png", "y.png"])
    write_stripes(tmp_path / "batch2" / "deeper", ["z.png"])
    both = describe_folder([tmp_path / "batch1", tmp_path / "batch2"], "power_spectrum:n_bins=8",
                           cache=False, device="cpu")
    assert both.index.tolist() == ["batch1/x.png", "batch2/x.png", "batch2/y.png"]
    deep = describe_folder(tmp_path / "batch2", "power_spectrum:n_bins=8", recursive=True,
                           cache=False, device="cpu")
    assert deep.index.tolist() == ["deeper/z.png", "x.png", "y.png"]
    # the same pixels under two names (write_stripes makes x.png alike): one row each, equal
    rows = both.filter(like="power_spectrum__")
    assert rows.loc["batch1/x.png"].equals(rows.loc["batch2/x.png"])
    assert not rows.loc["batch1/x.png"].equals(rows.loc["batch2/y.png"])


def test_pixel_size_rescaling(folder):
    with pytest.raises(ValueError, match=r"bar\.png.*declares no pixel size.*pixel_size="):
        describe_folder(folder, "power_spectrum:n_bins=16", target_pixel_size=0.4,
                        cache=False, device="cpu")
    table = describe_folder(folder / "big.tif", "power_spectrum:n_bins=16",
                            target_pixel_size=0.4, cache=False, device="cpu")
    # 0.2 um pixels at 0.4 um: half the size, so the period-10 stripes have period 5
    centres = (np.arange(16) + 0.5) / 32
    peak = centres[np.argmax(table.filter(like="power_spectrum__").to_numpy()[0])]
    assert abs(peak - 1 / 5) <= 1 / 32


def test_cli_matches_the_api(folder, tmp_path, cache):
    api = describe_folder(folder, ["power_spectrum", "scattering:J=3,L=4"], device="cpu")
    out = tmp_path / "f.parquet"
    assert main(["features", str(folder), "-d", "power_spectrum", "-d", "scattering:J=3,L=4",
                 "--out", str(out), "--device", "cpu", "--quiet"]) == 0
    pd.testing.assert_frame_equal(read_features(out), api)
    csv = tmp_path / "f.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "skmicro", "features", str(folder), "--descriptor",
         "power_spectrum", "--out", str(csv), "--no-cache", "--device", "cpu"],
        capture_output=True, text=True, cwd=ROOT, check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "5 micrographs x 69 columns" in proc.stdout
    assert "5 computed" in proc.stderr  # the summary line (the progress bar is on stderr too)
    pd.testing.assert_frame_equal(read_features(csv), api.iloc[:, :69])


def test_table_round_trips_through_parquet_and_csv(folder, tmp_path):
    table = describe_folder(folder, "power_spectrum:n_bins=4", cache=False, device="cpu")
    for suffix in (".parquet", ".csv"):
        path = write_features(table, tmp_path / f"t{suffix}")
        pd.testing.assert_frame_equal(read_features(path), table)
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_second_run_computes_only_new_and_changed_files(tmp_path, cache):
    folder = tmp_path / "f"
    folder.mkdir()
    write_stripes(folder, [f"a{i}.png" for i in range(3)])
    CountingPowerSpectrum.images_transformed = 0
    first = describe_folder(folder, [counting_descriptor()])
    assert CountingPowerSpectrum.images_transformed == 3 and first.attrs["computed"] == 3
    write_stripes(folder, [f"b{i}.png" for i in range(5)])
    second = describe_folder(folder, [counting_descriptor()])
    assert CountingPowerSpectrum.images_transformed == 3 + 5
    assert second.attrs == {"skipped": {}, "computed": 5, "cached": 3, "excluded": {}}
    pd.testing.assert_frame_equal(second.loc[first.index], first)
    write_stripes(folder, ["x.png", "a0.png"])  # a0.png's content changes
    describe_folder(folder, [counting_descriptor()])
    assert CountingPowerSpectrum.images_transformed == 8 + 2
    # another option is another descriptor: everything again, the first kept
    name, est = counting_descriptor()
    describe_folder(folder, [(name, est.set_params(n_bins=4))])
    assert CountingPowerSpectrum.images_transformed == 10 + 9
    assert list(cache.rglob("*.npz")) and default_cache_dir() == cache
    assert not list(cache.rglob("*.tmp"))


def test_a_users_estimator_is_not_fitted_in_place(folder):
    est = PowerSpectrumFeatures(radial=True, n_bins=8, device="cpu")
    table = describe_folder(folder, [("mine", est)], cache=False)
    assert not hasattr(est, "n_output_features_")  # still unfitted: a clone did the work
    expected = PowerSpectrumFeatures(radial=True, n_bins=8, device="cpu").fit_transform(
        _read(folder / "p08.png")[None])[0]
    np.testing.assert_allclose(table.filter(like="mine__").loc["p08.png"], expected, rtol=1e-5)


def test_unchanged_files_are_not_read_again(tmp_path, cache, monkeypatch):
    from skmicro.workflow import _describe

    folder = tmp_path / "f"
    folder.mkdir()
    write_stripes(folder, [f"a{i}.png" for i in range(4)])
    hashed = []
    monkeypatch.setattr(_describe, "content_hash",
                        lambda p, _h=_describe.content_hash: hashed.append(p.name) or _h(p))
    describe_folder(folder, [counting_descriptor()])
    assert sorted(hashed) == ["a0.png", "a1.png", "a2.png", "a3.png"]
    del hashed[:]
    describe_folder(folder, [counting_descriptor()])
    assert hashed == []  # size, times and inode unchanged: the stored hash is reused
    write_stripes(folder, ["a0.png", "b.png"])  # a0.png rewritten with the same pixels
    CountingPowerSpectrum.images_transformed = 0
    table = describe_folder(folder, [counting_descriptor()])
    assert sorted(hashed) == ["a0.png", "b.png"]  # both touched: both read again
    assert CountingPowerSpectrum.images_transformed == 1 and len(table) == 5  # b.png only


def test_cached_run_loads_neither_sklearn_nor_torch(folder, tmp_path):
    code = ("import sys; from skmicro.workflow import describe_folder; "
            f"t = describe_folder({str(folder)!r}, 'power_spectrum', cache={str(tmp_path)!r},"
            " device='cpu'); print(t.attrs['computed'], 'sklearn' in sys.modules, "
            "'torch' in sys.modules)")
    run = [sys.executable, "-c", code]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.run(run, capture_output=True, text=True, check=True, env=env)
    again = subprocess.run(run, capture_output=True, text=True, check=True, env=env)
    assert first.stdout.split() == ["5", "True", "True"]
    assert again.stdout.split() == ["0", "False", "False"]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill -9", "Ctrl-C"])
def test_killed_run_keeps_finished_images_and_the_old_output(tmp_path, sig):
    folder, cache_dir, out = tmp_path / "f", tmp_path / "cache", tmp_path / "f.parquet"
    folder.mkdir()
    write_stripes(folder, [f"a{i:02d}.png" for i in range(8)])
    old = describe_folder(folder, [counting_descriptor()], cache=cache_dir, out=out)
    write_stripes(folder, [f"b{i:02d}.png" for i in range(32)])
    # a shell's background job starts with SIGINT ignored, and Python then keeps it so:
    # restore the handler that raises KeyboardInterrupt, as in a terminal
    code = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
            "from tests._workflow_slow import CountingPowerSpectrum, counting_descriptor\n"
            "from skmicro.workflow import describe_folder\n"
            "CountingPowerSpectrum.delay = 0.15\n"
            f"describe_folder({str(folder)!r}, [counting_descriptor()], cache={str(cache_dir)!r},"
            f" out={str(out)!r})\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 120
        while len(list(cache_dir.rglob("*.npz"))) < 16 and time.monotonic() < deadline:
            assert proc.poll() is None, "the run ended before it could be interrupted"
            time.sleep(0.02)
        os.kill(proc.pid, sig)
    finally:
        stderr = proc.communicate()[1]
    if sig == signal.SIGINT:  # Python's KeyboardInterrupt: the run says what it kept
        assert "interrupted:" in stderr and "kept in the cache" in stderr
    entries = list(cache_dir.rglob("*.npz"))
    assert 16 <= len(entries) < 40
    pd.testing.assert_frame_equal(read_features(out), old)  # the old output, intact
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    CountingPowerSpectrum.images_transformed = 0
    CountingPowerSpectrum.delay = 0.0
    full = describe_folder(folder, [counting_descriptor()], cache=cache_dir, out=out)
    assert CountingPowerSpectrum.images_transformed == 40 - len(entries)
    assert len(full) == 40
    pd.testing.assert_frame_equal(full.loc[old.index], old)
    fresh = describe_folder(folder, [counting_descriptor()], cache=False)
    pd.testing.assert_frame_equal(full, fresh)


def test_unreadable_file_stops_with_its_name_or_is_skipped(folder, cache):
    good = (folder / "p08.png").read_bytes()
    (folder / "zz_truncated.png").write_bytes(good[: len(good) // 2])
    CountingPowerSpectrum.images_transformed = 0
    with pytest.raises(ValueError, match=r"zz_truncated\.png.*on_error='skip'.*cache"):
        describe_folder(folder, [counting_descriptor()])
    done = CountingPowerSpectrum.images_transformed
    assert done == 5  # the good files, in the chunk with the bad one
    with pytest.warns(UserWarning, match=r"Skipped 1 file.*zz_truncated\.png"):
        table = describe_folder(folder, [counting_descriptor()], on_error="skip")
    assert CountingPowerSpectrum.images_transformed == done  # nothing recomputed
    assert table.index.tolist() == NAMES
    assert list(table.attrs["skipped"]) == ["zz_truncated.png"]


def test_bad_input_messages(folder, tmp_path, cache):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("x")
    with pytest.raises(ValueError, match="holds no micrographs"):
        describe_folder(empty)
    with pytest.raises(FileNotFoundError, match="No such folder"):
        describe_folder(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="does not exist.*mkdir"):
        describe_folder(folder, out=tmp_path / "nowhere" / "f.parquet")
    with pytest.raises(ValueError, match=r"\.parquet or \.csv"):
        describe_folder(folder, out=tmp_path / "f.xlsx")
    assert not cache.exists()  # refused before anything was computed
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(OSError, match="Cannot write the feature cache.*--no-cache"):
        describe_folder(folder, cache=tmp_path / "a_file")
    with pytest.raises(ValueError, match="Valid descriptors: power_spectrum, scattering, "
                                         "vgg_gram"):
        describe_folder(folder, "scatering")
    with pytest.raises(ValueError, match=r"Unknown option j .*Valid options: J, L, max_order"):
        describe_folder(folder, "scattering:j=3")
    with pytest.raises(ValueError, match="The 'J' parameter of ScatteringFeatures"):
        describe_folder(folder, "scattering:J=0")
    with pytest.raises(ValueError, match="distinct"):
        describe_folder(folder, ["scattering", "scattering:J=3"])
    with pytest.raises(ValueError, match="on_error"):
        describe_folder(folder, on_error="ignore")
    with pytest.raises(SystemExit):
        main(["features", str(folder), "--out", str(tmp_path / "f.parquet"), "--tile", "x"])


def test_cli_reports_bad_input_without_a_traceback(folder, tmp_path, capsys):
    code = main(["features", str(folder), "--out", str(tmp_path / "f.parquet"), "-d",
                 "scattering:j=4"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("skmicro features: error: Unknown option j") and "Traceback" not in err
    assert main(["features", str(tmp_path / "missing"), "--out", "f.csv"]) == 2
    assert "No such folder" in capsys.readouterr().err


def test_parse_descriptor_values_and_labels():
    name, est = parse_descriptor("vgg_gram:layers=[conv1_1,conv2_1],n_components=64,"
                                 "weights=none")
    assert name == "vgg_gram"
    assert est.layers == ("conv1_1", "conv2_1") and est.n_components == 64
    assert est.weights is None and est.random_state == 0
    name, est = parse_descriptor("ps_lin=power_spectrum:log=false,n_bins=16")
    assert (name, est.log, est.n_bins, est.radial) == ("ps_lin", False, 16, True)
    for spec, row_length in (("power_spectrum", 64), ("scattering", 681)):
        module, cls, params = DESCRIPTORS[spec]
        est = parse_descriptor(spec)[1]
        assert est.get_params() | params == est.get_params()
        est.fit(np.zeros((1, 128, 128), np.float32))
        assert est.n_output_features_ == row_length
    vgg = parse_descriptor("vgg_gram:weights=none")[1].fit(np.zeros((1, 16, 16), np.float32))
    assert vgg.n_output_features_ == 2048 and vgg.n_gram_features_ == 305_888
    with pytest.raises(ValueError, match="key=value"):
        parse_descriptor("scattering:J")


def test_dask_local_cluster_gives_the_same_table(folder, tmp_path):
    distributed = pytest.importorskip("distributed")
    local = describe_folder(folder, "power_spectrum", cache=False, device="cpu")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = describe_folder(folder, "power_spectrum", cache=tmp_path / "c",
                                 device="cpu", scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(remote, local)
    assert len(list((tmp_path / "c").rglob("*.npz"))) == 5


def test_uhcs24_real_micrographs(tmp_path):
    meta = pd.read_csv(UHCS / "metadata.csv", index_col="file")
    sizes = meta["micron_bar"] / meta["micron_bar_px"]
    table = describe_folder(UHCS, "power_spectrum", pixel_size=sizes, cache=False,
                            device="cpu")
    assert len(table) == 24 and table.index.tolist() == sorted(meta.index)
    assert (table["meta__height"] == 522).all() and (table["meta__width"] == 645).all()
    assert (table["meta__data_bar_rows"] == 38).all()  # rows 484-521
    np.testing.assert_allclose(table["meta__pixel_size_um"], sizes.loc[table.index])
    assert (table["meta__pixel_size_source"] == "given").all()
    first = table.index[0]
    image = tifffile.imread(UHCS / first)[:484]
    expected = PowerSpectrumFeatures(radial=True, log=True, n_bins=64,
                                     device="cpu").fit_transform(image[None])[0]
    got = table.filter(like="power_spectrum__").loc[first].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_contrast_option_makes_bit_depth_and_exposure_irrelevant(tmp_path):
    # the same stripes stored as 8-bit, as 16-bit holding 12-bit data (x16: 16 times fainter
    # in the input contract's [0, 1] units) and as a dim 8-bit exposure (0.3 + 0.4x); the
    # scattering reads amplitude (the power spectrum rescales each image itself)
    f = tmp_path / "mixed"
    f.mkdir()
    s = _stripes(16)
    Image.fromarray(s).save(f / "a_8bit.png")
    tifffile.imwrite(f / "b_12bit_in_16.tif", s.astype(np.uint16) * 16)
    Image.fromarray(np.rint(76.5 + 0.4 * s).astype(np.uint8)).save(f / "c_dim.png")
    spec = "scattering:J=2,L=4"
    raw = describe_folder(f, spec, cache=False, device="cpu").filter(like="scattering__")
    assert np.abs(raw.iloc[1] - raw.iloc[0]).max() > 0.5  # log10 of a 16x fainter image
    table = describe_folder(f, spec, contrast="percentile", cache=False, device="cpu")
    rows = table.filter(like="scattering__").to_numpy()
    # independently: the 1st/99th-percentile stretch by hand, then the same descriptor
    x = s.astype(np.float64)
    lo, hi = np.percentile(x, [1, 99])
    _, est = parse_descriptor(spec)
    ref = est.set_params(device="cpu").fit_transform(np.clip((x - lo) / (hi - lo), 0, 1)[None])
    np.testing.assert_allclose(rows[:2], np.repeat(ref, 2, axis=0), atol=1e-4)
    np.testing.assert_allclose(rows[2], ref[0], atol=0.02)  # 0.4x: coarser grey levels
    with pytest.raises(ValueError, match="The 'contrast' parameter of describe_folder"):
        describe_folder(f, spec, contrast="stretch", cache=False)
    out = tmp_path / "f.csv"
    assert main(["features", str(f), "--descriptor", spec, "--contrast", "percentile",
                 "--no-cache", "--device", "cpu", "--out", str(out), "--quiet"]) == 0
    np.testing.assert_allclose(read_features(out).filter(like="scattering__").to_numpy(),
                               rows, rtol=1e-5)
