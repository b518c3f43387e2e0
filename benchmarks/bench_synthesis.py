"""Texture synthesis: quality with and without the spectrum constraint, the coarse-to-fine
schedule, and the cost.

    python benchmarks/bench_synthesis.py [--sections quality schedule cost] [--n-jobs 1]
                                         [--weights 0 0.01 0.1 1]

* ``quality``: issue 15's cases, the 64x64 noisy oriented stripes (6 periods) and a Perlin
  texture (eq. 9), synthesized from noise (VGG defaults and scattering J=4 L=8, 100
  iterations) with ``spectrum_weight`` 0 (before) and the others (after). Figures: the
  full-plane power-spectrum distance to the original relative to that of a second
  realization of the same texture (target <= 3), the energy fraction in the original's
  spectral peak, the descriptor's own distance relative to a second realization's, the
  largest normalized cross-correlation with the original over all circular shifts (a copy
  would give 1) and the time relative to ``spectrum_weight=0`` in the same run.
* ``schedule``: a 256x256 field from a 128x128 Perlin exemplar, one level vs
  ``coarse_to_fine=1`` (128 then 256), same ``n_iter`` per level.
* ``cost``: one 256x256 synthesis per descriptor and batches of samples (no peer library
  for CNN/scattering synthesis is installed here, so no peer column).
"""

import argparse

import numpy as np
from _common import load_line, print_machine_header, print_table, timed

from skmicro import ScatteringFeatures, VGGGramFeatures
from skmicro.datasets import make_perlin_textures
from skmicro.synthesis import synthesize_texture, synthesize_textures


