"""describe_folder: a folder of micrographs -> one row of descriptors per file, cached per file."""

from __future__ import annotations

import numbers
import sys
import warnings
from dataclasses import dataclass

from .._messages import SkmicroWarning
from ._compute import compute, fail
from ._files import (
    FilesLeftOutWarning,
    check_exclude,
    content_hash,
    left_out_notice,
    list_micrographs,
    twin_folder_notice,
)
from ._pixel_sizes import MixedMagnificationWarning, magnification_notice
from ._preparation import preparation_of
from ._specs import resolve_descriptors
from ._store import FeatureStore, default_cache_dir
from ._table import META_PREFIX, check_table_path, write_features

__all__ = ["describe_folder", "DEFAULT_DESCRIPTORS"]

#: What describe_folder computes when no descriptor is named: the radial log power spectrum
#: (64 numbers) and the scattering coefficients (681 numbers); see
#: :data:`~skmicro.workflow.DESCRIPTORS`.
DEFAULT_DESCRIPTORS = ("power_spectrum", "scattering")

@dataclass
class _Item:
    """One micrograph of the run."""

    path: object
    name: str
    given_pixel_size: float | None
    content: str = None
    meta: dict | None = None
    rows: dict = None  # descriptor name -> (names, values)

    def item_key(self, prep):
        """The cache identity of this image's result: content (+ the pixel size it is
        rescaled from when that came from the caller rather than the file)."""
        if prep.target_pixel_size is not None and self.given_pixel_size is not None:
            return f"{self.content}-{self.given_pixel_size!r}".replace(".", "p")
        return self.content


def _check_params(on_error, cache, verbose):
    # By hand, not validate_params: that would import scikit-learn, which a run served from
    # the cache never needs (tests/test_workflow_describe.py checks it stays so).
    name = "describe_folder"
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


def _folders_of(paths):
    """The folders given, and those of the files given, as the caller wrote them."""
    from pathlib import Path

    paths = [paths] if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__") \
        else paths
    folders = [Path(p) if Path(p).is_dir() else Path(p).parent for p in paths]
    return list(dict.fromkeys(folders))


def _meta_key(prep, version):
    from ._specs import _digest

    return _digest(["meta", version, prep.crop_data_bar])


def _specs_key(spec, version, prep):
    from ._specs import _digest

    return _digest([spec.key(version), prep.cache_key()])


def describe_folder(paths, descriptors=DEFAULT_DESCRIPTORS, *, crop_data_bar=True,
                    pixel_size=None, target_pixel_size=None, contrast=None, tile=None,
                    aggregate="mean", preparation=None, cache=True, out=None, on_error="raise",
                    recursive=False, exclude=None, device="auto", n_jobs=None, scheduler=None,
                    verbose=0):
    """Describe every micrograph in a folder: one row per file, cached per file.

    Each file is prepared (:class:`Preparation`: read, its data bar cut, optionally its
    contrast normalized and brought to one pixel size) and described by each descriptor
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
        ``"TABLE.csv:COLUMN"``, a spreadsheet column, or ``"TABLE.csv:LENGTH/PIXELS"``, a
        scale bar's length in micrometres and in pixels (e.g.
        ``"metadata.csv:micron_bar/micron_bar_px"``), rows matched to the files by the
        column that names them (:func:`join_table`); files without a value fall back to what
        they declare. None reads the size each TIFF declares (vendor SEM tags, ImageJ,
        resolution tags), where it does. Reported in ``meta__pixel_size_um``; used only with
        ``target_pixel_size``.
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
    preparation : Preparation or None, default=None
        All the settings above in one object (then leave them at their defaults): the way
        to share them with :func:`map_collection` and the segmentation route.
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
        sub-folder); hidden files and folders are always ignored. A sub-folder whose files
        all repeat the names of micrographs elsewhere (as label masks do) is taken, with a
        notice that says how to leave it out.
    exclude : str, list of str or None, default=None
        Glob patterns of files to leave out of the folders (files named directly are always
        described): a pattern without ``/`` is matched against each folder and file name
        below the folder (``"labels"``, ``"*_overview.tif"``), one with ``/`` against the
        path below it (``"batch2/old*"``); any case. None leaves out sub-folders named as
        label masks usually are (:data:`DEFAULT_EXCLUDE`: labels, masks, annotations, ...);
        ``[]`` takes every file. A notice (:class:`FilesLeftOutWarning`) says what was left
        out.
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
        and ``"cached"`` (numbers of files) and ``"excluded"`` ({pattern: files}).

    Warns
    -----
    MixedMagnificationWarning
        The micrographs' pixel sizes differ by more than 1.25x (or, without pixel sizes, the
        pixel sizes or magnifications a spreadsheet beside them gives), and no
        ``target_pixel_size`` is set: the notice says what to add.
    FilesLeftOutWarning
        ``exclude`` left files out, or a sub-folder that looks like label masks was taken.

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

    prep = preparation_of("describe_folder", preparation, dict(
        crop_data_bar=crop_data_bar, pixel_size=pixel_size,
        target_pixel_size=target_pixel_size, contrast=contrast, tile=tile,
        aggregate=aggregate))
    _check_params(on_error, cache, verbose)
    if out is not None:
        out = check_table_path(out, caller="describe_folder")
    specs = resolve_descriptors(descriptors)
    for spec in specs:  # options beyond the defaults: check names and values before any work
        if spec.named and spec.has_options:
            spec.build(device=device, n_jobs=n_jobs)
    patterns = check_exclude(exclude)
    files, excluded = list_micrographs(paths, recursive=recursive, exclude=patterns)
    for notice in (left_out_notice(excluded, exclude is not None),
                   twin_folder_notice(files) if recursive else None):
        if notice is not None:
            warnings.warn(notice, FilesLeftOutWarning, stacklevel=2)
    given = prep.pixel_sizes([name for _, name in files])
    store = FeatureStore(None if cache is False else
                         default_cache_dir() if cache is True else cache)
    store.check_writable()
    version = skmicro.__version__
    keys = {s.name: _specs_key(s, version, prep) for s in specs}
    meta_key = _meta_key(prep, version)

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
                fail(item, f"cannot read the file: {item.content}", on_error, skipped, store)
                bar.update()
                continue
            item.meta = store.get_meta(meta_key, item.content)
            key = item.item_key(prep)
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
                compute(todo, specs, keys, meta_key, store, prep, on_error, skipped, bar,
                        device, n_jobs, scheduler)
            except KeyboardInterrupt:
                if store.enabled:
                    done = sum(1 for it, _ in todo if len(it.rows) == len(specs))
                    print(f"\ninterrupted: {done} of {len(todo)} micrographs to compute were "
                          f"finished and are kept in the cache ({store.root}); run the same "
                          "command again to continue from there.", file=sys.stderr)
                raise
    table = _assemble([it for it in items if it.name not in skipped], specs)
    table.attrs.update(skipped=dict(skipped), computed=len(todo) - len(
        [it for it, _ in todo if it.name in skipped]), cached=n_cached, excluded=excluded)
    notice = magnification_notice(table, prep, _folders_of(paths))
    if notice is not None:
        warnings.warn(notice, MixedMagnificationWarning, stacklevel=2)
    if skipped:
        warnings.warn(
            f"Skipped {len(skipped)} file{'s' * (len(skipped) > 1)} that could not be read or "
            "described: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()),
            SkmicroWarning, stacklevel=2)
    if verbose:
        where = f" (cache: {store.root})" if store.enabled else ""
        print(f"{len(table)} micrographs: {table.attrs['computed']} computed, {n_cached} from "
              f"the cache, {len(skipped)} skipped{where}", file=sys.stderr)
    if out is not None:
        write_features(table, out)
    return table



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
