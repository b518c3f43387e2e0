"""load_micrographs: files written here with Pillow/tifffile (or by hand) read back exactly."""

import struct
import sys
import zlib

import numpy as np
import pytest
import tifffile
from PIL import Image as PIL_Image

from skmicro._validation import check_images
from skmicro.io import load_micrographs


def write_png_by_hand(path, arr):
    """A minimal PNG encoder (filter 0), for the bit depths Pillow cannot write."""
    h, w = arr.shape[:2]
    colour_type = {1: 0, 3: 2, 4: 6}[1 if arr.ndim == 2 else arr.shape[2]]
    big_endian = arr.astype(arr.dtype.newbyteorder(">"))
    raw = b"".join(b"\x00" + big_endian[i].tobytes() for i in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(
            ">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8 * arr.dtype.itemsize, colour_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def luminance(rgb):
    rgb = rgb.astype(np.float64) / np.iinfo(rgb.dtype).max
    return 0.2125 * rgb[..., 0] + 0.7154 * rgb[..., 1] + 0.0721 * rgb[..., 2]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_gray_png_round_trip_keeps_dtype(tmp_path, rng, dtype):
    a = rng.integers(0, np.iinfo(dtype).max, size=(7, 11), endpoint=True).astype(dtype)
    PIL_Image.fromarray(a).save(tmp_path / "x.png")
    (out,) = load_micrographs(tmp_path / "x.png")
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, a)


def test_rgb_png_as_gray_and_as_rgb(tmp_path, rng):
    a = rng.integers(0, 256, size=(6, 9, 3)).astype(np.uint8)
    PIL_Image.fromarray(a).save(tmp_path / "c.png")
    PIL_Image.fromarray(np.dstack([a, np.full((6, 9), 128, np.uint8)])).save(tmp_path / "d.png")
    gray = load_micrographs([tmp_path / "c.png", tmp_path / "d.png"])
    for g in gray:  # RGBA: the alpha channel is dropped
        assert g.dtype == np.float32 and g.shape == (6, 9)
        np.testing.assert_allclose(g, luminance(a), atol=1e-6)
    (rgb,) = load_micrographs(tmp_path / "c.png", as_gray=False)
    np.testing.assert_array_equal(rgb, a)


def test_gray_stored_as_rgb_keeps_integers(tmp_path, rng):
    g = rng.integers(0, 256, size=(5, 5)).astype(np.uint8)
    PIL_Image.fromarray(np.dstack([g] * 3)).save(tmp_path / "g.png")
    PIL_Image.fromarray(g).convert("P").save(tmp_path / "p.png")  # palette image
    for out in load_micrographs([tmp_path / "g.png", tmp_path / "p.png"]):
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out, g)


def test_16bit_rgb_png_warns_about_pillows_8_bits(tmp_path, rng):
    a = rng.integers(0, 65536, size=(4, 5, 3)).astype(np.uint16)
    write_png_by_hand(tmp_path / "rgb16.png", a)
    with pytest.warns(UserWarning, match="16-bit colour PNG"):
        (out,) = load_micrographs(tmp_path / "rgb16.png", as_gray=False)
    np.testing.assert_array_equal(out, (a >> 8).astype(np.uint8))


def test_hand_written_16bit_gray_png(tmp_path, rng):
    a = rng.integers(0, 65536, size=(3, 8)).astype(np.uint16)
    write_png_by_hand(tmp_path / "g16.png", a)
    (out,) = load_micrographs(tmp_path / "g16.png")
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, a)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_gray_tiff_round_trip(tmp_path, rng, dtype):
    a = (rng.random((9, 4)) * 1000).astype(dtype)
    tifffile.imwrite(tmp_path / "x.tif", a)
    (out,) = load_micrographs(tmp_path / "x.tif")
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, a)


@pytest.mark.parametrize("planarconfig", ["contig", "separate"])
def test_rgb16_tiff_any_layout(tmp_path, rng, planarconfig):
    a = rng.integers(0, 65536, size=(6, 7, 3)).astype(np.uint16)
    data = a if planarconfig == "contig" else np.moveaxis(a, -1, 0)
    tifffile.imwrite(tmp_path / "x.tiff", data, photometric="rgb", planarconfig=planarconfig)
    (rgb,) = load_micrographs(tmp_path / "x.tiff", as_gray=False)
    np.testing.assert_array_equal(rgb, a)
    (gray,) = load_micrographs(tmp_path / "x.tiff")
    np.testing.assert_allclose(gray, luminance(a), atol=1e-6)


def test_miniswhite_tiff_is_inverted(tmp_path):
    a = np.array([[0, 10], [200, 255]], np.uint8)
    tifffile.imwrite(tmp_path / "w.tif", a, photometric="miniswhite")
    (out,) = load_micrographs(tmp_path / "w.tif")
    np.testing.assert_array_equal(out, 255 - a)


def test_folder_sorted_known_extensions_mixed_sizes(tmp_path, rng):
    sizes = {"b.TIF": (8, 8), "a.png": (5, 7), "c.jpg": (6, 6)}
    for name, shape in sizes.items():
        a = rng.integers(0, 256, size=shape).astype(np.uint8)
        if name.endswith(".TIF"):
            tifffile.imwrite(tmp_path / name, a)
        else:
            PIL_Image.fromarray(a).save(tmp_path / name)
    (tmp_path / "notes.txt").write_text("hardness.csv lives elsewhere")
    (tmp_path / "sub").mkdir()
    PIL_Image.fromarray(np.zeros((3, 3), np.uint8)).save(tmp_path / "sub" / "z.png")
    images, names = load_micrographs(str(tmp_path), return_names=True)
    assert names == ["a.png", "b.TIF", "c.jpg"]
    assert [im.shape for im in images] == [sizes[n] for n in names]
    # The list goes straight into the input contract, grouped by size.
    assert check_images(images).n_samples == 3


