"""Texture synthesis: new images with the statistics of micrographs (seed 001 Sec. I, Fig. 1).

Gatys et al.'s procedure: start from noise and move the pixels with L-BFGS until the new
image's descriptor matches the original's. The descriptor is a skmicro estimator, so the loss
is exactly what :class:`~skmicro.VGGGramFeatures` (eq. 3 Gram loss) or
:class:`~skmicro.ScatteringFeatures` (S0, S1, S2 global means: seed 000's "microstructure
genome") compute; this module only adds the optimization loop around their differentiable
forward passes.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from .._engine import get_torch, progress_bar, resolve_device, to_numpy, torch_threads
from .._validation import (
    N_JOBS_CONSTRAINT,
    Interval,
    StrOptions,
    check_images,
    validate_params,
)
from ._spectrum import spectrum_loss, spectrum_target

__all__ = ["synthesize_texture", "synthesize_textures"]

DESCRIPTORS = ("vgg_gram", "scattering")
# Default weight of the spectrum constraint (measurements: docs/synthesis.md).
SPECTRUM_WEIGHT_DEFAULT = 0.1

_CONSTRAINTS = {
    "images": "no_validation",  # the image input contract checks them
    "size": [None, Interval(numbers.Integral, 1, None, closed="left"), tuple, list],
    "descriptor": "no_validation",  # a name or an estimator: checked by _descriptor
    "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
    "periodic": ["boolean"],
    "spectrum_weight": [Interval(numbers.Real, 0, None, closed="left")],
    "coarse_to_fine": [StrOptions({"auto"}), Interval(numbers.Integral, 0, None, closed="left")],
    "random_state": ["random_state"],
    "device": "no_validation",  # the engine checks it
    "n_jobs": N_JOBS_CONSTRAINT,
    "verbose": ["verbose"],
    "callback": [None, callable],
    "return_loss": ["boolean"],
}


class _Stop(Exception):
    """Raised inside the L-BFGS closure when the callback asks to stop."""


# ------------------------------------------------------------------------------ input handling
def _image_list(images):
    """One image, a stack or a list -> a list of images (each (h, w) or (h, w, 1|3))."""
    if isinstance(images, (list, tuple)):
        return list(images)
    if images is None or isinstance(images, (str, bytes, numbers.Number)):
        raise TypeError(
            "The 'images' parameter must be an image (h, w) or (h, w, 3), a stack (n, h, w[, 3]) "
            f"or a list of images. Got {type(images).__name__} instead."
        )
    arr = np.asarray(images)
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] in (1, 3)):
        return [arr]
    if arr.ndim in (3, 4):
        return list(arr)
    raise ValueError(
        "The 'images' parameter must be an image (h, w) or (h, w, 3), a stack (n, h, w[, 3]) "
        f"or a list of images. Got an array of shape {arr.shape} instead."
    )


def _descriptor(descriptor, device):
    """A fresh, unfitted descriptor estimator for the loss (a clone of the user's)."""
    from .. import ScatteringFeatures, VGGGramFeatures

    if isinstance(descriptor, str):
        if descriptor not in DESCRIPTORS:
            raise ValueError(
                "The 'descriptor' parameter must be 'vgg_gram', 'scattering', or an unfitted "
                f"VGGGramFeatures or ScatteringFeatures instance. Got {descriptor!r} instead."
            )
        est = VGGGramFeatures() if descriptor == "vgg_gram" else ScatteringFeatures()
    elif isinstance(descriptor, (VGGGramFeatures, ScatteringFeatures)):
        est = clone(descriptor)
    else:
        raise TypeError(
            "The 'descriptor' parameter must be 'vgg_gram', 'scattering', or an unfitted "
            f"VGGGramFeatures or ScatteringFeatures instance. Got {type(descriptor).__name__} "
            "instead."
        )
    est.set_params(device=device, verbose=0)
    if isinstance(est, ScatteringFeatures):
        # Global means of S0, S1, S2 on a linear scale: the loss below is already relative.
        est.set_params(average="global", log=False, max_order=2)
    return est


def _check_size(size, first_shape, caller):
    """``size`` -> (h, w); whether the descriptor accepts it is checked by
    :func:`_check_size_suits`."""
    if size is None:
        return tuple(first_shape)
    if isinstance(size, numbers.Integral):
        return (int(size), int(size))
    if (len(size) != 2 or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool)
                                  for s in size)):
        raise ValueError(
            f"The 'size' parameter of {caller} must be None, an int or a pair (h, w) of ints. "
            f"Got {size!r} instead."
        )
    return tuple(int(s) for s in size)


