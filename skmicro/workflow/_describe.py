"""describe_folder: a folder of micrographs -> one row of descriptors per file, cached per file."""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from dataclasses import dataclass

from ._files import content_hash, list_micrographs
from ._specs import is_fitted, resolve_descriptors
from ._store import FeatureStore, default_cache_dir
from ._table import META_PREFIX, check_table_path, write_features

__all__ = ["describe_folder", "DEFAULT_DESCRIPTORS"]

#: What describe_folder computes when no descriptor is named: the radial log power spectrum
#: (64 numbers) and the scattering coefficients (681 numbers); see
#: :data:`~skmicro.workflow.DESCRIPTORS`.
DEFAULT_DESCRIPTORS = ("power_spectrum", "scattering")

# Images decoded and described together (per chunk one call per descriptor and image size):
# an interrupted run loses at most one chunk, and threads share out a chunk's images.
_CHUNK = 8


class _FileError(Exception):
    """A per-file failure: the message names the file; on_error decides what happens."""


@dataclass
class _Item:
    """One micrograph of the run."""

    path: object
    name: str
    given_pixel_size: float | None
    content: str = None
    meta: dict | None = None
    rows: dict = None  # descriptor name -> (names, values)

    def item_key(self, rescaling):
        """The cache identity of this image's result: content (+ the pixel size it is
        rescaled from when that came from the caller rather than the file)."""
        if rescaling and self.given_pixel_size is not None:
            return f"{self.content}-{self.given_pixel_size!r}".replace(".", "p")
        return self.content


@dataclass
class _Plan:
    """What every chunk needs: preprocessing settings and the fitted descriptors."""

    crop_data_bar: object
    target_pixel_size: float | None
    estimators: dict  # name -> fitted estimator (TiledFeatures-wrapped when tiling)
    contrast: str | None = None


def _check_params(crop_data_bar, target_pixel_size, tile, aggregate, on_error, cache,
                  verbose, pixel_size, contrast):
    # By hand, not validate_params: that would import scikit-learn, which a run served from
    # the cache never needs (tests/test_workflow_describe.py checks it stays so).
    name = "describe_folder"
    if not (isinstance(crop_data_bar, bool) or (isinstance(crop_data_bar, numbers.Integral)
                                                and crop_data_bar >= 0)):
        raise ValueError(
            f"The 'crop_data_bar' parameter of {name} must be True (detect and cut the "
            "microscope's data bar), False, or a number of rows to cut at the bottom. Got "
            f"{crop_data_bar!r} instead."
        )
    if target_pixel_size is not None and not (
            isinstance(target_pixel_size, numbers.Real) and 0 < target_pixel_size < math.inf):
        raise ValueError(
            f"The 'target_pixel_size' parameter of {name} must be a positive number "
            f"(micrometres per pixel) or None. Got {target_pixel_size!r} instead."
        )
    if tile is not None and not (isinstance(tile, numbers.Integral) and tile >= 1) and not (
            isinstance(tile, (tuple, list)) and len(tile) == 2
            and all(isinstance(t, numbers.Integral) and t >= 1 for t in tile)):
        raise ValueError(
            f"The 'tile' parameter of {name} must be None, a tile side in pixels or a pair "
            f"(rows, cols). Got {tile!r} instead."
        )
    if contrast not in (None, "percentile", "clahe"):
        raise ValueError(
            f"The 'contrast' parameter of {name} must be None (images as stored), "
            "'percentile' (stretch each image between its 1st and 99th percentiles) or "
            f"'clahe' (adaptive histogram equalization). Got {contrast!r} instead."
        )
    if aggregate not in ("mean", "mean_std"):
        raise ValueError(
            f"The 'aggregate' parameter of {name} must be 'mean' or 'mean_std' (how tile "
            f"descriptors are combined per image). Got {aggregate!r} instead."
        )
    if on_error not in ("raise", "skip"):
        raise ValueError(
            f"The 'on_error' parameter of {name} must be 'raise' (stop at the first file that "
            f"cannot be read or described) or 'skip' (warn and leave it out). Got "
            f"{on_error!r} instead."
        )
    if not (isinstance(cache, bool) or hasattr(cache, "__fspath__") or isinstance(cache, str)):
        raise TypeError(
            f"The 'cache' parameter of {name} must be True (the default cache folder), False "
            f"(no cache) or a folder path. Got {type(cache).__name__} instead."
        )
    if not isinstance(verbose, numbers.Integral):
        raise TypeError(f"The 'verbose' parameter of {name} must be an int; got {verbose!r}.")
    if pixel_size is not None and not isinstance(pixel_size, (numbers.Real, str)) and not \
            hasattr(pixel_size, "items"):
        raise TypeError(
            f"The 'pixel_size' parameter of {name} must be None (read from the files), a "
            "number (micrometres per pixel, for every image), a mapping / pandas Series from "
            "file name to micrometres per pixel, or 'TABLE.csv:COLUMN'. Got "
            f"{type(pixel_size).__name__} instead."
        )


