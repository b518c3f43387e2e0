"""Descriptor plots of seed 000: the S1 hierarchical curve, the S2 spectrum, power spectra."""

from __future__ import annotations

import re
from numbers import Integral, Real

import numpy as np

from .._validation import Interval, validate_params
from ._common import check_labels, feature_table, get_ax, log10_positive, pyplot

__all__ = ["plot_scattering_descriptor", "plot_s2_spectrum", "plot_power_spectrum"]

# Names as ScatteringFeatures writes them, possibly behind a pipeline prefix ("step__").
_S1_NAME = re.compile(r"(?:^|_)S1_j(\d+)_t(\d+)$")
_S2_NAME = re.compile(r"(?:^|_)S2_j(\d+)_t(\d+)_j(\d+)_t(\d+)$")
_PS_NAME = re.compile(r"(?:^|_)(S_qy|P2_dy)(-?\d+)_(?:qx|dx)(-?\d+)$")


def _s1_keys(J, L):
    return [(j, t) for j in range(J) for t in range(L)]


def _s2_keys(J, L):
    # kymatio's order: (j1, theta1) outer, then (j2 > j1, theta2).
    return [(j1, t1, j2, t2) for j1 in range(J) for t1 in range(L)
            for j2 in range(j1 + 1, J) for t2 in range(L)]


def _scattering_block(F, names, order, J, L, caller):
    """(values (n, m), keys list of index tuples) of the S1 or S2 coefficients, sorted."""
    if names is not None:
        pattern = _S1_NAME if order == 1 else _S2_NAME
        found = [(tuple(int(g) for g in m.groups()), i)
                 for i, m in ((i, pattern.search(n)) for i, n in enumerate(names)) if m]
        if not found:
            example = "S1_j0_t0" if order == 1 else "S2_j0_t0_j1_t0"
            raise ValueError(
                f"{caller} found no S{order} features among the feature names (like "
                f"'{example}'; got e.g. {names[:3]}). Pass the S{order} values with J and L."
            )
        found.sort()
        return F[:, [i for _, i in found]], [k for k, _ in found]
    if J is None or L is None:
        raise ValueError(
            f"{caller} needs feature names (a DataFrame, feature_names= or estimator=) or both "
            f"J and L to know which columns hold S{order}."
        )
    n1, n2 = J * L, L * L * J * (J - 1) // 2
    m = F.shape[1]
    if order == 1:
        if m in (n1, 1 + n1, 1 + n1 + n2):  # S1 alone, or S0 first as in the full output
            start = 0 if m == n1 else 1
            return F[:, start:start + n1], _s1_keys(J, L)
    elif m in (n2, 1 + n1 + n2):
        return F[:, m - n2:], _s2_keys(J, L)
    raise ValueError(
        f"{caller}: with J={J} and L={L}, expected {n1 if order == 1 else n2} S{order} columns "
        f"(or {1 + n1 + n2} for S0, S1, S2 together); got {m}."
    )


_SCATTERING_PLOT = {
    "X": ["array-like"], "J": [None, Interval(Integral, 1, None, closed="left")],
    "L": [None, Interval(Integral, 1, None, closed="left")], "feature_names": [None, "array-like"],
    "estimator": "no_validation", "labels": [None, "array-like"], "log": ["boolean"],
    "ax": "no_validation",
}


