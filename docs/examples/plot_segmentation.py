"""
Phase maps of real micrographs: a trainable segmenter
=====================================================

Three SEM micrographs of ultrahigh-carbon steel with the experts' per-pixel labels (matrix,
carbide network, spheroidite, Widmanstatten laths) train a
:class:`~skmicro.segmentation.TrainableSegmenter` on the classical filter bank
(:class:`~skmicro.features.FilterBankPixelFeatures`), which then segments a fourth
micrograph it has never seen: the phase map, the uncertainty of every pixel, and the area
fractions of :func:`~skmicro.segmentation.measure_label_maps` beside the experts'. About a
minute on a 2-core CPU.

This is the short, fast version (three training images, a small pixel budget, cheap
descriptors): :doc:`/segmentation` trains on twenty micrographs and gives the benchmark.

Data: "Ultrahigh Carbon Steel Microconstituent Annotations", B. DeCost, M. Hecht, T. Sibley,
T. Francis, B. Webler, Y. Picard, E. Holm; an annotated subset of "Ultrahigh Carbon Steel
Micrographs", M. D. Hecht, B. L. DeCost, T. Francis, E. A. Holm, Y. N. Picard, B. A. Webler,
https://hdl.handle.net/11256/940. CC BY-SA 3.0 US. The figures made from them carry the same
attribution and licence.
"""

# %%
# The micrographs and their labels
# --------------------------------
# The packaged copy (:func:`~skmicro.datasets.load_uhcs24`); rows 0-483 are labelled, the
# data bar below is not. Each image's contrast is stretched between its 1st and 99th
# percentiles, so that the classifier sees one grey scale.
import time

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from skmicro.datasets import load_uhcs24
from skmicro.features import FilterBankPixelFeatures
from skmicro.preprocessing import NormalizeContrast
from skmicro.segmentation import TrainableSegmenter, measure_label_maps

uhcs = load_uhcs24()
rows = uhcs.images.shape[1] - uhcs.data_bar_rows
names = list(uhcs.file_names)
train = [names.index(n) for n in ("uhcs0007.tif", "uhcs0220.tif", "uhcs1219.tif")]
test = names.index("uhcs0477.tif")
images = NormalizeContrast("percentile").fit_transform(uhcs.images[:, :rows])
masks = uhcs.labels[:, :rows]
print(f"{len(train)} training micrographs of {rows}x{images.shape[2]} pixels; held out: "
      f"{names[test]}")

# %%
# Train and predict
# -----------------
# 2,000 labelled pixels per training image, drawn with an equal share per class; the
# auto-context pass adds the first pass's class probabilities smoothed over 8 and 32 pixels.
# One thread (``n_jobs=1``) keeps the gradient-boosting classifier's OpenMP threads from
# stalling on a machine shared with other work.
segmenter = TrainableSegmenter(FilterBankPixelFeatures(sigmas=(1, 2, 4, 8, 16)),
                               pixels_per_image=2000, context=(8, 32), random_state=0,
                               n_jobs=1)
start = time.perf_counter()
segmenter.fit(images[train], masks[train])
proba = segmenter.predict_proba(images[test:test + 1])[0]
print(f"fit and predict: {time.perf_counter() - start:.0f} s")
pred = segmenter.classes_[proba.argmax(axis=-1)].astype(np.uint8)
accuracy = (pred == masks[test]).mean()
print(f"pixel accuracy on the held-out micrograph: {accuracy:.3f}")

# %%
# The phase map and its uncertainty
# ---------------------------------
# The uncertainty is the normalized entropy of each pixel's class probabilities
# (:func:`~skmicro.segmentation.pixel_uncertainty`): 0 where one class is certain, 1 where
# all four are equally likely. It is high along class boundaries and wherever the
# prediction speckles between classes, which is where it is wrong most often: three training
# micrographs and per-pixel filters are too little for the matrix and the laths (the page
# trains on twenty).
from skmicro.segmentation import pixel_uncertainty  # noqa: E402

colours = ListedColormap(["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"])
fig, axes = plt.subplots(2, 2, figsize=(10, 8.6), constrained_layout=True)
panels = [("micrograph", images[test], dict(cmap="gray")),
          ("experts' labels", masks[test], dict(cmap=colours, vmin=-0.5, vmax=3.5)),
          (f"prediction (accuracy {accuracy:.2f})", pred,
           dict(cmap=colours, vmin=-0.5, vmax=3.5)),
          ("uncertainty", pixel_uncertainty(proba), dict(cmap="magma", vmin=0, vmax=1))]
for ax, (title, data, style) in zip(axes.ravel(), panels):
    shown = ax.imshow(data, interpolation="nearest", **style)
    ax.set_title(title)
    ax.set_axis_off()
fig.colorbar(shown, ax=axes[1, 1], shrink=0.8, label="normalized entropy")
fig.legend(handles=[Patch(color=colours(k), label=n) for k, n in enumerate(uhcs.class_names)],
           loc="outside upper center", ncol=4, frameon=False)
fig.text(0.5, -0.01, "Data: UHCS Microconstituent Annotations, DeCost, Hecht, Sibley, "
         "Francis, Webler, Picard, Holm; hdl.handle.net/11256/940; CC BY-SA 3.0 US",
         ha="center", va="top", fontsize=8)
plt.show()

# %%
# Measurements
# ------------
# Area fractions of each class, from the predicted map and from the experts' map: one row
# each, indexed like a features table (``particle_class=`` adds the count and equivalent
# diameters of one class's connected regions; here the classes are microconstituent regions,
# not single carbide particles).
table = measure_label_maps([pred, masks[test]], class_names=uhcs.class_names,
                           names=["predicted", "experts"])
print(table.round(3).T)