def _given_pixel_sizes(pixel_size, files):
    """One value (or None) per file from None, a number, or a mapping keyed by file name."""
    if pixel_size is None:
        return [None] * len(files)
    if isinstance(pixel_size, str):
        try:
            pixel_size = float(pixel_size)
        except ValueError:
            pixel_size = _pixel_sizes_from_table(pixel_size, files)
    if isinstance(pixel_size, numbers.Real):
        if not (0 < pixel_size < math.inf):
            raise ValueError(
                "The 'pixel_size' parameter of describe_folder must be positive and finite "
                f"(micrometres per pixel). Got {pixel_size!r} instead."
            )
        return [float(pixel_size)] * len(files)
    mapping = {str(k): v for k, v in dict(pixel_size.items()).items()}
    out = []
    for path, name in files:
        value = mapping.get(name, mapping.get(path.name))
        if value is not None and not (isinstance(value, numbers.Real) and value > 0
                                      and math.isfinite(value)):
            if isinstance(value, float) and math.isnan(value):
                value = None
            else:
                raise ValueError(
                    f"The 'pixel_size' given for '{name}' must be a positive number of "
                    f"micrometres per pixel. Got {value!r} instead."
                )
        out.append(None if value is None else float(value))
    return out


def _pixel_sizes_from_table(spec, files):
    """``"TABLE.csv:COLUMN"`` -> {file name: value}, rows matched by file name (join_table)."""
    from ._join import join_table, parse_table_column

    table, column = parse_table_column(spec)
    joined = join_table([name for _, name in files], table, missing="keep")
    if column not in joined.columns:
        raise ValueError(
            f"The pixel_size table '{table}' has no column {column!r}; its columns are "
            f"{', '.join(map(str, joined.columns))}. Write TABLE.csv:COLUMN with the column of "
            "micrometres per pixel."
        )
    values = joined[column]
    if values.dtype.kind not in "fiu":
        raise ValueError(
            f"The pixel_size column {column!r} of '{table}' must hold numbers (micrometres per "
            f"pixel); it holds {values.dtype} values such as {values.iloc[0]!r}."
        )
    return {name: float(v) for (_, name), v in zip(files, values)}


def _meta_key(crop_data_bar, version):
    from ._specs import _digest

    return _digest(["meta", version, crop_data_bar])


