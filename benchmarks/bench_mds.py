"""MDSEmbedder vs sklearn.manifold.MDS on the same dissimilarity matrices.

Each configuration runs in a fresh subprocess so that peak resident memory (ru_maxrss) belongs
to that fit alone. "peak" is the whole process's peak RSS (Python, torch, the features and the
float64 matrix D itself, 8 n^2 bytes, included); "extra" is the growth during the fit alone.
Stress is Kruskal stress-1 (eq. 8) of each returned embedding, computed by the same function
for both.

Data: a 1-D angle manifold with scale and noise, mapped nonlinearly into 31 features
(like the texture vectors of Lubbers et al.), Euclidean distances.

Both start from classical MDS (Torgerson) and run one SMACOF (sklearn ``init="classical_mds",
n_init=1``; ours ``init="classical_mds"``, ``n_init=1``, the defaults) with the same ``eps`` and
``max_iter``. With ``--repeat R`` the two fits alternate R times (sklearn, ours, sklearn, ...)
and the medians are shown, with each fit's CPU time beside its wall time: on a shared machine
CPU time is the steadier figure.

    python benchmarks/bench_mds.py          # N = 1,000 / 5,000, 20,000 (ours), 1e6 landmark
    python benchmarks/bench_mds.py --quick  # N = 500 / 1,000, landmark 20,000
    python benchmarks/bench_mds.py --n 2500 --repeat 5   # the issue-26 goal: only N = 2,500
    python benchmarks/bench_mds.py --n 2500 --repeat 5 --threads 1  # steadier when loaded
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from _common import load_line, peak_rss_mib, print_machine_header, print_table, timed


def features(n, seed=0):
    rng = np.random.default_rng(seed)
    th, s, a = rng.uniform(0, np.pi, n), rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    lat = np.c_[np.cos(2 * th), np.sin(2 * th), s, a]
    W = rng.normal(size=(4, 28)) * 1.5
    b = rng.uniform(0, 2 * np.pi, 28)
    F = np.c_[2 * (1 + s)[:, None] * lat[:, :2], a, 0.4 * np.cos(lat @ W + b)]
    return F + rng.normal(scale=0.05, size=F.shape)


def run_one(which, n, n_landmarks, threads=None):
    """Runs in a subprocess; prints one JSON line. ``threads``: ours' n_jobs (None: all)."""
    import torch  # noqa: F401  (import cost outside the timing)

    from skmicro import MDSEmbedder
    from skmicro.manifold import blockwise_distances
    from skmicro.metrics import kruskal_stress

    F = features(n)
    if which == "landmark":
        before = peak_rss_mib()
        elapsed, mds = timed(lambda: MDSEmbedder(method="landmark", n_landmarks=n_landmarks,
                                                 random_state=0, device="cpu").fit(F))
        return dict(which=which, n=n, time=elapsed, peak_mb=peak_rss_mib(),
                    extra_mb=peak_rss_mib() - before, stress=mds.stress_,
                    stress_note="subsample of 2,000")
    D = blockwise_distances(F, device="cpu")  # float64, exactly symmetric
    # Warm-up on a tiny matrix (torch kernels, sklearn imports) outside the timing.
    if which == "sklearn":
        from sklearn.manifold import MDS

        MDS(metric="precomputed", init="classical_mds", n_init=1).fit(D[:50, :50])
    else:
        MDSEmbedder(metric="precomputed", device="cpu").fit(D[:50, :50])
    if which == "sklearn":
        from sklearn.manifold import MDS

        est = MDS(n_components=2, metric="precomputed", init="classical_mds", n_init=1,
                  random_state=0, normalized_stress=True)
    else:
        est = MDSEmbedder(n_components=2, metric="precomputed", random_state=0, device="cpu",
                          n_jobs=threads)
    before = peak_rss_mib()
    cpu = time.process_time()
    elapsed, E = timed(lambda: est.fit_transform(D))
    cpu = time.process_time() - cpu
    return dict(which=which, n=n, time=elapsed, cpu=cpu, peak_mb=peak_rss_mib(),
                extra_mb=peak_rss_mib() - before,
                stress=kruskal_stress(D, E), n_iter=int(est.n_iter_))


