"""Reading the first-order scattering descriptor the way seed 000 reads its plots.

Seed 000 (Figs. 1, 3) plots the J*L first-order coefficients S1 as one curve, scale outer and
orientation inner, and reads two things off it: the orientation profile at each scale, and the
anisotropy "depth of well", the difference in S1 between two perpendicular orientations
(its theta = 1 and theta = 5 with L = 8, 1-based) at each scale. These helpers work on the
output of :class:`~skmicro.ScatteringFeatures` with ``average="global"`` and
``rotation_invariant=False`` (S0 first, then S1 in kymatio's order), on whatever scale it
is in (linear, or log10 with ``log=True``, where the depth becomes a log-ratio).
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import Interval, validate_params

__all__ = ["orientation_profile", "depth_of_well"]

_J_L = {"J": [Interval(numbers.Integral, 1, None, closed="left")],
        "L": [Interval(numbers.Integral, 1, None, closed="left")]}


@validate_params({"features": ["array-like"], **_J_L}, prefer_skip_nested_validation=True)
def orientation_profile(features, *, J, L):
    """The first-order coefficients as an array ``(n, J, L)``: scale by orientation.

    Parameters
    ----------
    features : array-like of shape (n, n_features)
        Output of ``ScatteringFeatures(average="global", rotation_invariant=False)``; column 0
        is S0 and columns ``1 .. J*L`` are ``S1_j{j}_t{t}`` (j outer, t inner).
    J, L : int
        Scales and orientations the features were computed with.

    Returns
    -------
    profile : ndarray of shape (n, J, L)
        ``profile[i, j, t]`` is S1 of image ``i`` at scale ``j`` and orientation index ``t``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.features._scattering_readout import orientation_profile
    >>> F = np.arange(1 + 2 * 4, dtype=float)[None]       # S0, then 2 scales x 4 orientations
    >>> orientation_profile(F, J=2, L=4)
    array([[[1., 2., 3., 4.],
            [5., 6., 7., 8.]]])
    """
    J, L = int(J), int(L)
    F = np.asarray(features, dtype=np.float64)
    if F.ndim != 2 or F.shape[1] < 1 + J * L:
        raise ValueError(
            f"features must be a 2-D array (n, n_features) with at least 1 + J*L = {1 + J * L} "
            f"columns (S0 then S1); got shape {F.shape}. Use the output of ScatteringFeatures "
            "with average='global' and rotation_invariant=False."
        )
    return F[:, 1:1 + J * L].reshape(-1, J, L)


@validate_params({"features": ["array-like"], **_J_L, "orientations": [None, tuple, list]},
                 prefer_skip_nested_validation=True)
def depth_of_well(features, *, J, L, orientations=None):
    """Anisotropy per scale: S1 at one orientation minus S1 at the perpendicular one.

    Seed 000 defines the "depth of well" as the difference in S1 between its orientations
    theta = 1 and theta = 5 (1-based, L = 8), i.e. indices 0 and L/2 here, at each scale; it
    grows as rolled copper grains flatten. With kymatio's filters, orientation index ``t`` is
    a wavelet whose wave vector makes the angle ``(L/2 - 1 - t) * pi / L`` with the row axis:
    ``t = L/2 - 1`` oscillates down the rows (it responds to horizontal bands) and
    ``t = L - 1`` along the columns (vertical bands). Pass ``orientations`` to choose.

    Parameters
    ----------
    features : array-like of shape (n, n_features)
        As in :func:`orientation_profile`.
    J, L : int
        Scales and orientations of the features.
    orientations : tuple (a, b) of int or None, default=None
        Orientation indices; None means the seed's ``(0, L // 2)``.

    Returns
    -------
    depth : ndarray of shape (n, J)
        ``S1[:, j, a] - S1[:, j, b]`` for each scale ``j``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.features._scattering_readout import depth_of_well
    >>> F = np.array([[0.0, 5, 1, 2, 1, 7, 1, 3, 1]])    # S0, then J=2 scales x L=4
    >>> depth_of_well(F, J=2, L=4)                       # indices 0 and 2
    array([[3., 4.]])
    """
    profile = orientation_profile(features, J=J, L=L)
    a, b = (0, L // 2) if orientations is None else orientations
    for name, t in (("orientations[0]", a), ("orientations[1]", b)):
        if not isinstance(t, numbers.Integral) or not 0 <= t < L:
            raise ValueError(
                f"The '{name}' value must be an orientation index in [0, L) = [0, {L}). "
                f"Got {t!r} instead."
            )
    return profile[:, :, a] - profile[:, :, b]