def _prepare_image(item, plan):
    """Read, crop and rescale one file; returns (2-D image, meta) or raises _FileError."""
    import numpy as np

    from .._validation import as_float32
    from ..io import load_micrographs
    from ..preprocessing import NormalizeContrast, RescalePixelSize, find_data_bar

    try:
        images, declared = load_micrographs([item.path], return_pixel_size=True)
    except (ValueError, OSError) as exc:
        raise _FileError(str(exc)) from exc
    image = images[0]
    height, width = image.shape[:2]
    if plan.crop_data_bar is True:  # CropDataBar's detection, without its per-call checks
        try:
            top, bottom = find_data_bar(image)
        except ValueError as exc:
            raise _FileError(f"cannot look for its data bar: {exc}") from exc
    else:
        top, bottom = 0, int(plan.crop_data_bar)  # False is 0
        if bottom >= height:
            raise _FileError(f"crop_data_bar={bottom} rows, but the image has only {height}.")
    # float32 in the input contract's units, so that files of one size but different integer
    # types (uint8, uint16) are stacked without rescaling one of them
    image = as_float32(image[top:height - bottom], name="image", caller="describe_folder")
    if plan.contrast is not None:  # after the crop: the bar's black and white would set it
        image = NormalizeContrast(plan.contrast).fit_transform(image[None])[0]
    rows = top + bottom
    declared = float(declared[0])
    meta = {"height": int(height), "width": int(width), "data_bar_rows": int(rows),
            "declared_pixel_size_um": None if math.isnan(declared) else declared}
    if plan.target_pixel_size is not None:
        size = item.given_pixel_size if item.given_pixel_size is not None \
            else meta["declared_pixel_size_um"]
        if size is None:
            raise _FileError(
                "it declares no pixel size, and target_pixel_size needs one. Give the pixel "
                "sizes with pixel_size= (a number, or a mapping from file name to "
                "micrometres per pixel; --pixel-size on the command line), or leave "
                "target_pixel_size unset."
            )
        image = RescalePixelSize(plan.target_pixel_size).fit_transform(
            image[None], pixel_size=[size])[0]
    elif image.ndim == 3:
        image = image[..., 0] if image.shape[-1] == 1 else image
    return np.ascontiguousarray(image), meta


def _describe_chunk(items, plan, needs):
    """Describe a few files: ``[(name, meta, {descriptor: values}) or (name, error)]``.

    ``needs[i]`` are the descriptor names item ``i`` lacks (its meta is always recomputed,
    which costs nothing next to decoding). Images of one size go through each descriptor
    together; a failing group is retried image by image to find the culprit.
    """
    return _describe_prepared(items, [_prepare_safely(it, plan) for it in items], plan, needs)


def _prepare_safely(item, plan):
    try:
        return _prepare_image(item, plan)
    except _FileError as exc:
        return str(exc)


def _describe_prepared(items, ready, plan, needs):
    """The descriptor part of :func:`_describe_chunk`; ``ready[i]`` is ``_prepare_safely``'s
    result for ``items[i]``."""
    import numpy as np

    prepared, results = [], {}
    for item, need, done in zip(items, needs, ready):
        if isinstance(done, str):
            results[item.name] = done
            continue
        image, meta = done
        prepared.append((item, need, image, meta))
        results[item.name] = (meta, {})
    names = sorted({d for _, need, _, _ in prepared for d in need})
    for desc in names:
        est = plan.estimators[desc]
        groups = {}
        for item, need, image, _ in prepared:
            if desc in need and isinstance(results[item.name], tuple):
                groups.setdefault(image.shape, []).append((item, image))
        for members in groups.values():
            try:
                values = np.asarray(est.transform(np.stack([im for _, im in members])))
                for (item, _), row in zip(members, values):
                    results[item.name][1][desc] = row
                continue
            except Exception:  # noqa: BLE001, S112 - find and report the failing file below
                pass
            for item, image in members:
                try:
                    results[item.name][1][desc] = np.asarray(est.transform(image[None]))[0]
                except Exception as exc:  # noqa: BLE001 - any descriptor failure is per file
                    results[item.name] = _descriptor_error(desc, est, image, exc)
    return [(item.name, results[item.name]) for item in items]


