"""
A whole collection at once: interactive maps of thumbnails, and their static twin
==================================================================================

Materials scientists look at a collection before they model it. This example draws two
collections as 2-D maps where each micrograph sits at its place in a texture embedding:

1. 1,000 synthetic Perlin textures of random orientation, embedded by metric MDS of their
   low-frequency 2-D power spectrum: the orientation angle goes round a ring;
2. the 24 SEM micrographs of ultrahigh-carbon steel that ship with skmicro, written to a
   folder as ``skmicro datasets uhcs24`` does (:func:`skmicro.datasets.export_uhcs24`), through
   the route ``skmicro map`` uses, coloured by anneal temperature.

Each map is one self-contained HTML page (:func:`skmicro.plotting.collection_map`, Bokeh:
``pip install 'skmicro[map]'``) written to the folder given as the first argument, or to a
temporary folder; open it in any browser, offline. The figures below are the static twin for
papers, :func:`skmicro.plotting.plot_embedding` with ``thumbnails=``.

Run it as ``python docs/examples/plot_collection_map.py [OUT_FOLDER]``.

UHCS data: "Ultrahigh Carbon Steel Microconstituent Annotations", B. DeCost, M. Hecht,
T. Sibley, T. Francis, B. Webler, Y. Picard, E. Holm; a subset of "Ultrahigh Carbon Steel
Micrographs", M. D. Hecht, B. L. DeCost, T. Francis, E. A. Holm, Y. N. Picard, B. A. Webler,
https://hdl.handle.net/11256/940, CC BY-SA 3.0 US. Figures and pages made from the images carry
this attribution and the same licence.
"""

# %%
# 1,000 Perlin textures, coloured by their angle
# ----------------------------------------------
import sys
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skmicro import MDSEmbedder, PowerSpectrumFeatures
from skmicro.datasets import export_uhcs24, make_perlin_textures
from skmicro.io import load_micrographs
from skmicro.plotting import collection_map, plot_embedding
from skmicro.preprocessing import CropDataBar
from skmicro.workflow import describe_folder, join_table, map_collection

OUT = (Path(sys.argv[1]) if len(sys.argv) > 1 and not sys.argv[1].startswith("-")
       else Path(tempfile.mkdtemp(prefix="skmicro-maps-")))
OUT.mkdir(parents=True, exist_ok=True)

t0 = time.perf_counter()
X, params = make_perlin_textures(1000, size=64, design="random", random_state=0)
angle = pd.Series(np.degrees(params["angle"]), name="angle (deg)")
# the low-frequency 2-D spectrum sees orientation (the radial one would not)
F = PowerSpectrumFeatures(log=True, crop=8).fit_transform(X)
embedding = MDSEmbedder(random_state=0).fit_transform(F)
page = collection_map(X, embedding, color=angle, out=OUT / "perlin_map.html",
                      title="1,000 Perlin textures by their 2-D power spectrum")
print(f"wrote {page} ({page.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.0f} s")

# %%
# The static twin: one thumbnail per grid cell (the point nearest the cell's centre), framed
# in its point's colour; the other points stay dots underneath.
fig, ax = plt.subplots(figsize=(7, 6))
plot_embedding(embedding, color=angle, color_label="angle (deg)", thumbnails=X,
               thumbnail_grid=14, ax=ax, s=6)
ax.set_title("Perlin textures: MDS of the 2-D power spectrum")
fig.tight_layout()

# %%
# 24 UHCS micrographs, coloured by anneal temperature
# ---------------------------------------------------
# :func:`skmicro.workflow.map_collection` is the route behind ``skmicro map``: it describes the
# folder (with the per-file cache of ``skmicro features``), joins the spreadsheet by file name,
# cuts each data bar and writes the page.

FOLDER = export_uhcs24(Path(tempfile.mkdtemp(prefix="skmicro-uhcs24-")) / "uhcs24")
ATTRIBUTION = ("Micrographs: UHCS Microconstituent Annotations, DeCost, Hecht, Sibley, "
               "Francis, Webler, Picard, Holm; hdl.handle.net/11256/940; CC BY-SA 3.0 US")
t0 = time.perf_counter()
page = map_collection(FOLDER, metadata=FOLDER / "metadata.csv", color="anneal_temperature",
                      out=OUT / "uhcs_map.html", verbose=0,
                      title="UHCS micrographs (CC BY-SA 3.0 US, DeCost et al.)")
print(f"wrote {page} ({page.stat().st_size / 1e6:.1f} MB) in "
      f"{time.perf_counter() - t0:.0f} s")

# the static twin, from the same (cached) features
table = describe_folder(FOLDER, descriptors=["power_spectrum"], verbose=0)
temperature = join_table(table, FOLDER / "metadata.csv")["anneal_temperature"]
uhcs_embedding = MDSEmbedder(random_state=0).fit_transform(table.filter(like="power_"))
images = CropDataBar().fit_transform(load_micrographs([FOLDER / f for f in table.index]))
fig, ax = plt.subplots(figsize=(7, 6))
plot_embedding(uhcs_embedding, color=temperature.astype(float),
               color_label="anneal temperature (C)", thumbnails=images, thumbnail_grid=7,
               ax=ax)
ax.set_title("UHCS: MDS of the radial power spectrum")
fig.text(0.01, 0.01, ATTRIBUTION, fontsize=6)
fig.tight_layout(rect=(0, 0.03, 1, 1))
plt.show()
