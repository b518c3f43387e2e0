"""Gallery for docs/synthesis.md: originals beside syntheses without and with the spectrum
constraint (Liu, Gousseau & Xia 2016), for the VGG Gram and the scattering descriptors.

Run: python benchmarks/make_synthesis_gallery.py [out.png] [n_jobs]  (about 10 minutes on a
2-core CPU). Writes docs/img/synthesis_gallery.png (8-bit grey PNG) and prints, per
synthesis, the full-plane power-spectrum distance to the original and the time.
"""

import sys
import time

import matplotlib
import numpy as np

matplotlib.use("Agg")

from bench_synthesis import noisy_stripes, ps_distance  # noqa: E402

from skmicro import ScatteringFeatures  # noqa: E402
from skmicro.datasets import make_grain_microstructures, make_perlin_textures  # noqa: E402
from skmicro.plotting import plot_synthesis  # noqa: E402
from skmicro.synthesis import synthesize_texture  # noqa: E402

# (label, descriptor, n_iter, spectrum_weight); None: the function's default weight.
SYNTHESES = [("VGG", "vgg_gram", 100, 0.0), ("VGG + spectrum", "vgg_gram", 100, None),
             ("scattering", ScatteringFeatures(J=4, L=8), 200, 0.0),
             ("scattering + spectrum", ScatteringFeatures(J=4, L=8), 200, None)]


def originals():
    from skimage import data

    perlin, _ = make_perlin_textures(1, size=96, angle=0.5, scale=11, random_state=0)
    grains = make_grain_microstructures(1, size=96, random_state=0)
    grains = grains[0] if isinstance(grains, tuple) else grains
    return {
        "stripes": noisy_stripes(0, size=96, periods=9),
        "Perlin": perlin[0],
        "brick (skimage)": data.brick()[::4, ::4][:96, :96],
        "grains": grains[0],
    }


def main(out="docs/img/synthesis_gallery.png", n_jobs=1):
    rows, recs = [], []
    for name, img in originals().items():
        row = []
        for label, desc, n_iter, weight in SYNTHESES:
            kw = {} if weight is None else {"spectrum_weight": weight}
            t = time.perf_counter()
            new = synthesize_texture(img, descriptor=desc, n_iter=n_iter, random_state=0,
                                     device="cpu", n_jobs=n_jobs, **kw)
            t = time.perf_counter() - t
            d = ps_distance(np.asarray(new, np.float64), np.asarray(img, np.float64))
            print(f"{name} / {label}: power-spectrum distance {d:.3f}, {t:.0f} s", flush=True)
            row.append(new)
        rows.append(img)
        recs.append(row)
    axes = plot_synthesis(rows, recs, labels=[s[0] for s in SYNTHESES])
    for ax, name in zip(axes[:, 0], originals()):
        ax.set_ylabel(name)
    axes[0, 0].figure.savefig(out, dpi=55)
    from PIL import Image

    with Image.open(out) as im:  # every panel is grey: 8-bit grey PNG keeps the file small
        im.convert("L").save(out, optimize=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:2], *(int(v) for v in sys.argv[2:3]))