def _descriptor_error(desc, est, image, exc):
    fitted = getattr(est, "image_shape_", None) or getattr(
        getattr(est, "descriptor_", None), "image_shape_", None)
    hint = ""
    if fitted is not None and tuple(fitted) != tuple(image.shape[:2]):
        hint = (f" This descriptor needs one image size (it was set up on {fitted[0]}x"
                f"{fitted[1]} images, this one is {image.shape[0]}x{image.shape[1]} after "
                "cropping): pass tile=SIZE (--tile) to describe every image by tiles of one "
                "size, or choose a descriptor option that accepts mixed sizes.")
    return f"descriptor '{desc}' failed: {type(exc).__name__}: {exc}{hint}"


def _fit_estimators(specs, todo, plan_args, device, n_jobs, on_error):
    """Build every descriptor that has files to compute and fit it on the first readable
    image (descriptors learn only the image size there); returns (plan, failed files). A
    user's unfitted estimator is cloned, never fitted in place. With on_error="raise" the
    first failure ends the search (it is raised by the caller)."""
    from sklearn.base import clone

    from ..preprocessing import TiledFeatures

    crop_data_bar, target_pixel_size, tile, aggregate, contrast = plan_args
    plan = _Plan(crop_data_bar, target_pixel_size, {}, contrast)
    needed = [s for s in specs if any(s.name in need for _, need in todo)]
    if any(s.named for s in needed):
        from .._engine import check_device_param

        check_device_param(device, caller="describe_folder")
    built = {s.name: s.build(device=device, n_jobs=n_jobs) for s in needed}
    built = {k: est if is_fitted(est) else clone(est) for k, est in built.items()}
    if tile is not None:
        built = {k: TiledFeatures(est, tile_size=tuple(tile) if isinstance(tile, (list, tuple))
                                  else int(tile), aggregate=aggregate)
                 for k, est in built.items()}
    failed = {}
    for item, need in todo:
        pending = [k for k in built if k in need and k not in plan.estimators]
        if not pending:
            continue
        try:
            image, _ = _prepare_image(item, plan)
        except _FileError as exc:
            failed[item.name] = str(exc)
            if on_error == "raise":
                break
            continue
        for k in pending:
            est = built[k]
            if not is_fitted(est):
                try:
                    est = est.fit(image[None])
                except Exception as exc:  # noqa: BLE001
                    failed[item.name] = _descriptor_error(k, est, image, exc)
                    break
            plan.estimators[k] = est
        if len(plan.estimators) == len(built) or (failed and on_error == "raise"):
            break
    return plan, failed


def _run_local(chunks, plan, needs, n_jobs):
    """Chunks in order; the next chunk's files are read and cropped by a thread pool while
    the descriptors run on the current one (decoding and the data-bar search release the
    GIL for most of their time)."""
    from concurrent.futures import ThreadPoolExecutor

    from .._engine import n_threads

    if not chunks:
        return
    with ThreadPoolExecutor(max_workers=n_threads(n_jobs)) as pool:
        def submit(chunk):
            return [pool.submit(_prepare_safely, item, plan) for item in chunk]

        pending = submit(chunks[0])
        for k, (chunk, need) in enumerate(zip(chunks, needs)):
            ready = [f.result() for f in pending]
            if k + 1 < len(chunks):
                pending = submit(chunks[k + 1])
            yield _describe_prepared(chunk, ready, plan, need)


def _run_dask(chunks, plan, needs, scheduler):
    try:
        from distributed import Client, as_completed
    except ImportError as exc:
        raise ImportError(
            "describe_folder(scheduler=...) runs on a Dask cluster through the distributed "
            "package: pip install 'skmicro[dask]'."
        ) from exc

    from .._dask import worker_copy

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        shipped = _Plan(plan.crop_data_bar, plan.target_pixel_size,
                        {k: worker_copy(e) for k, e in plan.estimators.items()}, plan.contrast)
        plan_future = client.scatter(shipped, broadcast=True)
        futures = [client.submit(_describe_chunk, chunk, plan_future, need, pure=False)
                   for chunk, need in zip(chunks, needs)]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            client.cancel(futures)
    finally:
        if client is not scheduler:
            client.close()


