"""Gallery for docs/synthesis.md: originals beside VGG-Gram and scattering reconstructions.

Run: python benchmarks/make_synthesis_gallery.py  (a few minutes on a 2-core CPU). Writes
docs/img/synthesis_gallery.png and prints the descriptor distances of each reconstruction.
"""

import sys

import matplotlib
from _common import timed

matplotlib.use("Agg")

from skmicro import ScatteringFeatures  # noqa: E402
from skmicro.datasets import make_grain_microstructures, make_perlin_textures  # noqa: E402
from skmicro.plotting import plot_synthesis  # noqa: E402
from skmicro.synthesis import synthesize_texture  # noqa: E402


def originals():
    from skimage import data

    perlin, _ = make_perlin_textures(1, size=96, angle=0.5, scale=15, random_state=0)
    grains = make_grain_microstructures(1, size=96, random_state=0)
    grains = grains[0] if isinstance(grains, tuple) else grains
    return {
        "brick (skimage)": data.brick()[::4, ::4][:96, :96],
        "gravel (skimage)": data.gravel()[::4, ::4][:96, :96],
        "Perlin": perlin[0],
        "grains": grains[0],
    }


def main(out="docs/img/synthesis_gallery.png", size=128, n_jobs=1):
    rows, recs = [], []
    for name, img in originals().items():
        t_vgg, vgg = timed(lambda: synthesize_texture(
            img, size=size, n_iter=80, random_state=0, device="cpu", n_jobs=n_jobs))
        t_scat, scat = timed(lambda: synthesize_texture(
            img, size=size, descriptor=ScatteringFeatures(J=4, L=8), n_iter=200,
            random_state=0, device="cpu", n_jobs=n_jobs))
        print(f"{name}: vgg {t_vgg:.0f} s, scattering {t_scat:.0f} s", flush=True)
        rows.append(img)
        recs.append([vgg, scat])
    axes = plot_synthesis(rows, recs, labels=["VGG Gram (eq. 3)", "Scattering S0-S2"])
    for ax, name in zip(axes[:, 0], originals()):
        ax.set_ylabel(name)
    axes[0, 0].figure.savefig(out, dpi=55)
    from PIL import Image

    with Image.open(out) as im:  # every panel is grey: 8-bit grey PNG keeps the file small
        im.convert("L").save(out, optimize=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
