"""VGGGramFeatures against a straightforward per-image implementation, measured in one run.

The baseline is what one writes first: one image at a time, float32, contiguous NCHW tensors,
F.conv2d/relu/avg_pool through the stack to conv5_1, the full Gram matrix of each requested
layer by matmul, then its upper triangle. Both use the same weights (vgg19-normalized), the
same preprocessing and the same threads; the rows are checked to agree before timing counts.

    python benchmarks/bench_vgg_gram.py              # 64 images of 128x128
    python benchmarks/bench_vgg_gram.py --n 16 --size 64
    python benchmarks/bench_vgg_gram.py --memory 10000   # + peak RSS of a 10k distance matrix

Timings take the best of ``--repeat`` runs after a warm-up.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import numpy as np
from scipy.spatial.distance import pdist
import torch
import torch.nn.functional as F
from _common import best_time, peak_rss_mib, print_machine_header, print_table

from skmicro import VGGGramFeatures
from skmicro.features import _vgg19 as vgg

LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
POOL_AFTER = ("conv1_2", "conv2_2", "conv3_4", "conv4_4")


def baseline(images, state):
    """Per-image loop, NCHW, full Gram then upper triangle (scaled as eq. 4)."""
    mean = torch.tensor(vgg.CAFFE_MEAN_BGR).view(1, 3, 1, 1)
    rows = []
    with torch.inference_mode():
        for img in images:
            x = torch.from_numpy(img).permute(2, 0, 1)[None].flip(1) * 255.0 - mean
            x = x.contiguous()
            parts = []
            for name in vgg.LAYER_NAMES[: vgg.LAYER_NAMES.index("conv5_1") + 1]:
                x = F.relu(F.conv2d(x, state[f"{name}.weight"], state[f"{name}.bias"], padding=1))
                if name in LAYERS:
                    f = x[0].reshape(x.shape[1], -1)
                    n, m = f.shape
                    g = (f @ f.T) / (2.0 * n * m)
                    iu = torch.triu_indices(n, n)
                    scale = torch.where(iu[0] == iu[1], 1.0, 2.0**0.5)
                    parts.append(g[iu[0], iu[1]] * scale)
                if name in POOL_AFTER:
                    x = F.avg_pool2d(x, 2)
            rows.append(torch.cat(parts).numpy())
    return np.stack(rows)


def time_on(fn, images, repeat):
    """Best of ``repeat`` calls ``fn(images)``, after a warm-up on two images (weights loaded
    and cached, oneDNN primitives built)."""
    fn(images[:2])
    return best_time(lambda: fn(images), repeat)


def memory_run(n, size, k, batch, precision="fp32"):
    """Child process: n images -> projected rows -> full distance matrix; prints peak RSS."""
    code = f"""
import sys, time
import numpy as np
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
from _common import peak_rss_mib
from skmicro import VGGGramFeatures
from skmicro.manifold import blockwise_distances
rng = np.random.default_rng(0)
est = VGGGramFeatures(n_components={k}, random_state=0, device="auto", batch_size={batch},
                      precision="{precision}")
est.fit(rng.random((1, {size}, {size}), dtype=np.float32))
rows = np.empty(({n}, {k}), np.float32)
t0 = time.perf_counter()
for s in range(0, {n}, 256):  # images arrive in chunks, as from disk
    chunk = rng.random((min(256, {n} - s), {size}, {size}), dtype=np.float32)
    rows[s:s + len(chunk)] = est.transform(chunk)
D = blockwise_distances(rows)  # the package's blockwise path: one n x n float32 buffer
print(f"{{time.perf_counter() - t0:.1f}} {{peak_rss_mib() / 2**10:.2f}} {{D.shape}}")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--memory", type=int, default=0,
                        help="also measure peak RSS for this many images (n_components=1024)")
    parser.add_argument("--memory-precision", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--memory-only", action="store_true")
    args = parser.parse_args(argv)

    print_machine_header()
    if args.memory_only:
        secs, rss, *_ = memory_run(args.memory, args.size, 1024, args.batch_size,
                                   args.memory_precision)
        print(f"# {args.memory} images {args.size}x{args.size}, n_components=1024, "
              f"precision={args.memory_precision}, full distance matrix: {secs} s, "
              f"peak RSS {rss} GB")
        return
    rng = np.random.default_rng(0)
    images = rng.random((args.n, args.size, args.size, 3), dtype=np.float32)
    est = VGGGramFeatures(device="cpu", batch_size=args.batch_size).fit(images[:1])
    state = vgg.load_state("vgg19-normalized")

    t_ours, ours = time_on(est.transform, images, args.repeat)
    est16 = VGGGramFeatures(device="cpu", batch_size=args.batch_size, precision="bf16")
    t_bf16, ours16 = time_on(est16.fit(images[:1]).transform, images, args.repeat)
    d32, d16 = pdist(ours), pdist(ours16)
    err16 = np.abs(d16 - d32) / d32
    t_base, base = time_on(lambda imgs: baseline(imgs, state), images, args.repeat)
    rel = np.linalg.norm(ours - base) / np.linalg.norm(base)
    assert rel < 1e-4, f"implementations disagree: relative difference {rel:.2e}"

    print(f"# VGGGramFeatures benchmark: {args.n} images {args.size}x{args.size} RGB, "
          f"default layers, vgg19-normalized, CPU, {torch.get_num_threads()} threads")
    print(f"# rows agree: relative difference {rel:.1e}")
    print_table(["implementation", "time (s)", "images/s"], [
        ("straightforward per-image (peer)", f"{t_base:.2f}", f"{args.n / t_base:.1f}"),
        (f"VGGGramFeatures (ours, batch {args.batch_size})", f"{t_ours:.2f}",
         f"{args.n / t_ours:.1f}"),
        ("VGGGramFeatures (ours, precision='bf16')", f"{t_bf16:.2f}", f"{args.n / t_bf16:.1f}"),
        ("ratio (peer / ours)", f"{t_base / t_ours:.2f}x", ""),
        ("ratio (peer / ours bf16)", f"{t_base / t_bf16:.2f}x", ""),
    ])
    print(f"# bf16 pairwise distances vs fp32: median relative error {np.median(err16):.1e}, "
          f"max {err16.max():.1e}")
    print(f"# peak RSS of this process: {peak_rss_mib() / 2**10:.2f} GB")
    if args.memory:
        secs, rss, *_ = memory_run(args.memory, args.size, 1024, args.batch_size,
                                   args.memory_precision)
        print(f"# {args.memory} images {args.size}x{args.size}, n_components=1024, full "
              f"distance matrix: {secs} s, peak RSS {rss} GB")


if __name__ == "__main__":
    main()
