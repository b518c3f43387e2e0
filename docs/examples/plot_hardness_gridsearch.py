"""
Which descriptor carries hardness? A grid search over descriptors
=================================================================

Synthetic etched grain micrographs with a Hall-Petch + work-hardening + particle hardness
(:func:`~skmicro.datasets.make_grain_microstructures`) go through one scikit-learn
:class:`~sklearn.pipeline.Pipeline` whose ``features`` step is searched over wavelet
scattering, VGG-19 Gram + PCA and the radial power spectrum, and whose ``reg`` step is searched
over two regressors. Descriptor rows are cached per fold (``Pipeline(memory=...)``), so each
descriptor is computed once per training fold, not once per regressor.

The gallery runs a small version (120 images of 64x64). The table in the user guide's hardness
page is the full run, which also rewrites that page's figures::

    python docs/examples/plot_hardness_gridsearch.py --n 200 --size 128 --n-jobs 2 --out docs/img
"""

import argparse
import os
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GridSearchCV, KFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skmicro import PowerSpectrumFeatures, ScatteringFeatures, VGGGramFeatures
from skmicro.datasets import make_grain_microstructures
from skmicro.plotting import plot_scattering_descriptor

parser = argparse.ArgumentParser(description="Hardness from micrographs: a GridSearchCV.")
parser.add_argument("--n", type=int, default=120, help="number of micrographs")
parser.add_argument("--size", type=int, default=64, help="image side in pixels")
parser.add_argument("--n-jobs", type=int, default=1, help="candidates searched in parallel")
parser.add_argument("--out", default=None, help="folder to save the figures into (PNG)")
args = parser.parse_args()

# %%
# Data: grain micrographs with a known hardness
# ---------------------------------------------
X, y = make_grain_microstructures(args.n, size=args.size, random_state=0)
print(f"{X.shape[0]} micrographs {X.shape[1]}x{X.shape[2]}, hardness {y.min():.0f}-{y.max():.0f} HV")

# %%
# The search: descriptor x regressor
# ----------------------------------
# Each descriptor uses one torch thread (``n_jobs=1``): with ``--n-jobs 2`` the search runs
# two candidates at a time instead.
descriptors = {
    "scattering (J=4, L=8, log)": ScatteringFeatures(log=True, n_jobs=1),
    "VGG-19 Gram + PCA(32)": make_pipeline(VGGGramFeatures(n_jobs=1), PCA(32, random_state=0)),
    "radial power spectrum (log)": PowerSpectrumFeatures(radial=True, log=True, n_jobs=1),
}
regressors = {
    "RidgeCV": RidgeCV(alphas=np.logspace(-3, 3, 13)),
    "KernelRidge (RBF)": KernelRidge(kernel="rbf", alpha=0.1, gamma=1e-3),
}
with tempfile.TemporaryDirectory() as cache:
    pipe = Pipeline([("features", ScatteringFeatures()), ("scale", StandardScaler()),
                     ("reg", RidgeCV())], memory=cache)
    grid = GridSearchCV(pipe, {"features": list(descriptors.values()),
                               "reg": list(regressors.values())},
                        cv=KFold(5, shuffle=True, random_state=0), scoring="r2",
                        n_jobs=args.n_jobs)
    t0 = time.perf_counter()
    grid.fit(X, y)
    elapsed = time.perf_counter() - t0

names_d = {id(v): k for k, v in descriptors.items()}
names_r = {id(v): k for k, v in regressors.items()}
res = grid.cv_results_
print(f"GridSearchCV, {args.n} grain micrographs {args.size}x{args.size}, 5-fold R^2 "
      f"({elapsed:.0f} s, n_jobs={args.n_jobs})\n")
print("| rank | descriptor | regressor | R^2 mean | R^2 std |")
print("|---:|---|---|---:|---:|")
for i in np.argsort(res["rank_test_score"]):
    p = res["params"][i]
    print(f"| {res['rank_test_score'][i]} | {names_d[id(p['features'])]} | "
          f"{names_r[id(p['reg'])]} | {res['mean_test_score'][i]:.3f} | "
          f"{res['std_test_score'][i]:.3f} |")

# %%
# The best pipeline, predicted against measured
# ---------------------------------------------
# Out-of-fold predictions of the winning descriptor + regressor.
y_hat = cross_val_predict(grid.best_estimator_, X, y, cv=KFold(5, shuffle=True, random_state=0))
fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(y, y_hat, s=8)
lim = [y.min() - 5, y.max() + 5]
ax.plot(lim, lim, "k--", lw=1)
ax.set_xlabel("measured hardness (HV)")
ax.set_ylabel("predicted (5-fold CV)")
ax.set_title("best pipeline")
fig.tight_layout()

# %%
# What the scattering descriptor sees
# -----------------------------------
# The hierarchical scattering descriptor of the softest, the median and the hardest micrograph.
sel = np.argsort(y)[[0, len(y) // 2, -1]]
ax_s = plot_scattering_descriptor(X[sel], estimator=ScatteringFeatures(J=4, L=8),
                                  labels=[f"{v:.0f} HV" for v in y[sel]])

if args.out:
    os.makedirs(args.out, exist_ok=True)
    fig.savefig(os.path.join(args.out, "hardness_predicted_vs_measured.png"), dpi=100)
    ax_s.figure.savefig(os.path.join(args.out, "hardness_scattering_descriptor.png"), dpi=100)
