"""TrainableSegmenter: a pixel classifier on dense descriptors, trained from label masks."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import has_fit_parameter

from .._engine import progress_bar
from .._validation import (
    N_JOBS_CONSTRAINT,
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
)
from ._pixels import (
    UNLABELLED,
    check_training_masks,
    context_maps,
    context_stride,
    frequency_weights,
    full_proba,
    image_list,
    pixel_uncertainty,
    sample_pixels,
)

#: Out-of-fold splits of the training images for the auto-context pass.
CONTEXT_FOLDS = 3


#: Layers of the default hypercolumn: every block's last convolution, conv5_4 included (its
#: 16x coarser maps see ~200 px around a pixel: the context of the network's neighbourhood).
DEFAULT_LAYERS = ("conv1_2", "conv2_2", "conv3_4", "conv4_4", "conv5_4")


def default_features():
    """The dense descriptors :class:`TrainableSegmenter` uses when ``features=None``.

    A VGG-19 hypercolumn of the last convolution of every block (``conv1_2`` ... ``conv5_4``)
    projected to 64 channels (seeded random projection, seed 0), and the classical filter
    bank at scales 0.5-16 px (30 channels): 94 features per pixel.

    Returns
    -------
    features : list of unfitted transformers

    Examples
    --------
    >>> from skmicro.segmentation import default_features
    >>> [type(t).__name__ for t in default_features()]
    ['VGGHypercolumnPixelFeatures', 'FilterBankPixelFeatures']
    """
    from ..features import FilterBankPixelFeatures, VGGHypercolumnPixelFeatures

    return [VGGHypercolumnPixelFeatures(layers=DEFAULT_LAYERS, n_components=64, random_state=0),
            FilterBankPixelFeatures()]


def default_classifier(random_state=None):
    """The classifier used when ``classifier=None``: gradient-boosted trees on histograms."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=31,
                                          early_stopping=False, random_state=random_state)


