"""The collection map (skmicro.plotting.collection_map, plot_embedding(thumbnails=)) and the
`skmicro map` route: page content, bad input, and the page opened in headless Chromium."""

import base64
import gzip
import importlib.util
import io
import json
import os
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skmicro.plotting import collection_map, plot_embedding
from skmicro.plotting._collection_map import stratified_sample
from skmicro.plotting._common import thumbnail

# Bokeh is the optional map extra: the tests that write a page skip without it. pandas and
# matplotlib are core dependencies, so a broken install fails instead of skipping.
needs_bokeh = pytest.mark.skipif(importlib.util.find_spec("bokeh") is None,
                                 reason="the map extra (bokeh) is not installed")

URI = re.compile(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)")


def _points(n, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 2))


def _images(n, shape=(20, 30), seed=0):
    return np.random.default_rng(seed).random((n, *shape))


def _jpeg_sizes(page):
    from PIL import Image

    return [Image.open(io.BytesIO(base64.b64decode(m))).size for m in URI.findall(page)]


def _decode(value):
    """A Bokeh-serialized column as a list (numeric columns travel as base64 ndarrays)."""
    if isinstance(value, dict) and value.get("type") == "ndarray":
        raw = base64.b64decode(value["array"]["data"])
        if raw[:2] == b"\x1f\x8b":  # Bokeh gzips larger arrays
            raw = gzip.decompress(raw)
        return np.frombuffer(raw, dtype=value["dtype"]).tolist()
    return value


def _page_data(page):
    """The points' column data source, read from the page's embedded Bokeh document."""
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S):
        found = []

        def walk(obj):
            if isinstance(obj, dict):
                if obj.get("name") == "skmicro_points":
                    found.append(obj)
                for v in obj.values():
                    walk(v)
            elif isinstance(obj, list):
                for v in obj:
                    walk(v)

        walk(json.loads(block))
        if found:
            return {k: _decode(v) for k, v in found[0]["data"]["entries"]}
    raise AssertionError("no skmicro_points data source in the page")


# -- the page ----------------------------------------------------------------------------------

@needs_bokeh
def test_page_is_self_contained_with_one_thumbnail_per_image():
    n = 5
    page = collection_map(_images(n), _points(n), thumbnail_size=256)
    # no script, style sheet or image fetched from elsewhere: BokehJS is inline
    assert not re.search(r'<(script|link|img)[^>]+(src|href)\s*=\s*["\']?(https?:)?//', page)
    assert "cdn.bokeh.org" not in page
    assert page.count("<script") >= 2 and "Bokeh" in page
    # thumbnail_size=256 >= the preview size: one JPEG per image, no separate preview
    assert len(URI.findall(page)) == n
    assert "5 images." in page


@needs_bokeh
def test_previews_are_stored_for_small_collections():
    n = 4
    page = collection_map(_images(n, (300, 600)), _points(n), thumbnail_size=32)
    sizes = sorted(_jpeg_sizes(page))
    # 4 thumbnails (32 x 16: width 32, aspect 2:1) and 4 larger views (256 x 128)
    assert sizes == [(32, 16)] * 4 + [(256, 128)] * 4


@needs_bokeh
def test_small_images_are_stored_once():
    # 64-pixel images: the thumbnail is the image itself, and no larger view exists
    page = collection_map(_images(4, (64, 64)), _points(4))
    assert _jpeg_sizes(page) == [(64, 64)] * 4


@needs_bokeh
def test_thumbnails_keep_the_aspect_of_mixed_sizes():
    images = [np.random.default_rng(0).random(s) for s in [(30, 90), (90, 30), (10, 12)]]
    page = collection_map(images, _points(3), thumbnail_size=24)
    sizes = _jpeg_sizes(page)[:3]      # PIL gives (width, height)
    assert sizes == [(24, 8), (8, 24), (12, 10)]   # the 10 x 12 image is not enlarged


