"""Command line: ``skmicro demo``, ``skmicro reproduce lubbers2017``, ``skmicro synthesize``.

Also runs as ``python -m skmicro``.
"""

from __future__ import annotations

import argparse
import sys


def _demo(args):
    """Power-spectrum distances between Perlin textures grow with their angle difference."""
    import numpy as np

    from . import PowerSpectrumFeatures
    from .datasets import make_perlin_textures

    angles = np.deg2rad([0, 2, 4, 8, 16, 32, 64, 90])
    n = args.n_pairs
    # n independent noise realizations per angle: the mean distance to the 0-degree textures
    # separates the angle from the noise.
    X, _ = make_perlin_textures(len(angles) * n, size=args.size, angle=np.repeat(angles, n),
                                scale=15, noise_amplitude=args.noise_amplitude,
                                random_state=args.seed)
    F = PowerSpectrumFeatures(crop=args.size // 4, device=args.device,
                              verbose=args.verbose).fit_transform(X)
    F = F.reshape(len(angles), n, -1)
    print(f"Perlin textures k=15, A={args.noise_amplitude}, {args.size}x{args.size}, {n} "
          "realizations per angle: power-spectrum distance (eq. 7) to the 0-degree textures")
    print("| angle difference (deg) | mean distance | std |")
    print("|---:|---:|---:|")
    for a, Fa in zip(np.rad2deg(angles), F):
        d = np.linalg.norm(Fa[:, None, :] - F[0][None, :, :], axis=-1)
        if a == 0:
            d = d[~np.eye(n, dtype=bool)]
        print(f"| {a:.0f} | {d.mean():.4f} | {d.std():.4f} |")
    return 0


def _reproduce(args):
    from .reproduce import run_lubbers2017

    out = args.out or ("results-quick" if args.quick else "results")
    run_lubbers2017(quick=args.quick, out=out, device=args.device, seed=args.seed,
                    descriptors=args.descriptors, verbose=args.verbose,
                    figures=not args.no_figures)
    print(f"\nwrote {out}/results.json, {out}/table.md and figures")
    return 0


def _synthesize(args):
    """Synthesize a new micrograph with the statistics of INPUT (a file or a folder, pooled)."""
    from pathlib import Path

    import numpy as np

    from .io import load_micrographs
    from .synthesis import synthesize_texture

    images = load_micrographs(args.input, as_gray=False)
    out = synthesize_texture(images, size=args.size, descriptor=args.descriptor,
                             n_iter=args.n_iter, periodic=args.periodic,
                             coarse_to_fine=args.coarse_to_fine, random_state=args.seed,
                             **({} if args.spectrum_weight is None
                                else {"spectrum_weight": args.spectrum_weight}), device=args.device, verbose=args.verbose)
    path = Path(args.out)
    if path.suffix.lower() in (".tif", ".tiff"):
        import tifffile

        tifffile.imwrite(path, out)
    else:
        from PIL import Image

        if out.dtype.kind == "f":  # Pillow formats hold integers: float units 0-1 -> 0-255
            out = np.rint(np.clip(out, 0, 1) * 255).astype(np.uint8)
        Image.fromarray(out).save(path)
    print(f"wrote {path} ({out.shape[0]}x{out.shape[1]}, {args.descriptor})")
    return 0