class TrainableSegmenter(BaseEstimator):
    """Segment micrographs pixel by pixel with any classifier on dense descriptors.

    ``fit`` computes per-pixel descriptors of every training image, draws up to
    ``pixels_per_image`` labelled pixels from each (stratified by class, so a handful of
    scribbles on many images trains as well as full masks on a few) and fits the classifier
    on the pooled pixels. ``predict`` computes the descriptors of new images and classifies
    every pixel. With ``context``, a second classifier sees, beside each pixel's descriptors,
    the first classifier's class probabilities smoothed at larger scales (auto-context):
    what surrounds a pixel over tens of micrometres, which a pixel's own neighbourhood
    does not show.

    Parameters
    ----------
    features : transformer, list of transformers or None, default=None
        Dense descriptors: ``transform(images)`` returns ``(n, h, w, n_features)`` at the
        images' resolution (:class:`~skmicro.features.FilterBankPixelFeatures`,
        :class:`~skmicro.features.VGGHypercolumnPixelFeatures`,
        :class:`~skmicro.features.FunctionPixelFeatures`, or your own). A list is
        concatenated along the last axis. Each is cloned and fitted on the training images.
        None uses :func:`default_features` (see Notes).
    classifier : classifier or None, default=None
        Any scikit-learn classifier with ``predict_proba``; cloned, never modified. None is
        ``HistGradientBoostingClassifier(max_iter=100, early_stopping=False)`` (see Notes).
    pixels_per_image : int, default=2000
        Labelled pixels drawn from each training image, an equal share per class present in
        it (a class with fewer labelled pixels gives all it has, the rest go to the others).
        Images with fewer labelled pixels give all of them.
    context : sequence of float or None, default=(8, 32)
        Gaussian widths (pixels) of the auto-context pass: the first classifier's
        probabilities, smoothed at each width, become extra features of a second
        classifier. During ``fit`` these probabilities are out of fold (from first-pass
        classifiers trained on the other images, ``CONTEXT_FOLDS`` splits by image) so the
        second pass learns how far to trust them on unseen images. None: one pass only.
    class_weight : {None, "balanced"}, default=None
        How the classes weigh in the classifier's fit. Pixels are always drawn stratified by
        class (rare classes get enough samples); with None each drawn pixel is weighted so
        that every class counts as often as it is labelled in its image (as if the pixels
        were drawn uniformly: the classifier learns the true class frequencies); with
        "balanced" no weights are given: every class present in an image counts alike, which
        favours rare classes over pixel accuracy. Weights need a classifier whose ``fit``
        takes ``sample_weight``.
    classes : sequence of int or None, default=None
        The class labels (0-254). None: every value found in the masks other than 255. Given,
        a mask value outside it is an error, and so is a class with no labelled pixel.
    random_state : int, RandomState instance or None, default=None
        Seeds the pixel sampling and the default classifier.
    n_jobs : int or None, default=None
        CPU threads: passed to each feature transformer that has an ``n_jobs`` parameter, and
        the limit of the classifier's threads (OpenMP/BLAS). None: all cores.
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
        Passed to each feature transformer that has a ``device`` parameter.
    verbose : int, default=0
        Progress bars over images when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,), int64
        The class labels; column ``j`` of ``predict_proba`` is ``classes_[j]``.
    features_ : list of transformers
        The fitted clones of ``features``.
    classifier_ : classifier
        The first-pass classifier, fitted on the sampled pixels.
    context_classifier_ : classifier or None
        The second-pass classifier (None without ``context``).
    n_features_in_ : int
        Per-pixel descriptors the first classifier sees (all transformers together).
    feature_names_ : ndarray of str
        Their names, ``"<transformer index>:<name>"``.
    n_training_pixels_ : int
        Pixels the classifiers were fitted on.

    See Also
    --------
    measure_label_maps : class fractions and particle statistics of the label maps.
    pixel_uncertainty : uncertainty maps from ``predict_proba``.
    save_segmenter, load_segmenter : persistence with skops.

    Notes
    -----
    **Defaults.** Gradient-boosted trees on histograms are the default classifier: they
    need no feature scaling, take sample weights, handle 100 features and 10^5 pixels in
    seconds to minutes on two cores (a random forest of the same accuracy class is slower
    to fit and to predict 312,000 pixels), and on VGG hypercolumns of the UHCS micrographs
    they gave the issue's 0.875 pixel accuracy / 0.639 mean IU. ``pixels_per_image=2000``
    and three out-of-fold splits for the context keep a 20-micrograph fit within minutes on
    a 2-core CPU. ``benchmarks/bench_segmentation.py`` measures the defaults against
    scikit-image's trainable segmentation (benchmarks/README.md).

    **Memory.** Images are described one at a time; only the sampled pixels' descriptors
    (and, with ``context``, those of every ``stride``-th pixel, ``stride`` <= 4) are kept, so
    fitting on many micrographs needs little more than one image's feature stack.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.features import FilterBankPixelFeatures
    >>> from skmicro.segmentation import TrainableSegmenter
    >>> rng = np.random.default_rng(0)
    >>> images = rng.random((2, 32, 32)).astype(np.float32)
    >>> images[:, :, 16:] += 2.0                       # the right half is brighter
    >>> masks = np.full((2, 32, 32), 255, np.uint8)    # scribbles: one column per class
    >>> masks[:, :, 4], masks[:, :, 28] = 0, 1
    >>> seg = TrainableSegmenter(FilterBankPixelFeatures(sigmas=(1, 2), device="cpu"),
    ...                          context=None, random_state=0).fit(images, masks)
    >>> seg.predict(images[:1])[0, 0, [0, 31]].tolist()
    [0, 1]
    >>> seg.predict_proba(images).shape, seg.classes_.tolist()
    ((2, 32, 32, 2), [0, 1])
    """

    _parameter_constraints = {
        "features": [None, HasMethods(["fit", "transform"]), list, tuple],
        "classifier": [None, HasMethods(["fit", "predict_proba"])],
        "pixels_per_image": [Interval(numbers.Integral, 1, None, closed="left")],
        "context": [None, "array-like"],
        "class_weight": [None, StrOptions({"balanced"})],
        "classes": [None, "array-like"],
        "random_state": ["random_state"],
        "n_jobs": N_JOBS_CONSTRAINT,
        "device": "no_validation",  # checked by the transformers, which know torch.device
        "verbose": ["verbose"],
    }

    def __init__(self, features=None, classifier=None, *, pixels_per_image=2000,
                 context=(8, 32), class_weight=None, classes=None, random_state=None,
                 n_jobs=None, device="auto", verbose=0):
        self.features = features
        self.classifier = classifier
        self.pixels_per_image = pixels_per_image
        self.context = context
        self.class_weight = class_weight
        self.classes = classes
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.device = device
        self.verbose = verbose

    # ---------------------------------------------------------------- parameters
    def _caller(self):
        return type(self).__name__

    def _sigmas(self):
        if self.context is None:
            return None
        sigmas = np.atleast_1d(np.asarray(self.context, dtype=float))
        if sigmas.ndim != 1 or sigmas.size == 0 or not np.all(np.isfinite(sigmas)) or (
                sigmas <= 0).any():
            raise ValueError(
                f"The 'context' parameter of {self._caller()} must be None or a non-empty "
                f"sequence of positive Gaussian widths in pixels, e.g. (8, 32). Got "
                f"{self.context!r} instead.")
        return tuple(float(s) for s in sigmas)

    def _transformers(self):
        features = default_features() if self.features is None else self.features
        if not isinstance(features, (list, tuple)):
            features = [features]
        if len(features) == 0:
            raise ValueError(
                f"The 'features' parameter of {self._caller()} must be a dense transformer, a "
                "non-empty list of them, or None (the default descriptors). Got an empty list.")
        out = []
        for i, t in enumerate(features):
            if not (hasattr(t, "fit") and hasattr(t, "transform")):
                raise TypeError(
                    f"The 'features' parameter of {self._caller()}: item {i} must be a dense "
                    f"transformer with fit and transform; got {type(t).__name__}.")
            t = clone(t)
            params = t.get_params(deep=False)
            t.set_params(**{k: v for k, v in (("device", self.device),
                                              ("n_jobs", self.n_jobs)) if k in params})
            out.append(t)
        return out

    def _make_classifier(self, rng):
        if self.classifier is None:
            return default_classifier(int(rng.randint(2**31 - 1)))
        return clone(self.classifier)

    def _fit_classifier(self, rng, X, y, rows=None):
        """A fresh classifier fitted on pixels (``rows`` of the sample: their weights)."""
        model = self._make_classifier(rng)
        if self._weights is None:
            return model.fit(X, y)
        if not has_fit_parameter(model, "sample_weight"):
            raise ValueError(
                f"{self._caller()}: the classifier {type(model).__name__} takes no "
                "sample_weight, which class_weight=None needs to restore the class frequencies "
                "of the stratified pixel sample. Use class_weight='balanced', or a classifier "
                "whose fit takes sample_weight.")
        weights = self._weights if rows is None else self._weights[rows]
        return model.fit(X, y, sample_weight=weights)

    # ---------------------------------------------------------------- per-image work
    def _stack(self, image, index):
        """(h, w, n_features_in_) float32 descriptors of one image, all transformers."""
        blocks = []
        for t in self.features_:
            out = np.asarray(t.transform(image[None]))
            if out.ndim != 4 or out.shape[:3] != (1, *image.shape):
                raise ValueError(
                    f"{self._caller()}: the dense transformer {type(t).__name__} returned shape "
                    f"{out.shape} for image {index} of {image.shape[0]}x{image.shape[1]} "
                    "pixels; dense descriptors must return (n_images, h, w, n_features) at "
                    "the images' resolution.")
            blocks.append(out[0].astype(np.float32, copy=False))
        stack = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=-1)
        if hasattr(self, "n_features_in_") and stack.shape[-1] != self.n_features_in_:
            raise ValueError(
                f"{self._caller()}: image {index} gives {stack.shape[-1]} per-pixel features, "
                f"but the segmenter was fitted with {self.n_features_in_}.")
        return stack

    def _threads(self):
        from threadpoolctl import threadpool_limits

        from .._engine import n_threads

        return threadpool_limits(None if self.n_jobs is None else n_threads(self.n_jobs))

    # ---------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the descriptors and the classifier(s) on images and their label masks.

        Parameters
        ----------
        X : array-like of shape (n, h, w) or (n, h, w, 3), or list of images
            Training micrographs (any sizes; colour becomes luminance).
        y : array-like of shape (n, h, w), or list of 2-D integer arrays
            One label mask per image, of its size: the class of each pixel, 255 where
            unlabelled (sparse scribbles work like full masks). Never modified.

        Returns
        -------
        self : object
        """
        caller = self._caller()
        if y is None:
            raise ValueError(
                f"{caller} requires y to be passed, but the target y is None: give one label "
                "mask per image (255 where unlabelled).")
        sigmas = self._sigmas()
        images = image_list(X, caller)
        masks, self.classes_ = check_training_masks(y, images, self.classes, caller)
        rng = check_random_state(self.random_state)
        self.features_ = [t.fit(images) for t in self._transformers()]
        if hasattr(self, "n_features_in_"):
            del self.n_features_in_
        stride = context_stride(sigmas) if sigmas else None
        X_pix, y_pix, w_pix, groups, picks, grids = [], [], [], [], [], []
        with progress_bar(len(images), verbose=self.verbose, desc=f"{caller} features") as bar:
            for i, (image, mask) in enumerate(zip(images, masks)):
                stack = self._stack(image, i)
                self.n_features_in_ = stack.shape[-1]
                flat = sample_pixels(mask, self.classes_, self.pixels_per_image, rng)
                X_pix.append(stack.reshape(-1, stack.shape[-1])[flat])
                y_pix.append(mask.ravel()[flat])
                w_pix.append(frequency_weights(mask, flat, self.classes_))
                groups.append(np.full(flat.size, i))
                if stride:  # the first pass's grid, for out-of-fold context maps
                    picks.append(flat)
                    grids.append(np.ascontiguousarray(stack[::stride, ::stride]))
                bar.update()
        X_pix, y_pix, groups = np.concatenate(X_pix), np.concatenate(y_pix), np.concatenate(
            groups)
        weights = np.concatenate(w_pix) if self.class_weight is None else None
        if weights is not None:
            weights /= weights.mean()
        self._weights = weights
        self.feature_names_ = self._feature_names()
        self.n_training_pixels_ = int(y_pix.size)
        with self._threads():
            self.classifier_ = self._fit_classifier(rng, X_pix, y_pix)
            self.context_classifier_ = None
            if stride:
                ctx = self._out_of_fold_context(X_pix, y_pix, groups, picks, grids,
                                                [m.shape for m in masks], sigmas, stride, rng)
                self.context_classifier_ = self._fit_classifier(
                    rng, np.concatenate([X_pix, ctx], axis=1), y_pix)
        del self._weights
        return self

    def _out_of_fold_context(self, X_pix, y_pix, groups, picks, grids, shapes, sigmas, stride,
                             rng):
        """Context features of the training pixels from first-pass models that never saw
        their image (``CONTEXT_FOLDS`` splits by image; with one image, in-sample)."""
        n_images = len(grids)
        ctx = np.empty((len(y_pix), len(self.classes_) * len(sigmas)), np.float32)
        folds = rng.permutation(n_images) % min(CONTEXT_FOLDS, n_images)
        if n_images == 1:  # no other image to learn from: the context is in-sample
            coarse = self._coarse_proba(self.classifier_, grids[0])
            return context_maps(coarse, sigmas, stride, shapes[0], picks[0])
        with progress_bar(folds.max() + 1, verbose=self.verbose,
                          desc=f"{self._caller()} context") as bar:
            for k in range(folds.max() + 1):
                held = np.flatnonzero(folds == k)
                train = ~np.isin(groups, held)
                model = self._fit_classifier(rng, X_pix[train], y_pix[train], train)
                for i in held:
                    coarse = self._coarse_proba(model, grids[i])
                    ctx[groups == i] = context_maps(coarse, sigmas, stride, shapes[i], picks[i])
                bar.update()
        return ctx

    def _coarse_proba(self, model, grid):
        gh, gw, f = grid.shape
        return full_proba(model, grid.reshape(-1, f), self.classes_).reshape(gh, gw, -1)

    def _feature_names(self):
        names = []
        for i, t in enumerate(self.features_):
            try:
                inner = [str(n) for n in t.get_feature_names_out()]
            except (AttributeError, TypeError, ValueError):
                inner = []
            if not inner:
                inner = [f"f{j}" for j in range(self.n_features_in_ - len(names))]
            names.extend(f"{i}:{n}" for n in inner)
        return np.asarray(names, dtype=object)

    # ---------------------------------------------------------------- predict
    def _proba_one(self, image, index):
        stack = self._stack(image, index)
        h, w, f = stack.shape
        flat = stack.reshape(-1, f)
        if self.context_classifier_ is None:
            return full_proba(self.classifier_, flat, self.classes_).reshape(h, w, -1)
        sigmas = self._sigmas()
        stride = context_stride(sigmas)
        coarse = self._coarse_proba(self.classifier_,
                                    np.ascontiguousarray(stack[::stride, ::stride]))
        ctx = context_maps(coarse, sigmas, stride, (h, w))
        both = np.concatenate([flat, ctx], axis=1)
        return full_proba(self.context_classifier_, both, self.classes_).reshape(h, w, -1)

    def _map_images(self, X, func, desc):
        check_is_fitted(self)
        images = image_list(X, self._caller())
        out = []
        with self._threads(), progress_bar(len(images), verbose=self.verbose,
                                           desc=f"{self._caller()} {desc}") as bar:
            for i, image in enumerate(images):
                out.append(func(self._proba_one(image, i)))
                bar.update()
        if len({o.shape for o in out}) == 1:
            return np.stack(out)
        return out

    def predict_proba(self, X):
        """Class probabilities of every pixel.

        Parameters
        ----------
        X : array-like of shape (n, h, w) or (n, h, w, 3), or list of images

        Returns
        -------
        proba : ndarray of shape (n, h, w, n_classes), float32
            Column ``j`` is ``classes_[j]``. A list of (h_i, w_i, n_classes) arrays when the
            images differ in size.
        """
        return self._map_images(X, lambda p: p, "predict_proba")

    def predict(self, X):
        """Label maps: the most probable class of every pixel.

        Parameters
        ----------
        X : array-like of shape (n, h, w) or (n, h, w, 3), or list of images

        Returns
        -------
        label_maps : ndarray of shape (n, h, w), uint8
            Class labels (values of ``classes_``). A list of 2-D arrays when the images differ
            in size.
        """
        classes = self.classes_.astype(np.uint8) if hasattr(self, "classes_") else None
        return self._map_images(X, lambda p: classes[p.argmax(axis=-1)], "predict")

    def predict_uncertainty(self, X, *, method="entropy"):
        """Per-pixel uncertainty of the prediction, in [0, 1] (:func:`pixel_uncertainty`).

        Parameters
        ----------
        X : array-like of shape (n, h, w) or (n, h, w, 3), or list of images
        method : {"entropy", "least_confident", "margin"}, default="entropy"

        Returns
        -------
        uncertainty : ndarray of shape (n, h, w), float32 (a list for mixed sizes)
        """
        pixel_uncertainty(np.ones((1, 2)) / 2, method)  # check the method before any work
        return self._map_images(X, lambda p: pixel_uncertainty(p, method), "uncertainty")

    def score(self, X, y):
        """Pixel accuracy over the labelled pixels (255 ignored).

        Parameters
        ----------
        X : array-like of shape (n, h, w) or list of images
        y : array-like of shape (n, h, w) or list of 2-D integer arrays

        Returns
        -------
        accuracy : float
        """
        pred = self.predict(X)
        masks, _ = check_training_masks(y, list(pred), None, self._caller())
        hits = sum(int(((m == p) & (m != UNLABELLED)).sum()) for m, p in zip(masks, pred))
        return hits / sum(int((m != UNLABELLED).sum()) for m in masks)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags
