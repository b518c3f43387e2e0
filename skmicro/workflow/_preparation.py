"""Preparation: how the route turns one micrograph file into the image its descriptors see."""

from __future__ import annotations

import contextvars
import math
import numbers
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ._pixel_sizes import FORMS, TableSpec, parse_pixel_size, pixel_sizes

__all__ = ["Preparation"]

_CALLER = contextvars.ContextVar("skmicro_preparation_caller", default="Preparation")


@contextmanager
def checked_as(caller):
    """Preparations built inside name ``caller`` in their error messages (the public function
    whose keyword arguments they hold)."""
    token = _CALLER.set(caller)
    try:
        yield
    finally:
        _CALLER.reset(token)


# the preparation keywords of describe_folder, map_collection, ... and their defaults
DEFAULTS = {"crop_data_bar": True, "pixel_size": None, "target_pixel_size": None,
            "contrast": None, "tile": None, "aggregate": "mean"}


def preparation_of(caller, preparation, settings):
    """The Preparation of a call: ``preparation``, or one made of the caller's keyword
    ``settings`` (checked, errors naming ``caller``); both at once is an error."""
    if preparation is None:
        with checked_as(caller):
            return Preparation(**settings)
    if not isinstance(preparation, Preparation):
        raise TypeError(f"The 'preparation' parameter of {caller} must be a "
                        f"skmicro.workflow.Preparation or None. Got "
                        f"{type(preparation).__name__} instead.")
    changed = [k for k, v in settings.items() if v is not DEFAULTS[k]
               and not (isinstance(v, (str, bool)) and v == DEFAULTS[k])]
    if changed:
        raise ValueError(f"{caller} got preparation= and {', '.join(changed)}=: set "
                         f"{', '.join(changed)} in the Preparation instead.")
    return preparation


class FileError(ValueError):
    """One file that cannot be prepared; ``reason`` says why without naming the file."""

    def __init__(self, path, reason):
        super().__init__(f"Cannot prepare micrograph '{path}': {reason}")
        self.path, self.reason = path, reason


def _check(prep, caller):
    # By hand, not validate_params: that would import scikit-learn, which a run served from
    # the cache never needs (tests/test_workflow_describe.py checks it stays so).
    crop = prep.crop_data_bar
    if not (isinstance(crop, bool) or (isinstance(crop, numbers.Integral) and crop >= 0)):
        raise ValueError(
            f"The 'crop_data_bar' parameter of {caller} must be True (detect and cut the "
            "microscope's data bar), False, or a number of rows to cut at the bottom. Got "
            f"{crop!r} instead."
        )
    target = prep.target_pixel_size
    if target is not None and not (isinstance(target, numbers.Real) and 0 < target < math.inf):
        raise ValueError(
            f"The 'target_pixel_size' parameter of {caller} must be a positive number "
            f"(micrometres per pixel) or None. Got {target!r} instead."
        )
    tile = prep.tile
    if tile is not None and not (isinstance(tile, numbers.Integral) and tile >= 1) and not (
            isinstance(tile, (tuple, list)) and len(tile) == 2
            and all(isinstance(t, numbers.Integral) and t >= 1 for t in tile)):
        raise ValueError(
            f"The 'tile' parameter of {caller} must be None, a tile side in pixels or a pair "
            f"(rows, cols). Got {tile!r} instead."
        )
    if prep.contrast not in (None, "percentile", "clahe"):
        raise ValueError(
            f"The 'contrast' parameter of {caller} must be None (images as stored), "
            "'percentile' (stretch each image between its 1st and 99th percentiles) or "
            f"'clahe' (adaptive histogram equalization). Got {prep.contrast!r} instead."
        )
    if prep.aggregate not in ("mean", "mean_std"):
        raise ValueError(
            f"The 'aggregate' parameter of {caller} must be 'mean' or 'mean_std' (how tile "
            f"descriptors are combined per image). Got {prep.aggregate!r} instead."
        )
    return parse_pixel_size(prep.pixel_size, caller)