def test_thumbnail_contrast():
    # integers are scaled by their dtype's maximum (a dark 8-bit image stays dark) ...
    dark = np.full((4, 4), 51, dtype=np.uint8)
    assert np.all(thumbnail(dark, 8) == 51)
    # ... floats outside [0, 1] are stretched from their minimum to their maximum
    ramp = np.array([[-3.0, -1.0], [1.0, 5.0]])
    assert thumbnail(ramp, 8).tolist() == [[0, 64], [128, 255]]
    rgb = np.zeros((6, 12, 3))
    assert thumbnail(rgb, 6).shape == (3, 6, 3)


@needs_bokeh
def test_numeric_colour_with_nan_is_grey_and_counted():
    color = np.array([0.0, 1.0, np.nan, 2.0, np.nan])
    page = collection_map(_images(5), _points(5), color=color)
    data = _page_data(page)
    assert [c for c, v in zip(data["color"], color) if np.isnan(v)] == ["#b0b0b0"] * 2
    assert all(c != "#b0b0b0" for c, v in zip(data["color"], color) if not np.isnan(v))
    # the ends of Bokeh's Viridis256 for the smallest and the largest value
    assert data["color"][0].lower() == "#440154" and data["color"][3].lower() == "#fde724"
    assert "no value (2)" in page
    assert data["value"] == ["0", "1", "no value", "2", "no value"]


@needs_bokeh
def test_categorical_colour_gets_a_legend_with_counts():
    meta = pd.DataFrame({"phase": ["ferrite", "pearlite", "ferrite", None, "ferrite"],
                         "hardness": [1, 2, 3, 4, 5]})
    page = collection_map(_images(5), _points(5), color="phase", metadata=meta)
    for entry in ("ferrite (3)", "pearlite (1)", "no value (1)"):
        assert entry in page
    data = _page_data(page)
    assert data["color"][0] == data["color"][2] == data["color"][4] != data["color"][1]
    assert data["color"][3] == "#b0b0b0"
    # a click shows the metadata row
    assert "hardness" in data["info"][1] and "pearlite" in data["info"][1]