def _check_size_suits(loss_fn, start, device, size, caller):
    """One loss evaluation of a start image: the descriptor's ``transform_tensor`` says
    whether it accepts the size (minimum size, divisibility on a torus) before any work."""
    torch = get_torch()
    try:
        with torch.no_grad():
            loss_fn(torch.from_numpy(start).to(device))
    except ValueError as err:
        raise ValueError(
            f"The 'size' parameter of {caller} does not suit the descriptor "
            f"(size={size[0]}x{size[1]}): {err}"
        ) from err


def _to_input_convention(x, images):
    """Float image(s) -> the first input's dtype convention (inverse of the input contract),
    clipped to the range of the inputs' values."""
    dtype = np.asarray(images[0]).dtype
    lo = min(float(np.min(np.asarray(im))) for im in images)
    hi = max(float(np.max(np.asarray(im))) for im in images)
    if dtype.kind == "b":
        return x >= 0.5
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        return np.clip(np.rint(x.astype(np.float64) * info.max), lo, hi).astype(dtype)
    return np.clip(x.astype(dtype), lo, hi)


# ------------------------------------------------------------------------------ losses
def _vgg_loss(est, floats, rgb, device, periodic):
    """Target: pixel-weighted mean of the inputs' texture rows; loss relative to ||target||^2."""
    torch = get_torch()
    rows = est.transform(floats)  # (n_images, n_features); the inputs keep VGG's zero padding
    pixels = np.array([im.shape[0] * im.shape[1] for im in floats], dtype=np.float64)
    target = torch.from_numpy((pixels @ rows.astype(np.float64) / pixels.sum()).astype(
        np.float32)).to(device)
    norm = float(target.pow(2).sum())
    padding_mode = "circular" if periodic else "zeros"

    def loss(x):  # x: (b, c, h, w) -> per-sample relative eq. 3 loss (b,)
        batch = x.permute(0, 2, 3, 1) if rgb else x[:, 0]
        rows = est.transform_tensor(batch, padding_mode=padding_mode)
        return (rows - target).pow(2).sum(dim=1) / norm

    return loss


def _scattering_loss(est, floats, rgb, device, periodic):
    """Target: per-channel S0, S1, S2 means; loss: mean squared relative error."""
    torch = get_torch()
    channels = 3 if rgb else 1
    pixels = np.array([im.shape[0] * im.shape[1] for im in floats], dtype=np.float64)
    target = []
    for c in range(channels):
        F = est.transform([im[..., c] if rgb else im for im in floats]).astype(np.float64)
        target.append(pixels @ F / pixels.sum())
    target = np.stack(target)  # (c, n_features)
    # Relative errors, with a floor so that near-zero targets (S0 of zero-mean images, empty
    # S2 paths) do not dominate.
    scale = np.maximum(np.abs(target), 1e-2 * np.abs(target).mean(axis=1, keepdims=True))
    target = torch.from_numpy(target.astype(np.float32)).to(device)
    inv_scale = torch.from_numpy((1.0 / scale).astype(np.float32)).to(device)
    padding_mode = "circular" if periodic else "reflect"

    def loss(x):  # x: (b, c, h, w) -> (b,)
        b = x.shape[0]
        rows = est.transform_tensor(x.flatten(0, 1), padding_mode=padding_mode)
        return ((rows.reshape(b, channels, -1) - target) * inv_scale).pow(2).mean(dim=(1, 2))

    return loss