# ------------------------------------------------------------------------------ the cases
def noisy_stripes(seed, size=64, periods=6, angle=np.pi / 6, noise=1.0):
    """Oriented stripes, ``periods`` across the image, white noise of the stripes' peak
    amplitude, a random phase per realization (issue 15's case)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:size, :size] / size
    wave = 2 * np.pi * periods * (x * np.cos(angle) + y * np.sin(angle))
    return (np.cos(wave + rng.uniform(0, 2 * np.pi))
            + noise * rng.standard_normal((size, size))).astype(np.float32)


def perlin_pair(size, scale):
    """Two realizations (independent Perlin noise) of one Perlin texture."""
    X, _ = make_perlin_textures(2, size=size, angle=0.5, scale=scale, noise_amplitude=1.0,
                                random_state=0)
    return X[0], X[1]


# ------------------------------------------------------------------------------ measures
def normalized_power(x):
    x = np.asarray(x, dtype=np.float64)
    p = np.abs(np.fft.fft2(x - x.mean())) ** 2
    return p / p.sum()


def ps_distance(a, b):
    """L2 distance of the full-plane periodograms, each normalized to unit energy."""
    return float(np.linalg.norm(normalized_power(a) - normalized_power(b)))


def peak_fraction(x, original):
    """Energy fraction of ``x`` in the 3x3 bins around the original's spectral peak (and
    its mirror)."""
    p_orig, p = normalized_power(original), normalized_power(x)
    h, w = p.shape
    i, j = np.unravel_index(np.argmax(p_orig), p.shape)
    mask = np.zeros(p.shape, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            mask[(i + di) % h, (j + dj) % w] = mask[(-i - di) % h, (-j - dj) % w] = True
    return float(p[mask].sum())


def max_correlation(x, original):
    """Largest normalized cross-correlation over all circular shifts (1: a shifted copy)."""
    a = (x - x.mean()) / x.std()
    b = (original - original.mean()) / original.std()
    corr = np.real(np.fft.ifft2(np.fft.fft2(a) * np.conj(np.fft.fft2(b)))) / a.size
    return float(corr.max())


def descriptor_distance(descriptor, x, original):
    """The descriptor's own mismatch: relative eq. 3 loss (VGG), RMS relative S1/S2
    difference (scattering)."""
    F = descriptor.fit_transform([np.asarray(x, np.float32),
                                  np.asarray(original, np.float32)]).astype(np.float64)
    if isinstance(descriptor, VGGGramFeatures):
        return float(((F[0] - F[1]) ** 2).sum() / (F[1] ** 2).sum())
    return float(np.sqrt(np.mean(((F[0, 1:] - F[1, 1:]) / F[1, 1:]) ** 2)))


# ------------------------------------------------------------------------------ sections
def descriptors(n_jobs):
    return [("VGG (defaults)", "vgg_gram", VGGGramFeatures(device="cpu", n_jobs=n_jobs)),
            ("scattering J=4 L=8", ScatteringFeatures(),
             ScatteringFeatures(device="cpu", n_jobs=n_jobs))]


def quality(weights, n_jobs, n_iter=100):
    cases = [("stripes 64x64", noisy_stripes(0), noisy_stripes(1)),
             ("Perlin 64x64 (k=7.5)", *perlin_pair(64, 7.5)),
             ("Perlin 128x128 (k=15)", *perlin_pair(128, 15.0))]
    rows = []
    for case, original, second in cases:
        d_second = ps_distance(second, original)
        rows.append((case, "second realization", "-", "1.00",
                     f"{peak_fraction(second, original):.0%} (original "
                     f"{peak_fraction(original, original):.0%})", "1.00",
                     f"{max_correlation(second, original):.2f}", "-"))
        for name, desc, measure in descriptors(n_jobs):
            d_desc_second = descriptor_distance(measure, second, original)
            # Warm-up (weights, filters, oneDNN kernels), untimed.
            synthesize_texture(original, descriptor=desc, n_iter=1, device="cpu",
                               n_jobs=n_jobs)
            t_base = None
            for w in weights:
                t, out = timed(lambda: synthesize_texture(
                    original, descriptor=desc, n_iter=n_iter, spectrum_weight=w,
                    random_state=0, device="cpu", n_jobs=n_jobs))
                t_base = t if t_base is None else t_base
                rows.append((case, name, f"{w:g}", f"{ps_distance(out, original) / d_second:.2f}",
                             f"{peak_fraction(out, original):.0%}",
                             f"{descriptor_distance(measure, out, original) / d_desc_second:.3f}",
                             f"{max_correlation(out, original):.2f}", f"{t / t_base:.2f}"))
    print(f"\nQuality, {n_iter} L-BFGS iterations from noise (seed 0); time relative to the "
          f"first weight ({weights[0]:g}) of the same descriptor and case")
    print_table(["case", "synthesis", "spectrum_weight", "PS distance / second's",
                 "peak energy", "descriptor distance / second's", "max corr. with original",
                 "time ratio"], rows, align="lllrrrrr")


def schedule(n_jobs, n_iter=50):
    original, _ = perlin_pair(128, 15.0)
    rows = []
    for name, desc, measure in descriptors(n_jobs):
        synthesize_texture(original, size=256, descriptor=desc, n_iter=1, coarse_to_fine=1,
                           device="cpu", n_jobs=n_jobs)  # warm-up, untimed
        t_base = None
        # One level, one level with 1.25x the iterations (about the coarse level's extra
        # cost: a quarter of the pixels), two levels.
        for levels, iters in ((0, n_iter), (0, round(1.25 * n_iter)), (1, n_iter)):
            t, (out, loss) = timed(lambda: synthesize_texture(
                original, size=256, descriptor=desc, n_iter=iters, coarse_to_fine=levels,
                random_state=0, device="cpu", n_jobs=n_jobs, return_loss=True))
            t_base = t if t_base is None else t_base
            rows.append((name, levels, iters, len(loss), f"{loss[-1]:.3g}",
                         f"{descriptor_distance(measure, out, original):.3g}",
                         f"{t / t_base:.2f}"))
    print("\nCoarse to fine: 256x256 from a 128x128 Perlin exemplar, default spectrum_weight; "
          f"time relative to one level of {n_iter} iterations")
    print_table(["descriptor", "coarse_to_fine", "n_iter per level", "evaluations",
                 "final loss", "descriptor distance to exemplar", "time ratio"], rows,
                align="lrrrrrr")


def cost(n_jobs):
    import torch
    from skimage import data

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    original = data.brick()[::2, ::2]  # real photograph, 256x256 uint8
    small = original[:128, :128]

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

    print("\nCost of one synthesis (brick, 256x256)")
    print_table(["device", "descriptor", "size", "n_iter", "evaluations", "time (s)",
                 "loss start -> end"], single_rows(), align="llrrrrl")

    def batch_rows():
        for device in devices:
            for n in (1, 4):
                t, _ = timed(lambda: synthesize_textures(small, n, size=128, n_iter=20,
                                                         random_state=0, device=device,
                                                         n_jobs=n_jobs), device=device)
                yield device, n, f"{t:.1f}", f"{n / t:.3f}"

    print("\nIndependent samples optimized together (VGG, 128x128, n_iter=20): images/s")
    print_table(["device", "n_samples", "time (s)", "images/s"], batch_rows())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", nargs="+", default=["quality", "schedule"],
                        choices=["quality", "schedule", "cost"])
    parser.add_argument("--weights", nargs="+", type=float, default=[0.0, 0.01, 0.1, 1.0])
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--n-iter", type=int, default=100,
                        help="iterations of the quality runs (the schedule runs half)")
    args = parser.parse_args(argv)
    print_machine_header()
    print(f"# CPU threads for the synthesis: {args.n_jobs}")
    if "quality" in args.sections:
        quality(args.weights, args.n_jobs, args.n_iter)
    if "schedule" in args.sections:
        schedule(args.n_jobs, max(1, args.n_iter // 2))
    if "cost" in args.sections:
        cost(args.n_jobs)
    print(load_line())


if __name__ == "__main__":
    main()