@needs_bokeh
def test_labels_default_to_file_names(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in ("b.png", "a.png", "c.png"):
        Image.fromarray((rng.random((16, 16)) * 255).astype(np.uint8)).save(tmp_path / name)
    out = collection_map(tmp_path, _points(3), out=tmp_path / "map.html")
    assert out == tmp_path / "map.html"
    assert _page_data(out.read_text(encoding="utf-8"))["label"] == ["a.png", "b.png", "c.png"]


@needs_bokeh
def test_default_embedding_is_computed():
    from skmicro.datasets import make_perlin_textures

    X, p = make_perlin_textures(8, size=32, random_state=0)
    data = _page_data(collection_map(X, color=p["angle"]))
    xy = np.c_[data["x"], data["y"]]
    assert xy.shape == (8, 2) and np.isfinite(xy).all() and xy.std(axis=0).min() > 0


@needs_bokeh
def test_sample_above_max_points_is_stratified_and_said():
    color = np.array(["a"] * 16 + ["b"] * 4)
    page = collection_map(_images(20, (8, 8)), _points(20), color=color, max_points=5)
    data = _page_data(page)
    assert len(data["x"]) == 5
    assert "Showing a sample of 5 of 20 images, stratified by" in page
    assert "a (4)" in page and "b (1)" in page


def _write_pngs(folder, shapes, seed=0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    paths = []
    for i, shape in enumerate(shapes):
        paths.append(folder / f"m{i:02d}.png")
        Image.fromarray((rng.random(shape) * 255).astype(np.uint8)).save(paths[-1])
    return paths


@pytest.fixture
def reads(monkeypatch):
    """Every file read through skmicro's reader, and how many earlier images were still alive
    in memory when each read began."""
    import weakref

    from skmicro.io import _load

    real, log = _load.read_micrograph, {"paths": [], "alive": [], "refs": []}

    def spy(path, *, as_gray=True):
        log["alive"].append(sum(r() is not None for r in log["refs"]))
        log["paths"].append(Path(path).name)
        image = real(path, as_gray=as_gray)
        log["refs"].append(weakref.ref(image))
        return image

    monkeypatch.setattr(_load, "read_micrograph", spy)
    return log


@needs_bokeh
def test_paths_are_read_only_when_shown_one_at_a_time(tmp_path, reads):
    from PIL import Image

    n = 12
    paths = _write_pngs(tmp_path, [(120, 160)] * n)
    color = np.array(["a"] * 8 + ["b"] * 4)
    page = collection_map(paths, _points(n), color=color, max_points=5)
    data = _page_data(page)
    # only the 5 sampled files were opened, each once, and never two full images at once
    assert sorted(reads["paths"]) == sorted(data["label"]) and len(reads["paths"]) == 5
    assert reads["alive"] == [0] * 5
    # the same page as from the arrays themselves: the same sample, the same thumbnails
    arrays = [np.asarray(Image.open(p)) for p in paths]
    ref = collection_map(arrays, _points(n), color=color, max_points=5)
    ref_data = _page_data(ref)
    assert len(URI.findall(page)) == len(URI.findall(ref)) == 10   # 5 thumbnails, 5 views
    assert len(data["x"]) == len(ref_data["x"]) == 5
    assert data["thumb"] == ref_data["thumb"] and data["x"] == ref_data["x"]
    assert data["label"] == [paths[int(t.split()[1])].name for t in ref_data["label"]]


@needs_bokeh
@pytest.mark.parametrize("mixed", [False, True])
def test_default_embedding_from_paths_is_streamed(tmp_path, reads, monkeypatch, mixed):
    from PIL import Image

    from skmicro.features import PowerSpectrumFeatures
    from skmicro.plotting import _collection_map

    # chunks of at most 6,200 pixels: 2, 2 and 1 of these images (of at most 3,120 pixels)
    monkeypatch.setattr(_collection_map, "_CHUNK_PIXELS", 6200)
    shapes = [(40, 56), (64, 48), (40, 40), (52, 60), (44, 50)] if mixed else [(48, 64)] * 5
    paths = _write_pngs(tmp_path, shapes)
    data = _page_data(collection_map(paths))
    assert max(reads["alive"]) == 1   # the chunk in reading: one earlier image alive at most
    # the spectra fitted on all images at once (radial for mixed sizes: bins of the smallest
    # side, 20; else the 2-D window of crop = 48 // 8)
    arrays = [np.asarray(Image.open(p)) for p in paths]
    est = (PowerSpectrumFeatures(log=True, radial=True) if mixed else
           PowerSpectrumFeatures(log=True, crop=6))
    ref = _page_data(collection_map(arrays, features=est.fit_transform(arrays)))
    np.testing.assert_allclose(np.c_[data["x"], data["y"]], np.c_[ref["x"], ref["y"]],
                               rtol=1e-6, atol=1e-9)


def test_stratified_sample_shares():
    rng = np.random.RandomState(0)
    strata = np.array([0] * 70 + [1] * 20 + [2] * 10)
    idx = stratified_sample(strata, 10, rng)
    assert np.bincount(strata[idx]).tolist() == [7, 2, 1]
    idx = stratified_sample(strata, 15, rng)   # exact 10.5, 3, 1.5: the largest remainders
    assert len(idx) == 15 and len(set(idx)) == 15
    assert np.bincount(strata[idx]).tolist() in ([11, 3, 1], [10, 3, 2])
    assert stratified_sample(strata, 200, rng).tolist() == list(range(100))


# -- bad input ---------------------------------------------------------------------------------

@needs_bokeh
def test_fewer_than_three_images():
    with pytest.raises(ValueError, match="at least 3 images"):
        collection_map(_images(2), _points(2))


@needs_bokeh
def test_embedding_with_wrong_rows():
    with pytest.raises(ValueError, match="embedding has 4 rows but there are 5 images"):
        collection_map(_images(5), _points(4))


@needs_bokeh
def test_unknown_colour_column_lists_the_columns():
    meta = pd.DataFrame({"temperature": [1, 2, 3], "time": [1, 2, 3]})
    with pytest.raises(ValueError, match="'temp' is not a metadata column.*'temperature', 'time'"):
        collection_map(_images(3), _points(3), color="temp", metadata=meta)


@needs_bokeh
def test_metadata_with_wrong_rows():
    meta = pd.DataFrame({"temperature": [1, 2]})
    with pytest.raises(ValueError, match="metadata has 2 rows for 3 images"):
        collection_map(_images(3), _points(3), metadata=meta)


@needs_bokeh
def test_unwritable_output_fails_before_any_work(tmp_path):
    # the images are invalid too: the output path is checked first
    with pytest.raises(FileNotFoundError, match="does not exist"):
        collection_map("no such folder", out=tmp_path / "missing" / "map.html")
    with pytest.raises(ValueError, match="is a folder"):
        collection_map(_images(3), _points(3), out=tmp_path)


@needs_bokeh
@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs a non-root POSIX user (root may write anywhere)")
def test_read_only_folder(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="cannot write"):
            collection_map("no such folder", out=tmp_path / "map.html")
    finally:
        tmp_path.chmod(0o700)


def test_missing_bokeh_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "bokeh", None)
    with pytest.raises(ImportError, match=r"skmicro\[map\]"):
        collection_map(_images(3), _points(3))


# -- the static twin: plot_embedding(thumbnails=) ----------------------------------------------

def test_plot_embedding_thumbnails_one_per_cell_without_overlap():
    # two points share the lower-left cell of a 2 x 2 grid, the third is alone in the upper right
    points = np.array([[0.0, 0.0], [0.1, 0.05], [1.0, 1.0]])
    images = [np.zeros((10, 40)), np.ones((10, 40)), np.zeros((40, 10))]
    ax = plot_embedding(points, thumbnails=images, thumbnail_grid=2)
    assert len(ax.images) == 2
    extents = sorted(tuple(im.get_extent()) for im in ax.images)
    # cells of side 0.5: centres (0.25, 0.25) and (0.75, 0.75); images fill 90% of the cell
    # with their aspect kept (40 x 10 -> 0.45 x 0.1125, 10 x 40 -> 0.1125 x 0.45)
    np.testing.assert_allclose(extents[0], [0.025, 0.475, 0.19375, 0.30625])
    np.testing.assert_allclose(extents[1], [0.69375, 0.80625, 0.525, 0.975])
    # the lower-left cell shows the point nearest its centre: the second (all ones)
    lower = min(ax.images, key=lambda im: im.get_extent()[0])
    assert lower.get_array().min() == 255
    ax.figure.clf()


def test_plot_embedding_thumbnails_bad_input():
    with pytest.raises(ValueError, match="got 2 thumbnails for 3 points"):
        plot_embedding(_points(3), thumbnails=_images(2))


# -- the page in a real browser ----------------------------------------------------------------

_BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-extensions"]


def _chromium():
    """Path of an installed Chromium, or None (SKMICRO_CHROMIUM overrides the search)."""
    for candidate in (os.environ.get("SKMICRO_CHROMIUM"), "chromium", "chromium-browser",
                      "google-chrome", "google-chrome-stable"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the browser test drives Chromium with Playwright "
        "(pip install playwright; the dev extra has it)")
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium installed (Debian: apt-get install chromium; or set "
                    "SKMICRO_CHROMIUM to a Chromium/Chrome binary)")
    with sync_api.sync_playwright() as pw:
        try:
            b = pw.chromium.launch(executable_path=executable, args=_BROWSER_ARGS)
        except Exception as exc:  # a browser that does not start is an environment problem
            pytest.skip(f"Chromium at {executable} does not start headless: {exc}")
        yield b
        b.close()


_READ_PAGE = """() => {
  const doc = Bokeh.documents[0];
  const models = [...doc.all_models];
  const points = models.find(m => m.name === "skmicro_points");
  const images = models.find(m => m.glyph !== undefined && "url" in m.glyph);
  return {n_points: points.data.x.length, labels: [...points.data.label],
          n_image_urls: images.data_source.data.thumb.length,
          thumbnails_visible: images.visible};
}"""

_CLICK_AND_SWITCH = """() => {
  const models = [...Bokeh.documents[0].all_models];
  models.find(m => m.name === "skmicro_points").selected.indices = [2];
  const radio = models.find(m => Array.isArray(m.labels) && m.labels.includes("dots"));
  radio.active = 0;   // "dots"
}"""

# CustomJS callbacks run asynchronously: wait for the click's view, or time out (a failure)
_CLICKED = """() => [...Bokeh.documents[0].all_models].some(
  m => typeof m.text === "string" && m.text.includes("<img"))"""
_SWITCHED = """() => [...Bokeh.documents[0].all_models].some(
  m => m.glyph !== undefined && "url" in m.glyph && m.visible === false)"""

_AFTER_CLICK = """() => {
  const models = [...Bokeh.documents[0].all_models];
  const info = models.find(m => typeof m.text === "string" && m.text.includes("<img"));
  const images = models.find(m => m.glyph !== undefined && "url" in m.glyph);
  return {info: info.text, thumbnails_visible: images.visible};
}"""


@needs_bokeh
def test_page_in_headless_chromium(browser, tmp_path):
    rng = np.random.default_rng(0)
    images = [rng.random(s) for s in [(40, 60), (60, 40), (50, 50), (30, 90), (64, 64),
                                      (20, 20), (45, 70)]]
    meta = pd.DataFrame({"phase": ["a", "b", "a", None, "b", "a", "a"]},
                        index=[f"img{i}.tif" for i in range(7)])
    out = collection_map(images, _points(7), color="phase", metadata=meta,
                         out=tmp_path / "map.html")

    page = browser.new_page(viewport={"width": 1250, "height": 900})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))

    def only_local(route):  # anything that would leave the machine is recorded and refused
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", only_local)
    page.goto(out.resolve().as_uri())
    page.wait_for_function("window.Bokeh !== undefined && Bokeh.documents.length > 0 && "
                           "[...Bokeh.documents[0].all_models].some(m => m.glyph && 'url' in "
                           "m.glyph && m.data_source.data.thumb.length > 0)", timeout=30_000)
    state = page.evaluate(_READ_PAGE)
    assert state["n_points"] == 7 and state["n_image_urls"] == 7
    assert state["labels"] == [f"img{i}.tif" for i in range(7)]
    assert state["thumbnails_visible"]   # "auto": 7 points in view, thumbnails drawn
    page.evaluate(_CLICK_AND_SWITCH)
    page.wait_for_function(_CLICKED, timeout=10_000)
    page.wait_for_function(_SWITCHED, timeout=10_000)
    page.wait_for_timeout(300)   # the repaint
    after = page.evaluate(_AFTER_CLICK)
    assert "img2.tif" in after["info"]
    assert "data:image/jpeg;base64," in after["info"]   # the larger view
    assert after["thumbnails_visible"] is False
    page.close()
    assert errors == []
    assert requests and all(u.startswith(("file:", "data:")) for u in requests), requests