def describe_folder(paths, descriptors=DEFAULT_DESCRIPTORS, *, crop_data_bar=True,
                    pixel_size=None, target_pixel_size=None, contrast=None, tile=None,
                    aggregate="mean", cache=True, out=None, on_error="raise", recursive=False, device="auto",
                    n_jobs=None, scheduler=None, verbose=0):
    """Describe every micrograph in a folder: one row per file, cached per file.

    Each file is read (:func:`skmicro.io.load_micrographs`), its data bar cut
    (:class:`~skmicro.preprocessing.CropDataBar`), optionally brought to one pixel size
    (:class:`~skmicro.preprocessing.RescalePixelSize`) and described by each descriptor
    (optionally by tiles, :class:`~skmicro.preprocessing.TiledFeatures`). Each image's result
    is stored in a disk cache as soon as it is computed, keyed by the file's content and the
    descriptor's parameters: a second run computes only new or changed files, and an
    interrupted run loses at most the few images in flight.

    Parameters
    ----------
    paths : str, path-like, or list of them
        A folder (its micrographs: ``.tif``, ``.tiff``, ``.png``, ``.jpg``, ``.jpeg``,
        ``.bmp``, any case; other files and, unless ``recursive=True``, sub-folders are
        ignored, as :func:`skmicro.io.load_micrographs` does), single files, or several of
        either.
    descriptors : str, estimator, or list of them, default=("power_spectrum", "scattering")
        Names with options (``"scattering:J=4,L=8"``, see :func:`parse_descriptor`; the
        compact defaults and their row lengths are in :data:`DESCRIPTORS`), estimator
        instances (any image-to-row transformer; unfitted ones are fitted on the first image,
        which suits descriptors that learn only the image size, like skmicro's; fitted ones
        are used as they are), ``(name, estimator)`` pairs, or a dict of those.
    crop_data_bar : bool or int, default=True
        True detects the microscope's data bar at the top or bottom edge and cuts it; an int
        cuts that many rows at the bottom; False keeps the whole image.
    pixel_size : float, mapping, pandas.Series, str or None, default=None
        Micrometres per pixel: one number for every image, or one per file (keys are the
        table's file names or base names, as in a spreadsheet column indexed by file), or
        ``"TABLE.csv:COLUMN"``, a spreadsheet column matched to the files by the column that
        names them (:func:`join_table`); files without a value fall back to what they
        declare. None reads
        the size each TIFF declares (vendor SEM tags, ImageJ, resolution tags), where it
        does. Reported in ``meta__pixel_size_um``; used only with ``target_pixel_size``.
    target_pixel_size : float or None, default=None
        Resample every image to this many micrometres per pixel first, so that images taken
        at different magnifications are described at one physical scale.
    contrast : {None, "percentile", "clahe"}, default=None
        Normalize each image's contrast after the data bar is cut
        (:class:`~skmicro.preprocessing.NormalizeContrast`): "percentile" maps its 1st and
        99th grey-level percentiles to 0 and 1, "clahe" equalizes it adaptively. None keeps
        the grey levels as stored (integers scaled by their type's range). Use it for
        collections that mix detectors, bit depths or exposures: a 16-bit file holding
        12-bit data arrives 16 times fainter and the descriptors read amplitude, which on
        the UHCS phase-fraction study turned R^2 0.85 into -4 (docs/phase_fractions.md).
    tile : int, (int, int) or None, default=None
        Describe each image by its tiles of this size (the mean over tiles, or mean and
        standard deviation with ``aggregate="mean_std"``): the way to mix image sizes with
        descriptors whose output depends on the size, and to bound memory on huge images.
    aggregate : {"mean", "mean_std"}, default="mean"
        How tile descriptors are combined per image (only with ``tile``).
    cache : bool or path, default=True
        True caches per-image results under :func:`default_cache_dir`, a path caches them in
        that folder, False keeps nothing between runs.
    out : str, path-like or None, default=None
        Also write the table there (``.parquet`` or ``.csv``, see :func:`write_features`).
        A wrong suffix or a missing folder is reported before anything is computed.
    on_error : {"raise", "skip"}, default="raise"
        A file that cannot be read or described: "raise" stops with its name (everything
        already computed stays in the cache), "skip" warns, leaves it out of the table and
        lists it in ``table.attrs["skipped"]``.
    recursive : bool, default=False
        Also describe micrographs in sub-folders (their names then start with the
        sub-folder); hidden files and folders are always ignored.
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
        Device of the named descriptors (instances keep their own).
    n_jobs : int or None, default=None
        CPU threads of the named descriptors: None all cores, k exactly k.
    scheduler : str, distributed.Client or None, default=None
        A Dask scheduler address (``"tcp://host:8786"``) or client: chunks of files are
        described on its workers (which must see the same paths) while this process checks
        the cache and stores each result as it arrives.
    verbose : int, default=0
        1 shows a progress bar and a summary line on stderr.

    Returns
    -------
    table : pandas.DataFrame
        One row per described file, indexed by "file" (the path relative to the folder, in
        POSIX form; several folders: relative to their common parent), sorted by it.
        Columns ``meta__height``, ``meta__width`` (as read), ``meta__data_bar_rows`` (rows
        cut), ``meta__pixel_size_um`` (NaN where unknown) and ``meta__pixel_size_source``
        ("given", "file" or "none"), then ``{descriptor}__{feature}`` float32 columns per
        descriptor. ``table.attrs`` holds ``"skipped"`` ({file: reason}), ``"computed"``
        and ``"cached"`` (numbers of files).

    Raises
    ------
    ValueError
        An unknown descriptor or option (listing the valid ones), an empty folder, an output
        path with another suffix than .parquet/.csv, or (``on_error="raise"``) a file that
        cannot be read or described; the message names the file and the fix.
    FileNotFoundError
        A path that does not exist, or an output folder that does not exist.
    OSError
        Nothing can be written in the output's folder (PermissionError) or the cache folder;
        both are checked before any image is computed.

    See Also
    --------
    write_features, read_features : the table on disk.
    parse_descriptor : descriptor specs.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skmicro.workflow import describe_folder
    >>> folder = Path(tempfile.mkdtemp())
    >>> x = np.arange(160)[None, :] * np.ones((128, 1))
    >>> for period in (5, 10):                         # vertical stripes
    ...     stripes = 127.5 * (1 + np.sin(2 * np.pi * x / period))
    ...     Image.fromarray(stripes.astype(np.uint8)).save(folder / f"p{period}.png")
    >>> table = describe_folder(folder, "power_spectrum:n_bins=8", cache=False, device="cpu")
    >>> table.shape
    (2, 13)
    >>> table.index.tolist(), table["meta__height"].tolist()
    (['p10.png', 'p5.png'], [128, 128])
    >>> table.filter(like="power_spectrum").idxmax(axis=1).tolist()  # 0.1 and 0.2 cycles/px
    ['power_spectrum__S_f1', 'power_spectrum__S_f3']
    """
    import skmicro

    _check_params(crop_data_bar, target_pixel_size, tile, aggregate, on_error, cache,
                  verbose, pixel_size, contrast)
    if out is not None:
        out = check_table_path(out, caller="describe_folder")
    specs = resolve_descriptors(descriptors)
    for spec in specs:  # options beyond the defaults: check names and values before any work
        if spec.named and spec.has_options:
            spec.build(device=device, n_jobs=n_jobs)
    files = list_micrographs(paths, recursive=recursive)
    given = _given_pixel_sizes(pixel_size, files)
    store = FeatureStore(None if cache is False else
                         default_cache_dir() if cache is True else cache)
    store.check_writable()
    version = skmicro.__version__
    rescaling = target_pixel_size is not None
    prep = ["prep", crop_data_bar, target_pixel_size,
            list(tile) if isinstance(tile, (list, tuple)) else tile,
            aggregate if tile is not None else None]
    if contrast is not None:  # appended only when set, so caches made without it stay valid
        prep.append(["contrast", contrast])
    keys = {s.name: _specs_key(s, version, prep) for s in specs}
    meta_key = _meta_key(crop_data_bar, version)

    items = [_Item(path, name, ps) for (path, name), ps in zip(files, given)]
    skipped, todo = {}, []
    from .._engine import progress_bar

    with progress_bar(len(items), verbose=verbose, desc="features", unit="file") as bar:
        # without a cache, a file's identity within the run is its path
        bar.set_postfix_str("checking the files against the cache")
        hashes = store.content_hashes([it.path for it in items],
                                      content_hash if store.enabled else str)
        bar.set_postfix_str("")
        for item in items:  # the cache first: what is there costs one small read per file
            item.content = hashes[item.path]
            if isinstance(item.content, OSError):
                _fail(item, f"cannot read the file: {item.content}", on_error, skipped, store)
                bar.update()
                continue
            item.meta = store.get_meta(meta_key, item.content)
            key = item.item_key(rescaling)
            item.rows = {}
            for s in specs:
                hit = store.get(keys[s.name], key)
                if hit is not None:
                    item.rows[s.name] = hit
            need = [s.name for s in specs if s.name not in item.rows]
            if need or item.meta is None:
                todo.append((item, need))
            else:
                bar.update()
        n_cached = len(items) - len(todo) - len(skipped)
        if todo:
            try:
                _compute(todo, specs, keys, meta_key, store, rescaling, on_error, skipped, bar,
                         (crop_data_bar, target_pixel_size, tile, aggregate, contrast), device, n_jobs,
                         scheduler)
            except KeyboardInterrupt:
                if store.enabled:
                    done = sum(1 for it, _ in todo if len(it.rows) == len(specs))
                    print(f"\ninterrupted: {done} of {len(todo)} micrographs to compute were "
                          f"finished and are kept in the cache ({store.root}); run the same "
                          "command again to continue from there.", file=sys.stderr)
                raise
    table = _assemble([it for it in items if it.name not in skipped], specs)
    table.attrs.update(skipped=dict(skipped), computed=len(todo) - len(
        [it for it, _ in todo if it.name in skipped]), cached=n_cached)
    if skipped:
        warnings.warn(
            f"describe_folder skipped {len(skipped)} file(s) that could not be read or "
            "described: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()),
            UserWarning, stacklevel=2)
    if verbose:
        where = f" (cache: {store.root})" if store.enabled else ""
        print(f"{len(table)} micrographs: {table.attrs['computed']} computed, {n_cached} from "
              f"the cache, {len(skipped)} skipped{where}", file=sys.stderr)
    if out is not None:
        write_features(table, out)
    return table


