"""The computing part of describe_folder: descriptors set up once, then chunks of files
prepared and described, here (a thread pool reading ahead) or on a Dask cluster."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ._preparation import FileError
from ._specs import is_fitted

# Images decoded and described together (per chunk one call per descriptor and image size):
# an interrupted run loses at most one chunk, and threads share out a chunk's images.
_CHUNK = 8

# What the features cache keeps of each image's preparation (the table's meta__ columns).
META_FIELDS = ("height", "width", "data_bar_rows", "declared_pixel_size_um")


@dataclass
class Plan:
    """What every chunk needs: the preparation and the fitted descriptors."""

    prep: object  # Preparation, its pixel_size resolved into each item
    estimators: dict  # name -> fitted estimator (tiled by prep.wrap where tiling)


def _prepare(item, plan):
    """(image, meta) for one item, or raises FileError."""
    image, info = plan.prep.prepare_file(item.path, pixel_size=item.given_pixel_size)
    return image, {k: info[k] for k in META_FIELDS}


def _describe_chunk(items, plan, needs):
    """Describe a few files: ``[(name, meta, {descriptor: values}) or (name, error)]``.

    ``needs[i]`` are the descriptor names item ``i`` lacks (its meta is always recomputed,
    which costs nothing next to decoding). Images of one size go through each descriptor
    together; a failing group is retried image by image to find the culprit.
    """
    return _describe_prepared(items, [_prepare_safely(it, plan) for it in items], plan, needs)


def _prepare_safely(item, plan):
    try:
        return _prepare(item, plan)
    except FileError as exc:
        return exc.reason


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


def _fit_estimators(specs, todo, prep, device, n_jobs, on_error):
    """Build every descriptor that has files to compute and fit it on the first readable
    image (descriptors learn only the image size there); returns (plan, failed files). A
    user's unfitted estimator is cloned, never fitted in place. With on_error="raise" the
    first failure ends the search (it is raised by the caller)."""
    from sklearn.base import clone

    # the pixel sizes travel with each item (a spreadsheet is read once, here)
    plan = Plan(replace(prep, pixel_size=None), {})
    needed = [s for s in specs if any(s.name in need for _, need in todo)]
    if any(s.named for s in needed):
        from .._engine import check_device_param

        check_device_param(device, caller="describe_folder")
    built = {s.name: s.build(device=device, n_jobs=n_jobs) for s in needed}
    built = {k: est if is_fitted(est) else clone(est) for k, est in built.items()}
    built = {k: prep.wrap(est) for k, est in built.items()}
    failed = {}
    for item, need in todo:
        pending = [k for k in built if k in need and k not in plan.estimators]
        if not pending:
            continue
        try:
            image, _ = _prepare(item, plan)
        except FileError as exc:
            failed[item.name] = exc.reason
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
        shipped = Plan(plan.prep, {k: worker_copy(e) for k, e in plan.estimators.items()})
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


def fail(item, message, on_error, skipped, store):
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


def compute(todo, specs, keys, meta_key, store, prep, on_error, skipped, bar, device, n_jobs,
            scheduler):
    """Describe the files ``todo`` (``[(item, descriptor names it lacks)]``), storing each
    result in ``store`` as it arrives and filling ``item.rows`` / ``item.meta``."""
    bar.set_postfix_str("setting up the descriptors")
    plan, failed = _fit_estimators(specs, todo, prep, device, n_jobs, on_error)
    bar.set_postfix_str("")
    by_name = {item.name: (item, need) for item, need in todo}
    for name, message in failed.items():  # unreadable before anything could be set up
        fail(by_name[name][0], message, on_error, skipped, store)
        bar.update()
    rest = [(item, need) for item, need in todo if item.name not in failed]
    chunks = [rest[i:i + _CHUNK] for i in range(0, len(rest), _CHUNK)]
    describe = {s.name: s.describe() for s in specs}
    names_of = {k: [str(n) for n in est.get_feature_names_out()]
                for k, est in plan.estimators.items()}
    run = (lambda c, p, n: _run_local(c, p, n, n_jobs)) if scheduler is None else (
        lambda c, p, n: _run_dask(c, p, n, scheduler))
    light = [[replace(it, content=None, meta=None, rows=None) for it, _ in c] for c in chunks]
    results = run(light, plan, [[n for _, n in c] for c in chunks])
    for chunk_result in results:
        for name, result in chunk_result:
            item, need = by_name[name]
            if isinstance(result, str):
                fail(item, result, on_error, skipped, store)
                bar.update()
                continue
            meta, rows = result
            key = item.item_key(prep)
            bad = [d for d, v in rows.items() if len(v) != len(names_of[d])]
            if bad:
                fail(item, f"descriptor '{bad[0]}' gives {len(rows[bad[0]])} features for this "
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