# -- the route: map_collection and `skmicro map` -----------------------------------------------

@pytest.fixture
def folder(tmp_path, monkeypatch):
    """Four 8-bit micrographs with a black data bar, and a spreadsheet naming them by stem."""
    from PIL import Image

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))   # describe_folder's cache
    rng = np.random.default_rng(0)
    root = tmp_path / "micrographs"
    root.mkdir()
    for i in range(4):
        img = (rng.random((160, 192)) * 200 + 30).astype(np.uint8)
        img[-32:] = 0              # the data bar ...
        img[-20:-12, 16:80] = 255  # ... with a scale bar
        Image.fromarray(img).save(root / f"s{i}.png")
    (tmp_path / "meta.csv").write_text(
        "sample,temperature,route\ns3,850,B\ns0,700,A\ns1,750,A\ns2,,B\nextra,900,C\n")
    return root


@needs_bokeh
def test_map_collection_from_a_folder(folder, tmp_path):
    from skmicro.workflow import map_collection

    out = map_collection(folder, metadata=tmp_path / "meta.csv", color="temperature",
                         out=tmp_path / "map.html", verbose=0)
    page = out.read_text(encoding="utf-8")
    data = _page_data(page)
    assert data["label"] == ["s0.png", "s1.png", "s2.png", "s3.png"]
    assert "no value (1)" in page                       # s2 has no temperature
    assert "700" in data["info"][0] and "A" in data["info"][0]
    # thumbnails show the micrograph without its 32-row data bar: 160 x 192 -> 128 x 192,
    # 64 x 96 at thumbnail_size 96
    assert _jpeg_sizes(page)[0] == (96, 64)