def _specs_key(spec, version, prep):
    from ._specs import _digest

    return _digest([spec.key(version), prep])


def _fail(item, message, on_error, skipped, store):
    text = f"'{item.path}': {message.rstrip('.')}"
    if on_error == "skip":
        skipped[item.name] = message
        return
    kept = " (the images already computed are kept in the cache; a rerun skips them)" \
        if store.enabled else ""
    raise ValueError(
        f"Cannot describe micrograph {text}. Fix or remove the file, or pass on_error='skip' "
        f"(--on-error skip) to leave unreadable files out{kept}."
    )


def _compute(todo, specs, keys, meta_key, store, rescaling, on_error, skipped, bar,
             plan_args, device, n_jobs, scheduler):
    bar.set_postfix_str("setting up the descriptors")
    plan, failed = _fit_estimators(specs, todo, plan_args, device, n_jobs, on_error)
    bar.set_postfix_str("")
    by_name = {item.name: (item, need) for item, need in todo}
    for name, message in failed.items():  # unreadable before anything could be set up
        _fail(by_name[name][0], message, on_error, skipped, store)
        bar.update()
    rest = [(item, need) for item, need in todo if item.name not in failed]
    chunks = [rest[i:i + _CHUNK] for i in range(0, len(rest), _CHUNK)]
    describe = {s.name: s.describe() for s in specs}
    names_of = {k: [str(n) for n in est.get_feature_names_out()]
                for k, est in plan.estimators.items()}
    run = (lambda c, p, n: _run_local(c, p, n, n_jobs)) if scheduler is None else (
        lambda c, p, n: _run_dask(c, p, n, scheduler))
    light = [[_Item(it.path, it.name, it.given_pixel_size) for it, _ in c] for c in chunks]
    results = run(light, plan, [[n for _, n in c] for c in chunks])
    for chunk_result in results:
        for name, result in chunk_result:
            item, need = by_name[name]
            if isinstance(result, str):
                _fail(item, result, on_error, skipped, store)
                bar.update()
                continue
            meta, rows = result
            key = item.item_key(rescaling)
            bad = [d for d, v in rows.items() if len(v) != len(names_of[d])]
            if bad:
                _fail(item, f"descriptor '{bad[0]}' gives {len(rows[bad[0]])} features for this "
                      f"{meta['height']}x{meta['width']} image but {len(names_of[bad[0]])} for "
                      "the first one: its output depends on the image size. Pass tile=SIZE "
                      "(--tile) to describe every image by tiles of one size.",
                      on_error, skipped, store)
                bar.update()
                continue
            for desc, values in rows.items():
                names = names_of[desc]
                store.put(keys[desc], key, names, values, describe=describe[desc])
                item.rows[desc] = (tuple(names), values)
            store.put_meta(meta_key, item.content, meta)
            item.meta = meta
            bar.update()


