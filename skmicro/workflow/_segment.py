"""The segmentation route: a folder of micrographs and label masks -> a model file
(:func:`fit_segmenter`, ``skmicro segment fit``); a model and a folder -> label maps, overlays
and a measurements table (:func:`segment_folder`, ``skmicro segment predict``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .._engine import progress_bar
from ._files import content_hash, list_micrographs
from ._preparation import Preparation, preparation_of
from ._segment_files import (
    UNLABELLED,
    cache_get,
    cache_put,
    check_mask_values,
    display_grey,
    masks_by_stem,
    overlay,
    read_mask,
    read_route,
    write_model,
    write_png,
)
from ._specs import _canonical, _digest, _parse_value, _split_top
from ._store import FeatureStore, default_cache_dir
from ._table import check_table_path, write_table

__all__ = ["fit_segmenter", "segment_folder", "DENSE_FEATURES"]

#: The dense descriptors a segmenter's ``features`` can name (``skmicro segment fit
#: --features NAME[:key=value,...]``): ``filter_bank`` is
#: :class:`~skmicro.features.FilterBankPixelFeatures` (Gaussian, gradient, Hessian, DoG at
#: ``sigmas``; cheap), ``scattering`` :class:`~skmicro.features.ScatteringPixelFeatures`
#: (the wavelet scattering maps) and ``vgg_hypercolumn``
#: :class:`~skmicro.features.VGGHypercolumnPixelFeatures` (the VGG-19 hypercolumn). Not naming
#: any uses the segmenter's default descriptors.
DENSE_FEATURES = {
    "filter_bank": "FilterBankPixelFeatures",
    "scattering": "ScatteringPixelFeatures",
    "vgg_hypercolumn": "VGGHypercolumnPixelFeatures",
}
#: The layout version of the prediction cache (``<cache>/segment-v1/...``).
_LAYOUT = "segment-v1"


def _dense(spec, caller):
    """A dense descriptor from ``"NAME[:key=value,...]"`` (options as ``skmicro features``)."""
    import skmicro.features

    name, _, options = spec.strip().partition(":")
    if name.strip() not in DENSE_FEATURES:
        raise ValueError(
            f"{caller}: unknown dense descriptor {name.strip()!r} in features={spec!r}. Valid "
            f"names: {', '.join(DENSE_FEATURES)}, with options after a colon, e.g. "
            "'filter_bank:sigmas=[1,2,4]'.")
    cls = getattr(skmicro.features, DENSE_FEATURES[name.strip()], None)
    if cls is None:
        raise ValueError(f"{caller}: the dense descriptor {name.strip()!r} is not in this "
                         "version of skmicro; use filter_bank.")
    params = {}
    for item in _split_top(options):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"{caller}: cannot read option {item.strip()!r} of {spec!r}: "
                             "write key=value, separated by commas (lists in brackets).")
        params[key.strip()] = _parse_value(value)
    valid = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(f"{caller}: unknown option(s) {', '.join(unknown)} of {name.strip()}; "
                         f"valid options: {', '.join(valid)}.")
    est = cls(**params)
    est._validate_params()  # a bad value fails now, before any image is read
    return est


def _features(features, caller):
    if features is None:
        return None
    items = [features] if isinstance(features, str) or hasattr(features, "fit") else list(
        features)
    return [_dense(f, caller) if isinstance(f, str) else f for f in items]


def _match(images, labels, caller, verbose):
    """``[(path, name, mask path)]`` of the micrographs that have a label image."""
    files, _ = list_micrographs(images)  # top level only: no sub-folder to exclude
    masks = masks_by_stem(labels, caller)
    pairs = [(p, n, masks[p.stem]) for p, n in files if p.stem in masks]
    if not pairs:
        raise ValueError(
            f"{caller}: no micrograph in '{images}' has a label image in '{labels}': label "
            "images are matched by file stem (uhcs0006.tif -> uhcs0006.png).")
    unused = len(set(masks) - {p.stem for p, _ in files})
    if verbose:
        print(f"{caller}: {len(pairs)} micrographs with a label image"
              + (f", {len(files) - len(pairs)} without (left out)" if len(files) > len(pairs)
                 else "") + (f"; {unused} label images of other micrographs" if unused else ""),
              file=sys.stderr)
    return pairs


def _class_names(class_names, caller):
    if class_names is None:
        return None
    names = [class_names] if isinstance(class_names, str) else list(class_names)
    names = [str(n).strip() for n in names]
    if not names or len(set(names)) != len(names) or not all(names):
        raise ValueError(f"The 'class_names' parameter of {caller} must be distinct, non-empty "
                         f"names of the classes 0, 1, 2, ... Got {class_names!r} instead.")
    return names


def fit_segmenter(images, labels, out=None, *, features=None, classifier=None,
                  class_names=None, pixels_per_image=2000, context=(8, 32),
                  crop_data_bar=True, pixel_size=None, target_pixel_size=None, contrast=None,
                  preparation=None, random_state=0,
                  device="auto", n_jobs=None, verbose=1):
    """Train a :class:`~skmicro.segmentation.TrainableSegmenter` on a folder of micrographs
    and their label images, and write it to a model file (``skmicro segment fit``).

    Each micrograph is prepared as :class:`Preparation` says (data bar cut, contrast, pixel
    size); its label image, found in ``labels`` by file stem (``uhcs0006.tif`` ->
    ``labels/uhcs0006.png``), covers the whole file, data bar included, and is cut and
    resampled (nearest neighbour) the same way. Label values are class indices 0, 1, 2, ...
    and 255 for unlabelled pixels (scribbles work like full masks). The model file is a skops
    file of the segmenter (:func:`~skmicro.segmentation.load_segmenter` reads it), which also
    holds the preparation and the class names, so that :func:`segment_folder` prepares new
    micrographs the same way. Writing the same model again is skipped: if ``out`` holds a
    model trained on the same files (by content) with the same settings, it is returned.

    Parameters
    ----------
    images : str or path-like
        The folder of micrographs (.tif .tiff .png .jpg .jpeg .bmp).
    labels : str or path-like
        The folder of label images, one per micrograph to train on, named by its stem, of its
        size; micrographs without one are left out.
    out : str or path-like or None, default=None
        The model file to write (``.skops``; its folder must exist). None writes nothing.
    features : str, estimator, list of them, or None, default=None
        Dense descriptors: a name of :data:`DENSE_FEATURES` with options
        (``"filter_bank:sigmas=[1,2,4]"``), a dense transformer, or a list of them. None:
        the segmenter's default descriptors.
    classifier : classifier or None, default=None
        Any scikit-learn classifier with ``predict_proba`` (None: the segmenter's default).
    class_names : sequence of str or None, default=None
        Names of the classes 0, 1, 2, ...: a mask value beyond them is an error, and so is a
        class without any labelled pixel. None: the values found, named by their number.
    pixels_per_image : int, default=2000
        Labelled pixels drawn from each micrograph, stratified by class
        (:class:`~skmicro.segmentation.TrainableSegmenter`).
    context : sequence of float or None, default=(8, 32)
        Gaussian widths (pixels) of the segmenter's auto-context pass; None: one pass.
    crop_data_bar : bool or int, default=True
        True detects the data bar and cuts it (from the micrograph and its label image); an
        int cuts that many rows at the bottom; False keeps every row (:class:`Preparation`).
    pixel_size : float, mapping, str or None, default=None
        Micrometres per pixel of the micrographs, in any form :class:`Preparation` takes.
    target_pixel_size : float or None, default=None
        Resample every micrograph (and, by nearest neighbour, its labels) to this pixel size.
    contrast : {None, "percentile", "clahe"}, default=None
        Normalize each micrograph's contrast (:class:`Preparation`).
    preparation : Preparation or None, default=None
        All of the four above at once (then leave them unset).
    random_state : int or None, default=0
        Seeds the pixel sampling and the classifier.
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
        Where the descriptors run.
    n_jobs : int or None, default=None
        CPU threads (None: all cores).
    verbose : int, default=1
        Progress bars and a summary on stderr when positive.

    Returns
    -------
    segmenter : TrainableSegmenter
        Fitted.

    See Also
    --------
    segment_folder : the model applied to a folder.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skmicro.workflow import fit_segmenter
    >>> root = Path(tempfile.mkdtemp()); (root / "img").mkdir(); (root / "lab").mkdir()
    >>> rng = np.random.default_rng(0)
    >>> image = rng.integers(0, 60, (40, 48)).astype(np.uint8)
    >>> image[:, 24:] += 150                                # two phases: dark | bright
    >>> mask = np.full((40, 48), 255, np.uint8)
    >>> mask[:, 2:6], mask[:, 40:44] = 0, 1                 # a scribble on each
    >>> Image.fromarray(image).save(root / "img" / "a.png")
    >>> Image.fromarray(mask).save(root / "lab" / "a.png")
    >>> seg = fit_segmenter(root / "img", root / "lab", root / "model.skops",
    ...                     features="filter_bank:sigmas=[1]", context=None,
    ...                     class_names=["dark", "bright"], crop_data_bar=False, verbose=0)
    >>> seg.classes_.tolist(), (root / "model.skops").is_file()
    ([0, 1], True)
    """
    import skmicro
    from ..segmentation import TrainableSegmenter

    caller = "fit_segmenter"
    prep = preparation_of(caller, preparation, dict(
        crop_data_bar=crop_data_bar, pixel_size=pixel_size,
        target_pixel_size=target_pixel_size, contrast=contrast, tile=None, aggregate="mean"))
    if out is not None:
        out = _check_path(out, caller, ".skops", "model.skops")
    names = _class_names(class_names, caller)
    segmenter = TrainableSegmenter(
        _features(features, caller), classifier, pixels_per_image=pixels_per_image,
        context=context,
        classes=None if names is None else list(range(len(names))),
        random_state=random_state, n_jobs=n_jobs, device=device,
        verbose=verbose)
    segmenter._validate_params()
    pairs = _match(images, labels, caller, verbose)
    sizes = prep.pixel_sizes([n for _, n, _ in pairs])
    identity = [[n, content_hash(p), content_hash(m), s] for (p, n, m), s in zip(pairs, sizes)]
    key = _digest([skmicro.__version__, identity, prep.cache_key(), _canonical(segmenter),
                   names, random_state])
    if out is not None and random_state is not None and out.is_file() \
            and read_route(out).get("training_key") == key:
        from ..segmentation import load_segmenter

        if verbose:
            print(f"{out} is up to date (same micrographs, labels and settings)",
                  file=sys.stderr)
        return load_segmenter(out, trusted=None)
    X, y = [], []
    with progress_bar(len(pairs), verbose=verbose, desc="reading", unit="file") as bar:
        for (path, name, mask_path), size in zip(pairs, sizes):
            image, info = prep.prepare_file(path, pixel_size=size)
            mask = prep.to_prepared(read_mask(mask_path, (info["height"], info["width"]),
                                              caller), info, order=0)
            check_mask_values(mask, mask_path, UNLABELLED if names is None else len(names),
                              caller)
            X.append(image)
            y.append(mask)
            bar.update()
    if names is not None:
        present = set(np.unique(np.concatenate([np.unique(m) for m in y])).tolist())
        missing = [n for i, n in enumerate(names) if i not in present]
        if missing:
            raise ValueError(
                f"{caller}: class(es) {', '.join(missing)} have no pixel in any label image (of "
                f"{len(pairs)}, after the data bar is cut): label some pixels of each class, or "
                "leave the class out of the class names.")
    segmenter.fit(X, y)
    if names is None:
        names = [str(int(c)) for c in segmenter.classes_]
    if out is not None:
        route = {"training_key": key, "class_names": names, "skmicro_version":
                 skmicro.__version__, "preparation": {
                     "crop_data_bar": prep.crop_data_bar,
                     "target_pixel_size": prep.target_pixel_size,
                     "contrast": prep.contrast},
                 "trained_on": [n for _, n, _ in pairs]}
        write_model(segmenter, route, out)
        if verbose:
            print(f"trained on {len(pairs)} micrographs ({segmenter.n_training_pixels_} "
                  f"pixels, classes {', '.join(names)}); wrote {out}", file=sys.stderr)
    return segmenter


def _check_path(path, caller, suffixes, example, param="out"):
    from .._paths import check_output_path

    return check_output_path(path, caller=caller, param=param, suffixes=(suffixes,),
                             example=example, kind="model")


def _load(model, caller):
    """``(segmenter, route dict, identity)`` of a model file or a fitted segmenter."""
    from ..segmentation import TrainableSegmenter, load_segmenter

    if isinstance(model, TrainableSegmenter):  # a copy: the caller's object is never changed
        import copy

        return copy.deepcopy(model), {}, _canonical(model)
    if not isinstance(model, (str, Path)) and not hasattr(model, "__fspath__"):
        raise TypeError(f"The 'model' parameter of {caller} must be a model file (from "
                        "fit_segmenter or skmicro segment fit) or a fitted TrainableSegmenter. "
                        f"Got {type(model).__name__} instead.")
    path = Path(model)
    segmenter = load_segmenter(path)
    return segmenter, read_route(path), content_hash(path)


def segment_folder(model, images, out, *, pixel_size=None, particle_class=None,
                   measurements=None, overlays=True, uncertainty=False, crop_data_bar=None,
                   cache=True, device="auto", n_jobs=None, verbose=1):
    """Segment every micrograph of a folder with a trained model (``skmicro segment predict``).

    Writes, for each micrograph ``<stem>.<ext>`` of ``images``:

    - ``out/<stem>.png``: the label map, one class index (uint8) per pixel of the file, of its
      height and width, 255 in the data bar (which is not segmented);
    - ``out/overlays/<stem>.png`` (``overlays=True``): the micrograph with each class's colour
      blended over it and a legend with the area fractions;
    - ``out/uncertainty/<stem>.png`` (``uncertainty=True``): the normalized entropy of the
      class probabilities (:func:`~skmicro.segmentation.pixel_uncertainty`) as 0-255, 0 in
      the data bar;

    and a measurements table (:func:`~skmicro.segmentation.measure_label_maps`: area
    fraction of every class, particle statistics of ``particle_class``) indexed by "file"
    as the features table of :func:`describe_folder`, so the two join. Micrographs are
    prepared as the model file says (data bar, contrast, pixel size). Each prediction is
    cached by the file's content and the model's identity, so a second run recomputes
    nothing; outputs are written atomically as each image finishes, so an interrupted run
    keeps them.

    Parameters
    ----------
    model : str, path-like or TrainableSegmenter
        A model file from :func:`fit_segmenter` (or from
        :func:`~skmicro.segmentation.save_segmenter`: then prepared with the default
        settings), or a fitted segmenter (the same).
    images : str or path-like
        The folder of micrographs (or one file).
    out : str or path-like
        The output folder (created if missing; not the folder of the micrographs).
    pixel_size : float, mapping, str or None, default=None
        The micrographs' micrometres per pixel, in any form :class:`Preparation` accepts:
        needed where the model resamples to a pixel size and the files declare none, and
        gives particle diameters in micrometres.
    particle_class : int, str or None, default=None
        The class (index or name) whose connected regions are measured as particles.
    measurements : str or path-like or None, default=None
        The table (.csv or .parquet). None: ``out/measurements.csv``.
    overlays : bool, default=True
        Write ``out/overlays/<stem>.png``.
    uncertainty : bool, default=False
        Write ``out/uncertainty/<stem>.png``.
    crop_data_bar : bool, int or None, default=None
        Override the model's data-bar setting (for micrographs from another microscope).
    cache : bool or path-like, default=True
        True: the default cache folder (:func:`default_cache_dir`); a folder; False: none.
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
        Where the descriptors run.
    n_jobs : int or None, default=None
        CPU threads (None: all cores).
    verbose : int, default=1
        A progress bar and a summary on stderr when positive.

    Returns
    -------
    table : pandas.DataFrame
        The measurements; ``table.attrs`` holds ``computed`` and ``cached`` (counts).

    See Also
    --------
    fit_segmenter : the model file.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skmicro.workflow import fit_segmenter, segment_folder
    >>> root = Path(tempfile.mkdtemp()); (root / "img").mkdir(); (root / "lab").mkdir()
    >>> image = np.random.default_rng(0).integers(0, 60, (40, 48)).astype(np.uint8)
    >>> image[:, 24:] += 150
    >>> mask = np.full((40, 48), 255, np.uint8)
    >>> mask[:, 2:6], mask[:, 40:44] = 0, 1
    >>> Image.fromarray(image).save(root / "img" / "a.png")
    >>> Image.fromarray(mask).save(root / "lab" / "a.png")
    >>> _ = fit_segmenter(root / "img", root / "lab", root / "model.skops", context=None,
    ...                   features="filter_bank:sigmas=[1]", class_names=["dark", "bright"],
    ...                   crop_data_bar=False, verbose=0)
    >>> table = segment_folder(root / "model.skops", root / "img", root / "out",
    ...                        cache=False, verbose=0)
    >>> table.round(1).to_dict("index")
    {'a.png': {'fraction__dark': 0.5, 'fraction__bright': 0.5}}
    >>> np.asarray(Image.open(root / "out" / "a.png"))[0, [0, 47]].tolist()
    [0, 1]
    """
    import skmicro
    from ..segmentation import measure_label_maps, pixel_uncertainty

    caller = "segment_folder"
    segmenter, route, identity = _load(model, caller)
    settings = dict(route.get("preparation", {}))
    if crop_data_bar is not None:
        settings["crop_data_bar"] = crop_data_bar
    with_pixel = {**settings, "pixel_size": pixel_size}
    prep = preparation_of(caller, None, {**{"crop_data_bar": True, "target_pixel_size": None,
                                            "contrast": None, "tile": None,
                                            "aggregate": "mean"}, **with_pixel})
    classes = segmenter.classes_
    names = route.get("class_names") or [str(int(c)) for c in classes]
    files, _ = list_micrographs(images)  # top level only: no sub-folder to exclude
    out = Path(out)
    if out.resolve() in {p.parent for p, _ in files}:
        raise ValueError(f"{caller}: the output folder '{out}' holds the micrographs; its "
                         "label maps would overwrite PNG micrographs. Choose another folder.")
    stems = {}
    for p, n in files:
        if p.stem in stems:
            raise ValueError(f"{caller}: '{stems[p.stem]}' and '{n}' would both write "
                             f"{p.stem}.png; rename one.")
        stems[p.stem] = n
    if measurements is not None:  # checked before any work; the default once out exists
        measurements = check_table_path(measurements, caller=caller)
    out.mkdir(parents=True, exist_ok=True)
    table_path = measurements or check_table_path(out / "measurements.csv", caller=caller)
    for sub, wanted in (("overlays", overlays), ("uncertainty", uncertainty)):
        if wanted:
            (out / sub).mkdir(exist_ok=True)
    _set_runtime(segmenter, device, n_jobs)
    segmenter.set_params(verbose=0)  # one bar here, over the files
    store = FeatureStore(None if cache is False else
                         default_cache_dir() if cache is True else cache)
    store.check_writable()
    model_key = _digest([skmicro.__version__, identity, prep.cache_key()])
    given = prep.pixel_sizes([n for _, n in files])
    maps, sizes, done = [], [], {"computed": 0, "cached": 0}
    try:
        with progress_bar(len(files), verbose=verbose, desc="segment", unit="file") as bar:
            hashes = store.content_hashes([p for p, _ in files],
                                          content_hash if store.enabled else str)
            for (path, name), size in zip(files, given):
                item = hashes[path] if isinstance(hashes[path], str) else content_hash(path)
                if prep.target_pixel_size is not None and size is not None:
                    item = f"{item}-{size!r}".replace(".", "p")
                entry = None if store.root is None else (
                    store.root.parent / _LAYOUT / model_key / item[:2] / f"{item}.npz")
                hit = None if entry is None else cache_get(entry)
                if hit is None:
                    image, info = prep.prepare_file(path, pixel_size=size)
                    proba = segmenter.predict_proba([image])[0]
                    labels = classes.astype(np.uint8)[proba.argmax(axis=-1)]
                    unsure = pixel_uncertainty(proba)
                    if entry is not None:
                        cache_put(entry, labels, unsure, info)
                    done["computed"] += 1
                else:
                    labels, unsure, info = hit
                    done["cached"] += 1
                _write_outputs(out, path, labels, unsure, info, prep, classes, names,
                               overlays, uncertainty)
                maps.append(labels)
                sizes.append(info["pixel_size_um"] if prep.target_pixel_size is None
                             else prep.target_pixel_size)
                bar.update()
    except KeyboardInterrupt:
        print(f"\ninterrupted: the label maps of {len(maps)} of {len(files)} micrographs are "
              f"written in {out} (and cached); run the same command again to continue.",
              file=sys.stderr)
        raise
    known = all(s is not None for s in sizes)
    table = measure_label_maps(maps, class_names=dict(zip(classes.tolist(), names)),
                               particle_class=particle_class,
                               pixel_size=sizes if known else None,
                               names=[n for _, n in files])
    write_table(table, table_path)
    table.attrs.update(done)
    if verbose:
        print(f"{len(files)} micrographs: {done['computed']} segmented, {done['cached']} from "
              f"the cache; wrote {out}/<stem>.png, {table_path}", file=sys.stderr)
    return table


def _set_runtime(segmenter, device, n_jobs):
    """Run a loaded segmenter's descriptors on ``device`` with ``n_jobs`` threads."""
    runtime = {"device": device, "n_jobs": n_jobs}
    for est in [segmenter, *segmenter.features_]:
        params = est.get_params(deep=False)
        est.set_params(**{k: v for k, v in runtime.items() if k in params})


def _write_outputs(out, path, labels, unsure, info, prep, classes, names, overlays,
                   uncertainty):
    full = prep.to_original(labels, info, order=0, fill=UNLABELLED)
    write_png(out / f"{path.stem}.png", full)
    if uncertainty:
        scaled = np.round(np.clip(unsure, 0, 1) * 255).astype(np.uint8)
        write_png(out / "uncertainty" / f"{path.stem}.png",
                  prep.to_original(scaled, info, order=1, fill=0))
    if overlays:
        labelled = full[full != UNLABELLED]
        fractions = [float((labelled == c).mean()) if labelled.size else 0.0 for c in classes]
        write_png(out / "overlays" / f"{path.stem}.png",
                  overlay(display_grey(path), full, classes, names, fractions))
