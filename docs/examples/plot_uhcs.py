"""
Real SEM micrographs end to end: data bars, one pixel size, descriptors, MDS, regression
=========================================================================================

The 24 scanning-electron micrographs of ultrahigh-carbon steel (UHCS) that ship with skmicro
(:func:`~skmicro.datasets.load_uhcs24`), exactly as they come off the microscope: a data bar at the bottom, and magnifications from 491x to 4910x (pixel sizes
from 0.039 to 0.39 um). The example

1. crops each data bar (:class:`~skmicro.preprocessing.CropDataBar`),
2. brings every image to one pixel size, 0.194 um (the 982x magnification of 16 of the 24
   images) from the scale bar of each (:class:`~skmicro.preprocessing.RescalePixelSize`),
3. describes each image with the radial power spectrum, wavelet scattering and VGG-19 Gram
   matrices,
4. embeds each descriptor with MDS, coloured by anneal temperature and microconstituent,
5. cross-validates a ridge regression of the carbide-network and spheroidite area fractions
   (``frac_network``, ``frac_spheroidite``, from the experts' pixel annotations) from each
   descriptor, grouped by physical sample (leave one sample out), against the same pipeline
   without pixel-size normalization and without bar removal.

Run it as ``python docs/examples/plot_uhcs.py [FIGURE_FOLDER]``; with a figure folder it also
saves the figures there (``docs/img/uhcs``).

Data: "Ultrahigh Carbon Steel Microconstituent Annotations", B. DeCost, M. Hecht, T. Sibley,
T. Francis, B. Webler, Y. Picard, E. Holm; a subset of "Ultrahigh Carbon Steel Micrographs",
M. D. Hecht, B. L. DeCost, T. Francis, E. A. Holm, Y. N. Picard, B. A. Webler,
https://hdl.handle.net/11256/940, CC BY-SA 3.0 US. Figures made from the images carry this
attribution and the same licence.
"""

# %%
# Load the data
# -------------
# :func:`~skmicro.datasets.load_uhcs24` returns the images as stored (uint8, data bar
# included) and ``metadata.csv`` as a DataFrame, whose ``pixel_size_um`` is the scale bar's
# length over its pixels.
import sys
import time
from pathlib import Path

import matplotlib

FIGURES = Path(sys.argv[1]) if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else None
if FIGURES is not None:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.dummy import DummyRegressor  # noqa: E402
from sklearn.linear_model import RidgeCV  # noqa: E402
from sklearn.metrics import mean_absolute_error, r2_score  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GroupKFold,
    LeaveOneGroupOut,
    cross_val_predict,
)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skmicro import (  # noqa: E402
    MDSEmbedder,
    PowerSpectrumFeatures,
    ScatteringFeatures,
    VGGGramFeatures,
)
from skmicro.datasets import load_uhcs24  # noqa: E402
from skmicro.preprocessing import (  # noqa: E402
    CropDataBar,
    RescalePixelSize,
    TiledFeatures,
    find_data_bar,
)

ATTRIBUTION = (
    "Micrographs: UHCS Microconstituent Annotations, DeCost, Hecht, Sibley, Francis, Webler, "
    "Picard, Holm; hdl.handle.net/11256/940; CC BY-SA 3.0 US"
)
T0 = time.perf_counter()
uhcs = load_uhcs24(return_labels=False)
images, names, meta = list(uhcs.images), uhcs.file_names, uhcs.metadata
rows = meta.to_dict("records")
pixel_size = meta["pixel_size_um"].to_numpy()
temperature = meta["anneal_temperature"].to_numpy(dtype=float)  # NaN: no processing record
constituent = meta["primary_microconstituent"].to_numpy()
sample = meta["sample_label"].to_numpy()  # images of one sample share a group
targets = {t: meta[t].to_numpy() for t in ("frac_network", "frac_spheroidite")}
print(f"{len(images)} micrographs, {len(set(sample))} samples, pixel sizes "
      f"{pixel_size.min():.3f}..{pixel_size.max():.3f} um")