def _add_evaluate_parser(sub):
    p = sub.add_parser(
        "evaluate", help="cross-validate each descriptor of a features table against a property",
        description="Join a features table (from 'skmicro features') with a spreadsheet by file "
                    "name, cross-validate each descriptor and their union with ridge regression "
                    "and k-nearest neighbours (both after standard scaling) against one numeric "
                    "column, and print a table of R^2 (per test fold: mean, spread, worst; and "
                    "pooled over all out-of-fold predictions) and the mean absolute error, next "
                    "to a baseline that predicts the training mean. With few micrographs the "
                    "per-fold R^2 is noisy: read r2_pooled. Python: "
                    "skmicro.workflow.evaluate_features.")
    p.add_argument("features", metavar="FEATURES",
                   help="features table, .parquet or .csv, as 'skmicro features' writes it")
    p.add_argument("--target", required=True, metavar="TABLE:COLUMN",
                   help="the property to predict: a spreadsheet (.csv, .parquet; .xlsx with "
                        "openpyxl) and its numeric column, e.g. metadata.csv:hardness; its rows "
                        "are matched to the micrographs by the column holding file names "
                        "(found automatically); rows without a value are left out")
    p.add_argument("--groups", default=None, metavar="COLUMN",
                   help="a column of the same spreadsheet naming samples whose micrographs must "
                        "stay in one fold (e.g. the specimen): GroupKFold instead of KFold")
    p.add_argument("--cv", type=int, default=5, metavar="N",
                   help="number of folds, at least 2; lowered to the number of micrographs (or "
                        "groups) when there are fewer (default: %(default)s)")
    p.add_argument("--models", nargs="+", default=["ridge", "knn"], choices=["ridge", "knn"],
                   metavar="MODEL",
                   help="regressors: ridge (alpha chosen inside each training fold) and/or knn "
                        "(k = min(5, training size - 1)) (default: ridge knn)")
    p.add_argument("--descriptors", nargs="+", default=None, metavar="NAME",
                   help="descriptors (column prefixes) to evaluate (default: all in the table)")
    p.add_argument("--figures", default=None, metavar="DIR",
                   help="folder (created if missing) for one predicted-vs-measured PNG per "
                        "descriptor, from its best model (default: no figures)")
    p.add_argument("--out", default=None, metavar="FILE.csv",
                   help="also write the table as CSV (default: print only)")
    p.add_argument("--seed", type=int, default=0,
                   help="random seed of the fold assignment (default: %(default)s)")
    p.add_argument("--verbose", type=int, default=0,
                   help="0: quiet; 1 or more: a progress bar over the fits (default: "
                        "%(default)s)")
    p.set_defaults(func=_evaluate)


def _evaluate(args):
    from .workflow import evaluate_features, format_table

    table = evaluate_features(args.features, args.target, groups=args.groups, cv=args.cv,
                              models=args.models, descriptors=args.descriptors,
                              random_state=args.seed, figures=args.figures, verbose=args.verbose)
    print(format_table(table))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="skmicro", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="power-spectrum distances on Perlin textures")
    demo.add_argument("--size", type=int, default=128)
    demo.add_argument("--noise-amplitude", type=float, default=2.5)
    demo.add_argument("--device", default="auto")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--n-pairs", type=int, default=8)
    demo.add_argument("--verbose", type=int, default=0)
    demo.set_defaults(func=_demo)

    rep = sub.add_parser("reproduce", help="reproduce a paper's results")
    rep.add_argument("paper", choices=["lubbers2017"])
    rep.add_argument("--quick", action="store_true",
                     help="5 noise amplitudes, 5 trials, a 6x6x6 grid: minutes on a laptop CPU")
    rep.add_argument("--out", default=None, help="output folder (default: results[-quick])")
    rep.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    rep.add_argument("--seed", type=int, default=0)
    rep.add_argument("--descriptors", nargs="+", default=None,
                     choices=["power_spectrum", "vgg_gram", "scattering"])
    rep.add_argument("--no-figures", action="store_true")
    rep.add_argument("--verbose", type=int, default=1)
    rep.set_defaults(func=_reproduce)

    syn = sub.add_parser("synthesize", help="a new texture with the statistics of micrographs")
    syn.add_argument("input", help="micrograph file, or a folder whose images are pooled")
    syn.add_argument("--out", required=True, help="output image (.png, .tif, ...)")
    syn.add_argument("--size", type=int, default=None, help="output side (default: input's)")
    syn.add_argument("--descriptor", default="vgg_gram", choices=["vgg_gram", "scattering"])
    syn.add_argument("--n-iter", type=int, default=100, help="L-BFGS iterations")
    syn.add_argument("--periodic", action="store_true", help="seamlessly tileable output")
    syn.add_argument("--spectrum-weight", type=float, default=None,
                     help="weight of the Fourier-modulus constraint (0: off; default: "
                          "synthesize_texture's)")
    syn.add_argument("--coarse-to-fine", type=lambda v: v if v == "auto" else int(v),
                     default="auto", help="coarser levels first: auto (from 512 px) | N")
    syn.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    syn.add_argument("--seed", type=int, default=0)
    syn.add_argument("--verbose", type=int, default=1)
    syn.set_defaults(func=_synthesize)
    _add_evaluate_parser(sub)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
