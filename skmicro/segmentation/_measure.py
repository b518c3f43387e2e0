"""Measurements from label maps: class area fractions and particle statistics, as a table."""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import check_mask_classes
from ._pixels import UNLABELLED

#: Percentiles of the equivalent diameter reported besides its mean and median.
PERCENTILES = (10, 90)


def _label_map_list(label_maps):
    caller = "measure_label_maps"
    if isinstance(label_maps, (str, bytes)) or label_maps is None or np.isscalar(label_maps):
        raise TypeError(
            f"{caller}: label_maps must be an array (n, h, w) or a list of 2-D integer label "
            f"maps; got {type(label_maps).__name__}.")
    if isinstance(label_maps, np.ndarray) and label_maps.ndim == 2:
        raise ValueError(
            f"{caller}: label_maps is one 2-D map of shape {label_maps.shape}; pass a stack "
            "(label_maps[None]) or a list [label_map].")
    maps = [np.asarray(m) for m in label_maps]
    if not maps:
        raise ValueError(f"{caller}: label_maps holds no label map.")
    for i, m in enumerate(maps):
        if m.dtype.kind not in "biu" or m.ndim != 2:
            raise TypeError(
                f"{caller}: label_maps[{i}] must be a 2-D integer array (e.g. from "
                f"TrainableSegmenter.predict or a PNG label image); got a {m.ndim}-D array of "
                f"dtype {m.dtype}.")
    return maps


def _class_names(class_names, maps):
    """(labels int64 array, names list)."""
    caller = "measure_label_maps"
    if class_names is None:
        labels = check_mask_classes(None, maps, UNLABELLED, caller=caller, name="label_maps")
        return labels, [str(int(c)) for c in labels]
    if isinstance(class_names, dict):
        labels, names = list(class_names), [str(v) for v in class_names.values()]
    elif isinstance(class_names, (list, tuple, np.ndarray)) and not isinstance(
            class_names, (str, bytes)):
        labels, names = list(range(len(class_names))), [str(v) for v in class_names]
    else:
        raise TypeError(
            f"The 'class_names' parameter of {caller} must be None, a list of names (class 0, "
            f"1, ...) or a dict {{label: name}}. Got {type(class_names).__name__} instead.")
    if len(set(names)) != len(names):
        raise ValueError(f"The 'class_names' parameter of {caller} must hold distinct names. "
                         f"Got {names!r} instead.")
    labels = check_mask_classes(labels, maps, UNLABELLED, caller=caller, name="label_maps",
                                classes_name="class_names")
    return labels, names


def _particle_label(particle_class, labels, names):
    if particle_class is None:
        return None
    if isinstance(particle_class, str) and particle_class in names:
        return int(labels[names.index(particle_class)])
    if isinstance(particle_class, numbers.Integral) and int(particle_class) in labels.tolist():
        return int(particle_class)
    raise ValueError(
        f"The 'particle_class' parameter of measure_label_maps must be one of the class labels "
        f"{labels.tolist()} or names {names}. Got {particle_class!r} instead.")


def _pixel_sizes(pixel_size, n):
    if pixel_size is None:
        return None
    sizes = np.broadcast_to(np.asarray(pixel_size, dtype=float), (n,)) if np.ndim(
        pixel_size) == 0 else np.asarray(pixel_size, dtype=float)
    if sizes.shape != (n,) or not np.all(np.isfinite(sizes)) or (sizes <= 0).any():
        raise ValueError(
            "The 'pixel_size' parameter of measure_label_maps must be a positive number or one "
            f"per label map ({n}). Got {pixel_size!r} instead.")
    return sizes


def _tile_corners(shape, tile):
    (h, w), (th, tw) = shape, tile
    rows, cols = np.meshgrid(np.arange(0, h - th + 1, th), np.arange(0, w - tw + 1, tw),
                             indexing="ij")
    return list(zip(rows.ravel().tolist(), cols.ravel().tolist()))


def _measure(region, labels, names, particle, pixel_size):
    """One row: fractions of every class over the labelled pixels, then particle statistics."""
    from skimage.measure import label, regionprops

    labelled = region != UNLABELLED
    n = int(labelled.sum())
    row = {f"fraction__{name}": (float((region == c).sum()) / n if n else np.nan)
           for c, name in zip(labels, names)}
    if particle is None:
        return row
    areas = np.array([r.area for r in regionprops(label(region == particle, connectivity=2))],
                     dtype=float)
    diam = np.sqrt(4.0 * areas / np.pi)
    row["particles__count"] = int(areas.size)
    units = [("px", 1.0)] + ([("um", pixel_size)] if pixel_size is not None else [])
    for unit, scale in units:
        d = diam * scale
        stats = {"mean": d.mean(), "median": np.median(d),
                 **{f"p{q}": np.percentile(d, q) for q in PERCENTILES}} if d.size else {
            "mean": np.nan, "median": np.nan, **{f"p{q}": np.nan for q in PERCENTILES}}
        row.update({f"particles__diameter_{k}_{unit}": float(v) for k, v in stats.items()})
    if pixel_size is not None:
        row["particles__per_um2"] = areas.size / (n * pixel_size**2) if n else np.nan
    return row


