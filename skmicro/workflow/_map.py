"""The route's map: a folder (or a features table) and a spreadsheet -> one interactive page."""

from __future__ import annotations

import os
from numbers import Integral
from pathlib import Path

from .._paths import check_output_path
from .._validation import Interval, validate_params
from ._join import join_table, read_table
from ._preparation import preparation_of
from ._table import META_PREFIX, descriptor_columns, read_features

__all__ = ["map_collection"]


def _descriptor_block(table, descriptor, source):
    """The columns to embed: one descriptor's, or (``descriptor`` None) every descriptor's."""
    blocks = descriptor_columns(table.columns, source[:1].upper() + source[1:])
    if descriptor is None:
        return [c for cols in blocks.values() for c in cols]
    if descriptor not in blocks:
        raise ValueError(f"{source} has no {descriptor!r} descriptor; it has: "
                         f"{', '.join(repr(b) for b in blocks)}. Pass one of them (--descriptor).")
    return blocks[descriptor]


@validate_params(
    {"source": [str, os.PathLike], "metadata": "no_validation", "color": [None, str],
     "descriptor": [None, str], "images": [None, str, os.PathLike],
     "cache": "no_validation",
     "max_points": [Interval(Integral, 3, None, closed="left")],
     "thumbnail_size": [Interval(Integral, 8, 1024, closed="both")],
     "title": [None, str], "out": [str, os.PathLike], "random_state": ["random_state"],
     "verbose": ["verbose"], "crop_data_bar": "no_validation", "pixel_size": "no_validation",
     "target_pixel_size": "no_validation", "contrast": "no_validation",
     "tile": "no_validation", "aggregate": "no_validation", "preparation": "no_validation"},
    prefer_skip_nested_validation=True,
)
def map_collection(source, *, metadata=None, color=None, descriptor="power_spectrum",
                   images=None, crop_data_bar=True, pixel_size=None, target_pixel_size=None,
                   contrast=None, tile=None, aggregate="mean", preparation=None, cache=True,
                   max_points=5000, thumbnail_size=96, title=None, out="map.html",
                   random_state=0, verbose=1):
    """Write the interactive map of a folder of micrographs (or of a features table).

    The route behind ``skmicro map``: the micrographs are described (or their features read),
    embedded in 2-D by metric MDS of one descriptor, joined by file name to a spreadsheet, and
    drawn by :func:`skmicro.plotting.collection_map` as one self-contained HTML page with each
    micrograph's thumbnail. A folder's micrographs are prepared as by :func:`describe_folder`
    (the same options, or one :class:`Preparation`); thumbnails show each file as stored,
    its data bar cut the same way.

    Parameters
    ----------
    source : str or path-like
        A folder of micrographs (described with :func:`describe_folder` and its per-file
        cache, so a second map of the same folder costs only the thumbnails), or a features
        table (``.parquet`` / ``.csv``) as ``skmicro features`` writes it.
    metadata : str, path-like or pandas.DataFrame, optional
        A spreadsheet whose rows name the micrographs (found by file name, see
        :func:`join_table`); shown on a click, and where ``color`` is looked up.
    color : str, optional
        The spreadsheet column (or a ``meta__`` column of the features table) to colour by.
    descriptor : str or None, default="power_spectrum"
        For a folder, the descriptor to compute, by name or spec (see
        :func:`parse_descriptor`): "power_spectrum" (radial, blind to orientation), e.g.
        "power_spectrum:radial=false,crop=12" for the low-frequency 2-D spectrum that sees
        orientation, "scattering", "vgg_gram". For a features table, the column prefix to
        embed; None embeds every descriptor column.
    images : str or path-like, optional
        For a features table: the folder its file names are relative to (default: the
        table's own folder). Thumbnails are read from there.
    crop_data_bar, pixel_size, target_pixel_size, contrast, tile, aggregate
        For a folder, how each micrograph is prepared before it is described, as in
        :func:`describe_folder` (and :class:`Preparation`); ``crop_data_bar`` also applies
        to the thumbnails of a features table.
    preparation : Preparation or None, default=None
        These settings in one object (then leave them at their defaults).
    cache : bool or path, default=True
        For a folder: :func:`describe_folder`'s per-file cache (True: the default cache
        folder; False: none; a path: that folder).
    max_points : int, default=5000
        Above this many micrographs the map shows a sample, stratified by ``color``.
    thumbnail_size : int, default=96
        Longer side of each thumbnail in pixels.
    title : str, optional
        Page title (default: "Collection map: ", the source's name and what placed the
        points, e.g. "(power_spectrum, metric MDS)").
    out : str or path-like, default="map.html"
        The page to write; checked before any work.
    random_state : int, RandomState instance or None, default=0
        Seeds the embedding and the sample.
    verbose : int, default=1
        Progress bars for the descriptors, the embedding and the thumbnails.

    Returns
    -------
    out : pathlib.Path
        The page written.

    Raises
    ------
    ValueError
        An unknown descriptor or colour column (the ones present are listed); a spreadsheet
        that names none or only some of the micrographs (a few of each are listed); fewer than
        3 micrographs; an output that is a folder, or whose folder does not exist.
    FileNotFoundError
        The source, the spreadsheet or a micrograph named by the features table is missing.
    PermissionError
        Nothing can be written in the output's folder (checked before any work).

    See Also
    --------
    skmicro.plotting.collection_map : the page itself, from arrays.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skmicro.workflow import map_collection
    >>> folder = Path(tempfile.mkdtemp())
    >>> rng = np.random.default_rng(0)
    >>> for i in range(4):
    ...     image = (rng.random((128, 160)) * 255).astype(np.uint8)
    ...     Image.fromarray(image).save(folder / f"{i}.png")
    >>> _ = (folder / "meta.csv").write_text("file,temperature\\n0.png,700\\n1.png,750\\n"
    ...                                      "2.png,800\\n3.png,850\\n")
    >>> page = map_collection(folder, metadata=folder / "meta.csv", color="temperature",
    ...                       cache=False, out=folder / "map.html", verbose=0)
    >>> page.name, page.stat().st_size > 100_000
    ('map.html', True)
    """
    import pandas as pd

    from ..io import LazyMicrographs
    from ..plotting import collection_map

    caller = "map_collection"
    prep = preparation_of(caller, preparation, dict(
        crop_data_bar=crop_data_bar, pixel_size=pixel_size,
        target_pixel_size=target_pixel_size, contrast=contrast, tile=tile,
        aggregate=aggregate))
    out = check_output_path(out, caller=caller, example="map.html")
    source = Path(source)
    if metadata is not None and not isinstance(metadata, pd.DataFrame):
        metadata = read_table(metadata)
    if (color is not None and not color.startswith(META_PREFIX)
            and (metadata is None or color not in metadata.columns)):
        where = ("no spreadsheet was given (--metadata)" if metadata is None else
                 "the spreadsheet's columns are: " + ", ".join(repr(str(c))
                                                               for c in metadata.columns))
        raise ValueError(f"{caller}: cannot colour by {color!r}: {where}.")

    if source.is_dir():
        from ._describe import describe_folder

        table = describe_folder(source, descriptors=[descriptor or "power_spectrum"],
                                preparation=prep, cache=cache, verbose=verbose)
        root, what = source, f"the features of {str(source)!r}"
    elif source.is_file():
        table = read_features(source)
        root = Path(images) if images is not None else source.parent
        what = f"features file {str(source)!r}"
    else:
        raise FileNotFoundError(f"{caller}: {str(source)!r} does not exist; give a folder of "
                                "micrographs or a features table (.parquet, .csv).")
    # a folder's table holds only the descriptor asked for (a spec such as
    # "power_spectrum:radial=false,crop=16" names its columns by the bare name)
    columns = _descriptor_block(table, descriptor if source.is_file() else None, what)
    placed = (descriptor or "power_spectrum") if source.is_dir() else (
        descriptor or "every descriptor")
    shown = table[[c for c in table.columns if str(c).startswith(META_PREFIX)]]
    if metadata is not None:
        shown = pd.concat([join_table(table, metadata), shown], axis=1)
    if color is not None and color not in shown.columns:
        raise ValueError(f"{caller}: cannot colour by {color!r}; the columns are: "
                         + ", ".join(repr(str(c)) for c in shown.columns) + ".")

    files = [str(f) for f in table.index]
    missing = [f for f in files if not (root / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{caller}: {len(missing)} micrographs of {what} are not in {str(root)!r} (e.g. "
            f"{missing[0]!r}); pass the folder they were described from (--images).")
    # only the micrographs shown (a sample above max_points) are read, one at a time, each
    # with its data bar cut as the descriptors' was

    def cut(image):
        top, bottom = prep.cut_data_bar(image)
        return image[top:image.shape[0] - bottom]

    shown_images = LazyMicrographs([root / f for f in files], transform=cut)
    return collection_map(shown_images, features=table[columns].to_numpy(),
                          color=color, labels=files, metadata=shown,
                          thumbnail_size=thumbnail_size, max_points=max_points,
                          title=title or f"Collection map: {source.name} ({placed}, metric MDS)",
                          out=out, random_state=random_state, verbose=verbose)