@needs_bokeh
def test_map_collection_errors(folder, tmp_path):
    from skmicro.workflow import map_collection

    with pytest.raises(ValueError, match="cannot colour by 'temp'.*'temperature'"):
        map_collection(folder, metadata=tmp_path / "meta.csv", color="temp",
                       out=tmp_path / "map.html", verbose=0)
    bad = tmp_path / "bad.csv"
    bad.write_text("file,temperature\nother1.png,1\nother2.png,2\n")
    with pytest.raises(ValueError, match="names a micrograph.*'s0.png'"):
        map_collection(folder, metadata=bad, out=tmp_path / "map.html", verbose=0)
    with pytest.raises(FileNotFoundError, match="cannot write .*does not exist"):
        map_collection(tmp_path / "nowhere", out=tmp_path / "no" / "map.html", verbose=0)


@needs_bokeh
def test_map_collection_from_a_features_table(folder, tmp_path):
    from skmicro.workflow import describe_folder, map_collection, write_features

    table = describe_folder(folder, descriptors=["power_spectrum"], verbose=0)
    path = write_features(table, tmp_path / "features.csv")
    with pytest.raises(ValueError, match="no 'scattering' descriptor; it has: 'power_spectrum'"):
        map_collection(path, descriptor="scattering", out=tmp_path / "map.html", verbose=0)
    with pytest.raises(FileNotFoundError, match="--images"):
        map_collection(path, out=tmp_path / "map.html", verbose=0)
    out = map_collection(path, images=folder, out=tmp_path / "map.html", verbose=0)
    assert _page_data(out.read_text(encoding="utf-8"))["label"][0] == "s0.png"