def test_contract_scales_loaded_integers(tmp_path):
    a = np.array([[0, 65535], [32768, 1000]], np.uint16)
    tifffile.imwrite(tmp_path / "x.tif", a)
    images = load_micrographs(tmp_path / "x.tif")
    (_, arr), = check_images(images).groups
    np.testing.assert_allclose(arr[0], a / 65535.0, rtol=1e-6)


def test_unreadable_file_is_named(tmp_path):
    PIL_Image.fromarray(np.zeros((3, 3), np.uint8)).save(tmp_path / "good.png")
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    (tmp_path / "broken.tif").write_bytes(b"II*\x00garbage")
    for name in ("broken.png", "broken.tif"):
        with pytest.raises(ValueError, match=f"Cannot read micrograph .*{name}"):
            load_micrographs([tmp_path / "good.png", tmp_path / name])


def test_stack_tiff_is_refused(tmp_path):
    stack = np.zeros((5, 8, 8), np.uint8)
    tifffile.imwrite(tmp_path / "stack.tif", stack, photometric="minisblack")
    with pytest.raises(ValueError, match=r"stack\.tif.*stack or a volume"):
        load_micrographs(tmp_path / "stack.tif")
    tifffile.imwrite(tmp_path / "many.tif", np.zeros((8, 8, 5), np.uint8), photometric="rgb")
    with pytest.raises(ValueError, match=r"many\.tif.*5 samples"):
        load_micrographs(tmp_path / "many.tif")


def test_path_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.png"):
        load_micrographs(tmp_path / "missing.png")
    (tmp_path / "table.csv").write_text("a,b\n")
    with pytest.raises(ValueError, match=r"table\.csv.*unknown image type"):
        load_micrographs([tmp_path / "table.csv"])
    with pytest.raises(ValueError, match="holds no micrographs"):
        load_micrographs(tmp_path)
    with pytest.raises(ValueError, match="empty"):
        load_micrographs([])
    with pytest.raises(TypeError, match="paths_or_folder"):
        load_micrographs(3)
    with pytest.raises(ValueError, match="as_gray"):
        load_micrographs(tmp_path, as_gray="yes")


def test_broken_install_says_reinstall_not_an_extra(tmp_path, monkeypatch):
    # tifffile is a core dependency: failing to import it means a broken installation.
    tifffile.imwrite(tmp_path / "x.tif", np.zeros((2, 2), np.uint8))
    monkeypatch.setitem(sys.modules, "tifffile", None)
    with pytest.raises(ImportError, match="tifffile") as info:
        load_micrographs(tmp_path / "x.tif")
    assert "reinstall skmicro" in str(info.value)
    assert "skmicro[" not in str(info.value)


def test_declared_pixel_size_from_tiff_tags_and_vendor_metadata(tmp_path):
    a = np.zeros((4, 4), np.uint8)
    # FEI/Thermo: [Scan] PixelWidth in metres
    tifffile.imwrite(tmp_path / "a_fei.tif", a, extratags=[
        (34682, "s", 0, "[Scan]\nPixelWidth=2.5e-08\nPixelHeight=2.5e-08\n", True)])
    # Zeiss: AP_IMAGE_PIXEL_SIZE in nm
    tifffile.imwrite(tmp_path / "b_zeiss.tif", a, extratags=[
        (34118, "s", 0, "AP_IMAGE_PIXEL_SIZE\nImage Pixel Size = 3.1 nm\n", True)])
    # ImageJ: 2 pixels per um
    tifffile.imwrite(tmp_path / "c_imagej.tif", a, imagej=True, resolution=(2.0, 2.0),
                     metadata={"unit": "um"})
    # plain TIFF: 50,000 pixels per cm = 0.2 um
    tifffile.imwrite(tmp_path / "d_cm.tif", a, resolution=(50000, 50000),
                     resolutionunit="CENTIMETER")
    # no unit, and a PNG: nothing declared
    tifffile.imwrite(tmp_path / "e_none.tif", a, resolution=(1, 1), resolutionunit="NONE")
    PIL_Image.fromarray(a).save(tmp_path / "f.png")
    images, names, sizes = load_micrographs(tmp_path, return_names=True,
                                            return_pixel_size=True)
    assert names == ["a_fei.tif", "b_zeiss.tif", "c_imagej.tif", "d_cm.tif", "e_none.tif",
                     "f.png"]
    np.testing.assert_allclose(sizes[:4], [0.025, 0.0031, 0.5, 0.2], rtol=1e-12)
    assert np.isnan(sizes[4:]).all()
    images2, sizes2 = load_micrographs(tmp_path / "d_cm.tif", return_pixel_size=True)
    assert len(images2) == 1 and sizes2.tolist() == pytest.approx([0.2])


def test_png_warning_points_at_the_caller(tmp_path):
    write_png_by_hand(tmp_path / "c16.png", np.zeros((3, 3, 3), np.uint16))
    with pytest.warns(UserWarning, match="16-bit colour PNG") as record:
        load_micrographs(tmp_path / "c16.png")
    assert record[0].filename == __file__


def test_missing_folder_is_called_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"^Folder not found: '.*no_such_folder'"):
        load_micrographs(tmp_path / "no_such_folder")
    with pytest.raises(FileNotFoundError, match=r"^Micrograph file not found: '.*gone\.tif'"):
        load_micrographs(tmp_path / "gone.tif")
