"""Which descriptor carries hardness? A GridSearchCV over descriptors and regressors.

    python docs/examples/plot_hardness_gridsearch.py [--n 200] [--size 128] [--out docs/img]

Synthetic etched grain micrographs with a Hall-Petch + work-hardening + particle hardness
(``make_grain_microstructures``) go through one sklearn Pipeline whose ``features`` step is
searched over wavelet scattering, VGG-19 Gram + PCA and the radial power spectrum, and whose
``reg`` step is searched over two regressors. Descriptor rows are cached per fold
(``Pipeline(memory=...)``), so each descriptor is computed once per training fold. Prints the
ranking as a markdown table and saves the hierarchical scattering descriptor plot and the
predicted-vs-measured plot of the best model.
"""

import argparse
import os
import tempfile
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GridSearchCV, KFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skmicro import PowerSpectrumFeatures, ScatteringFeatures, VGGGramFeatures
from skmicro.datasets import make_grain_microstructures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "img"))
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)

    X, y = make_grain_microstructures(args.n, size=args.size, random_state=0)
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
    order = np.argsort(res["rank_test_score"])
    print(f"GridSearchCV, {args.n} grain micrographs {args.size}x{args.size}, 5-fold R^2 "
          f"({elapsed:.0f} s, n_jobs={args.n_jobs})\n")
    print("| rank | descriptor | regressor | R^2 mean | R^2 std |")
    print("|---:|---|---|---:|---:|")
    for i in order:
        p = res["params"][i]
        print(f"| {res['rank_test_score'][i]} | {names_d[id(p['features'])]} | "
              f"{names_r[id(p['reg'])]} | {res['mean_test_score'][i]:.3f} | "
              f"{res['std_test_score'][i]:.3f} |")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from skmicro.plotting import plot_scattering_descriptor
    except ImportError:
        print("matplotlib not installed: no figures (pip install 'skmicro[plot]')")
        return
    os.makedirs(args.out, exist_ok=True)
    best = grid.best_estimator_
    y_hat = cross_val_predict(best, X, y, cv=KFold(5, shuffle=True, random_state=0))
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(y, y_hat, s=8)
    lim = [y.min() - 5, y.max() + 5]
    ax.plot(lim, lim, "k--", lw=1)
    ax.set_xlabel("measured hardness (HV)")
    ax.set_ylabel("predicted (5-fold CV)")
    ax.set_title("best pipeline")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "hardness_predicted_vs_measured.png"), dpi=100)
    plt.close(fig)
    sel = np.argsort(y)[[0, len(y) // 2, -1]]
    ax = plot_scattering_descriptor(X[sel], estimator=ScatteringFeatures(J=4, L=8),
                                    labels=[f"{v:.0f} HV" for v in y[sel]])
    ax.figure.savefig(os.path.join(args.out, "hardness_scattering_descriptor.png"), dpi=100)


if __name__ == "__main__":
    main()