# %%
# Crop the data bars and bring the images to one pixel size
# ---------------------------------------------------------
# Both steps are stateless (they learn nothing from the training images), so applying them
# to all images before the cross-validation below is the same as applying them inside each
# fold. In a Pipeline, the per-image pixel sizes reach ``RescalePixelSize.transform`` through
# scikit-learn's metadata routing (``set_transform_request(pixel_size=True)``).
TARGET_PIXEL_SIZE = float(np.median(pixel_size))  # 0.194 um: most images stay as they are
cropper = CropDataBar()
rescaler = RescalePixelSize(target_pixel_size=TARGET_PIXEL_SIZE)
bars = [find_data_bar(im)[1] for im in images]
print(f"data bars found: {min(bars)}..{max(bars)} rows high in all {len(images)} images")

variants = {
    "crop + one pixel size": rescaler.transform(cropper.transform(images), pixel_size=pixel_size),
    "crop only (no pixel size)": cropper.transform(images),
    "one pixel size only (bar kept)": rescaler.transform(images, pixel_size=pixel_size),
}
for name, X in variants.items():
    sizes = sorted({im.shape for im in X})
    print(f"  {name:32s} sizes {sizes[0]} .. {sizes[-1]}")

fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
example = names.index("uhcs0124.tif")  # 1964x: half the pixel size of the 982x images
neighbour = names.index("uhcs1061.tif")  # 982x, same alloy family
axes[0].imshow(images[example], cmap="gray")
axes[0].axhline(images[example].shape[0] - bars[example] - 0.5, color="tab:red", lw=1)
axes[0].set_title(f"{names[example]} as recorded ({rows[example]['magnification']});\n"
                  "red: detected bar edge", fontsize=9)
full = variants["crop + one pixel size"]
for ax, i in zip(axes[1:], (example, neighbour)):
    ax.imshow(full[i], cmap="gray", extent=(0, full[i].shape[1] * TARGET_PIXEL_SIZE,
                                            full[i].shape[0] * TARGET_PIXEL_SIZE, 0))
    ax.set_title(f"{names[i]} cropped, {TARGET_PIXEL_SIZE:.3f} um/pixel\n"
                 f"(recorded at {rows[i]['magnification']})", fontsize=9)
    ax.set_xlabel("um")
extent_um = [max(full[i].shape[k] for i in (example, neighbour)) * TARGET_PIXEL_SIZE
             for k in (1, 0)]
for ax in axes[1:]:  # one physical scale for both
    ax.set_xlim(0, extent_um[0])
    ax.set_ylim(extent_um[1], 0)
for ax in axes:
    ax.tick_params(labelsize=7)
fig.text(0.5, 0.005, ATTRIBUTION, ha="center", fontsize=7)
fig.tight_layout(rect=(0, 0.03, 1, 1))
if FIGURES is not None:
    FIGURES.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURES / "preprocessing.png", dpi=110)

# %%
# Describe each image three ways
# ------------------------------
# All three descriptors average over the image, so images of different sizes are comparable.
# Scattering runs on 96x96 tiles (:class:`~skmicro.preprocessing.TiledFeatures`, mean over
# tiles): its filter bank depends on the image size, and one bank for one tile size is much
# cheaper than one per image size (the smallest image, 97 pixels high after rescaling, holds
# one tile). VGG-19 is kept affordable on a CPU by stopping at ``conv3_1`` (Gram matrices of
# ``conv1_1``, ``conv2_1`` and ``conv3_1``, 43,232 numbers per image) instead of ``conv5_1``.
descriptors = {
    "power spectrum": PowerSpectrumFeatures(radial=True, n_bins=48, log=True, device="cpu"),
    "scattering": TiledFeatures(ScatteringFeatures(J=4, L=8, log=True, device="cpu"),
                                tile_size=96),
    "VGG-19 Gram": VGGGramFeatures(layers=("conv1_1", "conv2_1", "conv3_1"), device="cpu",
                                   batch_size=1),
}
features = {}
for variant, X in variants.items():
    for dname, descriptor in descriptors.items():
        t = time.perf_counter()
        features[variant, dname] = descriptor.fit_transform(X)
        print(f"  {dname:15s} {variant:32s} {features[variant, dname].shape[1]:6d} features"
              f"  ({time.perf_counter() - t:.1f} s)")

