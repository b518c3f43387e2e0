"""The headline benchmark: the full Lubbers 2017 grid task, stage by stage, against peers.

    python benchmarks/bench_lubbers_grid.py [--per-axis 10] [--size 128] [--peer-n 32]

Ours runs the whole task: 1000 Perlin images 128x128 (10 x 10 x 10 values of theta, k, A),
the three descriptors, pairwise distances and MDS for D* = 1..10 and 50 (stress, R^2, eq. 14)
with the package's public estimators. Each stage's peer runs in the same process on the same
input: per-image numpy FFT (power spectrum), kymatio's numpy frontend (scattering) and a
straightforward per-image VGG-19 Gram loop (CNN) on the first ``--peer-n`` images (their rate
per image is what is compared: the full 1000 would take the peers many minutes), scipy's
``pdist`` for the distances and scikit-learn's MDS for the embeddings (all dimensions, one
descriptor). Prints a table with ours, the peer and the ratio of rates, and the total time.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from _common import load_average, print_machine_header, print_table, timed


def run_grid_task(per_axis=10, size=128, device="auto"):
    """Ours, stage by stage, with the package's public estimators (warm-ups not counted).

    Returns a dict: ``stages`` (stage -> seconds, in order), ``total`` (their sum), ``n``,
    ``dims``, ``X`` (the images), ``features`` (descriptor -> rows) and ``D`` (the last
    descriptor's distance matrix). benchmarks/gpu_suite.py times the same task on a GPU.
    """
    from skmicro import MDSEmbedder, PowerSpectrumFeatures, ScatteringFeatures, VGGGramFeatures
    from skmicro.datasets import make_perlin_textures
    from skmicro.manifold import blockwise_distances
    from skmicro.metrics import embedding_r2, regression_angle

    dims = [d for d in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50) if d < per_axis ** 3]
    t_data, (X, p) = timed(lambda: make_perlin_textures(
        design="grid", n_per_axis=per_axis, size=size, random_state=0))
    params = np.c_[p["scale"], p["noise_amplitude"]]
    descriptors = {
        "power_spectrum": PowerSpectrumFeatures(device=device),
        "scattering": ScatteringFeatures(J=4, L=8, log=True, device=device),
        "vgg_gram": VGGGramFeatures(device=device),
    }
    feats, stages, D = {}, {"data": t_data}, None
    for name, est in descriptors.items():
        est.fit(X[:2]).transform(X[:2])  # warm-up: filters, weights, oneDNN primitives
        t, F = timed(lambda est=est: est.transform(X), device=device)
        feats[name] = F
        stages[f"{name}: features"] = t
        t, D = timed(lambda F=F: blockwise_distances(F, device=device))
        stages[f"{name}: distances"] = t

        def embed(D=D):
            out = {}
            for d in dims:
                m = MDSEmbedder(n_components=d, metric="precomputed", random_state=0,
                                device=device).fit(D)
                out[d] = (m.embedding_, m.stress_)
            return out

        t, emb = timed(embed)
        stages[f"{name}: MDS"] = t
        reg_dim = 6 if 6 in emb else dims[-1]
        t, _ = timed(lambda emb=emb: ([embedding_r2(emb[d][0], params) for d in dims],
                                      regression_angle(emb[reg_dim][0], params)))
        stages[f"{name}: metrics"] = t
    return dict(stages=stages, total=sum(stages.values()), n=len(X), dims=dims, X=X,
                features=feats, D=D)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-axis", type=int, default=10)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--peer-n", type=int, default=32)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args(argv)

    import torch
    from scipy.spatial.distance import pdist, squareform

    print_machine_header()
    task = run_grid_task(args.per_axis, args.size, args.device)
    stages, total, n, dims, X = (task[k] for k in ("stages", "total", "n", "dims", "X"))
    feats = task["features"]

    dev = "cuda" if (args.device == "auto" and torch.cuda.is_available()) else args.device
    load = load_average()
    print(f"Lubbers 2017 grid task: {n} images {args.size}x{args.size}, device={dev}, "
          f"{os.cpu_count()} cores, torch threads {torch.get_num_threads()}, load {load:.1f}")
    print(f"total {total:.1f} s (the paper: about 30 minutes on a GPU)\n")
    print_table(["stage", "ours (s)"], [(k, f"{v:.2f}") for k, v in stages.items()])
    if args.no_peers:
        return

    from bench_power_spectrum import numpy_fft2_loop
    from bench_vgg_gram import baseline as vgg_baseline
    from kymatio.scattering2d.frontend.numpy_frontend import ScatteringNumPy2D
    from sklearn.manifold import MDS

    from skmicro.features import _vgg19

    k = min(args.peer_n, n)
    sub = X[:k]
    peers = []
    t, _ = timed(lambda: numpy_fft2_loop(sub))
    peers.append(("power spectrum features", stages["power_spectrum: features"] / n, t / k,
                  "numpy fft2 per image"))
    kn = ScatteringNumPy2D(J=4, shape=sub.shape[1:], L=8)
    kn.scattering(sub[:1])
    t, _ = timed(lambda: kn.scattering(sub).mean(axis=(-2, -1)))
    peers.append(("scattering features", stages["scattering: features"] / n, t / k,
                  "kymatio numpy frontend"))
    state = _vgg19.load_state("vgg19-normalized")
    rgb = np.repeat(sub[..., None], 3, axis=-1).astype(np.float32)
    vgg_baseline(rgb[:1], state)
    t, _ = timed(lambda: vgg_baseline(rgb, state))
    peers.append(("VGG Gram features", stages["vgg_gram: features"] / n, t / k,
                  "per-image VGG-19 Gram loop"))
    F = feats["vgg_gram"]
    t, _ = timed(lambda: squareform(pdist(F)))
    peers.append(("distances (VGG rows)", stages["vgg_gram: distances"], t, "scipy pdist"))
    D = task["D"].astype(np.float64)

    def sk_embed():
        for d in dims:
            MDS(n_components=d, metric="precomputed", n_init=1, init="classical_mds",
                random_state=0, normalized_stress=True).fit(D)

    t, _ = timed(sk_embed)
    peers.append((f"MDS, D* = {dims[0]}..{dims[-1]} (VGG)", stages["vgg_gram: MDS"], t,
                  "sklearn.manifold.MDS"))
    print(f"\nPeers in the same run (features: seconds per image, measured on {k} images)\n")
    print_table(["stage", "ours (s)", "peer (s)", "peer", "ours faster by"],
                [(stage, f"{ours:.4g}", f"{peer:.4g}", name, f"{peer / ours:.1f}x")
                 for stage, ours, peer, name in peers], align="lrrlr")


if __name__ == "__main__":
    main()
