"""PowerSpectrumFeatures vs a plain numpy.fft loop on the same images, same run.

    python benchmarks/bench_power_spectrum.py [--n 1000] [--size 256] [--device auto]

Prints a table: images/s for ours and the peers and the ratio ours/peer. The peers compute the
same descriptor per image (rescale to [-1, 1], |FFT|^2 / (h w)^2, flattened): the full-plane
``np.fft.fft2`` a user would write, and ``np.fft.rfft2`` (half plane, like ours).
"""

import argparse
import os

import numpy as np
from _common import best_time, load_average, print_machine_header, print_table


def _rescale(x):
    lo, hi = x.min(), x.max()
    return (x - lo) * (2.0 / (hi - lo)) - 1.0


def numpy_fft2_loop(X):
    h, w = X.shape[1:]
    return np.stack([(np.abs(np.fft.fft2(_rescale(x))) ** 2).ravel() / (h * w) ** 2 for x in X])


def numpy_rfft2_loop(X):
    h, w = X.shape[1:]
    return np.stack([(np.abs(np.fft.rfft2(_rescale(x))) ** 2).ravel() / (h * w) ** 2 for x in X])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import torch

    print_machine_header()
    from skmicro import PowerSpectrumFeatures
    from skmicro.datasets import make_perlin_textures

    X, _ = make_perlin_textures(args.n, size=args.size, noise_amplitude=2.0, random_state=0)

    def ours(n_jobs):
        ps = PowerSpectrumFeatures(device=args.device, n_jobs=n_jobs).fit(X[:1])
        ps.transform(X[:8])  # warm-up (threads, allocator)
        return best_time(lambda: ps.transform(X), args.repeat, device=args.device)

    t_ours, F = ours(None)
    t_ours1, _ = ours(1)
    t_full, G = best_time(lambda: numpy_fft2_loop(X), args.repeat)
    t_half, _ = best_time(lambda: numpy_rfft2_loop(X), args.repeat)
    # same eq. 7 distances
    d_ours = np.linalg.norm(F[0] - F[1])
    d_ref = np.linalg.norm(G[0] - G[1])
    dev = "cuda" if (args.device == "auto" and torch.cuda.is_available()) else args.device
    load = load_average()
    print(f"PowerSpectrumFeatures, {args.n} images {args.size}x{args.size}, device={dev}, "
          f"{os.cpu_count()} cores, load average {load:.1f}, best of {args.repeat}")
    print(f"eq. 7 distance check: ours {d_ours:.6g}, numpy {d_ref:.6g}")
    rows = [("skmicro PowerSpectrumFeatures (default: all cores share out the images)", t_ours),
            ("skmicro PowerSpectrumFeatures (n_jobs=1)", t_ours1),
            ("numpy.fft.fft2 loop (1 thread)", t_full),
            ("numpy.fft.rfft2 loop (1 thread)", t_half)]
    print_table(["method", "images/s", "ours (default) faster by"],
                [(name, f"{args.n / t:,.0f}", f"{t / t_ours:.2f}x") for name, t in rows])


if __name__ == "__main__":
    main()
