"""Dense (per-pixel) descriptors: seconds per micrograph, ours and scikit-image's, same run.

    python benchmarks/bench_dense.py [--height 484] [--width 645] [--repeat 3] [--device auto]

Times one ``transform`` of one image (after a warm-up that builds filters and loads weights,
which no user pays twice) for every dense descriptor at its defaults, and, as the peer, the
filter bank of scikit-image's ``multiscale_basic_features`` (the baseline of issue 28) at the
same scales: ours computes the Gaussian, gradient magnitude, Hessian eigenvalues and DoG at
the six scales 0.5 ... 16 (30 channels); scikit-image intensity, edges (Sobel) and Hessian
eigenvalues (24 channels). Prints the load average beside the figures: on a shared machine
they are upper bounds.
"""

import argparse

import numpy as np
from _common import best_time, load_average, print_machine_header, print_table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--height", type=int, default=484)
    parser.add_argument("--width", type=int, default=645)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)

    from skimage.feature import multiscale_basic_features

    from skmicro import (
        FilterBankPixelFeatures,
        ScatteringPixelFeatures,
        VGGHypercolumnPixelFeatures,
    )

    print_machine_header()
    image = np.random.default_rng(0).random((1, args.height, args.width)).astype(np.float32)
    cases = [
        ("FilterBankPixelFeatures()", FilterBankPixelFeatures(device=args.device)),
        ("ScatteringPixelFeatures() (J=4, L=8)", ScatteringPixelFeatures(device=args.device)),
        ("VGGHypercolumnPixelFeatures(n_components=64)",
         VGGHypercolumnPixelFeatures(n_components=64, random_state=0, device=args.device)),
        ("VGGHypercolumnPixelFeatures() (960 channels)",
         VGGHypercolumnPixelFeatures(device=args.device)),
    ]
    rows = []
    for name, est in cases:
        est.fit(image).transform(image)  # warm-up
        t, maps = best_time(lambda est=est: est.transform(image), args.repeat,
                            device=args.device)
        rows.append((name, maps.shape[-1], t))
    peer = dict(intensity=True, edges=True, texture=True, sigma_min=0.5, sigma_max=16,
                num_sigma=6, channel_axis=None)
    multiscale_basic_features(image[0], **peer)
    t_peer, peer_maps = best_time(lambda: multiscale_basic_features(image[0], **peer),
                                  args.repeat)
    print(f"one {args.height}x{args.width} image, best of {args.repeat}, load average "
          f"{load_average():.1f}")
    table = [(name, k, f"{t:.3f}", f"{t / t_peer:.2f}x") for name, k, t in rows]
    table.append(("scikit-image multiscale_basic_features (same 6 scales)",
                  peer_maps.shape[-1], f"{t_peer:.3f}", "1.00x"))
    print_table(["descriptor", "channels", "s/image", "time / scikit-image's"], table)


if __name__ == "__main__":
    main()