def spawn(which, n, n_landmarks=1000, threads=None):
    """One fit in a fresh process; ``threads``: its OpenMP/BLAS thread count (None: default)."""
    env = dict(os.environ)
    if threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[var] = str(threads)
    out = subprocess.run([sys.executable, __file__, "--one", which, str(n), str(n_landmarks),
                          str(threads or 0)],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_run(runs):
    """The runs' medians of time and CPU time; the rest (memory, stress) from the first."""
    out = dict(runs[0])
    for key in ("time", "cpu"):
        out[key] = statistics.median(r[key] for r in runs)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    ap.add_argument("--n", type=int, nargs="+", help="only these N, both libraries, no landmarks")
    ap.add_argument("--repeat", type=int, default=1, help="alternating fits per N (median)")
    ap.add_argument("--threads", type=int, help="OpenMP/BLAS threads of both (default: all)")
    ap.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        which, n, nl, threads = args.one
        print(json.dumps(run_one(which, int(n), int(nl), int(threads) or None)))
        return
    both = [500, 1000] if args.quick else [1000, 5000]
    ours_only = [] if args.quick else [20000]
    landmark_runs = [(20000, 500)] if args.quick else [(20000, 1000), (1_000_000, 1000)]
    if args.n:
        both, ours_only, landmark_runs = args.n, [], []

    print_machine_header()
    print("# sklearn: MDS(metric='precomputed', init='classical_mds', n_init=1, "
          "normalized_stress=True); ours: MDSEmbedder(metric='precomputed') (classical init, "
          f"n_init=1); {args.repeat} alternating fit(s) per N, median times; threads: "
          f"{args.threads or 'default'}")

    def rows():  # yielded one by one: each row prints as soon as its fits are done
        for n in both:
            runs = {"sklearn": [], "ours": []}
            for _ in range(args.repeat):
                for which in runs:
                    runs[which].append(spawn(which, n, threads=args.threads))
            sk, us = median_run(runs["sklearn"]), median_run(runs["ours"])
            yield (f"{n:,}", f"{sk['time']:.2f} ({sk['cpu']:.2f})",
                   f"{us['time']:.2f} ({us['cpu']:.2f})",
                   f"{sk['time'] / us['time']:.1f}x ({sk['cpu'] / us['cpu']:.1f}x)",
                   f"{sk['peak_mb']:.0f} / {sk['extra_mb']:.0f}",
                   f"{us['peak_mb']:.0f} / {us['extra_mb']:.0f}",
                   f"{sk['stress']:.5f}", f"{us['stress']:.5f}",
                   f"{us['stress'] / sk['stress']:.6f}", f"{sk['n_iter']} / {us['n_iter']}")
        for n in ours_only:
            us = spawn("ours", n)
            yield (f"{n:,}", f"(does not fit: ~{n * n * 8 * 6 / 1e9:.0f} GB)",
                   f"{us['time']:.2f}", "-", "-", f"{us['peak_mb']:.0f} / {us['extra_mb']:.0f}",
                   "-", f"{us['stress']:.5f}", "-", f"- / {us['n_iter']}")

    print_table(["N", "sklearn time (CPU) (s)", "ours time (CPU) (s)", "speed-up (CPU)",
                 "sklearn peak / extra (MB)", "ours peak / extra (MB)", "sklearn stress-1",
                 "ours stress-1", "stress ratio (ours/sk)", "iterations (sk / ours)"], rows(),
                align="l" * 10)
    print()
    if not landmark_runs:
        print(load_line())
        return

    def landmark_rows():
        for lm_n, lm_l in landmark_runs:
            lm = spawn("landmark", lm_n, lm_l)
            yield (f"{lm_n:,}", f"{lm_l:,}", f"{lm['time']:.1f}",
                   f"{lm['peak_mb']:.0f} / {lm['extra_mb']:.0f}", f"{lm['stress']:.5f}")

    print_table(["landmark mode N", "n_landmarks", "time (s)", "peak / extra (MB)",
                 "stress-1 (2,000-point subsample)"], landmark_rows(), align="l" * 5)
    print(load_line())


if __name__ == "__main__":
    main()
