"""Synthetic etched grain micrographs with a hardness target from a physical model.

Each image is the rolling-plane section of a polycrystal: a Voronoi tessellation whose seeds
follow a spatially varying density (so grain sizes spread log-normally), stretched along x by
plane-strain rolling, etched (dark grain-boundary grooves on a bright matrix, grain-to-grain
shading), optionally with dark second-phase particles, then blurred and noisy like a light
micrograph. Hardness adds Hall-Petch, Voce work-hardening and Orowan particle terms.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import ndimage as ndi
from sklearn.utils import check_random_state

from .._validation import Interval, validate_params

__all__ = ["make_grain_microstructures"]

#: Physical size of one pixel, micrometres.
PIXEL_SIZE_UM = 0.5
#: Hardness model constants (HV); illustrative values of the order of a copper or mild-steel
#: alloy, not a calibrated material.
H0_HV = 60.0  # friction (lattice) hardness
K_HALL_PETCH = 150.0  # HV * um**0.5
K_WORK_HARDENING = 70.0  # HV, saturation of work hardening (Voce)
STRAIN_WORK_HARDENING = 0.6  # Voce strain scale
K_OROWAN = 40.0  # HV * um

# Rendering levels of the etched section (intensity in [0, 1]).
_MATRIX_LEVEL = 0.72
_PARTICLE_LEVEL = 0.18

PARAM_NAMES = (
    "grain_size",
    "grain_size_spread",
    "reduction",
    "particle_fraction",
    "particle_radius",
    "etch_depth",
    "etch_contrast",
    "boundary_width",
    "blur_sigma",
    "noise_std",
)


def _draw_params(rng):
    """One image's processing and imaging parameters (see make_grain_microstructures)."""
    has_particles = rng.random() < 0.5
    return {
        "grain_size": float(np.exp(rng.uniform(np.log(3.0), np.log(12.0)))),
        "grain_size_spread": rng.uniform(0.0, 0.5),
        "reduction": rng.uniform(0.0, 0.7),
        "particle_fraction": rng.uniform(0.02, 0.12) if has_particles else 0.0,
        "particle_radius": rng.uniform(0.75, 2.0) if has_particles else 0.0,
        "etch_depth": rng.uniform(0.5, 0.8),
        "etch_contrast": rng.uniform(0.02, 0.15),
        "boundary_width": rng.uniform(0.6, 1.4),
        "blur_sigma": rng.uniform(0.3, 1.0),
        "noise_std": rng.uniform(0.01, 0.05),
    }


def _hardness(params):
    """Noise-free Vickers hardness (HV) of each sample; arrays in, array out."""
    d = np.asarray(params["grain_size"], dtype=np.float64)
    r = np.asarray(params["reduction"], dtype=np.float64)
    f = np.asarray(params["particle_fraction"], dtype=np.float64)
    rp = np.asarray(params["particle_radius"], dtype=np.float64)
    strain = 2.0 / np.sqrt(3.0) * np.log(1.0 / (1.0 - r))  # von Mises, plane strain
    with np.errstate(divide="ignore", invalid="ignore"):
        orowan = np.where(f > 0, K_OROWAN * np.sqrt(f) / np.where(rp > 0, rp, 1.0), 0.0)
    hardening = K_WORK_HARDENING * (1.0 - np.exp(-strain / STRAIN_WORK_HARDENING))
    return H0_HV + K_HALL_PETCH / np.sqrt(d) + hardening + orowan


def _seed_mask(shape, spacing, spread, rng):
    """Boolean mask of grain seeds in image pixels (h, w) of the rolled section.

    ``spacing`` = (sy, sx): the mean grain extent along y and x in pixels, which sets the seed
    density 1 / (pi/4 * sy * sx). The local density is exp(spread * G - spread**2 / 2) with G a
    smooth unit Gaussian field correlated over a few grains; it has mean 1, so the mean grain
    area is kept while the size distribution widens towards a log-normal.
    """
    h, w = shape
    sy, sx = spacing
    n_mean = h * w / (np.pi / 4.0 * sy * sx)
    if spread > 0:
        # Field on a coarse grid of one grain per cell, smoothed over ~2 grains; at least
        # 16 cells a side, or the smoothing of a tiny periodic grid leaves ~no variance.
        gh, gw = max(int(np.ceil(h / sy)) + 2, 16), max(int(np.ceil(w / sx)) + 2, 16)
        field = ndi.gaussian_filter(rng.standard_normal((gh, gw)), 2.0, mode="wrap")
        field /= field.std()
        dens = np.exp(spread * field - spread**2 / 2.0)
        n_cand = rng.poisson(n_mean * dens.max())
        ys, xs = rng.uniform(0, h, n_cand), rng.uniform(0, w, n_cand)
        local = ndi.map_coordinates(dens, [ys / sy + 0.5, xs / sx + 0.5], order=1, mode="nearest")
        keep = rng.random(n_cand) * dens.max() < local  # thinning of a Poisson process
        ys, xs = ys[keep], xs[keep]
    else:
        n = rng.poisson(n_mean)
        ys, xs = rng.uniform(0, h, n), rng.uniform(0, w, n)
    mask = np.zeros(shape, dtype=bool)
    if ys.size == 0:  # a single grain: put one seed anywhere
        ys, xs = np.array([h / 2.0]), np.array([w / 2.0])
    mask[ys.astype(np.int64), xs.astype(np.int64)] = True
    return mask


