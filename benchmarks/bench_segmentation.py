"""Trainable segmentation of real UHCS micrographs: skmicro's TrainableSegmenter against
scikit-image's trainable segmentation, on the six folds of DeCost et al. (2019), in one run.

    python benchmarks/bench_segmentation.py [DATA_FOLDER] [--json PATH] [--folds 0 1 ...]
        [--methods NAME ...] [--cache DIR] [--resume DIR]

DATA_FOLDER defaults to the copy that ships with skmicro (``skmicro.datasets.load_uhcs24``:
24 SEM micrographs with the experts' per-pixel annotations, CC BY-SA 3.0 US: "Ultrahigh Carbon
Steel Microconstituent Annotations", DeCost, Hecht, Sibley, Francis, Webler, Picard, Holm,
https://hdl.handle.net/11256/940).

Protocol (docs/segmentation.md), fixed before the headline run:

* images: rows 0-483 (the data bar, rows 484-521, is unlabelled), each image's contrast
  stretched between its 1st and 99th percentiles (``NormalizeContrast``), native resolution;
* folds: the six validation folds of folds.json (four micrographs each); every method is
  trained on the 20 other micrographs and predicts the 4 held-out ones;
* scores, pooled over the six folds (every micrograph held out once): pixel accuracy and the
  intersection over union of each class (mean IU: their mean), from one confusion matrix;
  ``tile_r2``: R^2 of the spheroidite and network fractions of 128-px tiles at 0.194 um
  (docs/phase_fractions.md's pixel size, tiling and resolution rule, by
  ``bench_phase_fraction.tiles_for``) of each predicted map against the experts' map;
* times: ``fit_seconds`` (mean per fold: descriptors of the 20 training images plus the
  classifier fit) and ``predict_seconds_per_image`` (descriptors plus classification), on
  this machine, whose CPU flags and load average are printed. Descriptors are computed once
  per image and reused across folds (their time is counted in every fold that uses them).

Methods: ``baseline_skimage_rf`` (scikit-image ``multiscale_basic_features``, sigma 0.5-16,
+ ``RandomForestClassifier(100, max_depth=20)`` on 10,000 uniformly drawn pixels per training
image, as scikit-image's trainable segmentation does it); ``skmicro_default``
(``TrainableSegmenter()``, every default); ``skmicro_no_context`` (the same without the
auto-context pass); ``skmicro_filter_bank`` (``FilterBankPixelFeatures()`` alone, the default
classifier and context: the classical features with skmicro's classifier).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import load_line, print_machine_header, print_table
from bench_phase_fraction import MAX_UPSAMPLING, TARGET_PIXEL_SIZE, tiles_for
from sklearn.base import BaseEstimator, TransformerMixin

CLASS_NAMES = ("matrix", "network", "spheroidite", "widmanstatten")
ROWS = 484  # rows 0-483 are labelled; the data bar below is not


def load(folder=None):
    """Images (contrast-stretched, rows 0-483), masks, pixel sizes (um), names, folds."""
    from skmicro.preprocessing import NormalizeContrast

    if folder is None:
        from skmicro.datasets import load_uhcs24

        data = load_uhcs24()
        images, masks = data.images[:, :ROWS], data.labels[:, :ROWS]
        names, folds = list(data.file_names), np.asarray(data.folds)
        sizes = data.metadata["pixel_size_um"].to_numpy(float)
    else:
        import csv

        from skmicro.io import load_micrographs

        folder = Path(folder)
        rows = list(csv.DictReader(open(folder / "metadata.csv")))
        names = [r["file"] for r in rows]
        images = np.stack([im[:ROWS] for im in load_micrographs([folder / n for n in names])])
        masks = np.stack([m[:ROWS] for m in load_micrographs(
            [folder / "labels" / n.replace(".tif", ".png") for n in names])])
        sizes = np.array([float(r["micron_bar"]) / float(r["micron_bar_px"]) for r in rows])
        spec = json.loads((folder / "folds.json").read_text())["folds"]
        fold_of = {n: int(k) for k, files in spec.items() for n in files}
        folds = np.array([fold_of[n] for n in names])
    images = NormalizeContrast().fit_transform(images)
    masks = np.asarray(masks, dtype=np.uint8)
    assert (masks != 255).all(), "rows 0-483 are fully labelled"
    return np.asarray(images, np.float32), masks, sizes, names, folds


class CachedPixelFeatures(TransformerMixin, BaseEstimator):
    """A dense transformer whose per-image stacks are computed once and kept in ``folder``
    (float32 .npy, memory-mapped on reuse); the first computation's time is recorded."""

    def __init__(self, transformer=None, folder=None, name="features"):
        self.transformer = transformer
        self.folder = folder
        self.name = name

    def fit(self, X, y=None):
        self.fitted_ = self.transformer.fit(X[:1] if not isinstance(X, list) else X[:1])
        return self

    def transform(self, X):
        out = []
        for image in X:
            image = np.ascontiguousarray(image, dtype=np.float32)
            key = f"{self.name}-{hashlib.sha1(image.tobytes()).hexdigest()[:16]}"
            path = Path(self.folder) / f"{key}.npy"
            if not path.exists():
                t0 = time.perf_counter()
                stack = self.fitted_.transform(image[None])[0].astype(np.float32)
                seconds = time.perf_counter() - t0
                tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
                np.save(tmp, stack)
                os.replace(tmp, path)  # atomic: other processes see all of it or nothing
                path.with_suffix(".seconds").write_text(repr(seconds))
            out.append(np.load(path, mmap_mode="r"))
        return np.stack(out)

    def seconds(self, images):
        """Seconds the descriptors of ``images`` took when first computed (any process)."""
        total = 0.0
        for image in images:
            digest = hashlib.sha1(np.ascontiguousarray(image, np.float32).tobytes())
            path = Path(self.folder) / f"{self.name}-{digest.hexdigest()[:16]}.seconds"
            for _ in range(3600):  # a stack cached by another process: wait for its time
                if path.exists():
                    break
                time.sleep(1)
            total += float(path.read_text())
        return total


