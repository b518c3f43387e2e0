"""ScatteringFeatures vs kymatio's numpy and torch frontends on the same images, same run.

    python benchmarks/bench_scattering.py [--n 256] [--size 256] [--J 4] [--device auto]
    python benchmarks/bench_scattering.py --n 1000 --size 128 --log   # Lubbers grid shape
    python benchmarks/bench_scattering.py --quick        # a small dry run
    python benchmarks/bench_scattering.py --n 32 --size 128 --n-torch 32 --interleave --repeat 7
        # issue 26's goal: ours and kymatio's torch frontend alternate, medians of wall and CPU

All three compute the global-average scattering descriptor (J=4, L=8, max_order=2: 417
numbers per image): kymatio's map is averaged over space afterwards, ours computes that mean
directly. kymatio's filters are built before timing (construction is not counted for anyone;
ours is warmed up so its per-process filter cache is filled). kymatio's torch frontend runs on
the same device and batch size as ours, with both 1 thread and torch's default threads (the
faster counts). The frontends are timed on fewer images (``--n-torch``, ``--n-numpy``; they
are the slowest) and rates are images/s over those. Every rate is the best of ``--repeat``
runs, and the load average is printed: on a shared machine only ratios from one run compare.
``--interleave``: ours and the torch frontend (default threads and 1 thread) alternate
``--repeat`` times on the same images; the table shows median rates, each with its CPU time
per image (steadier than wall time on a loaded machine). The machine header names the CPU and
its SIMD flags.
"""

import argparse
import statistics
import time

import numpy as np
from _common import best_rate, load_average, print_machine_header, print_table


def kymatio_torch_means(frontend, X, batch_size, device):
    """The peer's rows: kymatio's torch frontend in batches, its map averaged over space."""
    import torch

    outs = []
    with torch.inference_mode():
        for i in range(0, len(X), batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(X[i:i + batch_size]))
            outs.append(frontend(batch.to(device)).mean(dim=(-2, -1)).cpu().numpy())
    return np.concatenate(outs)


