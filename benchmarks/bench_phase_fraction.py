"""Per-tile phase fractions of real UHCS micrographs: skmicro descriptors vs a metallographer's
first tries, in one run, with a protocol fixed before the test folds are scored.

    python benchmarks/bench_phase_fraction.py [DATA_FOLDER] [--json PATH] [--figures DIR]
        [--tile-sizes 128 192] [--offsets 3] [--keep-upsampled] [--quick]

DATA_FOLDER defaults to ``SKMICRO_UHCS24``, else the copy that ships with skmicro
(``skmicro.datasets.load_uhcs24``: 24 SEM micrographs with the experts' per-pixel annotations,
CC BY-SA 3.0 US: "Ultrahigh Carbon Steel Microconstituent Annotations", DeCost, Hecht, Sibley,
Francis, Webler, Picard, Holm, https://hdl.handle.net/11256/940).

Protocol (docs/phase_fractions.md):

* images: data bar cropped (CropDataBar, masks cropped alike), per-image percentile contrast
  stretch (NormalizeContrast), one pixel size 0.194 um (the 982x majority); images that would
  need upsampling by more than 1.25x are left out (uhcs0357, 491x: upsampling invents none of
  the particle detail the descriptors read), and images smaller than one tile after rescaling
  contribute none (uhcs0596 at 4910x);
* tiles: ``tile_fractions`` (tiles touching unlabelled pixels dropped); 128 px (= 24.9 um) at
  ``--offsets`` grid offsets (0,0 and random ones, seed 0), 96 and 192 px at offset 0;
* targets: frac_spheroidite, frac_network, frac_matrix of each tile;
* outer CV: GroupKFold(5) by micrograph; the model's one hyper-parameter (ridge alpha, or k of
  k-NN) is chosen inside each training fold by GroupKFold(4), never on the test fold;
  predictions are clipped to [0, 1] (fractions);
* scores: R^2 per outer fold (mean, worst), MAE over all tiles, descriptor time per tile.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _common import load_line, print_machine_header, print_table

TARGETS = {"frac_spheroidite": 2, "frac_network": 1, "frac_matrix": 0}
CLASSES = [0, 1, 2, 3]  # matrix, network, spheroidite, widmanstatten
TARGET_PIXEL_SIZE = 0.194  # um: 20 um / 103 px, the 982x magnification of 16 of 24 images
MAX_UPSAMPLING = 1.25


def data_folder(arg):
    if arg:
        return Path(arg)
    if os.environ.get("SKMICRO_UHCS24"):
        return Path(os.environ["SKMICRO_UHCS24"])
    from skmicro.datasets import load_uhcs24

    return load_uhcs24(return_labels=False).folder


def load(folder):
    """Images, label masks, pixel sizes (um) and sample labels, data bar cropped."""
    from skmicro.io import load_micrographs
    from skmicro.preprocessing import CropDataBar

    rows = list(csv.DictReader(open(folder / "metadata.csv")))
    images = load_micrographs([folder / r["file"] for r in rows])
    masks = load_micrographs([folder / "labels" / r["file"].replace(".tif", ".png")
                              for r in rows])
    cropped = CropDataBar().fit_transform(images)
    masks = [m[:c.shape[0]] for m, c in zip(masks, cropped)]
    sizes = np.array([float(r["micron_bar"]) / float(r["micron_bar_px"]) for r in rows])
    return images, masks, sizes, rows


# ------------------------------------------------------------------- descriptors and baselines
def _histogram32(tiles):
    return np.stack([np.histogram(t, 32, (0.0, 1.0))[0] / t.size for t in tiles])


def _otsu_fraction(tiles):
    from skimage.filters import threshold_otsu

    return np.array([[np.mean(t > threshold_otsu(t))] for t in tiles])


def _lbp_uniform(tiles):
    from skimage.feature import local_binary_pattern

    out = []
    for t in tiles:
        codes = local_binary_pattern((np.clip(t, 0, 1) * 255).astype(np.uint8), 8, 1, "uniform")
        out.append(np.bincount(codes.astype(int).ravel(), minlength=10) / t.size)
    return np.stack(out)


def descriptors(quick=False):
    """name -> function(tiles) -> features. Fixed before any test fold was scored."""
    from skmicro import PowerSpectrumFeatures, ScatteringFeatures, VGGGramFeatures

    def est(e):
        return lambda tiles: e.fit(tiles[:1]).transform(tiles)

    out = {
        "baseline_mean": lambda tiles: np.zeros((len(tiles), 1)),
        "baseline_histogram32": _histogram32,
        "baseline_otsu": _otsu_fraction,
        "baseline_lbp": _lbp_uniform,
        "power_spectrum": est(PowerSpectrumFeatures(radial=True, log=True, device="cpu")),
        "scattering": est(ScatteringFeatures(J=4, log=True, rotation_invariant=True,
                                             device="cpu")),
        "scattering_geometric": est(ScatteringFeatures(J=3, log=True, rotation_invariant=True,
                                                       average="geometric", device="cpu")),
    }
    if not quick:
        out["vgg_gram"] = est(VGGGramFeatures(layers=["conv1_1", "conv2_1"], device="cpu"))
        out["vgg_gram_sqrt_l2"] = est(VGGGramFeatures(layers=["conv1_1", "conv2_1"],
                                                      normalize="sqrt_l2", device="cpu"))
    return out


UNION = ("power_spectrum", "scattering", "scattering_geometric", "vgg_gram")


def union(features):
    """Block-weighted concatenation: each standardized block counts alike (1/sqrt(width))."""
    blocks = []
    for name in UNION:
        if name in features:
            F = features[name]
            F = (F - F.mean(0)) / (F.std(0) + 1e-12)
            blocks.append(F / np.sqrt(F.shape[1]))
    return np.concatenate(blocks, axis=1)


# ------------------------------------------------------------------- the cross-validation
def _model(kind):
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "ridge":
        pipe, grid = make_pipeline(StandardScaler(), Ridge()), {"ridge__alpha": ALPHAS}
    else:
        pipe, grid = make_pipeline(StandardScaler(), KNeighborsRegressor()), {
            "kneighborsregressor__n_neighbors": [5, 10, 20, 40]}
    return GridSearchCV(pipe, grid, cv=GroupKFold(4), scoring="r2")


ALPHAS = np.logspace(-2, 5, 15)


def _ridge_path(X_train, y_train, X_test, alphas=ALPHAS):
    """StandardScaler + Ridge(alpha) predictions for every alpha at once: (n_alphas, n_test).

    The same model as ``make_pipeline(StandardScaler(), Ridge(alpha))``, solved through one
    SVD of the standardized training block instead of one fit per alpha.
    """
    mean, std = X_train.mean(0), X_train.std(0)
    std[std == 0] = 1.0
    A, B = (X_train - mean) / std, (X_test - mean) / std
    y_mean = y_train.mean()
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    Uy = U.T @ (y_train - y_mean)
    BV = B @ Vt.T
    return np.stack([BV @ (s / (s ** 2 + a) * Uy) for a in alphas]) + y_mean


def _fit_predict(F, y, groups, train, test, kind):
    """Choose the hyper-parameter by GroupKFold(4) inside ``train``; predict ``test``."""
    from sklearn.model_selection import GroupKFold

    if kind == "ridge":
        inner = np.zeros(len(ALPHAS))
        for a, b in GroupKFold(4).split(train, groups=groups[train]):
            tr, va = train[a], train[b]
            p = _ridge_path(F[tr], y[tr], F[va])  # (n_alphas, n_va): R^2 of each row
            inner += 1 - ((p - y[va]) ** 2).sum(1) / ((y[va] - y[va].mean()) ** 2).sum()
        best = ALPHAS[[int(np.argmax(inner))]]
        return _ridge_path(F[train], y[train], F[test], best)[0]
    model = _model(kind).fit(F[train], y[train], groups=groups[train])
    return model.predict(F[test])


def cross_validate(F, y, groups, kind, n_splits=5):
    """Outer GroupKFold; inner GroupKFold picks the hyper-parameter. Returns per-fold R^2,
    the MAE and the out-of-fold predictions (clipped to [0, 1]: fractions)."""
    from sklearn.metrics import mean_absolute_error, r2_score
    from sklearn.model_selection import GroupKFold

    pred = np.empty_like(y)
    r2 = []
    for train, test in GroupKFold(n_splits).split(F, y, groups):
        if kind == "mean":
            pred[test] = y[train].mean()
        else:
            pred[test] = np.clip(_fit_predict(F, y, groups, train, test, kind), 0.0, 1.0)
        r2.append(r2_score(y[test], pred[test]))
    return np.array(r2), mean_absolute_error(y, pred), pred


def tiles_for(images, masks, sizes, use, tile, offset):
    from skmicro.preprocessing import tile_fractions

    fits = [i for i in use if min(round(s * sizes[i] / TARGET_PIXEL_SIZE)
                                  for s in images[i].shape) >= tile + max(offset)]
    tiles, fractions, groups = tile_fractions(
        [images[i] for i in fits], [masks[i] for i in fits], tile, classes=CLASSES,
        pixel_size=sizes[fits], target_pixel_size=TARGET_PIXEL_SIZE, offset=offset)
    return tiles, fractions, np.asarray(fits)[groups]


def evaluate_tiles(tiles, fractions, groups, funcs, n_splits=5, verbose=True):
    """Features of every method, then the CV scores: {method: {target: (...)}}, times."""
    features, ms = {}, {}
    for name, func in funcs.items():
        t0 = time.perf_counter()
        features[name] = np.asarray(func(tiles), dtype=np.float64)
        ms[name] = (time.perf_counter() - t0) / len(tiles) * 1e3
        if verbose:
            print(f"#   {name}: {features[name].shape[1]} features, {ms[name]:.2f} ms/tile",
                  flush=True)
    features["union"] = union(features)
    ms["union"] = sum(ms[n] for n in UNION if n in ms)
    scores = {}
    for name, F in features.items():
        kinds = ["mean"] if name == "baseline_mean" else ["ridge", "knn"]
        for kind in kinds:
            method = name if kind == "mean" else f"{name}_{kind}"
            scores[method] = {}
            for target, column in TARGETS.items():
                y = fractions[:, column]
                r2, mae, pred = cross_validate(F, y, groups, kind, n_splits)
                scores[method][target] = {"r2": r2, "mae": mae, "pred": pred, "ms": ms[name]}
    return scores


# ------------------------------------------------------------------- robustness
def variants(image_u8):
    """The same micrograph as other files would hold it (uint8 in, dict of arrays out)."""
    x = image_u8.astype(np.float64) / 255.0
    return {
        "8-bit (original)": image_u8,
        "16-bit, full range (x257)": (image_u8.astype(np.uint16) * 257),
        "16-bit, 12-bit data (x16)": (image_u8.astype(np.uint16) * 16),
        "8-bit, dim + low contrast": np.round(255 * (0.15 + 0.45 * x)).astype(np.uint8),
        "8-bit, gamma 0.6": np.round(255 * x ** 0.6).astype(np.uint8),
    }


def robustness(raw, masks, sizes, use, rows, method_funcs):
    """Train on the original files, test on held-out images re-saved as in ``variants``:
    R^2 of each method with and without per-image contrast normalization."""
    from sklearn.metrics import r2_score
    from sklearn.model_selection import GroupKFold

    from skmicro.preprocessing import CropDataBar, NormalizeContrast

    def prepare(images, normalize):
        out = CropDataBar(rows=raw[0].shape[0] - masks[0].shape[0]).fit_transform(images)
        return list(NormalizeContrast().fit_transform(out)) if normalize else list(out)

    results = {}
    labels = list(variants(raw[0]))
    for normalize in (True, False):
        for name, func in method_funcs.items():
            feats = {}
            for label in labels:  # every micrograph re-saved alike: the same tiles, aligned
                imgs = [variants(r)[label] for r in raw]
                tiles, fractions, groups = tiles_for(prepare(imgs, normalize), masks, sizes,
                                                     use, 128, (0, 0))
                feats[label] = np.asarray(func(tiles), dtype=np.float64)
            original = feats[labels[0]]
            for target in ("frac_spheroidite", "frac_network"):
                y = fractions[:, TARGETS[target]]
                preds = {label: np.empty_like(y) for label in labels}
                for train, test in GroupKFold(5).split(original, y, groups):
                    for label in labels:  # the model of the original files, on the variant
                        both = np.concatenate([original, feats[label][test]])
                        preds[label][test] = np.clip(_fit_predict(
                            both, np.concatenate([y, y[test]]), np.concatenate(
                                [groups, groups[test]]), train,
                            len(y) + np.arange(len(test)), "ridge"), 0, 1)
                for label in labels:
                    results[(name, normalize, target, label)] = r2_score(y, preds[label])
    return results


# ------------------------------------------------------------------- figures
def save_figures(folder, fractions, scores, best):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(2, 2, figsize=(7.2, 7.0))
    for row, method in enumerate(best):
        for col, target in enumerate(("frac_spheroidite", "frac_network")):
            ax = axes[row, col]
            s = scores[method][target]
            ax.scatter(fractions[:, TARGETS[target]], s["pred"], s=6, alpha=0.5)
            ax.plot([0, 1], [0, 1], "k--", lw=0.8)
            ax.set(xlim=(0, 1), ylim=(0, 1), xlabel=f"measured {target}",
                   ylabel="predicted (out of fold)")
            ax.set_title(f"{method}\nR^2 {s['r2'].mean():.2f} (worst fold {s['r2'].min():.2f})",
                         fontsize=8)
    fig.text(0.5, 0.005, "Micrographs: UHCS Microconstituent Annotations, DeCost, Hecht, "
             "Sibley, Francis, Webler, Picard, Holm; hdl.handle.net/11256/940; CC BY-SA 3.0 US",
             ha="center", fontsize=6)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    fig.savefig(folder / "predicted_vs_measured.png", dpi=80)
    plt.close(fig)


# ------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", default=None)
    parser.add_argument("--json", default=None, help="write the 128-px scores here")
    parser.add_argument("--figures", default=None, help="save predicted-vs-measured PNGs here")
    parser.add_argument("--tile-sizes", type=int, nargs="+", default=[128, 192],
                        help="tile sides in pixels (128 is required for the summary); the "
                        "docs table adds 96")
    parser.add_argument("--offsets", type=int, default=3, help="grid offsets for 128-px tiles")
    parser.add_argument("--keep-upsampled", action="store_true",
                        help="keep images that need upsampling by more than 1.25x (uhcs0357)")
    parser.add_argument("--quick", action="store_true",
                        help="no VGG, one offset, 128 px only, no robustness check")
    args = parser.parse_args(argv)
    folder = data_folder(args.folder)
    if not (folder / "labels").is_dir():
        print(f"UHCS micrographs with labels not found in {folder}: pass the folder or set "
              "SKMICRO_UHCS24. Nothing to do.")
        return 0
    warnings.filterwarnings("ignore", message="An ill-conditioned matrix")
    if args.quick:
        args.tile_sizes, args.offsets = [128], 1
    print_machine_header()
    from skmicro.preprocessing import NormalizeContrast

    raw, masks, sizes, rows = load(folder)
    images = list(NormalizeContrast().fit_transform(
        [r[:m.shape[0]] for r, m in zip(raw, masks)]))
    limit = np.inf if args.keep_upsampled else TARGET_PIXEL_SIZE * MAX_UPSAMPLING
    use = [i for i in range(len(raw)) if sizes[i] <= limit]
    left_out = [rows[i]["file"] for i in range(len(raw)) if i not in use]
    print(f"# {len(raw)} micrographs, pixel size {TARGET_PIXEL_SIZE} um; left out (would be "
          f"upsampled > {MAX_UPSAMPLING}x): {', '.join(left_out) or 'none (--keep-upsampled)'}")
    funcs = descriptors(quick=args.quick)
    rng = np.random.default_rng(0)
    offsets = [(0, 0)] + [tuple(int(v) for v in rng.integers(0, 64, 2))
                          for _ in range(args.offsets - 1)]
    runs = {}
    for tile in args.tile_sizes:
        for offset in (offsets if tile == 128 else [(0, 0)]):
            tiles, fractions, groups = tiles_for(images, masks, sizes, use, tile, offset)
            print(f"# {tile}x{tile} tiles at offset {offset}: {len(tiles)} tiles from "
                  f"{len(set(groups))} micrographs", flush=True)
            runs[(tile, offset)] = (evaluate_tiles(tiles, fractions, groups, funcs),
                                    fractions, groups)

    def table(tile):
        keys = [k for k in runs if k[0] == tile]
        methods = list(runs[keys[0]][0])
        out = {}
        lines = []
        for method in methods:
            row = [method]
            for target in ("frac_spheroidite", "frac_network", "frac_matrix"):
                r2 = np.array([runs[k][0][method][target]["r2"] for k in keys])  # (off, fold)
                mae = np.mean([runs[k][0][method][target]["mae"] for k in keys])
                out.setdefault(target, {})[method] = {
                    "r2_mean": float(r2.mean()), "r2_min": float(r2.min()), "mae": float(mae),
                    "r2_offset_std": float(r2.mean(axis=1).std())}
                spread = f" +-{r2.mean(axis=1).std():.2f}" if len(keys) > 1 else ""
                row.append(f"{r2.mean():.3f}{spread} / {r2.min():.2f} / {mae:.3f}")
            row.append(f"{runs[keys[0]][0][method]['frac_spheroidite']['ms']:.1f}")
            lines.append(row)
        print(f"\n## {tile}x{tile} tiles ({len(keys)} grid offset(s)); cells: R^2 mean over "
              "folds and offsets (+- std over offsets) / worst fold / MAE (fraction)")
        print_table(["method", "spheroidite", "network", "matrix", "ms/tile"], lines)
        return out

    results = {tile: table(tile) for tile in args.tile_sizes}
    r128 = results[128]
    for target in ("frac_spheroidite", "frac_network"):
        ours = {m: v for m, v in r128[target].items() if not m.startswith("baseline")}
        base = {m: v for m, v in r128[target].items() if m.startswith("baseline")}
        bo, bb = max(ours, key=lambda m: ours[m]["r2_mean"]), max(
            base, key=lambda m: base[m]["r2_mean"])
        print(f"# {target}: best skmicro {bo} R^2 {ours[bo]['r2_mean']:.3f}; best baseline "
              f"{bb} {base[bb]['r2_mean']:.3f}; margin {ours[bo]['r2_mean'] - base[bb]['r2_mean']:.3f}")

    # Grouped by physical sample (sample_label) instead of by micrograph, 128 px, offset 0.
    scores0, fractions0, groups0 = runs[(128, (0, 0))]
    samples = np.unique([rows[i]["sample_label"] for i in groups0], return_inverse=True)[1]
    print(f"\n## 128x128, GroupKFold(5) by sample_label ({samples.max() + 1} samples)")
    tiles, _, _ = tiles_for(images, masks, sizes, use, 128, (0, 0))
    lines = []
    for method in ("scattering_geometric_ridge", "scattering_ridge", "baseline_lbp_ridge"):
        name = method.rsplit("_", 1)[0]
        F = np.asarray(funcs[name](tiles), dtype=np.float64)
        row = [method]
        for target in ("frac_spheroidite", "frac_network"):
            r2, mae, _ = cross_validate(F, fractions0[:, TARGETS[target]], samples, "ridge")
            row.append(f"{r2.mean():.3f} / {r2.min():.2f} / {mae:.3f}")
        lines.append(row)
    print_table(["method", "spheroidite", "network"], lines)

    if not args.quick:
        print("\n## Robustness: trained on the 8-bit files, tested on held-out micrographs "
              "re-saved (R^2, ridge, 128 px)")
        robust_funcs = {m: funcs[m] for m in ("scattering_geometric", "baseline_lbp")}
        res = robustness(raw, masks, sizes, use, rows, robust_funcs)
        labels = list(variants(raw[0]))
        lines = []
        for name in robust_funcs:
            for normalize in (True, False):
                for target in ("frac_spheroidite", "frac_network"):
                    lines.append([f"{name}, {'NormalizeContrast' if normalize else 'raw'}, "
                                  f"{target}"] + [f"{res[(name, normalize, target, lab)]:.3f}"
                                                  for lab in labels])
        print_table(["method"] + labels, lines)

    if args.figures:
        save_figures(Path(args.figures), fractions0, scores0,
                     ["scattering_geometric_ridge", "baseline_lbp_ridge"])
    if args.json:
        payload = {t: r128[t] for t in ("frac_spheroidite", "frac_network", "frac_matrix")}
        Path(args.json).write_text(json.dumps(payload, indent=1))
    print(load_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