@validate_params(_SCATTERING_PLOT, prefer_skip_nested_validation=True)
def plot_scattering_descriptor(
    X, *, J=None, L=None, feature_names=None, estimator=None, labels=None, log=True, ax=None,
    **line_kw,
):
    """Plot the hierarchical descriptor: log10 S1 against its serial number, grouped by scale.

    One line per image, as in seed 000 (Figs. 1e, 3e, 4, 5): point ``j * L + theta + 1`` is
    the first-order invariant at scale ``j`` and orientation ``theta``; dashed lines separate
    the scales. Anisotropy shows as wells within each scale group.

    Parameters
    ----------
    X : array-like of shape (n_images, n_features), DataFrame, or images
        S1 values ``(n_images, J * L)`` in kymatio's order (j outer, theta inner); or the full
        ``S0, S1, S2`` output of a scattering transform; or a DataFrame / array with feature
        names ``S1_j{j}_t{t}`` (other columns are ignored); or images when ``estimator``
        is given.
    J, L : int, optional
        Number of scales and orientations; needed only when no feature names are known.
    feature_names : list of str, optional
        Names of the columns of ``X``.
    estimator : transformer, optional
        A transformer with ``get_feature_names_out`` (e.g. ``ScatteringFeatures``): ``X`` is
        then images, transformed by it (a clone is fitted first if it is not fitted).
    labels : list of str, optional
        Legend entries, one per image.
    log : bool, default=True
        Plot log10 of the values; use False when they are already logarithmic.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.
    **line_kw
        Passed to ``Axes.plot``.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.plotting import plot_scattering_descriptor
    >>> S1 = np.exp(-np.arange(16.0)).reshape(1, 16) + 1.0   # one image, J=2, L=8
    >>> ax = plot_scattering_descriptor(S1, J=2, L=8)
    >>> ax.lines[0].get_xdata()[:3], round(float(ax.lines[0].get_ydata()[0]), 3)
    (array([1, 2, 3]), 0.301)
    """
    caller = "plot_scattering_descriptor"
    F, names = feature_table(X, feature_names=feature_names, estimator=estimator, caller=caller)
    values, keys = _scattering_block(F, names, 1, J, L, caller)
    values = log10_positive(values, log, caller, "S1")
    n_theta = max(t for _, t in keys) + 1
    x = np.array([j * n_theta + t + 1 for j, t in keys])
    ax = get_ax(ax)
    line_kw = {"marker": "o", "markersize": 3, "linewidth": 1, **line_kw}
    for row, label in zip(values, check_labels(labels, len(values), caller)):
        ax.plot(x, row, label=label, **line_kw)
    scales = sorted({j for j, _ in keys})
    top = ax.get_xaxis_transform()  # x in data, y in axes fraction
    for j in scales:
        if j != scales[0]:
            ax.axvline(j * n_theta + 0.5, color="0.75", linestyle="--", linewidth=0.8, zorder=0)
        ax.text(j * n_theta + (n_theta + 1) / 2, 1.01, f"j={j}", transform=top, ha="center",
                va="bottom", fontsize="small")
    ax.set_xlabel(f"serial number  (j * {n_theta} + theta + 1)")
    ax.set_ylabel("log10 S1" if log else "S1")
    if labels is not None:
        ax.legend(fontsize="small")
    return ax


@validate_params({**_SCATTERING_PLOT, "offset": [Real], "fill": ["boolean"],
                  "show_indices": ["boolean"], "cmap": "no_validation"},
                 prefer_skip_nested_validation=True)
