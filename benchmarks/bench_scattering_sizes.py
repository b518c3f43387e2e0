"""What a new image size costs ScatteringFeatures, and what padding to shared sizes would cost.

1. Set-up per new size: ``get_filter_bank(shape, J, L, cpu)`` from an empty cache (the whole
   per-size set-up of ``ScatteringFeatures``: kymatio's filters, their periodized levels, the
   mean weights, the block layout), wall and CPU time, for each of ``--sizes``; the peer is
   kymatio's own ``filter_bank`` on the same padded grid (what its frontends build per size),
   timed on the first ``--kymatio-sizes`` sizes (tens of seconds each).
2. Canonical sizes: ``--n-images`` crops of random sizes from the UHCS micrographs are
   described as they are and reflect-padded (centred) up to a multiple of each ``--steps``;
   printed: how many banks remain, the relative change of the coefficients, and how far each
   image's log10 feature vector moves, as a fraction of the median distance between two
   different images' vectors.

    python benchmarks/bench_scattering_sizes.py
    python benchmarks/bench_scattering_sizes.py --kymatio-sizes 0 --n-images 0   # set-up only
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _common import load_line, print_machine_header, print_table

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "skmicro" / "datasets" / "data" / "uhcs24"
BAR_ROWS = 38


def setup_costs(sizes, J, L, n_kymatio):
    import torch
    from kymatio.scattering2d.filter_bank import filter_bank

    import skmicro
    from skmicro.features._scattering_core import get_filter_bank, padded_shape

    cpu = torch.device("cpu")
    get_filter_bank((32, 32), J, L, cpu)  # imports and first-call set-up, paid once per process
    rows = []
    for i, shape in enumerate(sizes):
        skmicro.clear_caches()
        w, c = time.perf_counter(), time.process_time()
        get_filter_bank(shape, J, L, cpu)
        ours = (time.perf_counter() - w, time.process_time() - c)
        peer = "-"
        if i < n_kymatio:
            w, c = time.perf_counter(), time.process_time()
            filter_bank(*padded_shape(shape, J), J, L)
            peer = f"{time.perf_counter() - w:.1f} / {time.process_time() - c:.1f}"
        rows.append((f"{shape[0]}x{shape[1]}", f"{J}, {L}", f"{ours[0]:.3f} / {ours[1]:.3f}",
                     peer))
    print_table(["size", "J, L", "ours: wall / CPU (s)", "kymatio filter_bank: wall / CPU (s)"],
                rows)


def crops(n, seed=0):
    import tifffile

    rng = np.random.default_rng(seed)
    files = sorted(SOURCE.glob("*.tif"))
    out = []
    for i in range(n):
        image = tifffile.imread(files[i % len(files)])[:-BAR_ROWS].astype(np.float32) / 255
        H, W = image.shape
        h, w = int(rng.integers(H * 5 // 8, H + 1)), int(rng.integers(W // 2, W + 1))
        r, c = rng.integers(0, H - h + 1), rng.integers(0, W - w + 1)
        out.append(image[r:r + h, c:c + w])
    return out


def canonical_padding(n_images, steps, J, L):
    from skmicro import ScatteringFeatures

    images = crops(n_images)
    sf = ScatteringFeatures(J=J, L=L, device="cpu").fit(images[0][None])
    native = np.array([sf.transform(im[None])[0] for im in images])
    log_native = np.log10(np.maximum(native[:, 1:], 1e-6))
    d = np.sqrt(((log_native[:, None] - log_native[None]) ** 2).sum(-1))
    between = np.median(d[np.triu_indices(len(d), 1)])
    rows = [("none", len({im.shape for im in images}), "0", "0", "0", "1.00")]
    for step in steps:
        padded, shapes = [], set()
        for im in images:
            a, b = -im.shape[0] % step, -im.shape[1] % step
            p = np.pad(im, ((a // 2, a - a // 2), (b // 2, b - b // 2)), mode="reflect")
            shapes.add(p.shape)
            padded.append(sf.transform(p[None])[0])
        padded = np.array(padded)
        rel = np.abs(padded - native) / np.abs(native)
        shift = np.sqrt(((np.log10(np.maximum(padded[:, 1:], 1e-6)) - log_native) ** 2).sum(-1))
        pixels = np.mean([np.prod(-(-np.array(im.shape) // step) * step) / im.size
                          for im in images])
        rows.append((f"multiple of {step}", len(shapes), f"{np.median(rel):.1%}",
                     f"{np.percentile(rel, 95):.1%} / {rel.max():.0%}",
                     f"{np.median(shift) / between:.2f} / {shift.max() / between:.2f}",
                     f"{pixels:.2f}"))
    print(f"# {n_images} crops of the UHCS micrographs, J={J}, L={L}; median distance between "
          f"two images' log10 vectors: {between:.3f}")
    print_table(["padding", "sizes (banks)", "coefficient change: median",
                 "95th pct / max", "log-vector shift / between-image distance: median / max",
                 "pixels (x native)"], rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="437x551,512x512,600x401,480x640",
                        help="comma-separated HxW (default: %(default)s)")
    parser.add_argument("--J", type=int, default=4)
    parser.add_argument("--L", type=int, default=8)
    parser.add_argument("--kymatio-sizes", type=int, default=1,
                        help="sizes on which kymatio's filter_bank is timed too (default: "
                             "%(default)s; tens of seconds each)")
    parser.add_argument("--n-images", type=int, default=16,
                        help="crops for the canonical-size study (0: skip; default: "
                             "%(default)s)")
    parser.add_argument("--steps", type=int, nargs="+", default=[32, 64, 128])
    args = parser.parse_args(argv)
    print_machine_header()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    setup_costs(sizes, args.J, args.L, args.kymatio_sizes)
    if args.n_images:
        canonical_padding(args.n_images, args.steps, args.J, args.L)
    print(load_line())


if __name__ == "__main__":
    main()