def _render_grains(p, size, rng, *, return_labels=False):
    """Render one micrograph (size, size), float32 in [0, 1], from a parameter dict ``p``.

    The grains live in an undeformed frame where they are equiaxed with mean equivalent
    diameter ``grain_size``. Plane-strain rolling by reduction r keeps the width (y, the
    transverse direction) and stretches the rolling direction (x) by 1 / (1 - r); the Voronoi
    cells are therefore computed with the undeformed metric (x pixel spacing 1 - r), which is
    the same as stretching the equiaxed structure.
    """
    d_px = p["grain_size"] / PIXEL_SIZE_UM
    stretch = 1.0 / (1.0 - p["reduction"])
    # Pad by about one grain so that cells at the border see their outside neighbours.
    my, mx = int(np.ceil(d_px)), int(np.ceil(d_px * stretch))
    shape = (size + 2 * my, size + 2 * mx)
    seeds = _seed_mask(shape, (d_px, d_px * stretch), p["grain_size_spread"], rng)
    _, (iy, ix) = ndi.distance_transform_edt(
        ~seeds, sampling=(1.0, 1.0 - p["reduction"]), return_indices=True
    )
    seed_id = np.full(shape, -1, dtype=np.int64)
    seed_id[seeds] = np.arange(int(seeds.sum()))
    labels = seed_id[iy, ix][my : my + size, mx : mx + size]

    # Etching: grain-to-grain shading (orientation-dependent attack) and boundary grooves.
    shade = _MATRIX_LEVEL + p["etch_contrast"] * rng.standard_normal(int(seeds.sum()))
    img = shade[labels]
    edge = np.zeros((size, size), dtype=bool)
    edge[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    edge[:-1, :] |= labels[:-1, :] != labels[1:, :]
    if edge.any():
        dist = ndi.distance_transform_edt(~edge)
        img *= 1.0 - p["etch_depth"] * np.exp(-0.5 * (dist / p["boundary_width"]) ** 2)

    if p["particle_fraction"] > 0:
        img = _add_particles(img, p["particle_fraction"], p["particle_radius"] / PIXEL_SIZE_UM, rng)

    img = ndi.gaussian_filter(img, p["blur_sigma"])
    img += p["noise_std"] * rng.standard_normal(img.shape)
    img = np.clip(img, 0.0, 1.0).astype(np.float32)
    return (img, labels) if return_labels else img


def _add_particles(img, fraction, radius_px, rng):
    """Dark round particles (hard, so not deformed by rolling), area fraction ~ ``fraction``."""
    size = img.shape[0]
    pad = int(np.ceil(3 * radius_px))
    shape = (size + 2 * pad, size + 2 * pad)
    # Radii log-normal around radius_px; the count gives the requested mean area fraction.
    radii = radius_px * np.exp(0.25 * rng.standard_normal(4096))
    n = rng.poisson(fraction * shape[0] * shape[1] / (np.pi * np.mean(radii**2)))
    ys, xs = rng.integers(0, shape[0], n), rng.integers(0, shape[1], n)
    centre_id = np.full(shape, -1, dtype=np.int64)
    centre_id[ys, xs] = np.arange(n)
    centres = centre_id >= 0
    if not centres.any():
        return img
    dist, (iy, ix) = ndi.distance_transform_edt(~centres, return_indices=True)
    own = radii[centre_id[iy, ix] % radii.size]
    cover = np.clip(own - dist + 0.5, 0.0, 1.0)[pad : pad + size, pad : pad + size]
    return img * (1.0 - cover) + _PARTICLE_LEVEL * cover


@validate_params(
    {
        "n_samples": [Interval(numbers.Integral, 1, None, closed="left")],
        "size": [Interval(numbers.Integral, 16, None, closed="left")],
        "random_state": ["random_state"],
        "return_params": ["boolean"],
        "hardness_noise": [Interval(numbers.Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def make_grain_microstructures(
    n_samples, *, size=256, random_state=None, return_params=False, hardness_noise=3.0
):
    """Synthetic etched grain micrographs with their Vickers hardness.

    Each image is the rolling-plane section (rolling direction along x) of a polycrystal with
    dark, etched grain boundaries on a bright matrix. Its processing and imaging parameters are
    drawn independently per image, and its hardness follows a physical model of them.

    Parameters drawn per image (``params`` keys, all float arrays of length ``n_samples``):

    ========================  ====================================================
    ``grain_size``            mean equivalent-circle grain diameter before rolling,
                              micrometres, log-uniform on [3, 12] (one pixel is
                              0.5 um, so 6 to 24 pixels)
    ``grain_size_spread``     width of the grain-size distribution, uniform on
                              [0, 0.5]: the seed density varies as
                              exp(spread * G) with G a smooth Gaussian field, so
                              sizes go from Poisson-Voronoi (0) towards a wide
                              log-normal
    ``reduction``             cold-rolling thickness reduction r, uniform on
                              [0, 0.7]; plane strain keeps the width (y) and
                              stretches grains along x by 1 / (1 - r)
    ``particle_fraction``     area fraction f of dark second-phase particles
                              (carbides), uniform on [0.02, 0.12] for half of the
                              images, else 0
    ``particle_radius``       mean particle radius, micrometres, uniform on
                              [0.75, 2] (0 without particles); radii spread
                              log-normally by 25 %
    ``etch_depth``            relative darkness of the boundary grooves, [0.5, 0.8]
    ``etch_contrast``         grain-to-grain grey-level standard deviation from
                              orientation-dependent etching, [0.02, 0.15]
    ``boundary_width``        groove width (Gaussian sigma), pixels, [0.6, 1.4]
    ``blur_sigma``            optical blur (Gaussian sigma), pixels, [0.3, 1.0]
    ``noise_std``             additive Gaussian noise, [0.01, 0.05]
    ``hardness``              the noise-free model hardness below, HV
    ========================  ====================================================

    Hardness model (HV), with d and r_p in micrometres::

        H = H0 + k / sqrt(d)                       Hall-Petch, H0 = 60, k = 150
            + H_s * (1 - exp(-eps / eps_c))        work hardening with dynamic recovery
                                                   (Kocks-Mecking, Voce form), H_s = 70,
                                                   eps_c = 0.6, von Mises strain of plane-
                                                   strain rolling eps = 2/sqrt(3) ln(1/(1-r))
            + K_or * sqrt(f) / r_p                 Orowan particle strengthening
                                                   (spacing ~ r_p / sqrt(f)), K_or = 40
            + N(0, hardness_noise**2)              measurement scatter

    The constants are of the order of a copper or mild-steel alloy; they are illustrative,
    not a calibrated material. ``y`` spans about 100 to 230 HV. The imaging parameters
    (etching, blur, noise) and the size spread do not enter the hardness.

    Parameters
    ----------
    n_samples : int
        Number of images.
    size : int, default=256
        Image side in pixels (at least 16). The pixel size stays 0.5 um, so a larger image
        shows a larger field of view.
    random_state : int, RandomState instance or None, default=None
        Seed. Image ``i`` depends only on the seed and ``i``, so the first ``k`` images are
        the same whatever ``n_samples``.
    return_params : bool, default=False
        Also return the per-image parameters.
    hardness_noise : float, default=3.0
        Standard deviation (HV) of the measurement scatter added to the model hardness.

    Returns
    -------
    X : ndarray of shape (n_samples, size, size), float32
        Grey-level images in [0, 1].
    y : ndarray of shape (n_samples,), float64
        Measured Vickers hardness, HV.
    params : dict of str to ndarray of shape (n_samples,)
        Only with ``return_params=True``: the parameters in the table above.

    See Also
    --------
    make_perlin_textures : oriented noise textures with known generating parameters.

    Examples
    --------
    >>> from skmicro.datasets import make_grain_microstructures
    >>> X, y, params = make_grain_microstructures(4, size=64, random_state=0, return_params=True)
    >>> X.shape, X.dtype.name, y.shape
    ((4, 64, 64), 'float32', (4,))
    >>> bool(((X >= 0) & (X <= 1)).all()), sorted(params)[:3]
    (True, ['blur_sigma', 'boundary_width', 'etch_contrast'])
    """
    seeds = check_random_state(random_state).randint(0, 2**31 - 1, size=n_samples)
    X = np.empty((n_samples, size, size), dtype=np.float32)
    rows, errors = [], np.empty(n_samples)
    for i, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        p = _draw_params(rng)
        errors[i] = rng.standard_normal()  # drawn first: independent of the rendering
        X[i] = _render_grains(p, size, rng)
        rows.append(p)
    params = {name: np.array([p[name] for p in rows], dtype=np.float64) for name in PARAM_NAMES}
    params["hardness"] = _hardness(params)
    y = params["hardness"] + hardness_noise * errors
    return (X, y, params) if return_params else (X, y)