# ------------------------------------------------------------------------------ the optimizer
def _optimize(loss_fn, x0, n_iter, lo, hi, *, bar, callback, history):
    """L-BFGS (strong Wolfe line search) on the pixels; returns the best image seen.

    The descriptor sees the pixels clipped to ``[lo, hi]``, so the returned (clipped) image
    has exactly the optimized statistics; a small quadratic penalty on the excess pulls
    pixels that left the range back (inside the clip their gradient would be zero).
    """
    torch = get_torch()
    width = max(hi - lo, 1e-12)
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=1.0, max_iter=n_iter, history_size=20,
                            tolerance_grad=0.0, tolerance_change=0.0,
                            line_search_fn="strong_wolfe")
    best = {"loss": np.inf, "x": x0.clone()}

    def closure():
        opt.zero_grad(set_to_none=True)
        excess = (x - x.clamp(lo, hi)) / width
        per_sample = loss_fn(x.clamp(lo, hi)) + excess.pow(2).mean(dim=(1, 2, 3))
        total = per_sample.sum()  # samples are independent: their gradients do not mix
        total.backward()
        value = float(total.detach()) / len(per_sample)
        if value < best["loss"]:  # line-search trial points can be worse than the best
            best["loss"], best["x"] = value, x.detach().clone()
        history.append(best["loss"])
        bar.update(1)
        bar.set_postfix_str(f"loss={best['loss']:.3g}")
        if not np.isfinite(value) or (callback is not None
                                      and callback(len(history), best["loss"])):
            raise _Stop
        return total

    try:
        opt.step(closure)
    except _Stop:
        pass
    return best["x"]


# ------------------------------------------------------------------------------ scales
# Outputs from this side up are synthesized coarse to fine by default (coarse_to_fine="auto").
COARSE_TO_FINE_FROM = 512
# Coarse levels keep sizes divisible by this on a torus (VGG-19 pools 4 times before conv5).
_TORUS_MULTIPLE = 16


