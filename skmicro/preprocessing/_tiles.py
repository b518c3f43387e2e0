"""Large micrographs by tiles: tiles as samples, and per-image aggregation of tile descriptors."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone

from .._validation import (
    IMAGE_SHAPE_CONSTRAINT,
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    check_image_shape_param,
    check_images,
    check_is_fitted,
    check_label_masks,
    check_mask_classes,
    validate_params,
)


def _pair(value, name, caller, minimum=1):
    """An int or a pair of ints >= ``minimum`` (1 for sizes, 0 for offsets) as (rows, cols)."""
    pair = (value, value) if isinstance(value, numbers.Integral) else tuple(value)
    if len(pair) != 2 or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= minimum
        for v in pair
    ):
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(
            f"The '{name}' parameter of {caller} must be a {kind} int or a pair of {kind} "
            f"ints (rows, cols). Got {value!r} instead."
        )
    return int(pair[0]), int(pair[1])


def _tile_grid(shape, tile, stride, index, caller, offset=(0, 0)):
    """Top-left corners of the tiles of one image, row-major, starting at ``offset``; the
    remainder at the far edges that does not fill a whole tile is left out."""
    (h, w), (th, tw), (oy, ox) = shape, tile, offset
    if h < oy + th or w < ox + tw:
        at = f" from offset {oy},{ox}" if oy or ox else ""
        raise ValueError(
            f"{caller}: image {index} is {h}x{w} pixels, smaller than one tile{at} "
            f"(tile_size={th}x{tw}). Use a smaller tile_size or offset, or leave the image out."
        )
    rows, cols = np.meshgrid(np.arange(oy, h - th + 1, stride[0]),
                             np.arange(ox, w - tw + 1, stride[1]), indexing="ij")
    return np.column_stack([rows.ravel(), cols.ravel()])


def _tile_batches(image, tile, stride, batch_size, index, caller, offset=(0, 0)):
    """Yield tiles of one image as float32 arrays (m <= batch_size, th, tw): only one batch of
    tiles is ever copied out of the image."""
    windows = np.lib.stride_tricks.sliding_window_view(image, tile)  # a view, no copy
    corners = _tile_grid(image.shape, tile, stride, index, caller, offset)
    for start in range(0, len(corners), batch_size):
        rows, cols = corners[start:start + batch_size].T
        yield windows[rows, cols]


def extract_tiles(images, tile_size, stride=None, *, offset=0, image_shape=None):
    """Cut images into tiles, with the index of each tile's image as a group label.

    Use the tiles as samples (more samples from few micrographs) and the groups with
    :class:`~sklearn.model_selection.GroupKFold` so that tiles of one micrograph never sit on
    both sides of a split.

    Parameters
    ----------
    images : array-like of shape (n, h, w) or (n, h, w, 3), or list of images
        Any form the image input contract takes (colour becomes luminance).
    tile_size : int or tuple (rows, cols)
        Tile size in pixels.
    stride : int, tuple (rows, cols) or None, default=None
        Step between tiles; None means ``tile_size`` (non-overlapping tiles). Tiles start at
        the top-left corner; the strip at the far edges too narrow for a whole tile is left
        out.
    offset : int or tuple (rows, cols), default=0
        Top-left corner of the first tile; shifting the grid by less than a tile gives other
        tiles of the same images (e.g. to measure how a result depends on where tiles fall).
    image_shape : tuple (h, w) or None, default=None
        Needed only for tabular input ``(n_samples, h * w)``.

    Returns
    -------
    tiles : ndarray of shape (n_tiles, rows, cols), float32
        The tiles of image 0 first (row-major), then image 1, ...
    groups : ndarray of shape (n_tiles,), int64
        Index of each tile's image in ``images``.

    See Also
    --------
    tile_fractions : the same tiles with per-tile class fractions from label masks.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.preprocessing import extract_tiles
    >>> images = [np.zeros((64, 64)), np.ones((64, 96))]
    >>> tiles, groups = extract_tiles(images, tile_size=32)
    >>> tiles.shape, groups.tolist()
    ((10, 32, 32), [0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    """
    caller = "extract_tiles"
    tile = _pair(tile_size, "tile_size", caller)
    step = tile if stride is None else _pair(stride, "stride", caller)
    start = _pair(offset, "offset", caller, minimum=0)
    image_set = check_images(images, image_shape=check_image_shape_param(
        image_shape, caller=caller), channels="gray")
    per_image = {}
    for indices, stack in image_set.groups:
        for index, image in zip(indices, stack):
            per_image[int(index)] = np.concatenate(list(
                _tile_batches(image, tile, step, 4096, int(index), caller, start)))
    tiles = [per_image[i] for i in range(image_set.n_samples)]
    groups = np.repeat(np.arange(len(tiles), dtype=np.int64), [len(t) for t in tiles])
    return np.concatenate(tiles), groups


def _window_sums(channels, corners, tile):
    """Sums of each channel (k, h, w) over each tile window: (n_corners, k), float64, from an
    integral image (exact for 0/1 indicators, no per-tile copy)."""
    k, h, w = channels.shape
    integral = np.zeros((k, h + 1, w + 1))
    np.cumsum(np.cumsum(channels, axis=1, dtype=np.float64), axis=2, out=integral[:, 1:, 1:])
    r0, c0 = corners[:, 0], corners[:, 1]
    r1, c1 = r0 + tile[0], c0 + tile[1]
    sums = (integral[:, r1, c1] - integral[:, r0, c1] - integral[:, r1, c0]
            + integral[:, r0, c0])
    return sums.T


@validate_params(
    {
        "images": "no_validation",  # the image input contract checks them
        "masks": "no_validation",  # checked against the images below
        "tile_size": "no_validation",  # int or pair, checked as in extract_tiles
        "stride": "no_validation",
        "classes": [None, "array-like"],
        "unlabelled": [None, Interval(numbers.Integral, None, None, closed="neither")],
        "max_unlabelled": [Interval(numbers.Real, 0, 1, closed="left")],
        "pixel_size": [None, Interval(numbers.Real, 0, None, closed="neither"), "array-like"],
        "target_pixel_size": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "offset": "no_validation",
        "image_shape": IMAGE_SHAPE_CONSTRAINT,
    },
    prefer_skip_nested_validation=True,
)
def tile_fractions(images, masks, tile_size, stride=None, *, classes=None, unlabelled=255,
                   max_unlabelled=0.0, pixel_size=None, target_pixel_size=None, offset=0,
                   image_shape=None):
    """Cut images and their label masks into matching tiles; each tile's class fractions.

    The regression data of a segmented micrograph collection: tiles as samples, the area
    fraction of each class (phase, microconstituent) in the tile as targets, and the index of
    the source image as the group for :class:`~sklearn.model_selection.GroupKFold`. The
    tiles are those of :func:`extract_tiles` (same grid, same order), less the tiles dropped
    for unlabelled pixels.

    Parameters
    ----------
    images : array-like of shape (n, h, w) or (n, h, w, 3), or list of images
        Any form the image input contract takes (colour becomes luminance).
    masks : array-like of shape (n, h, w), or list of 2-D integer arrays
        One label image per image, of its size: a class label per pixel, or ``unlabelled``.
    tile_size : int or tuple (rows, cols)
        Tile size in pixels of the (resampled) images.
    stride : int, tuple (rows, cols) or None, default=None
        Step between tiles; None means ``tile_size`` (non-overlapping tiles).
    classes : sequence of int or None, default=None
        The labels whose fractions are returned, in this column order. None means every
        value found in the masks except ``unlabelled``, sorted; pass the labels explicitly
        so that the columns do not depend on which classes a subset of images happens to
        show. A mask value that is neither a class nor ``unlabelled`` raises a ValueError.
    unlabelled : int or None, default=255
        The mask value of pixels nobody annotated (255 in 8-bit label images: e.g. the
        microscope's data bar). None: every pixel is labelled.
    max_unlabelled : float in [0, 1), default=0.0
        Tiles whose unlabelled area exceeds this fraction of the tile are dropped; the
        fractions of the tiles kept are computed over their labelled area only. The default
        keeps only fully labelled tiles (see Notes).
    pixel_size : float, array-like of shape (n,) or None, default=None
        Pixel size of each image, to bring every image to ``target_pixel_size`` first (as
        :class:`RescalePixelSize` does), so that every tile covers the same physical area.
        Give both or neither.
    target_pixel_size : float or None, default=None
        The common pixel size, in the unit of ``pixel_size``.
    offset : int or tuple (rows, cols), default=0
        Top-left corner of the first tile, as in :func:`extract_tiles`.
    image_shape : tuple (h, w) or None, default=None
        Needed only for tabular input ``(n_samples, h * w)``; masks may then be tabular too.

    Returns
    -------
    tiles : ndarray of shape (n_tiles, rows, cols), float32
        The kept tiles, image 0 first (row-major), then image 1, ...
    fractions : ndarray of shape (n_tiles, n_classes), float64
        Area fraction of each class in each tile, over its labelled area (rows sum to 1).
    groups : ndarray of shape (n_tiles,), int64
        Index of each tile's image in ``images``.

    See Also
    --------
    extract_tiles : the tiles alone.
    RescalePixelSize : one physical pixel size for a whole collection.

    Notes
    -----
    **Unlabelled pixels.** By default a tile touching any unlabelled pixel is dropped rather
    than scored over its labelled part: in micrographs the unlabelled region is usually not
    microstructure (the data bar with its text and scale bar), so such a tile's descriptor
    would see pixels its target does not describe. ``max_unlabelled > 0`` keeps tiles with
    some unlabelled area (fractions then refer to the labelled part only), for annotations
    with small unlabelled holes inside the microstructure.

    **Resampling.** With ``pixel_size``, each image is resampled like
    :class:`RescalePixelSize` does (bilinear, Gaussian anti-aliasing when shrinking), and so
    is the 0/1 indicator image of each class and of the unlabelled value: the fractions are
    areas of the resampled indicators, so a tile whose footprint straddles a class boundary
    gets the physical share of each class instead of the nearest-neighbour vote of a
    resampled label image, and a tile whose footprint comes near unlabelled pixels (through
    the anti-aliasing blur that also reaches the image) counts as touching them.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.preprocessing import tile_fractions
    >>> image = np.zeros((4, 6))
    >>> mask = np.array([[0, 0, 1, 1, 1, 1],
    ...                  [0, 0, 1, 1, 1, 1],
    ...                  [0, 1, 1, 1, 255, 255],
    ...                  [0, 1, 1, 1, 255, 255]])
    >>> tiles, fractions, groups = tile_fractions([image], [mask], tile_size=2, classes=[0, 1])
    >>> tiles.shape, groups.tolist()        # the tile holding 255 is dropped
    ((5, 2, 2), [0, 0, 0, 0, 0])
    >>> fractions[:, 1].tolist()            # network fraction of each kept tile
    [0.0, 1.0, 1.0, 0.5, 1.0]
    """
    caller = "tile_fractions"
    tile = _pair(tile_size, "tile_size", caller)
    step = tile if stride is None else _pair(stride, "stride", caller)
    start = _pair(offset, "offset", caller, minimum=0)
    if (pixel_size is None) != (target_pixel_size is None):
        raise ValueError(
            f"{caller}: give both pixel_size and target_pixel_size to resample the images to "
            "one pixel size, or neither to tile them as they are. Got "
            f"pixel_size={'None' if pixel_size is None else 'set'}, "
            f"target_pixel_size={target_pixel_size!r}."
        )
    image_set = check_images(images, image_shape=check_image_shape_param(
        image_shape, caller=caller), channels="gray", name="images")
    by_index = {int(i): im for indices, stack in image_set.groups
                for i, im in zip(indices, stack)}
    image_list = [by_index[i] for i in range(image_set.n_samples)]
    mask_list = check_label_masks(masks, [im.shape for im in image_list],
                                  image_shape=image_shape, caller=caller)
    labels = check_mask_classes(classes, mask_list, unlabelled, caller=caller)
    sizes = None
    if pixel_size is not None:
        from ._pixel_size import RescalePixelSize, _check_pixel_sizes

        sizes = _check_pixel_sizes(pixel_size, len(image_list),
                                   f"The 'pixel_size' parameter of {caller}")
        rescaler = RescalePixelSize(target_pixel_size=target_pixel_size)

    tiles, fractions, groups = [], [], []
    for index, (image, mask) in enumerate(zip(image_list, mask_list)):
        channels = [mask == c for c in labels]
        channels.append(mask == unlabelled if unlabelled is not None
                        else np.zeros(mask.shape, dtype=bool))
        channels = [c.astype(np.float32) for c in channels]
        if sizes is not None:  # the image and every indicator, resampled alike
            image, *channels = rescaler.transform(
                [image, *channels], pixel_size=np.full(len(channels) + 1, sizes[index]))
        corners = _tile_grid(image.shape, tile, step, index, caller, start)
        sums = _window_sums(np.stack(channels), corners, tile)
        area = float(tile[0] * tile[1])
        keep = sums[:, -1] <= (max_unlabelled + 1e-6) * area
        labelled = sums[keep, :-1]
        windows = np.lib.stride_tricks.sliding_window_view(image, tile)
        rows, cols = corners[keep].T
        tiles.append(windows[rows, cols])
        fractions.append(labelled / labelled.sum(axis=1, keepdims=True))
        groups.append(np.full(int(keep.sum()), index, dtype=np.int64))
    return (np.concatenate(tiles).astype(np.float32, copy=False), np.concatenate(fractions),
            np.concatenate(groups))


class TiledFeatures(TransformerMixin, BaseEstimator):
    """Describe each image by the descriptors of its tiles, aggregated per image.

    A 4096x4096 micrograph may not fit through a descriptor in one pass; its 256x256 tiles
    do. ``fit`` fits a clone of ``descriptor`` on tiles; ``transform`` cuts each image into
    tiles, describes them ``batch_size`` tiles at a time (never all tiles of an image at
    once) and keeps running sums, so memory is bounded by one image plus one batch.

    Parameters
    ----------
    descriptor : estimator
        An unfitted image descriptor (``fit``/``transform`` taking ``(n, h, w)`` images, e.g.
        :class:`~skmicro.PowerSpectrumFeatures`). It is cloned, never modified.
    tile_size : int or tuple (rows, cols), default=256
        Tile size in pixels.
    stride : int, tuple or None, default=None
        Step between tiles; None means ``tile_size`` (non-overlapping). The strip at the far
        edges too narrow for a whole tile is left out.
    aggregate : {"mean", "mean_std"}, default="mean"
        Per image: the mean of the tile descriptors, or their mean followed by their standard
        deviation (population, ``ddof=0``) over the tiles, which measures heterogeneity.
    batch_size : int, default=64
        Tiles per call to the descriptor's ``transform``.
    image_shape : tuple (h, w) or None, default=None
        Needed only for tabular input ``(n_samples, h * w)``.

    Attributes
    ----------
    descriptor_ : estimator
        The clone of ``descriptor`` fitted on tiles.
    n_output_features_ : int
        Output columns: the descriptor's features, twice for "mean_std".
    n_features_in_ : int
        Only after fitting on tabular input.

    See Also
    --------
    extract_tiles : tiles as samples, with group labels for GroupKFold.

    Notes
    -----
    ``fit`` fits the descriptor on at most ``batch_size`` tiles, spread evenly over the tiles
    of the training images: enough for descriptors whose fit only records the tile size
    (power spectrum, scattering), and a bounded sample for those that learn from data
    (``VGGGramFeatures(n_components=...)``).

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro import PowerSpectrumFeatures
    >>> from skmicro.preprocessing import TiledFeatures
    >>> images = np.random.default_rng(0).random((2, 64, 96))
    >>> tiled = TiledFeatures(PowerSpectrumFeatures(radial=True, n_bins=4, device="cpu"),
    ...                       tile_size=32, aggregate="mean_std")
    >>> tiled.fit_transform(images).shape          # 6 tiles per image, 4 bins, mean and std
    (2, 8)
    >>> tiled.get_feature_names_out()[[0, 4]].tolist()
    ['S_f0_mean', 'S_f0_std']
    """

    _parameter_constraints = {
        "descriptor": [HasMethods(["fit", "transform"])],
        "tile_size": [Interval(numbers.Integral, 1, None, closed="left"), tuple, list],
        "stride": [None, Interval(numbers.Integral, 1, None, closed="left"), tuple, list],
        "aggregate": [StrOptions({"mean", "mean_std"})],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "image_shape": IMAGE_SHAPE_CONSTRAINT,
    }

    def __init__(self, descriptor, *, tile_size=256, stride=None, aggregate="mean",
                 batch_size=64, image_shape=None):
        self.descriptor = descriptor
        self.tile_size = tile_size
        self.stride = stride
        self.aggregate = aggregate
        self.batch_size = batch_size
        self.image_shape = image_shape

    def _grid_params(self):
        name = type(self).__name__
        check_image_shape_param(self.image_shape, caller=name)
        tile = _pair(self.tile_size, "tile_size", name)
        return tile, tile if self.stride is None else _pair(self.stride, "stride", name)

    def _validate_images(self, X, reset):
        return check_images(X, image_shape=self.image_shape, channels="gray", estimator=self,
                            reset=reset)

    @_fit_context(prefer_skip_nested_validation=False)  # the descriptor validates its own
    def fit(self, X, y=None):
        """Fit a clone of the descriptor on tiles of the images.

        Parameters
        ----------
        X : array-like of shape (n, h, w) or (n, h, w, 3), or list of images
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        tile, stride = self._grid_params()
        images = self._validate_images(X, reset=True)
        corners = [
            (arr, i, corner)
            for indices, stack in images.groups
            for i, arr in zip(indices, stack)
            for corner in _tile_grid(arr.shape, tile, stride, int(i), type(self).__name__)
        ]
        pick = np.unique(np.linspace(0, len(corners) - 1, min(self.batch_size, len(corners)))
                         .round().astype(int))
        sample = np.stack([corners[k][0][r:r + tile[0], c:c + tile[1]]
                           for k in pick for r, c in [corners[k][2]]])
        self.descriptor_ = clone(self.descriptor).fit(sample)
        n_tile_features = getattr(self.descriptor_, "n_output_features_", None)
        if n_tile_features is None:  # a foreign descriptor: ask it once
            n_tile_features = np.shape(self.descriptor_.transform(sample[:1]))[1]
        self._n_tile_features = int(n_tile_features)
        self.n_output_features_ = self._n_tile_features * (
            2 if self.aggregate == "mean_std" else 1)
        return self

    def _tile_feature_names(self):
        if hasattr(self.descriptor_, "get_feature_names_out"):
            return [str(n) for n in self.descriptor_.get_feature_names_out()]
        return [f"feature{i}" for i in range(self._n_tile_features)]

    def transform(self, X):
        """Aggregate the tile descriptors of each image.

        Parameters
        ----------
        X : array-like of shape (n, h, w) or (n, h, w, 3), or list of images
            Images of any size of at least one tile.

        Returns
        -------
        X_new : ndarray of shape (n, n_output_features), float32
        """
        check_is_fitted(self)
        tile, stride = self._grid_params()
        images = self._validate_images(X, reset=False)
        out = np.empty((images.n_samples, self.n_output_features_), dtype=np.float32)
        for indices, stack in images.groups:
            for index, image in zip(indices, stack):
                out[index] = self._aggregate_one(image, tile, stride, int(index))
        return out

    def _aggregate_one(self, image, tile, stride, index):
        # Running mean and sum of squared deviations, merged batch by batch (Chan et al.'s
        # pairwise update): the mean and std never need all tiles at once, and there is no
        # cancellation of E[x^2] - E[x]^2 when the spread is small against the mean.
        count, mean, m2 = 0, 0.0, 0.0
        for batch in _tile_batches(image, tile, stride, self.batch_size, index,
                                   type(self).__name__):
            feats = np.asarray(self.descriptor_.transform(batch), dtype=np.float64)
            n_b, mean_b = len(feats), feats.mean(axis=0)
            delta = mean_b - mean
            total = count + n_b
            m2 = m2 + ((feats - mean_b) ** 2).sum(axis=0) + delta ** 2 * count * n_b / total
            mean = mean + delta * n_b / total
            count = total
        if self.aggregate == "mean":
            return mean
        return np.concatenate([mean, np.sqrt(m2 / count)])

    def get_feature_names_out(self, input_features=None):
        """The descriptor's feature names with ``_mean`` (and ``_std``) suffixes.

        Parameters
        ----------
        input_features : None
            Ignored; present for API consistency.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        names = self._tile_feature_names()
        suffixes = ("_mean", "_std") if self.aggregate == "mean_std" else ("_mean",)
        return np.asarray([n + s for s in suffixes for n in names], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
