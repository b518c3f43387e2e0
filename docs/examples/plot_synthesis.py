"""
New micrographs with the statistics of one: texture synthesis
=============================================================

:func:`~skmicro.synthesis.synthesize_texture` starts from noise and optimizes the pixels with
L-BFGS until the image's descriptor matches the original's (Gatys et al.; Lubbers et al. 2017,
Fig. 1): the VGG-19 Gram matrices (``descriptor="vgg_gram"``) or the wavelet scattering means
(``descriptor="scattering"``). A good descriptor of a microstructure should give back images
that a metallographer would call the same material.

Small sizes for the gallery (64x64 inputs, 60 iterations); the user guide's synthesis page
shows 256x256 results.
"""


from skmicro.datasets import make_grain_microstructures, make_perlin_textures
from skmicro.plotting import plot_synthesis
from skmicro.synthesis import synthesize_texture

# %%
# Two originals: a grain micrograph and a Perlin-distorted texture
# -----------------------------------------------------------------
grains, _ = make_grain_microstructures(1, size=64, random_state=1)
perlin, _ = make_perlin_textures(1, size=64, angle=0.6, noise_amplitude=1.5, random_state=0)
originals = [grains[0], perlin[0]]

# %%
# Synthesize from each descriptor
# -------------------------------
# ``periodic=True`` lets the result wrap around, which suits stationary textures.
reconstructions = []
for image in originals:
    row = []
    for descriptor in ("vgg_gram", "scattering"):
        new, loss = synthesize_texture(image, descriptor=descriptor, n_iter=60, periodic=True,
                                       random_state=0, return_loss=True)
        print(f"{descriptor:10s} loss {loss[0]:.3g} -> {loss[-1]:.3g}")
        row.append(new)
    reconstructions.append(row)

axes = plot_synthesis(originals, reconstructions, labels=["VGG-19 Gram", "scattering"])
