"""Synthetic Perlin-noise textures of Lubbers, Lookman & Barros (2017), eq. 9."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from .._validation import Interval, StrOptions, validate_params

__all__ = ["make_perlin_textures", "perlin_noise"]

_DESIGNS = ("random", "angle_sweep", "grid")


def _fade(t):
    # Perlin's quintic interpolant: C2-continuous noise.
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0)


def _at_least(low):
    return [Interval(Integral, low, None, closed="left")]


@validate_params(
    {"n_fields": _at_least(1), "size": _at_least(1), "octaves": _at_least(1),
     "frequency": _at_least(1), "persistence": [Interval(Real, 0, None, closed="left")],
     "random_state": ["random_state"]},
    prefer_skip_nested_validation=True,
)
def perlin_noise(n_fields, size, *, octaves=4, frequency=2, persistence=0.5, random_state=None):
    """Periodic fractal Perlin (gradient) noise on the unit square, normalized to unit RMS.

    Octave ``o`` uses a periodic lattice of ``frequency * 2**o`` cells per unit length with
    random unit gradients, weighted by ``persistence**o``. Each field is then scaled to unit
    root-mean-square so that the noise amplitude of :func:`make_perlin_textures` is exact.

    Parameters
    ----------
    n_fields : int
        Number of independent fields.
    size : int
        Pixels per side; pixel ``(i, j)`` sits at ``r = (j, i) / size``.
    octaves : int, default=4
    frequency : int, default=2
        Lattice cells per unit length of the first octave.
    persistence : float, default=0.5
    random_state : int, RandomState instance or None

    Returns
    -------
    fields : ndarray of shape (n_fields, size, size), float32

    Examples
    --------
    >>> from skmicro.datasets import perlin_noise
    >>> h = perlin_noise(2, 32, random_state=0)
    >>> h.shape, round(float((h[0] ** 2).mean()), 4)
    ((2, 32, 32), 1.0)
    """
    rng = check_random_state(random_state)
    coords = np.arange(size, dtype=np.float64) / size
    out = np.zeros((n_fields, size, size), dtype=np.float32)
    for o in range(octaves):
        f = int(frequency) * 2**o
        theta = rng.uniform(0.0, 2.0 * np.pi, size=(n_fields, f, f)).astype(np.float32)
        gx, gy = np.cos(theta), np.sin(theta)
        p = coords * f
        i0 = np.floor(p).astype(np.int64)
        t = (p - i0).astype(np.float32)
        i1 = (i0 + 1) % f
        i0 %= f
        s = _fade(t)
        # Corner contributions dot(g, r - corner); rows are y, columns are x.
        tx, ty = t[None, None, :], t[None, :, None]

        def corner(iy, ix, dy, dx):
            return gx[:, iy[:, None], ix[None, :]] * (tx - dx) + gy[:, iy[:, None], ix[None, :]] * (ty - dy)

        nx0 = corner(i0, i0, 0, 0) * (1 - s)[None, None, :] + corner(i0, i1, 0, 1) * s[None, None, :]
        nx1 = corner(i1, i0, 1, 0) * (1 - s)[None, None, :] + corner(i1, i1, 1, 1) * s[None, None, :]
        out += (persistence**o) * (nx0 * (1 - s)[None, :, None] + nx1 * s[None, :, None])
    rms = np.sqrt((out.astype(np.float64) ** 2).mean(axis=(1, 2), keepdims=True))
    out /= np.maximum(rms, 1e-12).astype(np.float32)
    return out


def _as_param(value, n, name):
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(
            f"The '{name}' parameter of make_perlin_textures must be a scalar or an array of "
            f"length n_samples={n}. Got shape {arr.shape} instead."
        )
    return arr.copy()


@validate_params(
    {"n_samples": _at_least(1), "size": _at_least(2), "design": [StrOptions(set(_DESIGNS))],
     "angle": [None, Real, "array-like"], "scale": [Real, "array-like"],
     "noise_amplitude": [Real, "array-like"], "n_per_axis": _at_least(1),
     "noise_unit": [Interval(Real, 0, None, closed="left")], "octaves": _at_least(1),
     "noise_frequency": _at_least(1), "persistence": [Interval(Real, 0, None, closed="left")],
     "random_state": ["random_state"], "chunk_size": _at_least(1)},
    prefer_skip_nested_validation=True,
)
def make_perlin_textures(
    n_samples=100,
    *,
    size=128,
    design="random",
    angle=None,
    scale=15.0,
    noise_amplitude=1.0,
    n_per_axis=10,
    noise_unit=1.0 / 64,
    octaves=4,
    noise_frequency=2,
    persistence=0.5,
    random_state=None,
    chunk_size=64,
):
    """Perlin-distorted sinusoid textures, seed 001 eq. 9.

    Each image is ``phi(r) = cos(2 pi k (r + A * u * h(r)) . n_theta)`` with ``r`` in units of
    the linear system size (pixel ``(i, j)`` at ``r = (j, i) / size``), ``n_theta =
    (cos theta, sin theta)`` measured from the column (x) axis towards the row (y) axis,
    ``h`` a two-component fractal Perlin field (independent components, each of unit RMS, see
    :func:`perlin_noise`), noise amplitude ``A`` and ``u = noise_unit``. The paper does not give
    its noise normalization. ``A`` and ``u`` enter only as the product ``A * u``, so the unit
    only stretches the ``A`` axis. The default ``noise_unit = 1/64`` (two pixels of a 128x128
    image) puts the low-noise failure of the paper's power-spectrum baseline at small ``A``
    (its angle recovery fails at ``A = 0.5`` and in some trials at ``A = 1``), but the baseline
    then keeps working far beyond the paper's upper edge ``A ~ 3.5``: RMSE about 0.09 rad at
    ``A = 4.5`` and 0.2 at ``A = 6``, failing only from ``A ~ 8``. Since both edges move
    together with ``u``, no unit gives the paper's window ``2 <~ A <~ 3.5`` (see
    docs/datasets.md).

    Parameters
    ----------
    n_samples : int, default=100
        Number of images for ``design="random"`` and ``"angle_sweep"``; ignored for "grid"
        (which makes ``n_per_axis**3`` images).
    size : int, default=128
        Image side in pixels.
    design : {"random", "angle_sweep", "grid"}, default="random"
        * "random": ``angle`` drawn uniformly in [0, pi) unless given; ``scale`` and
          ``noise_amplitude`` as given (scalars or arrays of length ``n_samples``).
        * "angle_sweep": the paper's angle task, ``theta_i = i pi / n_samples``.
        * "grid": the paper's grid task, ``n_per_axis`` equally spaced values of each of
          ``0 <= theta < pi``, ``5 <= k < 15`` and ``0.5 <= A < 2`` (all combinations, theta
          fastest).
    angle : float or array-like, optional
        Angles theta (radians) for "random"; must be None for the other designs.
    scale : float or array-like, default=15.0
        Wave number k (periods per system size).
    noise_amplitude : float or array-like, default=1.0
        Noise amplitude A.
    n_per_axis : int, default=10
        Grid resolution for ``design="grid"``.
    noise_unit : float, default=1/64
        Length (in system sizes) of one unit of ``A * h``.
    octaves, noise_frequency, persistence : see :func:`perlin_noise`.
    random_state : int, RandomState instance or None
        Makes the output deterministic.
    chunk_size : int, default=64
        Images generated at once (bounds temporary memory).

    Returns
    -------
    X : ndarray of shape (n, size, size), float32, values in [-1, 1]
    params : dict of ndarrays
        ``"angle"``, ``"scale"``, ``"noise_amplitude"``, each of shape (n,).

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.datasets import make_perlin_textures
    >>> X, params = make_perlin_textures(8, size=64, design="angle_sweep", noise_amplitude=2.5,
    ...                                  random_state=0)
    >>> X.shape, np.round(params["angle"][:3], 3)
    ((8, 64, 64), array([0.   , 0.393, 0.785]))
    >>> X, params = make_perlin_textures(design="grid", n_per_axis=2, size=32, random_state=0)
    >>> X.shape, np.unique(params["scale"]).tolist()
    ((8, 32, 32), [5.0, 10.0])
    """
    rng = check_random_state(random_state)
    if design == "grid":
        if angle is not None:
            raise ValueError("make_perlin_textures: 'angle' must be None for design='grid'.")
        steps = np.arange(n_per_axis) / n_per_axis
        a_idx, k_idx, t_idx = np.meshgrid(steps, steps, steps, indexing="ij")
        theta = (t_idx * np.pi).ravel()
        k = (5.0 + 10.0 * k_idx).ravel()
        amp = (0.5 + 1.5 * a_idx).ravel()
    else:
        if design == "angle_sweep":
            if angle is not None:
                raise ValueError(
                    "make_perlin_textures: 'angle' must be None for design='angle_sweep' "
                    "(the angles are i * pi / n_samples)."
                )
            theta = np.arange(n_samples) * np.pi / n_samples
        elif angle is None:
            theta = rng.uniform(0.0, np.pi, size=n_samples)
        else:
            theta = _as_param(angle, n_samples, "angle")
        k = _as_param(scale, n_samples, "scale")
        amp = _as_param(noise_amplitude, n_samples, "noise_amplitude")
    for name, arr in (("angle", theta), ("scale", k), ("noise_amplitude", amp)):
        if not np.isfinite(arr).all():
            raise ValueError(f"make_perlin_textures: '{name}' contains NaN or infinity.")
    if (amp < 0).any():
        raise ValueError("make_perlin_textures: 'noise_amplitude' must be >= 0.")

    n = theta.shape[0]
    coords = np.arange(size, dtype=np.float32) / size
    ry, rx = np.meshgrid(coords, coords, indexing="ij")
    X = np.empty((n, size, size), dtype=np.float32)
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        m = stop - start
        h = perlin_noise(2 * m, size, octaves=octaves, frequency=noise_frequency,
                         persistence=persistence, random_state=rng).reshape(m, 2, size, size)
        c = np.cos(theta[start:stop]).astype(np.float32)[:, None, None]
        s = np.sin(theta[start:stop]).astype(np.float32)[:, None, None]
        disp = (amp[start:stop] * noise_unit).astype(np.float32)[:, None, None]
        # u . n = r . n + A u (h_x cos + h_y sin)
        proj = rx * c + ry * s + disp * (h[:, 0] * c + h[:, 1] * s)
        wave = (2.0 * np.pi * k[start:stop]).astype(np.float32)[:, None, None]
        X[start:stop] = np.cos(wave * proj)
    params = {"angle": theta, "scale": k, "noise_amplitude": amp}
    return X, params