# ------------------------------------------------------------------- the methods
def skimage_baseline(train_images, train_masks, test_images, seed=0):
    """scikit-image's trainable segmentation: its feature stack, a random forest, 10,000
    uniformly drawn pixels per training image. Returns label maps and the fit/predict time."""
    from skimage.feature import multiscale_basic_features
    from sklearn.ensemble import RandomForestClassifier

    def feats(im):
        return multiscale_basic_features(im, sigma_min=0.5, sigma_max=16).astype(np.float32)

    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    X, y = [], []
    for im, m in zip(train_images, train_masks):
        flat = rng.choice(m.size, 10_000, replace=False)
        X.append(feats(im).reshape(-1, 24)[flat])
        y.append(m.ravel()[flat])
    clf = RandomForestClassifier(100, max_depth=20, n_jobs=-1, random_state=seed)
    clf.fit(np.concatenate(X), np.concatenate(y))
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    maps = [clf.classes_[clf.predict(feats(im).reshape(-1, 24))].reshape(im.shape).astype(
        np.uint8) for im in test_images]
    return maps, fit_s, (time.perf_counter() - t0) / len(test_images)


def segmenter_method(make, cached):
    """A method from a TrainableSegmenter factory taking the (cached) feature transformers."""

    def run(train_images, train_masks, test_images, seed=0):
        seg = make(cached, seed)
        t0 = time.perf_counter()
        seg.fit(list(train_images), list(train_masks))
        fit_s = time.perf_counter() - t0 + sum(c.seconds(train_images) for c in cached)
        t0 = time.perf_counter()
        maps = list(seg.predict(list(test_images)))
        pred_s = time.perf_counter() - t0 + sum(c.seconds(test_images) for c in cached)
        return maps, fit_s, pred_s / len(test_images)

    return run


def methods(cache, names=None):
    from skmicro.features import FilterBankPixelFeatures
    from skmicro.segmentation import TrainableSegmenter, default_features

    def cache_all(transformers, tag):
        return [CachedPixelFeatures(t, cache, f"{tag}{i}") for i, t in enumerate(transformers)]

    default = cache_all(default_features(), "default")
    bank = cache_all([FilterBankPixelFeatures(device="cpu")], "bank")
    out = {
        "baseline_skimage_rf": skimage_baseline,
        "skmicro_default": segmenter_method(
            lambda c, s: TrainableSegmenter(c, random_state=s), default),
        "skmicro_no_context": segmenter_method(
            lambda c, s: TrainableSegmenter(c, context=None, random_state=s), default),
        "skmicro_filter_bank": segmenter_method(
            lambda c, s: TrainableSegmenter(c, random_state=s), bank),
    }
    return {k: v for k, v in out.items() if names is None or k in names}


# ------------------------------------------------------------------- scores
def confusion(truth, pred, k=4):
    return np.bincount(truth.ravel().astype(np.int64) * k + pred.ravel(), minlength=k * k
                       ).reshape(k, k)


def scores(conf):
    tp = np.diag(conf).astype(float)
    iu = tp / (conf.sum(0) + conf.sum(1) - tp)
    return float(tp.sum() / conf.sum()), iu


def tile_r2(images, masks, predicted, sizes):
    """R^2 of 128-px tile fractions (docs/phase_fractions.md's protocol) of the predicted maps
    against the experts' maps, pooled over every held-out micrograph."""
    from sklearn.metrics import r2_score

    use = [i for i in range(len(images)) if sizes[i] <= TARGET_PIXEL_SIZE * MAX_UPSAMPLING]
    _, truth, groups = tiles_for(images, masks, sizes, use, 128, (0, 0))
    _, pred, groups_p = tiles_for(images, predicted, sizes, use, 128, (0, 0))
    assert np.array_equal(groups, groups_p)
    return {f"frac_{name}": float(r2_score(truth[:, c], pred[:, c]))
            for name, c in (("spheroidite", 2), ("network", 1))}