def interleaved(runs, repeat):
    """``{name: (median wall s, median CPU s, last result)}`` of ``runs`` (name -> (fn,
    threads or None)) called in turn ``repeat`` times, each under its own torch threads."""
    from skmicro._engine import torch_threads

    times = {name: ([], []) for name in runs}
    out = {}
    for _ in range(repeat):
        for name, (fn, threads) in runs.items():
            with torch_threads(threads):
                w0, c0 = time.perf_counter(), time.process_time()
                out[name] = fn()
                times[name][0].append(time.perf_counter() - w0)
                times[name][1].append(time.process_time() - c0)
    return {name: (statistics.median(w), statistics.median(c), out[name])
            for name, (w, c) in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--n-torch", type=int, default=32)
    parser.add_argument("--n-numpy", type=int, default=32)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--J", type=int, default=4)
    parser.add_argument("--log", action="store_true", help="log=True for ours (as in Lubbers)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--quick", action="store_true", help="16 images (4 for the peers)")
    parser.add_argument("--interleave", action="store_true",
                        help="alternate ours and the torch frontend, medians of wall and CPU")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.n_torch, args.n_numpy, args.repeat = 16, 4, 4, 1

    import torch
    from kymatio.scattering2d.frontend.numpy_frontend import ScatteringNumPy2D
    from kymatio.scattering2d.frontend.torch_frontend import ScatteringTorch2D

    from skmicro import ScatteringFeatures
    from skmicro._engine import resolve_device, torch_threads
    from skmicro.datasets import make_perlin_textures

    print_machine_header()
    device = resolve_device(args.device)
    X, _ = make_perlin_textures(args.n, size=args.size, noise_amplitude=1.0, random_state=0)
    X = np.asarray(X, dtype=np.float32)
    shape = X.shape[1:]
    threads = torch.get_num_threads()

    def ours(n_jobs):
        sf = ScatteringFeatures(J=args.J, L=8, device=device, batch_size=args.batch_size,
                                n_jobs=n_jobs).fit(X[:1])
        sf.transform(X[:2])  # warm-up: filter cache, allocator
        return lambda: sf.transform(X)

    kt = ScatteringTorch2D(J=args.J, shape=shape, L=8).to(device)
    kn = ScatteringNumPy2D(J=args.J, shape=shape, L=8)

    def kymatio_torch():
        return kymatio_torch_means(kt, X[:args.n_torch], args.batch_size, device)

    def kymatio_numpy():
        return np.concatenate([kn.scattering(X[i:min(i + 4, args.n_numpy)]).mean(axis=(-2, -1))
                               for i in range(0, args.n_numpy, 4)])

    with torch.inference_mode():
        kt(torch.from_numpy(X[:2]).to(device))  # warm-up
    load_before = load_average()
    if args.interleave:
        n_t = args.n_torch
        res = interleaved({
            "skmicro ScatteringFeatures": (ours(None), None),
            "skmicro ScatteringFeatures, n_jobs=1": (ours(1), 1),
            f"kymatio torch frontend ({threads} threads)": (kymatio_torch, None),
            "kymatio torch frontend (1 thread)": (kymatio_torch, 1),
        }, args.repeat)
        (w_ours, c_ours, F), G = res["skmicro ScatteringFeatures"], next(
            r[2] for name, r in res.items() if name.startswith("kymatio"))
        err = np.abs(F[:n_t] - G).max() / np.abs(G).max()
        print(f"ScatteringFeatures, {args.n} images {shape[0]}x{shape[1]}, J={args.J}, L=8, "
              f"max_order=2, global average, device={device}, torch threads={threads}, "
              f"batch_size={args.batch_size}, median of {args.repeat} interleaved runs, load "
              f"average {load_before:.1f} -> {load_average():.1f}")
        print(f"max |ours - kymatio torch| / max|kymatio|: {err:.1e}")
        rows = []
        for name, (w, c, _) in res.items():
            n_img = args.n if name.startswith("skmicro") else n_t
            rows.append((name, n_img, f"{n_img / w:,.2f}", f"{1000 * c / n_img:.1f}",
                         f"{(args.n / w_ours) / (n_img / w):.2f}x",
                         f"{(c / n_img) / (c_ours / args.n):.2f}x"))
        print_table(["method", "images", "images/s", "CPU ms/image", "ours / method (wall)",
                     "ours / method (CPU)"], rows)
        return
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    r_ours, F = best_rate(ours(None), args.n, args.repeat, device=device)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None
    rows = [("skmicro ScatteringFeatures", args.n, r_ours)]
    if device.type == "cpu" and threads > 1:
        rows.append(("skmicro ScatteringFeatures, n_jobs=1", args.n,
                     best_rate(ours(1), args.n, args.repeat, device=device)[0]))
    r_torch, G = best_rate(kymatio_torch, args.n_torch, args.repeat, device=device)
    torch_note = f"{threads} threads"
    if device.type == "cpu" and threads > 1:
        with torch_threads(1):
            r1, _ = best_rate(kymatio_torch, args.n_torch, args.repeat, device=device)
        if r1 > r_torch:
            r_torch, torch_note = r1, "1 thread"
    r_numpy, H = best_rate(kymatio_numpy, args.n_numpy, args.repeat)
    rows += [(f"kymatio torch frontend ({torch_note})", args.n_torch, r_torch),
             ("kymatio numpy frontend (scipy.fft, 1 thread)", args.n_numpy, r_numpy)]
    load_after = load_average()

    err_t = np.abs(F[:args.n_torch] - G).max() / np.abs(G).max()
    err_n = np.abs(F[:args.n_numpy] - H).max() / np.abs(H).max()
    if args.log:  # the numbers above are checked linear; time the log variant the grid uses
        sf_log = ScatteringFeatures(J=args.J, L=8, log=True, device=device,
                                    batch_size=args.batch_size).fit(X[:1])
        r_log, _ = best_rate(lambda: sf_log.transform(X), args.n, args.repeat,
                             device=device)
        rows.insert(1, ("skmicro ScatteringFeatures, log=True", args.n, r_log))
    print(f"ScatteringFeatures, {args.n} images {shape[0]}x{shape[1]}, J={args.J}, L=8, "
          f"max_order=2, global average, device={device}, torch threads={threads}, "
          f"batch_size={args.batch_size}, best of {args.repeat}, load average "
          f"{load_before:.1f} -> {load_after:.1f}"
          + (f", peak device memory {peak:.0f} MiB" if peak is not None else ""))
    print(f"max |ours - kymatio| / max|kymatio|: torch {err_t:.1e}, numpy {err_n:.1e}")
    print_table(["method", "images", "images/s", "ours / method"],
                [(name, n, f"{rate:,.2f}", f"{r_ours / rate:.2f}x") for name, n, rate in rows])
    print(f"ours: {args.n / r_ours:.1f} s for {args.n} images")


if __name__ == "__main__":
    main()