def _assemble(items, specs):
    """The table: meta columns, then each descriptor's columns; one row per item."""
    import numpy as np
    import pandas as pd

    index = pd.Index([it.name for it in items], name="file")
    columns = {}
    ps, source = [], []
    for it in items:
        if it.given_pixel_size is not None:
            ps.append(it.given_pixel_size)
            source.append("given")
        elif it.meta.get("declared_pixel_size_um") is not None:
            ps.append(it.meta["declared_pixel_size_um"])
            source.append("file")
        else:
            ps.append(np.nan)
            source.append("none")
    meta = pd.DataFrame({
        META_PREFIX + "height": np.array([it.meta["height"] for it in items], dtype=np.int64),
        META_PREFIX + "width": np.array([it.meta["width"] for it in items], dtype=np.int64),
        META_PREFIX + "data_bar_rows": np.array([it.meta["data_bar_rows"] for it in items],
                                                dtype=np.int64),
        META_PREFIX + "pixel_size_um": np.array(ps, dtype=np.float64),
        META_PREFIX + "pixel_size_source": source,
    }, index=index)
    blocks = [meta]
    for s in specs:
        names = None
        for it in items:
            these = it.rows[s.name][0]
            if names is None:
                names, first = these, it
            elif tuple(these) != tuple(names):
                raise ValueError(
                    f"Descriptor '{s.name}' gives different features for '{first.name}' "
                    f"({first.meta['height']}x{first.meta['width']}, {len(names)} features) and "
                    f"'{it.name}' ({it.meta['height']}x{it.meta['width']}, {len(these)} "
                    "features): its output depends on the image size. Pass tile=SIZE (--tile) "
                    "to describe every image by tiles of one size, or target_pixel_size= to "
                    "resample them, or use a descriptor whose output does not depend on the size."
                )
        values = (np.stack([it.rows[s.name][1] for it in items]).astype(np.float32)
                  if items else np.empty((0, 0), np.float32))
        columns[s.name] = pd.DataFrame(
            values, index=index, columns=[f"{s.name}__{n}" for n in (names or ())])
        blocks.append(columns[s.name])
    return pd.concat(blocks, axis=1)
