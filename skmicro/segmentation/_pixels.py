"""The per-pixel plumbing of the segmenter: input checks, feature stacks, pixel sampling and
the auto-context maps. Plain numpy/scipy functions; the estimator composes them."""

from __future__ import annotations

import numpy as np

from .._validation import check_images, check_label_masks, check_mask_classes

#: The mask value of pixels nobody annotated (scribbles leave the rest at this value).
UNLABELLED = 255


def image_list(X, caller, name="X"):
    """The images of ``X`` as a list of float32 2-D arrays in the caller's order (copies)."""
    image_set = check_images(X, channels="gray", name=name)
    by_index = {int(i): im for indices, stack in image_set.groups
                for i, im in zip(indices, stack)}
    return [by_index[i] for i in range(image_set.n_samples)]


def check_training_masks(y, images, classes, caller):
    """The masks as int64 arrays and the classes (int64), with the segmenter's own rules: every
    image has a labelled pixel, every declared class has a pixel somewhere, labels fit uint8."""
    masks = check_label_masks(y, [im.shape for im in images], caller=caller, name="y",
                              images="X")
    labels = check_mask_classes(classes, masks, UNLABELLED, caller=caller, name="y")
    if labels.min() < 0 or labels.max() >= UNLABELLED:
        bad = labels[(labels < 0) | (labels >= UNLABELLED)]
        raise ValueError(
            f"{caller}: class labels must be integers 0-254 (label maps are uint8 and 255 marks "
            f"unlabelled pixels); got {bad.tolist()}. Renumber the classes 0, 1, 2, ...")
    for i, mask in enumerate(masks):
        if not (mask != UNLABELLED).any():
            raise ValueError(
                f"{caller}: y[{i}] has no labelled pixel (every pixel is {UNLABELLED}, "
                f"unlabelled); label some pixels of image {i} or leave it out of the training "
                "set.")
    if classes is not None:
        present = set(np.unique(np.concatenate([np.unique(m) for m in masks])).tolist())
        missing = [int(c) for c in labels if int(c) not in present]
        if missing:
            raise ValueError(
                f"{caller}: class {missing[0]} of classes={labels.tolist()} has no pixel in any "
                f"training mask (classes without pixels: {missing}); label some pixels of it, "
                "or leave it out of classes.")
    return masks, labels


def sample_pixels(mask, classes, n, rng):
    """Flat indices of up to ``n`` labelled pixels of one mask, stratified by class: each class
    present gets an equal share; the share a small class cannot fill goes to the others."""
    flat = mask.ravel()
    pools = [np.flatnonzero(flat == c) for c in classes]
    pools = sorted((p for p in pools if p.size), key=len)
    chosen, left = [], n
    for k, pool in enumerate(pools):
        take = min(pool.size, left // (len(pools) - k))
        chosen.append(rng.choice(pool, take, replace=False) if take < pool.size else pool)
        left -= take
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, np.int64)


def frequency_weights(mask, flat, classes):
    """Weights of sampled pixels that restore their image's class frequencies: a pixel of
    class c weighs (labelled pixels of c) / (sampled pixels of c), so the weighted sample
    stands for every labelled pixel of the image, as uniform sampling would."""
    values = mask.ravel()[flat]
    weights = np.zeros(flat.size)
    for c in classes:
        picked = values == c
        if picked.any():
            weights[picked] = np.count_nonzero(mask == c) / picked.sum()
    return weights


def context_stride(sigmas):
    """Grid step of the first-pass probability maps: coarse enough to be cheap, fine enough
    for the smallest smoothing (at most sigma / 2, at most 4 pixels)."""
    return int(max(1, min(4, min(sigmas) // 2)))


def context_maps(coarse, sigmas, stride, shape, flat=None):
    """Smoothed first-pass probabilities at full resolution (or at the pixels ``flat``).

    ``coarse`` (gh, gw, k) are the probabilities on the grid ``[::stride, ::stride]`` of an
    image of ``shape``; each class map is smoothed by a Gaussian of each sigma (in full-
    resolution pixels) and read back at every pixel by bilinear interpolation. Returns
    (n_pixels, k * len(sigmas)) float32, sigma-major.
    """
    from scipy import ndimage as ndi

    h, w = shape
    if flat is None:
        rows, cols = np.divmod(np.arange(h * w), w)
    else:
        rows, cols = np.divmod(np.asarray(flat), w)
    coords = np.stack([rows / stride, cols / stride]).astype(np.float32)
    out = []
    for sigma in sigmas:
        for j in range(coarse.shape[-1]):
            smooth = ndi.gaussian_filter(coarse[..., j], sigma / stride, mode="reflect")
            out.append(ndi.map_coordinates(smooth, coords, order=1, mode="nearest"))
    return np.stack(out, axis=1).astype(np.float32)


def full_proba(model, X, classes):
    """``model.predict_proba(X)`` with one column per entry of ``classes`` (zeros for classes
    the model never saw: an out-of-fold model may lack one)."""
    proba = model.predict_proba(X)
    if len(model.classes_) == len(classes):
        return proba.astype(np.float32, copy=False)
    out = np.zeros((len(X), len(classes)), np.float32)
    out[:, np.searchsorted(classes, model.classes_)] = proba
    return out


def pixel_uncertainty(proba, method="entropy"):
    """Per-pixel uncertainty of class probabilities, in [0, 1].

    Parameters
    ----------
    proba : array-like of shape (..., n_classes)
        Class probabilities, as :meth:`TrainableSegmenter.predict_proba` returns them (an array,
        or a list of arrays for images of several sizes).
    method : {"entropy", "least_confident", "margin"}, default="entropy"
        ``"entropy"``: Shannon entropy divided by ``log(n_classes)`` (0 when one class has
        probability 1, 1 when all are equal); ``"least_confident"``: ``1 - max p``;
        ``"margin"``: ``1 - (p_first - p_second)``.

    Returns
    -------
    uncertainty : ndarray of shape proba.shape[:-1], float32 (a list for a list)

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.segmentation import pixel_uncertainty
    >>> p = np.array([[1.0, 0.0], [0.5, 0.5], [0.75, 0.25]])
    >>> np.round(pixel_uncertainty(p), 3).tolist()
    [0.0, 1.0, 0.811]
    >>> pixel_uncertainty(p, "least_confident").tolist()
    [0.0, 0.5, 0.25]
    """
    if method not in ("entropy", "least_confident", "margin"):
        raise ValueError(
            "The 'method' parameter of pixel_uncertainty must be 'entropy', "
            f"'least_confident' or 'margin'. Got {method!r} instead.")
    if isinstance(proba, list):
        return [pixel_uncertainty(p, method) for p in proba]
    p = np.asarray(proba, dtype=np.float64)
    k = p.shape[-1]
    if method == "least_confident":
        out = 1.0 - p.max(axis=-1)
    elif method == "margin":
        top = np.sort(p, axis=-1)[..., -2:] if k > 1 else np.concatenate(
            [np.zeros(p.shape), p], axis=-1)
        out = 1.0 - (top[..., -1] - top[..., -2])
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        out = -terms.sum(axis=-1) / np.log(k) if k > 1 else np.zeros(p.shape[:-1])
    return np.clip(out, 0.0, 1.0).astype(np.float32)