def measure_label_maps(label_maps, *, class_names=None, particle_class=None, pixel_size=None,
                       tile=None, names=None):
    """Class area fractions and particle statistics of label maps, one row per map (or tile).

    Parameters
    ----------
    label_maps : array-like of shape (n, h, w), or list of 2-D integer arrays
        Class labels per pixel, as :meth:`TrainableSegmenter.predict` returns them; 255 marks
        unlabelled pixels, which count in no fraction or particle.
    class_names : list of str, dict {label: name} or None, default=None
        Names of the classes: a list names labels 0, 1, 2, ...; a dict any labels. Every
        class listed gets a fraction column (0 where absent); a map value that is neither a
        listed class nor 255 is an error. None: the labels found, named by their number.
    particle_class : int, str or None, default=None
        The class whose connected regions (8-connected) are particles: its label or name.
        None: no particle statistics.
    pixel_size : float, array-like of shape (n,) or None, default=None
        Pixel size of each map (micrometres per pixel), for diameters in physical units
        (columns ``..._um``) and the number of particles per um^2.
    tile : int, (int, int) or None, default=None
        Measure non-overlapping tiles of this size (rows, cols) instead of whole maps, from
        the top-left corner (the strip at the far edges that fills no whole tile is left
        out); particles are cut at tile borders.
    names : sequence of str or None, default=None
        One name per map. Give each micrograph's file name as in the features table's
        "file" index, so the two tables join (``pd.concat([features, measurements],
        axis=1)``). None: 0, 1, 2, ...

    Returns
    -------
    table : pandas.DataFrame
        Index "file" (the ``names``), or with ``tile`` a MultiIndex ("file", "tile") and
        columns ``meta__tile_row``, ``meta__tile_col`` (top-left pixel). Columns
        ``fraction__<class>`` (area fraction over the labelled pixels); with
        ``particle_class``: ``particles__count`` and the equivalent diameter
        ``sqrt(4 area / pi)`` of the particles as ``particles__diameter_{mean, median, p10,
        p90}_px`` (and ``_um`` with ``pixel_size``, plus ``particles__per_um2``). Statistics
        of no particle are NaN.

    See Also
    --------
    TrainableSegmenter : label maps from micrographs.
    skimage.measure.regionprops : the particle measurement used here.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.segmentation import measure_label_maps
    >>> label_map = np.zeros((10, 10), np.uint8)
    >>> label_map[1:3, 1:3] = 1                      # a 2x2 particle
    >>> label_map[5:9, 5:9] = 1                      # a 4x4 particle
    >>> table = measure_label_maps([label_map], class_names=["matrix", "carbide"],
    ...                            particle_class="carbide", pixel_size=0.5, names=["a.tif"])
    >>> table.loc["a.tif", ["fraction__matrix", "fraction__carbide", "particles__count"]].tolist()
    [0.8, 0.2, 2.0]
    >>> float(round(table.loc["a.tif", "particles__diameter_mean_um"], 4))  # (2.257+4.514)/2/2
    1.6926
    """
    import pandas as pd

    maps = _label_map_list(label_maps)
    labels, class_list = _class_names(class_names, maps)
    particle = _particle_label(particle_class, labels, class_list)
    sizes = _pixel_sizes(pixel_size, len(maps))
    if names is None:
        names = list(range(len(maps)))
    elif isinstance(names, (str, bytes)) or len(names) != len(maps):
        raise ValueError(
            "The 'names' parameter of measure_label_maps must be None or one name per label "
            f"map ({len(maps)}). Got {names!r} instead.")
    if tile is not None:
        pair = (tile, tile) if isinstance(tile, numbers.Integral) else tuple(tile)
        if len(pair) != 2 or not all(isinstance(t, numbers.Integral) and t >= 1 for t in pair):
            raise ValueError(
                "The 'tile' parameter of measure_label_maps must be None, a positive int or a "
                f"pair of positive ints (rows, cols). Got {tile!r} instead.")
    rows, index = [], []
    for i, (m, name) in enumerate(zip(maps, names)):
        size = None if sizes is None else float(sizes[i])
        if tile is None:
            rows.append(_measure(m, labels, class_list, particle, size))
            index.append(name)
            continue
        for k, (r, c) in enumerate(_tile_corners(m.shape, pair)):
            region = m[r:r + pair[0], c:c + pair[1]]
            rows.append({"meta__tile_row": r, "meta__tile_col": c,
                         **_measure(region, labels, class_list, particle, size)})
            index.append((name, k))
    if tile is None:
        idx = pd.Index(index, name="file")
    else:
        idx = pd.MultiIndex.from_tuples(index, names=["file", "tile"]) if index else \
            pd.MultiIndex.from_arrays([[], []], names=["file", "tile"])
    return pd.DataFrame(rows, index=idx)