def _n_levels(coarse_to_fine, size, floats, min_side, periodic):
    """Pyramid levels: 1 + the number of halvings of the output (and the exemplars)."""
    if coarse_to_fine == "auto":
        wanted = 1
        while min(size) // 2 ** (wanted - 1) >= COARSE_TO_FINE_FROM:
            wanted += 1
    else:
        wanted = 1 + int(coarse_to_fine)
    levels = 1
    while levels < wanted:
        side = 2**levels
        exemplar_ok = all(min(im.shape[:2]) // side >= min_side for im in floats)
        output_ok = (min(size) // side >= min_side
                     and (not periodic or all(s % (side * _TORUS_MULTIPLE) == 0 for s in size)))
        if not (exemplar_ok and output_ok):
            break
        levels += 1
    return levels


def _halve(image):
    """2x2 block mean (the exemplar one octave down); an odd last row/column is dropped."""
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    im = image[:h, :w]
    return 0.25 * (im[0::2, 0::2] + im[1::2, 0::2] + im[0::2, 1::2] + im[1::2, 1::2])


def _upsample(x, size, periodic):
    """(b, c, h, w) -> (b, c, *size), bicubic; on a torus the wrapped neighbours are used."""
    F = get_torch().nn.functional
    if not periodic:
        return F.interpolate(x, size=size, mode="bicubic", align_corners=False)
    pad = 2
    big = F.interpolate(F.pad(x, (pad,) * 4, mode="circular"), scale_factor=2,
                        mode="bicubic", align_corners=False)
    return big[..., 2 * pad:2 * pad + size[0], 2 * pad:2 * pad + size[1]]


def _synthesize(images, n_samples, samples_per_run, *, size, descriptor, n_iter, periodic,
                spectrum_weight, coarse_to_fine, random_state, device, n_jobs, verbose,
                callback, caller):
    from .. import ScatteringFeatures

    torch = get_torch()
    dev = resolve_device(device, caller=caller)
    images = _image_list(images)
    est = _descriptor(descriptor, dev)
    # Validates the images (dtype, NaN, sizes vs. the descriptor) with the estimator's messages.
    est.fit(images)
    checked = check_images(images, channels="rgb", name="images")
    floats = [None] * checked.n_samples
    for idx, arr in checked.groups:
        for i, im in zip(idx, arr):
            floats[i] = im
    rgb = any(not (np.array_equal(im[..., 0], im[..., 1]) and
                   np.array_equal(im[..., 0], im[..., 2])) for im in floats)
    if not rgb:
        floats = [np.ascontiguousarray(im[..., 0]) for im in floats]
    size = _check_size(size, floats[0].shape[:2], caller)
    scattering = isinstance(est, ScatteringFeatures)
    min_side = 2 ** int(est.J) if scattering else _TORUS_MULTIPLE
    n_levels = _n_levels(coarse_to_fine, size, floats, min_side, periodic)

    lo = min(float(im.min()) for im in floats)
    hi = max(float(im.max()) for im in floats)
    pooled = np.concatenate([im.reshape(-1, 3 if rgb else 1) for im in floats])
    mean, std = pooled.mean(axis=0), pooled.std(axis=0) + 1e-3
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    channels = 3 if rgb else 1
    # Level 0 is the output; level l has the output and the exemplars halved l times.
    sizes = [tuple(s // 2**level for s in size) for level in range(n_levels)]
    exemplars = [floats]
    for _ in range(1, n_levels):
        exemplars.append([_halve(im) for im in exemplars[-1]])

    def noise(k, shape):  # sample k's start depends on (seed, k) only, not on the batching
        z = np.random.default_rng([seed, k]).standard_normal((channels,) + shape)
        return np.clip(z * std[:, None, None] + mean[:, None, None], lo, hi).astype(np.float32)

    def level_loss(level):
        ex = exemplars[level]
        desc = (_scattering_loss(est, ex, rgb, dev, periodic) if scattering
                else _vgg_loss(est, ex, rgb, dev, periodic))
        if not spectrum_weight:
            return desc
        spec = spectrum_loss(spectrum_target(ex, sizes[level]), dev)
        return lambda x: desc(x) + spectrum_weight * spec(x)

    out = np.empty((n_samples,) + size + ((3,) if rgb else ()), dtype=np.float32)
    histories = []
    per_run = n_samples if samples_per_run is None else int(samples_per_run)
    n_runs = -(-n_samples // per_run)
    total = n_runs * n_levels * (int(1.25 * n_iter) + 1)
    with torch_threads(n_jobs), progress_bar(total, verbose=verbose, desc=caller,
                                             unit="iter") as bar:
        losses = []
        for level in reversed(range(n_levels)):
            losses.append(level_loss(level))
            _check_size_suits(losses[-1], noise(0, sizes[level])[None], dev, sizes[level],
                              caller)
        for start in range(0, n_samples, per_run):
            ks = range(start, min(start + per_run, n_samples))
            x = torch.from_numpy(np.stack([noise(k, sizes[-1]) for k in ks])).to(dev)
            history = []
            for level, loss_fn in zip(reversed(range(n_levels)), losses):
                if x.shape[-2:] != sizes[level]:
                    x = _upsample(x, sizes[level], periodic).clamp(lo, hi)
                x = _optimize(loss_fn, x, n_iter, lo, hi, bar=bar, callback=callback,
                              history=history)
            histories.append(np.asarray(history))
            x = to_numpy(x).transpose(0, 2, 3, 1)
            out[start:start + len(ks)] = x if rgb else x[..., 0]
    return _to_input_convention(out, images), histories


# ------------------------------------------------------------------------------ public API
_PARAMS_DOC = """
    size : int, (h, w) or None, default=None
        Size of the synthesized image; None means the first input image's size. It may
        differ from the inputs' (e.g. a large field from a small micrograph).
    descriptor : {"vgg_gram", "scattering"} or estimator, default="vgg_gram"
        The statistics to match. ``"vgg_gram"``: the eq. 3 Gram loss of
        ``VGGGramFeatures()`` (Gatys' normalized VGG-19, layers conv1_1 ... conv5_1, equal
        weights), relative to the target's squared norm. ``"scattering"``: the global means
        S0, S1 and S2 of ``ScatteringFeatures()`` (J=4, L=8), compared by their mean squared
        relative error. An unfitted ``VGGGramFeatures`` or ``ScatteringFeatures`` instance
        sets the weights, layers, J, L...; for scattering ``average="global"``,
        ``log=False`` and ``max_order=2`` are forced.
    n_iter : int, default=100
        L-BFGS iterations (about 1.1 loss evaluations each; the budget is at most
        ``1.25 * n_iter`` evaluations, as in ``torch.optim.LBFGS``).
    periodic : bool, default=False
        Synthesize on a torus: circular padding in the VGG convolutions (the size must then
        be divisible by ``2**poolings``, 16 for conv5_1), wrap-around instead of reflect
        padding for the scattering. The result tiles seamlessly.
    spectrum_weight : float, default=SPECTRUM_WEIGHT_DEFAULT
        Weight of Liu, Gousseau & Xia's spectrum constraint: the loss adds
        ``spectrum_weight * ||u - P(u)||^2 / ||u0 - mean(u0)||^2``, ``P`` the projection of
        the image ``u`` onto the images whose Fourier modulus is the exemplar ``u0``'s
        (``u``'s phase kept; one shared phase per frequency for colour). It restores the
        long-range periodic order that Gram and scattering means lose (stripes, lamellae);
        0 turns it off. When the output size differs from the exemplar's, or several
        exemplars are pooled, the modulus is that of their mean power spectral density
        interpolated onto the output's frequency grid (docs/synthesis.md).
    coarse_to_fine : "auto" or int, default="auto"
        Number of coarser levels synthesized first: level ``l`` halves the output size and
        the exemplars ``l`` times (2x2 means), and each level's result, upsampled
        (bicubic), starts the next one; every level runs ``n_iter`` iterations. ``"auto"``:
        one level per halving while the output's smaller side stays >= 512 (none below
        512x512, one for 512-1023, ...). Levels that would make an exemplar or the output
        smaller than the descriptor allows are skipped. 0 turns it off.
    random_state : int, RandomState instance or None, default=None
        Seeds the noise start; a fixed seed gives the same image on the same machine and
        device.
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
    n_jobs : int or None, default=None
        CPU threads for torch: None or -1 all cores, -2 all but one, k exactly k.
    verbose : int, default=0
        Show a progress bar with the loss when positive.
    callback : callable or None, default=None
        Called as ``callback(n_evaluations, loss)`` after every loss evaluation with the
        best loss so far (mean over the samples of a run, per coarse-to-fine level);
        returning True stops.
    return_loss : bool, default=False
        Also return the loss history."""


@validate_params(_CONSTRAINTS, prefer_skip_nested_validation=True)
def synthesize_texture(images, *, size=None, descriptor="vgg_gram", n_iter=100, periodic=False,
                       spectrum_weight=SPECTRUM_WEIGHT_DEFAULT, coarse_to_fine="auto",
                       random_state=None, device="auto", n_jobs=None, verbose=0,
                       callback=None, return_loss=False):
    """Synthesize a new texture with the statistics of one or several micrographs.

    Starts from Gaussian noise (the inputs' mean and standard deviation) and optimizes the
    pixels with L-BFGS so that the image's descriptor matches the inputs' (Gatys et al.;
    seed 001 Fig. 1). Several inputs are pooled: the target is their pixel-weighted mean
    descriptor.

    Parameters
    ----------
    images : array-like or list of array-like
        One image ``(h, w)`` or ``(h, w, 3)``, a stack ``(n, h, w[, 3])`` or a list of
        images (sizes may differ), in any dtype of the image input contract. Colour is kept
        when the input has it (grey images give a grey result).{params}

    Returns
    -------
    image : ndarray of shape (h, w) or (h, w, 3)
        In the first input's dtype convention (uint8 in 0-255, float in its own units, ...),
        clipped to the range of the inputs' values.
    loss_history : ndarray
        Only with ``return_loss=True``: the best loss after each evaluation.

    See Also
    --------
    synthesize_textures : several independent samples in one batch.

    Notes
    -----
    The pixels are optimized in the float convention of the input contract (integers scaled
    to [0, 1]); the result is clipped to the inputs' range before conversion. The best image
    seen during the optimization is returned (line-search trial points can be worse).

    References
    ----------
    .. [1] L. A. Gatys, A. S. Ecker, M. Bethge, "Texture synthesis using convolutional neural
       networks", NeurIPS 2015.
    .. [2] J. Bruna, S. Mallat, "Invariant scattering convolution networks", IEEE TPAMI 35
       (2013).

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro import VGGGramFeatures
    >>> from skmicro.synthesis import synthesize_texture
    >>> rng = np.random.default_rng(0)
    >>> original = (rng.random((32, 32)) > 0.5).astype(np.uint8) * 255
    >>> vgg = VGGGramFeatures(weights=None, layers=["conv1_1", "conv2_1"], random_state=0)
    >>> new, loss = synthesize_texture(original, size=48, descriptor=vgg, n_iter=20,
    ...                                random_state=0, device="cpu", n_jobs=1,
    ...                                return_loss=True)
    >>> new.shape, new.dtype.name, bool(loss[-1] < 0.5 * loss[0])  # the loss fell
    ((48, 48), 'uint8', True)
    """
    out, histories = _synthesize(
        images, 1, 1, size=size, descriptor=descriptor, n_iter=n_iter, periodic=periodic,
        spectrum_weight=spectrum_weight, coarse_to_fine=coarse_to_fine,
        random_state=random_state, device=device, n_jobs=n_jobs, verbose=verbose,
        callback=callback, caller="synthesize_texture")
    return (out[0], histories[0]) if return_loss else out[0]


@validate_params({**_CONSTRAINTS, "n_samples": [Interval(numbers.Integral, 1, None,
                                                         closed="left")],
                  "samples_per_run": [None, Interval(numbers.Integral, 1, None, closed="left")],
                  "batch_size": [StrOptions({"deprecated"}), None,
                                 Interval(numbers.Integral, 1, None, closed="left")]},
                 prefer_skip_nested_validation=True)
def synthesize_textures(images, n_samples=4, *, samples_per_run=None, size=None,
                        descriptor="vgg_gram", n_iter=100, periodic=False,
                        spectrum_weight=SPECTRUM_WEIGHT_DEFAULT, coarse_to_fine="auto",
                        random_state=None, device="auto", n_jobs=None, verbose=0,
                        callback=None, return_loss=False, batch_size="deprecated"):
    """Several independent synthesized samples of one texture, optimized together.

    Each sample starts from its own noise (drawn from ``random_state`` and the sample's
    index) and the samples of one run go through the descriptor together, which is faster
    per image than one call per sample, especially on a GPU.

    Parameters
    ----------
    images : array-like or list of array-like
        As in :func:`synthesize_texture`.
    n_samples : int, default=4
        Number of samples.
    samples_per_run : int or None, default=None
        Samples optimized together in one L-BFGS run over their summed losses (each
        sample's gradient is its own). None puts all samples in one run. L-BFGS shares its
        step lengths within a run, so a sample's result depends on this grouping (its start
        noise does not). Unlike ``batch_size`` elsewhere in skmicro (images per device batch,
        a pure memory/speed setting), it changes the result.{params}
    batch_size : int or None
        Deprecated alias of ``samples_per_run`` (renamed because it changes the result);
        it will be removed in 0.2.

    Returns
    -------
    samples : ndarray of shape (n_samples, h, w) or (n_samples, h, w, 3)
        In the first input's dtype convention.
    loss_histories : list of ndarray
        Only with ``return_loss=True``: one history per run (the levels of
        ``coarse_to_fine`` one after the other).

    See Also
    --------
    synthesize_texture : one sample.

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro import VGGGramFeatures
    >>> from skmicro.synthesis import synthesize_textures
    >>> original = np.random.default_rng(0).random((32, 32))
    >>> vgg = VGGGramFeatures(weights=None, layers=["conv1_1"], random_state=0)
    >>> synthesize_textures(original, 3, descriptor=vgg, n_iter=5, random_state=0,
    ...                     device="cpu", n_jobs=1).shape
    (3, 32, 32)
    """
    if batch_size != "deprecated":
        warnings.warn(
            "The 'batch_size' parameter of synthesize_textures was renamed 'samples_per_run' "
            "in 0.1 (it sets how many samples one L-BFGS run optimizes together, which "
            "changes the result, unlike batch_size elsewhere) and will be removed in 0.2.",
            FutureWarning, stacklevel=2)
        if samples_per_run is None:
            samples_per_run = batch_size
    out, histories = _synthesize(
        images, int(n_samples), samples_per_run, size=size, descriptor=descriptor,
        n_iter=n_iter, periodic=periodic, spectrum_weight=spectrum_weight,
        coarse_to_fine=coarse_to_fine, random_state=random_state, device=device,
        n_jobs=n_jobs, verbose=verbose, callback=callback, caller="synthesize_textures")
    return (out, histories) if return_loss else out


# One text for the parameters both functions share.
for _fn in (synthesize_texture, synthesize_textures):
    _fn.__doc__ = _fn.__doc__.replace("{params}", _PARAMS_DOC).replace(
        "SPECTRUM_WEIGHT_DEFAULT", repr(SPECTRUM_WEIGHT_DEFAULT))