# ------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", default=None,
                        help="a uhcs24 folder (default: skmicro.datasets.load_uhcs24)")
    parser.add_argument("--json", default=None, help="write the scores here")
    parser.add_argument("--folds", type=int, nargs="+", default=None,
                        help="run only these folds (exploration; the headline uses all six)")
    parser.add_argument("--methods", nargs="+", default=None, help="run only these methods")
    parser.add_argument("--cache", default=None,
                        help="keep descriptor stacks here (default: a temporary folder)")
    parser.add_argument("--resume", default=None,
                        help="keep each method's held-out maps and times per fold in this "
                        "folder and reuse those already there (runs split over processes or "
                        "interrupted runs; the summary is the same)")
    args = parser.parse_args(argv)
    print_machine_header()
    images, masks, sizes, names, folds = load(args.folder)
    fold_ids = sorted(set(folds.tolist())) if args.folds is None else args.folds
    print(f"# {len(images)} micrographs ({images.shape[1]}x{images.shape[2]}), folds "
          f"{fold_ids}", flush=True)
    with tempfile.TemporaryDirectory(prefix="skmicro-seg-") as tmp:
        cache = args.cache or tmp
        Path(cache).mkdir(parents=True, exist_ok=True)
        if args.resume:
            Path(args.resume).mkdir(parents=True, exist_ok=True)
        results, lines = {}, []
        for name, run in methods(cache, args.methods).items():
            conf = np.zeros((4, 4), np.int64)
            predicted = masks.copy()
            fit_s, pred_s, fold_acc = [], [], []
            for k in fold_ids:
                test = np.flatnonzero(folds == k)
                train = np.flatnonzero(folds != k)
                part = Path(args.resume) / f"{name}_fold{k}.npz" if args.resume else None
                if part is not None and part.exists():
                    saved = np.load(part)
                    maps, f_s, p_s = list(saved["maps"]), float(saved["fit_s"]), float(
                        saved["pred_s"])
                else:
                    maps, f_s, p_s = run(images[train], masks[train], images[test])
                    if part is not None:
                        np.savez_compressed(part, maps=np.stack(maps), fit_s=f_s, pred_s=p_s)
                fit_s.append(f_s)
                pred_s.append(p_s)
                fold_conf = sum(confusion(masks[i], m) for i, m in zip(test, maps))
                conf += fold_conf
                fold_acc.append(scores(fold_conf)[0])
                for i, m in zip(test, maps):
                    predicted[i] = m
                print(f"#   {name} fold {k}: accuracy {fold_acc[-1]:.3f}, fit {f_s:.0f} s, "
                      f"predict {p_s:.1f} s/image", flush=True)
            acc, iu = scores(conf)
            held = np.concatenate([np.flatnonzero(folds == k) for k in fold_ids])
            r2 = tile_r2([images[i] for i in held], [masks[i] for i in held],
                         [predicted[i] for i in held], sizes[held])
            results[name] = {
                "pixel_accuracy": acc, "mean_iu": float(iu.mean()),
                "iu": {c: float(v) for c, v in zip(CLASS_NAMES, iu)},
                "fit_seconds": float(np.mean(fit_s)),
                "predict_seconds_per_image": float(np.mean(pred_s)),
                "tile_r2": r2,
            }
            lines.append([name, f"{acc:.3f}", f"{iu.mean():.3f}",
                          " / ".join(f"{v:.2f}" for v in iu),
                          " / ".join(f"{a:.2f}" for a in fold_acc),
                          f"{r2['frac_spheroidite']:.3f} / {r2['frac_network']:.3f}",
                          f"{np.mean(fit_s):.0f}", f"{np.mean(pred_s):.2f}"])
    print("\n## Six folds of DeCost et al. (2019), rows 0-483, pooled over held-out images")
    print_table(["method", "pixel accuracy", "mean IU",
                 "IU matrix / network / spheroidite / widmanstatten", "accuracy per fold",
                 "tile R^2 spheroidite / network", "fit s", "predict s/image"], lines)
    base = [m for m in results if m.startswith("baseline_")]
    ours = [m for m in results if not m.startswith("baseline_")]
    if base and ours:
        b = max(base, key=lambda m: results[m]["mean_iu"])
        for m in ours:
            print(f"# {m}: mean IU {results[m]['mean_iu']:.3f}, "
                  f"{results[m]['mean_iu'] - results[b]['mean_iu']:+.3f} against {b}")
    if args.json:
        Path(args.json).write_text(json.dumps({"methods": results}, indent=1))
    print(load_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