def plot_s2_spectrum(
    X, *, J=None, L=None, feature_names=None, estimator=None, labels=None, log=True,
    offset=0.0, fill=True, show_indices=False, cmap="viridis", ax=None,
):
    """Plot the second-order "spiky spectrum": S2 against its serial number (seed 000 Fig. 2).

    Each image is one curve; with ``fill=True`` it is filled down to its minimum in a colour
    given by its mean value, as in the seed. The serial number runs over ``(j1, theta1, j2 >
    j1, theta2)`` with theta2 fastest, so ``J=4, L=8`` gives 384 points.

    Parameters
    ----------
    X : array-like of shape (n_images, n_features), DataFrame, or images
        S2 values ``(n_images, L**2 * J * (J - 1) / 2)`` in kymatio's order, the full
        ``S0, S1, S2`` output, features named ``S2_j{j1}_t{t1}_j{j2}_t{t2}``, or images
        with ``estimator``.
    J, L : int, optional
        Needed only when no feature names are known.
    feature_names : list of str, optional
    estimator : transformer, optional
        As in :func:`plot_scattering_descriptor`.
    labels : list of str, optional
        Legend entries, one per image.
    log : bool, default=True
        Plot log10 of the values.
    offset : float, default=0.0
        Vertical shift between successive curves (image ``i`` is drawn ``i * offset`` lower),
        to stack them as the seed does.
    fill : bool, default=True
        Fill each curve down to its minimum, coloured by its mean.
    show_indices : bool, default=False
        Add a strip below the plot with the indices j1, j2, theta1 and theta2 of each point.
    cmap : str or Colormap, default="viridis"
    ax : matplotlib Axes, optional

    Returns
    -------
    ax : matplotlib Axes
        The main Axes (the index strip is ``ax.child_axes[0]``).

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.plotting import plot_s2_spectrum
    >>> S2 = np.random.default_rng(0).uniform(1, 2, size=(2, 384))   # J=4, L=8
    >>> ax = plot_s2_spectrum(S2, J=4, L=8, offset=1.0)
    >>> len(ax.lines), int(ax.lines[0].get_xdata()[-1])
    (2, 384)
    """
    caller = "plot_s2_spectrum"
    F, names = feature_table(X, feature_names=feature_names, estimator=estimator, caller=caller)
    values, keys = _scattering_block(F, names, 2, J, L, caller)
    values = log10_positive(values, log, caller, "S2")
    values = values - float(offset) * np.arange(len(values))[:, None]
    x = np.arange(1, values.shape[1] + 1)
    ax = get_ax(ax)
    colormap = pyplot().get_cmap(cmap)
    means = values.mean(axis=1)
    spread = np.ptp(means)
    shades = (means - means.min()) / spread if spread > 0 else np.full(len(means), 0.5)
    for row, label, shade in zip(values, check_labels(labels, len(values), caller), shades):
        color = colormap(shade)
        if fill:
            ax.fill_between(x, row.min(), row, color=color, alpha=0.45, linewidth=0)
        ax.plot(x, row, color=color, linewidth=0.8, label=label)
    ax.set_xlim(x[0] - 0.5, x[-1] + 0.5)
    ax.set_ylabel("log10 S2" if log else "S2")
    if labels is not None:
        ax.legend(fontsize="small")
    if show_indices:
        strip = ax.inset_axes([0.0, -0.42, 1.0, 0.3], sharex=ax)
        idx = np.array(keys)
        for col, name in zip(range(4), ("j1", "theta1", "j2", "theta2")):
            strip.step(x, idx[:, col], where="mid", linewidth=0.8, label=name)
        strip.set_ylabel("index", fontsize="small")
        strip.legend(fontsize="x-small", ncol=4, loc="upper right")
        strip.set_xlabel("serial number")
        ax.tick_params(labelbottom=False)
    else:
        ax.set_xlabel("serial number  (j1, theta1, j2 > j1, theta2)")
    return ax


def _spectrum_grid(F, names, caller):
    """A stored half-plane feature row named S_qy{y}_qx{x} (or P2_dy_dx) as a 2-D grid."""
    found = [(m, i) for i, m in ((i, _PS_NAME.search(n)) for i, n in enumerate(names)) if m]
    if not found:
        raise ValueError(
            f"{caller} found no feature names like 'S_qy0_qx1' or 'P2_dy0_dx1'; pass a 2-D "
            "spectrum image instead."
        )
    qy = np.array([int(m.group(2)) for m, _ in found])
    qx = np.array([int(m.group(3)) for m, _ in found])
    ys, xs = np.unique(qy), np.unique(qx)
    grid = np.full((len(ys), len(xs)), np.nan)
    grid[np.searchsorted(ys, qy), np.searchsorted(xs, qx)] = F[0, [i for _, i in found]]
    is_spectrum = found[0][0].group(1) == "S_qy"
    return grid, ys, xs, ("q" if is_spectrum else "d")


