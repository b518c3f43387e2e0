"""ScatteringFeatures vs kymatio's numpy and torch frontends on the same images, same run.

    python benchmarks/bench_scattering.py [--n 256] [--size 256] [--J 4] [--device auto]
    python benchmarks/bench_scattering.py --quick        # a small dry run

All three compute the global-average scattering descriptor (J=4, L=8, max_order=2: 417
numbers per image): kymatio's map is averaged over space afterwards, ours computes that mean
directly. kymatio's filters are built before timing (construction is not counted for anyone;
ours is warmed up so its per-process filter cache is filled). kymatio's torch frontend runs on
the same device and batch size as ours. The numpy frontend is timed on ``--n-numpy`` images
(it is the slowest) and its rate is images/s over those.
"""

import argparse
import time

import numpy as np


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--n-numpy", type=int, default=32)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--J", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--quick", action="store_true", help="16 images (4 for numpy)")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.n_numpy = 16, 4

    import torch
    from kymatio.scattering2d.frontend.numpy_frontend import ScatteringNumPy2D
    from kymatio.scattering2d.frontend.torch_frontend import ScatteringTorch2D

    from skmicro import ScatteringFeatures
    from skmicro._engine import resolve_device
    from skmicro.datasets import make_perlin_textures

    device = resolve_device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    X, _ = make_perlin_textures(args.n, size=args.size, noise_amplitude=1.0, random_state=0)
    X = np.asarray(X, dtype=np.float32)
    shape = X.shape[1:]

    sf = ScatteringFeatures(J=args.J, L=8, device=device, batch_size=args.batch_size).fit(X[:1])
    sf.transform(X[:2])  # warm-up: filter cache, threads, allocator
    kt = ScatteringTorch2D(J=args.J, shape=shape, L=8).to(device)
    kn = ScatteringNumPy2D(J=args.J, shape=shape, L=8)

    def ours():
        out = sf.transform(X)
        sync()
        return out

    def kymatio_torch():
        outs = []
        with torch.inference_mode():
            for i in range(0, args.n, args.batch_size):
                batch = torch.from_numpy(X[i:i + args.batch_size]).to(device)
                outs.append(kt(batch).mean(dim=(-2, -1)).cpu().numpy())
        sync()
        return np.concatenate(outs)

    def kymatio_numpy():
        return np.concatenate([kn.scattering(X[i:i + 4]).mean(axis=(-2, -1))
                               for i in range(0, args.n_numpy, 4)])

    with torch.inference_mode():
        kt(torch.from_numpy(X[:2]).to(device))  # warm-up
    sync()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t_ours, F = timed(ours)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None
    t_torch, G = timed(kymatio_torch)
    t_numpy, H = timed(kymatio_numpy)

    err_t = np.abs(F - G).max() / np.abs(G).max()
    err_n = np.abs(F[:args.n_numpy] - H).max() / np.abs(H).max()
    r_ours, r_torch, r_numpy = args.n / t_ours, args.n / t_torch, args.n_numpy / t_numpy
    print(f"ScatteringFeatures, {args.n} images {shape[0]}x{shape[1]}, J={args.J}, L=8, "
          f"max_order=2, global average, device={device}, torch threads="
          f"{torch.get_num_threads()}, batch_size={args.batch_size}"
          + (f", peak device memory {peak:.0f} MiB" if peak is not None else ""))
    print(f"max |ours - kymatio| / max|kymatio|: torch {err_t:.1e}, numpy {err_n:.1e}")
    print("| method | images | images/s | ours / method |")
    print("|---|---:|---:|---:|")
    print(f"| skmicro ScatteringFeatures | {args.n} | {r_ours:,.2f} | 1.00 |")
    print(f"| kymatio torch frontend | {args.n} | {r_torch:,.2f} | {r_ours / r_torch:.2f}x |")
    print(f"| kymatio numpy frontend | {args.n_numpy} | {r_numpy:,.2f} | "
          f"{r_ours / r_numpy:.2f}x |")


if __name__ == "__main__":
    main()