@needs_bokeh
def test_cli_map(folder, tmp_path, capsys):
    from skmicro.cli import main

    assert main(["map", str(folder), "--metadata", str(tmp_path / "meta.csv"), "--color",
                 "route", "--out", str(tmp_path / "cli.html"), "--verbose", "0"]) == 0
    assert "wrote" in capsys.readouterr().out
    page = (tmp_path / "cli.html").read_text(encoding="utf-8")
    assert "A (2)" in page and "B (2)" in page


@needs_bokeh
def test_thumbnails_sit_on_a_wide_frame_of_their_colour():
    page = collection_map(_images(4), _points(4), color=np.arange(4.0))
    data = _page_data(page)
    assert np.allclose(np.subtract(data["fw"], data["tw"]), 10)   # 5 screen pixels a side
    assert np.allclose(np.subtract(data["fh"], data["th"]), 10)


def _near(pixels, rgb, tol=14):
    return int((np.abs(pixels[..., :3].astype(int) - rgb).max(axis=-1) <= tol).sum())


@needs_bokeh
def test_unselected_dots_stay_visible_after_a_click(browser, tmp_path):
    from PIL import Image

    # Four points of one category (Category10's blue, #1f77b4) far apart, drawn as dots.
    out = collection_map(_images(4), np.array([[0, 0], [1, 0], [0, 1], [1, 1]], float),
                         color=np.array(["a"] * 4, object), thumbnails="dots",
                         out=tmp_path / "map.html")
    page = browser.new_page(viewport={"width": 1250, "height": 900})
    page.goto(out.resolve().as_uri())
    page.wait_for_function("window.Bokeh !== undefined && Bokeh.documents.length > 0",
                           timeout=30_000)
    page.wait_for_timeout(500)
    page.evaluate("""() => { [...Bokeh.documents[0].all_models]
        .find(m => m.name === "skmicro_points").selected.indices = [0]; }""")
    page.wait_for_function(_CLICKED, timeout=10_000)
    page.wait_for_timeout(500)
    shot = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB"))
    page.close()
    blue = np.array([0x1F, 0x77, 0xB4])
    faded = 255 - 0.55 * (255 - blue)          # the colour at 55 % opacity on white
    near_white = 255 - 0.25 * (255 - blue)     # what "faded to near invisibility" looked like
    assert _near(shot, faded) >= 3 * 30        # three unselected dots, ~50 pixels each
    assert _near(shot, blue) >= 20             # the selected one at full colour
    assert _near(shot, near_white, tol=8) < _near(shot, faded)
