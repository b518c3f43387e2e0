"""The spectrum constraint of Liu, Gousseau & Xia (2016) for texture synthesis.

``L_spe(u) = ||u - P(u)||^2`` where ``P`` projects ``u`` onto the images whose Fourier
transform has the exemplar's modulus, keeping ``u``'s phase. For colour the channels share
one phase per frequency (the paper's projection): with ``T_c`` the exemplar's spectrum,

    F(P u)_c = T_c * z / |z|,    z = sum_c F(u)_c conj(T_c),

which for grey images is ``|F(u0)| F(u) / |F(u)|``. ``dist(u, S)^2`` has the gradient
``2 (u - P(u))``, so ``P(u)`` enters the loss as a constant (no gradient through the
projection, as in the paper).
"""

from __future__ import annotations

import numpy as np

from .._engine import get_torch

__all__ = ["spectrum_target", "spectrum_loss"]


def _resampled_power(image, size):
    """The periodogram ``|F(x - mean)|^2 / (h w)`` of ``image`` (h, w) as a density over
    frequency, linearly interpolated (periodically: the spectrum is periodic) onto the
    frequency grid of ``size`` and rescaled to the image's variance."""
    from scipy.ndimage import map_coordinates

    h, w = image.shape
    x = image.astype(np.float64) - image.mean()
    power = np.abs(np.fft.fft2(x)) ** 2 / x.size
    H, W = size
    if (H, W) == (h, w):
        return power
    fy = (np.arange(H) / H * h)[:, None] * np.ones((1, W))
    fx = np.ones((H, 1)) * (np.arange(W) / W * w)[None, :]
    out = map_coordinates(power, [fy, fx], order=1, mode="grid-wrap")
    out[0, 0] = 0.0
    # Same variance (mean of the non-DC power) as the exemplar: interpolation of a peaked
    # spectrum would otherwise change the energy.
    return out * (x.var() * H * W / max(out.sum(), 1e-300))


def spectrum_target(floats, size):
    """The exemplar spectrum ``T`` (channels, H, W), complex128, on the output grid.

    One exemplar of the output size: its Fourier transform itself (the paper). Otherwise
    (other size, or several exemplars pooled): the modulus ``sqrt(H W * PSD)`` of their
    pixel-weighted mean power spectral density, each periodogram interpolated onto the
    output's frequency grid, with the channels in phase; the zero frequency carries the
    pooled mean.
    """
    floats = [im if im.ndim == 3 else im[..., None] for im in floats]
    size = tuple(size)
    if len(floats) == 1 and floats[0].shape[:2] == size:
        return np.fft.fft2(floats[0].astype(np.float64), axes=(0, 1)).transpose(2, 0, 1)
    pixels = np.array([im.shape[0] * im.shape[1] for im in floats], dtype=np.float64)
    channels = floats[0].shape[2]
    target = np.zeros((channels,) + size)
    for c in range(channels):
        psd = sum(p * _resampled_power(im[..., c], size) for p, im in zip(pixels, floats))
        target[c] = np.sqrt(psd / pixels.sum() * size[0] * size[1])
        mean = sum(p * float(im[..., c].mean()) for p, im in zip(pixels, floats))
        target[c, 0, 0] = mean / pixels.sum() * size[0] * size[1]
    return target.astype(np.complex128)


def spectrum_loss(target, device):
    """``x (b, c, H, W) -> ||x - P(x)||^2 / ||T - T(0)||^2`` per sample (b,): the squared
    distance to the images with the exemplar's Fourier modulus, relative to the exemplar's
    energy (about 2 for a noise start with the exemplar's variance, 0 on the constraint)."""
    torch = get_torch()
    T = torch.from_numpy(target.astype(np.complex64)).to(device)
    energy = float((np.abs(target) ** 2).sum() - (np.abs(target[:, 0, 0]) ** 2).sum())
    norm = max(energy / (target.shape[1] * target.shape[2]), 1e-30)  # Parseval

    def loss(x):
        with torch.no_grad():
            X = torch.fft.fft2(x)
            z = (X * T.conj()).sum(dim=1, keepdim=True)
            mag = z.abs()
            # Where z = 0 any phase is a projection: take phase 0.
            phase = torch.where(mag > 0, z / mag.clamp(min=1e-30), torch.ones_like(z))
            projected = torch.fft.ifft2(T * phase).real
        return (x - projected).pow(2).sum(dim=(1, 2, 3)) / norm

    return loss