# %%
# MDS embeddings
# --------------
# Standardized descriptors, Euclidean distances, metric MDS in two dimensions.
fig, axes = plt.subplots(2, 3, figsize=(12, 7.5))
kinds = sorted(set(constituent))
for col, dname in enumerate(descriptors):
    F = StandardScaler().fit_transform(features["crop + one pixel size", dname])
    emb = MDSEmbedder(n_components=2, random_state=0, device="cpu").fit_transform(F)
    known = np.isfinite(temperature)
    sc = axes[0, col].scatter(emb[known, 0], emb[known, 1], c=temperature[known],
                              cmap="plasma", s=40, edgecolor="k", lw=0.4)
    axes[0, col].scatter(emb[~known, 0], emb[~known, 1], c="lightgray", s=40,
                         edgecolor="k", lw=0.4, label="no record")
    axes[0, col].set_title(dname)
    fig.colorbar(sc, ax=axes[0, col], label="anneal temperature (C)")
    for kind, marker in zip(kinds, "os"):
        m = constituent == kind
        axes[1, col].scatter(emb[m, 0], emb[m, 1], marker=marker, s=40, edgecolor="k",
                             lw=0.4, label=kind)
    axes[1, col].legend(fontsize=7)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.text(0.5, 0.005, ATTRIBUTION, ha="center", fontsize=7)
fig.tight_layout(rect=(0, 0.03, 1, 1))
if FIGURES is not None:
    fig.savefig(FIGURES / "mds.png", dpi=110)

# %%
# Cross-validated regression of the area fractions
# ------------------------------------------------
# Ridge regression on standardized descriptors, its penalty chosen by RidgeCV's efficient
# leave-one-out inside each training fold; leave one *sample* out outside (images of one
# sample never sit on both sides). R^2 is that of the pooled out-of-fold predictions; the
# mean predictor's row shows what "no information" scores under the same splits. How much the
# splits alone move R^2 is shown by its range over 10 random 4-fold splits by sample.
regressor = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 6, 33)))
split_choices = [GroupKFold(n_splits=4, shuffle=True, random_state=seed) for seed in range(10)]


def cv_scores(model, F, y):
    """R^2 and MAE leaving one sample out, and the R^2 range over random group 4-folds."""
    pred = cross_val_predict(model, F, y, groups=sample, cv=LeaveOneGroupOut())
    spread = [r2_score(y, cross_val_predict(model, F, y, groups=sample, cv=cv))
              for cv in split_choices]
    return r2_score(y, pred), mean_absolute_error(y, pred), min(spread), max(spread)


results = {}
for target, y in targets.items():
    results["mean of training fold", "-", target] = cv_scores(
        DummyRegressor(), np.zeros((len(y), 1)), y)
    for dname in descriptors:
        for variant in variants:
            results[dname, variant, target] = cv_scores(regressor, features[variant, dname], y)

lines = ["| descriptor | preprocessing | R^2 frac_network | (range) | MAE "
         "| R^2 frac_spheroidite | (range) | MAE |", "|---|---|---|---|---|---|---|---|"]
for d, v in dict.fromkeys(key[:2] for key in results):
    cells = []
    for target in targets:
        r2, mae, low, high = results[d, v, target]
        cells += [f"{r2:.2f}", f"{low:.2f}..{high:.2f}", f"{mae:.3f}"]
    lines.append(f"| {d} | {v} | " + " | ".join(cells) + " |")
table = "\n".join(lines)
print(table)
print(f"total {time.perf_counter() - T0:.0f} s")
plt.show()