@dataclass(frozen=True, eq=False, kw_only=True)
class Preparation:
    """How the route prepares each micrograph file before describing or segmenting it.

    One file is read, its data bar cut, its contrast normalized and it is resampled to one
    pixel size, in that order (:meth:`prepare_file`); descriptors are then applied whole or
    by tiles (:meth:`wrap`). :func:`describe_folder`, :func:`map_collection` and the command
    line (``--data-bar-rows``, ``--pixel-size``, ... on ``skmicro features`` and
    ``skmicro map``) all prepare images through this object, so one set of settings means
    the same pixels everywhere, with one cache identity (:meth:`cache_key`). Every value is
    checked when the object is made.

    Parameters
    ----------
    crop_data_bar : bool or int, default=True
        True detects the microscope's data bar at the top or bottom edge
        (:func:`~skmicro.preprocessing.find_data_bar`) and cuts it; an int cuts that many
        rows at the bottom; False keeps the whole image.
    pixel_size : float, mapping, pandas.Series, str or None, default=None
        Micrometres per pixel: one number for every image; a mapping from file name (as in
        the features table, or the base name) to a number; ``"TABLE.csv:COLUMN"``, a
        spreadsheet column of micrometres per pixel; or ``"TABLE.csv:LENGTH/PIXELS"``, a scale
        bar: a column of its length in micrometres (a column ``LENGTH_units`` of um, nm or mm
        is honoured) and a column of its length in pixels, e.g.
        ``"metadata.csv:micron_bar/micron_bar_px"``. Spreadsheet rows are matched to the
        files by the column that names them (:func:`join_table`). Files without a value fall
        back to the size their TIFF tags declare; None uses only those.
    target_pixel_size : float or None, default=None
        Resample every image to this many micrometres per pixel
        (:class:`~skmicro.preprocessing.RescalePixelSize`), so that images taken at different
        magnifications are described at one physical scale. Needs a pixel size per file.
    contrast : {None, "percentile", "clahe"}, default=None
        Normalize each image's contrast after the data bar is cut
        (:class:`~skmicro.preprocessing.NormalizeContrast`): "percentile" maps its 1st and
        99th grey-level percentiles to 0 and 1, "clahe" equalizes it adaptively. None keeps
        the grey levels as stored.
    tile : int, (int, int) or None, default=None
        Describe each image by its tiles of this size (:meth:`wrap`); prepared images
        themselves are never tiled.
    aggregate : {"mean", "mean_std"}, default="mean"
        How tile descriptors are combined per image (only with ``tile``).

    See Also
    --------
    describe_folder : a folder of micrographs -> a features table, with these settings.
    skmicro.preprocessing.CropDataBar, skmicro.preprocessing.NormalizeContrast,
    skmicro.preprocessing.RescalePixelSize : the steps, as estimators on arrays.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skmicro.workflow import Preparation
    >>> path = Path(tempfile.mkdtemp()) / "a.png"
    >>> image = np.random.default_rng(0).integers(0, 256, (100, 120)).astype(np.uint8)
    >>> image[90:] = 0                                   # a data bar of 10 rows
    >>> Image.fromarray(image).save(path)
    >>> prep = Preparation(pixel_size=0.1, target_pixel_size=0.2)
    >>> prepared, info = prep.prepare_file(path)
    >>> prepared.shape, prepared.dtype.name, info["top"], info["bottom"], info["scale"]
    ((45, 60), 'float32', 0, 10, 0.5)
    >>> labels = (prepared > 0.5).astype(np.uint8)      # a per-pixel result
    >>> prep.to_original(labels, info, fill=255).shape   # on the file's pixels again
    (100, 120)
    >>> Preparation(contrast="stretch")
    Traceback (most recent call last):
    ...
    ValueError: The 'contrast' parameter of Preparation must be None (images as stored), \
'percentile' (stretch each image between its 1st and 99th percentiles) or 'clahe' (adaptive \
histogram equalization). Got 'stretch' instead.
    """

    crop_data_bar: bool | int = True
    pixel_size: object = None
    target_pixel_size: float | None = None
    contrast: str | None = None
    tile: int | tuple | None = None
    aggregate: str = "mean"
    _pixel_size: object = field(default=None, init=False, repr=False, compare=False)
    _resolved: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_pixel_size", _check(self, _CALLER.get()))

    def cache_key(self):
        """What the preparation does to the pixels, as a JSON-ready list (part of every cache
        key of :func:`describe_folder`; ``pixel_size`` enters each image's own key instead).

        Returns
        -------
        key : list

        Examples
        --------
        >>> from skmicro.workflow import Preparation
        >>> Preparation().cache_key()
        ['prep', True, None, None, None]
        >>> Preparation(crop_data_bar=38, tile=(64, 64), contrast="clahe").cache_key()
        ['prep', 38, None, [64, 64], 'mean', ['contrast', 'clahe']]
        """
        tile = list(self.tile) if isinstance(self.tile, (list, tuple)) else self.tile
        key = ["prep", self.crop_data_bar, self.target_pixel_size, tile,
               self.aggregate if self.tile is not None else None]
        if self.contrast is not None:  # appended only when set: caches made before stay valid
            key.append(["contrast", self.contrast])
        return key

    def pixel_sizes(self, names):
        """The given pixel size of each file: ``pixel_size`` looked up by file name.

        Parameters
        ----------
        names : sequence of str
            File names as in the features table (``"sub/a.tif"``); a mapping or spreadsheet
            is matched by these, then by base names.

        Returns
        -------
        sizes : list of float or None
            Micrometres per pixel, None where nothing was given (the file's own tags are then
            used, where it has them).

        Examples
        --------
        >>> from skmicro.workflow import Preparation
        >>> Preparation(pixel_size={"a.tif": 0.5}).pixel_sizes(["a.tif", "b.tif"])
        [0.5, None]
        """
        names = [str(n) for n in names]
        if isinstance(self._pixel_size, TableSpec):
            missing = [n for n in names if n not in self._resolved]
            if missing:
                self._resolved.update(zip(missing, pixel_sizes(self._pixel_size, missing)))
            return [self._resolved[n] for n in names]
        return pixel_sizes(self._pixel_size, names)

    def cut_data_bar(self, image):
        """The rows ``crop_data_bar`` cuts from one image.

        Parameters
        ----------
        image : ndarray of shape (h, w) or (h, w, 3)

        Returns
        -------
        top, bottom : int
            Rows to cut at the top and at the bottom.

        Raises
        ------
        ValueError
            The image is not one the data-bar search reads, or ``crop_data_bar`` is a number
            of rows not smaller than its height.
        """
        from ..preprocessing import find_data_bar

        height = image.shape[0]
        if self.crop_data_bar is True:
            try:
                return find_data_bar(image)
            except ValueError as exc:
                raise ValueError(f"cannot look for its data bar: {exc}") from exc
        bottom = int(self.crop_data_bar)  # False is 0
        if bottom >= height:
            raise ValueError(f"crop_data_bar={bottom} rows, but the image has only {height}.")
        return 0, bottom

    def prepare_file(self, path, *, pixel_size=None):
        """Read one micrograph file and prepare it: data bar cut, contrast, pixel size.

        Parameters
        ----------
        path : str or path-like
            A micrograph file (any format :func:`skmicro.io.load_micrographs` reads).
        pixel_size : float or None, default=None
            This file's micrometres per pixel. None: this Preparation's ``pixel_size`` for the
            file (looked up by its base name), else what the file declares.

        Returns
        -------
        image : ndarray of shape (h', w'), float32
            The prepared grey image (C-contiguous).
        info : dict
            What :meth:`to_original` needs to put a per-pixel result back on the file's
            pixels, and what the features table reports: ``"height"``, ``"width"`` (the
            file's), ``"top"``, ``"bottom"`` (rows cut), ``"data_bar_rows"`` (their sum),
            ``"declared_pixel_size_um"`` (from the file, or None), ``"pixel_size_um"`` (the
            size used: given, else declared, else None), ``"scale"`` (the resampling
            factor applied, 1.0 when not resampled) and ``"shape"`` (the prepared image's
            ``(h', w')``).

        Raises
        ------
        ValueError
            The file cannot be read or prepared (the message names the file and the reason),
            e.g. ``target_pixel_size`` is set and no pixel size is known for it.
        """
        path = Path(path)
        if pixel_size is None:
            pixel_size = self.pixel_sizes([path.name])[0]
        return self._prepare(path, pixel_size)

    def _prepare(self, path, given):
        import numpy as np

        from .._validation import as_float32
        from ..io import load_micrographs
        from ..preprocessing import NormalizeContrast, RescalePixelSize

        try:
            images, declared = load_micrographs([path], return_pixel_size=True)
        except (ValueError, OSError) as exc:
            raise FileError(path, str(exc)) from exc
        image = images[0]
        height, width = image.shape[:2]
        try:
            top, bottom = self.cut_data_bar(image)
        except ValueError as exc:
            raise FileError(path, str(exc)) from exc
        # float32 in the input contract's units, so that files of one size but different
        # integer types (uint8, uint16) are stacked without rescaling one of them
        image = as_float32(image[top:height - bottom], name="image", caller="Preparation")
        if self.contrast is not None:  # after the crop: the bar's black and white would set it
            image = NormalizeContrast(self.contrast).fit_transform(image[None])[0]
        declared = float(declared[0])
        declared = None if math.isnan(declared) else declared
        size = given if given is not None else declared
        info = {"height": int(height), "width": int(width), "data_bar_rows": int(top + bottom),
                "declared_pixel_size_um": declared, "top": int(top), "bottom": int(bottom),
                "pixel_size_um": size, "scale": 1.0}
        if self.target_pixel_size is not None:
            if size is None:
                raise FileError(path, (
                    "it declares no pixel size, and target_pixel_size needs one. Give the pixel "
                    "sizes with pixel_size= (a number, a mapping from file name to micrometres "
                    f"per pixel, or {FORMS}; --pixel-size on the command line), or leave "
                    "target_pixel_size unset."))
            image = RescalePixelSize(self.target_pixel_size).fit_transform(
                image[None], pixel_size=[size])[0]
            info["scale"] = size / self.target_pixel_size
        elif image.ndim == 3:
            image = image[..., 0] if image.shape[-1] == 1 else image
        info["shape"] = tuple(int(n) for n in image.shape[:2])
        return np.ascontiguousarray(image), info

    def to_original(self, result, info, *, order=0, fill=0):
        """Put a per-pixel result on a prepared image back on the file's pixels.

        Parameters
        ----------
        result : array-like of shape (h', w') or (h', w', c)
            One value (or ``c`` values) per pixel of the image :meth:`prepare_file` returned:
            labels, probabilities, a mask.
        info : dict
            The ``info`` :meth:`prepare_file` returned for that file.
        order : int, default=0
            Interpolation order where the image was resampled: 0 (nearest, for labels), 1
            (bilinear, for probabilities or other continuous values).
        fill : scalar, default=0
            Value of the data-bar rows, which have no result (e.g. 255, "unlabelled").

        Returns
        -------
        full : ndarray of shape (height, width) or (height, width, c)
            The result on the file's pixel grid, in ``result``'s dtype.
        """
        import numpy as np

        result = np.asarray(result)
        rows = info["height"] - info["top"] - info["bottom"]
        shape = (rows, info["width"]) + result.shape[2:]
        if result.shape != shape:
            from skimage.transform import resize

            result = resize(result, shape, order=order, mode="edge", anti_aliasing=False,
                            preserve_range=True).astype(result.dtype, copy=False)
        full = np.full((info["height"], info["width"]) + result.shape[2:], fill, result.dtype)
        full[info["top"]:info["top"] + rows] = result
        return full

    def to_prepared(self, array, info, *, order=0):
        """Bring a per-pixel array of the file (e.g. its label mask) onto the prepared grid.

        The inverse of :meth:`to_original`: the data-bar rows are cut and the rest resampled
        to the prepared image's shape, so that ``array`` lines up pixel by pixel with the
        image :meth:`prepare_file` returned (contrast does not apply).

        Parameters
        ----------
        array : array-like of shape (height, width) or (height, width, c)
            One value (or ``c`` values) per pixel of the file.
        info : dict
            The ``info`` :meth:`prepare_file` returned for that file.
        order : int, default=0
            Interpolation order where the image was resampled: 0 (nearest, for labels), 1
            (bilinear, for continuous values).

        Returns
        -------
        prepared : ndarray of shape (h', w') or (h', w', c)
            In ``array``'s dtype.

        Raises
        ------
        ValueError
            ``array`` is not of the file's size.
        """
        import numpy as np

        array = np.asarray(array)
        if array.shape[:2] != (info["height"], info["width"]):
            raise ValueError(
                f"The array to prepare must have the file's size, {info['height']}x"
                f"{info['width']}; got shape {array.shape}."
            )
        cut = array[info["top"]:info["height"] - info["bottom"]]
        shape = tuple(info["shape"]) + array.shape[2:]
        if cut.shape == shape:
            return cut.copy()
        from skimage.transform import resize

        return resize(cut, shape, order=order, mode="edge", anti_aliasing=False,
                      preserve_range=True).astype(array.dtype, copy=False)

    def wrap(self, descriptor):
        """The descriptor as this preparation applies it: by tiles when ``tile`` is set.

        Parameters
        ----------
        descriptor : estimator
            An image-to-row transformer.

        Returns
        -------
        estimator
            ``descriptor`` itself, or a :class:`~skmicro.preprocessing.TiledFeatures` around it.
        """
        if self.tile is None:
            return descriptor
        from ..preprocessing import TiledFeatures

        tile = tuple(self.tile) if isinstance(self.tile, (list, tuple)) else int(self.tile)
        return TiledFeatures(descriptor, tile_size=tile, aggregate=self.aggregate)
