"""
Phase fractions of real SEM micrographs, tile by tile
=====================================================

The 24 UHCS micrographs come with the experts' per-pixel annotations of their
microconstituents (matrix, carbide network, spheroidite, Widmanstatten). Cut into 128x128
tiles at one pixel size, they give a few hundred samples with a measured spheroidite and
network area fraction each. This example

1. crops the data bars, stretches each image's contrast and cuts images and label masks into
   matching tiles at 0.194 um per pixel with :func:`~skmicro.preprocessing.tile_fractions`,
2. describes each tile by wavelet scattering with geometric pooling
   (``ScatteringFeatures(J=3, average="geometric", log=True, rotation_invariant=True)``: the
   mean of the log of the local coefficients, which is linear in the area fractions of
   textures) and, as the baseline a metallographer would try, the uniform LBP histogram,
3. cross-validates a ridge regression grouped by micrograph (a tile never shares a fold with a
   tile of its own image; the ridge penalty is chosen inside each training fold).

The full study (every descriptor, k-NN, tile sizes, grid offsets, grouping by sample, files
re-saved at other bit depths) is ``benchmarks/bench_phase_fraction.py``; its tables are in
``docs/phase_fractions.md``. Run this example as ``python docs/examples/plot_phase_fractions.py
[DATA_FOLDER]``; without the data it says so and exits.

Data: "Ultrahigh Carbon Steel Microconstituent Annotations", B. DeCost, M. Hecht, T. Sibley,
T. Francis, B. Webler, Y. Picard, E. Holm; a subset of "Ultrahigh Carbon Steel Micrographs",
https://hdl.handle.net/11256/940, CC BY-SA 3.0 US. Figures made from the images carry this
attribution and the same licence.
"""

# %%
# Find the data
# -------------
import csv
import os
import sys
from pathlib import Path

import numpy as np

ATTRIBUTION = (
    "Micrographs: UHCS Microconstituent Annotations, DeCost, Hecht, Sibley, Francis, Webler, "
    "Picard, Holm; hdl.handle.net/11256/940; CC BY-SA 3.0 US"
)


def data_folder():
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        return Path(sys.argv[1])
    if os.environ.get("SKMICRO_UHCS24"):
        return Path(os.environ["SKMICRO_UHCS24"])
    # argv[0] is this script both from a shell and in sphinx-gallery (which has no __file__)
    return Path(sys.argv[0]).resolve().parents[2] / ".." / "shared" / "data" / "uhcs24"


FOLDER = data_folder()
if not (FOLDER / "labels").is_dir():
    print(f"UHCS micrographs with labels not found in {FOLDER}: pass the folder as the first "
          "argument or set SKMICRO_UHCS24. Nothing to do.")
    sys.exit(0)

import matplotlib.pyplot as plt  # noqa: E402
from skimage.feature import local_binary_pattern  # noqa: E402
from sklearn.linear_model import RidgeCV  # noqa: E402
from sklearn.metrics import r2_score  # noqa: E402
from sklearn.model_selection import GroupKFold, cross_val_predict  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skmicro import ScatteringFeatures  # noqa: E402
from skmicro.io import load_micrographs  # noqa: E402
from skmicro.preprocessing import CropDataBar, NormalizeContrast, tile_fractions  # noqa: E402

# %%
# Tiles and their measured fractions
# ----------------------------------
# One pixel size, 0.194 um (the 982x magnification of 16 images). The 491x image would have
# to be upsampled 2x, which invents none of the particle detail the descriptors read: it is
# left out; the 4910x image is smaller than one tile at this pixel size.
rows = list(csv.DictReader(open(FOLDER / "metadata.csv")))
images = load_micrographs([FOLDER / r["file"] for r in rows])
masks = load_micrographs([FOLDER / "labels" / r["file"].replace(".tif", ".png") for r in rows])
sizes = np.array([float(r["micron_bar"]) / float(r["micron_bar_px"]) for r in rows])
images = NormalizeContrast().fit_transform(CropDataBar().fit_transform(images))
masks = [m[:im.shape[0]] for m, im in zip(masks, images)]
target = 0.194
use = [i for i in range(len(rows)) if sizes[i] <= 1.25 * target
       and min(s * sizes[i] / target for s in images[i].shape) >= 128]
tiles, fractions, groups = tile_fractions(
    [images[i] for i in use], [masks[i] for i in use], tile_size=128, classes=[0, 1, 2, 3],
    pixel_size=sizes[use], target_pixel_size=target)
print(f"{len(tiles)} tiles of 128x128 px (24.9 um) from {len(use)} micrographs")

# %%
# Descriptor and baseline, cross-validated by micrograph
# ------------------------------------------------------
scattering = ScatteringFeatures(J=3, log=True, rotation_invariant=True, average="geometric",
                                device="cpu")
features = {
    "scattering (geometric, J=3)": scattering.fit_transform(tiles),
    "uniform LBP histogram": np.stack([
        np.bincount(local_binary_pattern((t * 255).astype(np.uint8), 8, 1, "uniform")
                    .astype(int).ravel(), minlength=10) / t.size for t in tiles]),
}
model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 5, 15)))
cv = GroupKFold(n_splits=5)
fig, axes = plt.subplots(2, 2, figsize=(7, 7))
for row, (name, F) in enumerate(features.items()):
    for col, (target_name, column) in enumerate([("spheroidite", 2), ("network", 1)]):
        y = fractions[:, column]
        pred = np.clip(cross_val_predict(model, F, y, groups=groups, cv=cv), 0, 1)
        r2 = r2_score(y, pred)
        print(f"{name:28s} {target_name:12s} R^2 = {r2:.3f}")
        ax = axes[row, col]
        ax.scatter(y, pred, s=6, alpha=0.5)
        ax.plot([0, 1], [0, 1], "k--", lw=0.8)
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel=f"measured {target_name} fraction",
               ylabel="predicted (out of fold)", title=f"{name}\nR^2 = {r2:.2f}")
fig.text(0.5, 0.005, ATTRIBUTION, ha="center", fontsize=6)
fig.tight_layout(rect=(0, 0.02, 1, 1))
plt.show()