@validate_params(
    {"spectrum": ["array-like"], "centered": ["boolean"], "feature_names": [None, "array-like"],
     "log": ["boolean"], "cmap": "no_validation", "colorbar": ["boolean"], "ax": "no_validation"},
    prefer_skip_nested_validation=True,
)
def plot_power_spectrum(
    spectrum, *, centered=False, feature_names=None, log=True, cmap="magma", colorbar=True,
    ax=None,
):
    """Show a 2-D power spectrum (or autocorrelation) as an image, on a log10 colour scale.

    Parameters
    ----------
    spectrum : array-like of shape (h, w), or one feature row with ``feature_names``
        A 2-D spectrum such as ``abs(np.fft.fft2(image)) ** 2``, in numpy's FFT order (zero
        frequency at ``[0, 0]``) unless ``centered=True``. Or one row of
        ``PowerSpectrumFeatures`` output (1-D, or a one-row DataFrame) whose names
        ``S_qy{y}_qx{x}`` / ``P2_dy{y}_dx{x}`` place each value; the stored half plane
        ``q_x >= 0`` is shown as stored (its ``q_x > 0`` columns carry that estimator's
        ``sqrt(2)`` distance weight).
    centered : bool, default=False
        The 2-D array already has zero frequency in the middle (``np.fft.fftshift``).
    feature_names : list of str, optional
        Names of the entries of a feature row (a DataFrame brings its own).
    log : bool, default=True
        Colour by log10 of the values (zeros are shown at the smallest positive value).
    cmap : str or Colormap, default="magma"
    colorbar : bool, default=True
    ax : matplotlib Axes, optional

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro.plotting import plot_power_spectrum
    >>> stripes = np.cos(2 * np.pi * 4 * np.arange(32) / 32)[None, :] * np.ones((32, 1))
    >>> ax = plot_power_spectrum(np.abs(np.fft.fft2(stripes)) ** 2)
    >>> ax.images[0].get_array().shape
    (32, 32)
    """
    caller = "plot_power_spectrum"
    named = feature_names is not None or hasattr(spectrum, "columns")
    if named:
        F, names = feature_table(spectrum, feature_names=feature_names, caller=caller)
        if F.shape[0] != 1:
            raise ValueError(f"{caller} shows one spectrum; got {F.shape[0]} feature rows.")
        grid, ys, xs, letter = _spectrum_grid(F, names, caller)
        extent = (xs[0] - 0.5, xs[-1] + 0.5, ys[0] - 0.5, ys[-1] + 0.5)
    else:
        grid = np.asarray(spectrum, dtype=np.float64)
        if grid.ndim != 2:
            raise ValueError(
                f"{caller} needs a 2-D spectrum (h, w), or a feature row with feature_names; "
                f"got shape {grid.shape}."
            )
        if not centered:
            grid = np.fft.fftshift(grid)
        h, w = grid.shape
        # fftshift puts q = 0 at index n // 2: integer wave numbers -n//2 .. (n-1)//2.
        extent = (-(w // 2) - 0.5, (w - 1) // 2 + 0.5, -(h // 2) - 0.5, (h - 1) // 2 + 0.5)
        letter = "q"
    if log:
        positive = grid[grid > 0]
        floor = positive.min() if positive.size else 1.0
        if np.any(grid < 0):
            raise ValueError(
                f"{caller}: log10 needs non-negative values; pass log=False for values that "
                "are already logarithmic."
            )
        grid = np.log10(np.where(grid == 0, floor, grid))  # NaN (not stored) stays blank
    ax = get_ax(ax)
    image = ax.imshow(grid, cmap=cmap, extent=extent, origin="lower", interpolation="nearest")
    ax.set_xlabel(f"{letter}_x")
    ax.set_ylabel(f"{letter}_y")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="log10 value" if log else "value")
    return ax
