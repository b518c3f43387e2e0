r"""
Recovering the texture angle from an embedding (Lubbers et al. 2017)
====================================================================

The angle task of Lubbers, Lookman & Barros (2017), Sec. IV A, at gallery size. Perlin-distorted
sinusoids (their eq. 9)

.. math::

    \phi(\mathbf r) = \cos\bigl(2\pi k\,(\mathbf r + A\,u\,\mathbf h(\mathbf r))
    \cdot \mathbf n_\theta\bigr),
    \qquad \theta_i = \frac{i\pi}{N},

are described by the CNN texture vector (VGG-19 Gram matrices
:math:`G^l_{ij} = \langle F^l_i F^l_j \rangle`, eqs. 1-4) and by the power-spectrum baseline
(eqs. 5-7), embedded in two dimensions with metric MDS, and the angle is read back off the ring
(eq. 10). Textures at :math:`\theta` and :math:`\theta + \pi` are identical, so a good
embedding is a ring traversed once as :math:`\theta` goes from 0 to :math:`\pi`.

The full reproduction (all noise amplitudes, trials and the grid task) is
``skmicro reproduce lubbers2017``; see the reproduction page for its tables and figures.
"""

# sphinx_gallery_thumbnail_number = 2
import matplotlib.pyplot as plt
import numpy as np

from skmicro import MDSEmbedder, PairwiseDistances, PowerSpectrumFeatures, VGGGramFeatures
from skmicro.datasets import make_perlin_textures
from skmicro.metrics import angle_recovery_rmse, kruskal_stress
from skmicro.plotting import plot_embedding

# %%
# An angle sweep of noisy textures
# --------------------------------
# N = 50 images of 64x64 at a low noise amplitude, A = 0.5, angles equally spaced in [0, pi).
# The paper finds the power spectrum works only in a window of moderate noise (2 <~ A <~ 3.5)
# while the CNN descriptor works across the range; ``skmicro reproduce lubbers2017`` sweeps A.
X, params = make_perlin_textures(50, size=64, design="angle_sweep", noise_amplitude=0.5,
                                 random_state=0)
theta = params["angle"]
fig, axes = plt.subplots(1, 5, figsize=(10, 2.2))
for ax, i in zip(axes, np.linspace(0, len(X) - 1, 5).astype(int)):
    ax.imshow(X[i], cmap="gray")
    ax.set_title(f"theta = {theta[i]:.2f}")
    ax.axis("off")
fig.tight_layout()

# %%
# Descriptor -> distances -> 2-D MDS, for both descriptors
# --------------------------------------------------------
# Three ordinary scikit-learn steps (``make_pipeline`` chains them the same way): texture
# vectors, their Euclidean distances (eq. 4 / eq. 7), and metric MDS on those distances.
descriptors = {
    "VGG-19 Gram (CNN)": VGGGramFeatures(),
    "power spectrum": PowerSpectrumFeatures(),
}
embeddings = {}
for name, descriptor in descriptors.items():
    F = descriptor.fit_transform(X)
    D = PairwiseDistances().fit_transform(F)
    embeddings[name] = MDSEmbedder(n_components=2, metric="precomputed",
                                   random_state=0).fit_transform(D)
    rmse, _ = angle_recovery_rmse(theta, embeddings[name])
    print(f"{name:18s} {F.shape[1]:6d} features, angle RMSE {rmse:.3f} rad, "
          f"Kruskal stress {kruskal_stress(D, embeddings[name]):.3f}")

# %%
# The embeddings, with each point's generating angle as an arrow at 2 theta
# --------------------------------------------------------------------------
# A good descriptor gives a ring whose arrows turn once around it; compare the RMSEs above.
fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
for ax, (name, emb) in zip(axes, embeddings.items()):
    plot_embedding(emb, color=theta, color_label="theta (rad)", angles=theta, ax=ax)
    ax.set_title(name)
    ax.set_aspect("equal")
fig.tight_layout()
