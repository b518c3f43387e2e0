"""Power spectrum and two-point autocorrelation descriptors (seed 001 eqs. 5-7)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._engine import get_torch, map_batches, map_image_threads
from .._validation import Interval, StrOptions
from ._base import (
    IMAGE_TRANSFORMER_CONSTRAINTS,
    ImageTransformer,
    check_image_tensor,
    floored_log10,
)

__all__ = ["PowerSpectrumFeatures"]


class PowerSpectrumFeatures(ImageTransformer):
    """Power spectrum ``|FFT|^2`` per image, scaled so row distances are eq. 7 of Lubbers 2017.

    Each image ``phi`` is (optionally) rescaled to [-1, 1], its Fourier transform is taken in
    units of the linear system size, ``phi~(q) = (1 / (h w)) sum_r phi(r) exp(-2 pi i q . r)``
    with integer wave vectors ``q`` (so ``dq = 1``), and ``S(q) = |phi~(q)|^2`` (eq. 6).
    Because ``S(q) = S(-q)`` for real images only the half plane ``q_x >= 0`` is kept and the
    columns that have a mirror partner are multiplied by ``sqrt(2)``: the Euclidean distance
    between two output rows is then *exactly* the discretized eq. 7,
    ``d_ij^2 = sum_q [S_i(q) - S_j(q)]^2``.

    Parameters
    ----------
    statistic : {"spectrum", "autocorrelation"}, default="spectrum"
        "spectrum" gives S(q); "autocorrelation" gives the two-point function of eq. 5,
        ``P2(dr) = (1 / (h w)) sum_r phi(r) phi(r + dr)`` (periodic), the inverse FFT of the
        spectrum, scaled by ``sqrt(1 / (h w))`` (i.e. ``d(dr)``) and half-plane weighted so that
        row distances are ``sqrt(integral (P2_i - P2_j)^2 d(dr))``.
    radial : bool, default=False
        Average isotropically over rings. Bins are in physical frequency (cycles per pixel, from
        0 to the Nyquist frequency 0.5) for the spectrum, and in lag distance (pixels) for the
        autocorrelation, so images of different sizes are comparable and may be mixed. The
        radial spectrum is the per-pixel periodogram ``|FFT|^2 / (h w)`` (whose mean over q is
        the mean of phi^2, independent of image size); the radial autocorrelation is the mean
        product ``P2``.
    n_bins : int or None, default=None
        Number of radial bins; None uses ``min(h, w) // 2`` of the smallest training image.
    log : bool, default=False
        Return ``log10(max(S, 1e-12))`` (spectrum only): the descriptors' shared floor
        ``LOG_FLOOR = 1e-6`` squared, since S is a power (``skmicro.features._base``).
    crop : int or None, default=None
        Keep only ``|q_y| <= crop`` and ``0 <= q_x <= crop`` (the low-frequency window), or
        lags ``|dy|, |dx| <= crop`` for the autocorrelation. Ignored when ``radial=True``.
    rescale : bool, default=True
        Rescale each image linearly to [-1, 1] first, as the paper does (a constant image
        becomes all zeros). False keeps the float values of the image contract.
    image_shape : tuple (h, w) or None, default=None
        Shape of one image when X is a 2-D table ``(n_samples, h * w)``.
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device, default="auto"
    batch_size : int, default=128
        Images per device batch (halved automatically on CUDA out-of-memory).
    n_jobs : int or None, default=None
        CPU threads during transform: None or -1 all cores, -2 all but one, k exactly k. The
        threads share out the images of a batch rather than splitting each (small) FFT.
    verbose : int, default=0
        Show a progress bar when > 0.

    Attributes
    ----------
    image_shape_ : tuple (h, w) or None
        Training image size (None in radial mode with mixed sizes).
    n_bins_ : int or None
        Radial bins used (radial mode).
    frequencies_ : ndarray or None
        Radial bin centres: cycles per pixel (spectrum) or pixels (autocorrelation).
    n_output_features_ : int
    n_features_in_ : int
        Only set when fitted on a 2-D table.

    See Also
    --------
    ScatteringFeatures : Wavelet scattering, multi-scale and orientation resolved.
    VGGGramFeatures : CNN Gram-matrix texture vector.

    Notes
    -----
    Mixed image sizes are only meaningful for ``radial=True``; otherwise every image must have
    the training size (a ValueError says so).

    References
    ----------
    N. Lubbers, T. Lookman, K. Barros, "Inferring low-dimensional microstructure
    representations using convolutional neural networks", Phys. Rev. E 96, 052111 (2017).

    Examples
    --------
    >>> import numpy as np
    >>> from skmicro import PowerSpectrumFeatures
    >>> from skmicro.datasets import make_perlin_textures
    >>> X, params = make_perlin_textures(3, size=32, noise_amplitude=0.0,
    ...                                  angle=[0.0, 0.0, np.pi / 2], scale=8, random_state=0)
    >>> ps = PowerSpectrumFeatures(device="cpu").fit(X)
    >>> F = ps.transform(X)
    >>> F.shape
    (3, 544)
    >>> ps.get_feature_names_out()[np.argmax(F[0])]   # the stripe's wave vector (8, 0)
    'S_qy0_qx8'
    >>> bool(np.linalg.norm(F[0] - F[1]) < 1e-6 < np.linalg.norm(F[0] - F[2]))
    True
    """

    _parameter_constraints = {
        **IMAGE_TRANSFORMER_CONSTRAINTS,
        "statistic": [StrOptions({"spectrum", "autocorrelation"})],
        "radial": ["boolean"],
        "n_bins": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "log": ["boolean"],
        "crop": [None, Interval(numbers.Integral, 0, None, closed="left")],
        "rescale": ["boolean"],
    }

    def __init__(
        self,
        *,
        statistic="spectrum",
        radial=False,
        n_bins=None,
        log=False,
        crop=None,
        rescale=True,
        image_shape=None,
        device="auto",
        batch_size=128,
        n_jobs=None,
        verbose=0,
    ):
        self.statistic = statistic
        self.radial = radial
        self.n_bins = n_bins
        self.log = log
        self.crop = crop
        self.rescale = rescale
        self.image_shape = image_shape
        self.device = device
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- ImageTransformer hooks ---------------------------------------------------------------
    def _min_shape(self):
        if self.radial:
            n = self.n_bins if self.n_bins is not None else 1
            return (2 * n, 2 * n) if self.statistic == "spectrum" else (n, n)
        if self.crop is not None:
            return (2 * self.crop + 1, 2 * self.crop + 1)
        return None

    def _allow_mixed_sizes(self):
        return bool(self.radial)

    def _fit_images(self, images):
        if self.log and self.statistic != "spectrum":
            raise ValueError(
                "PowerSpectrumFeatures: log=True needs statistic='spectrum' (the "
                "autocorrelation can be negative). Got statistic='autocorrelation'."
            )
        self.image_shape_ = images.single_shape
        self.n_bins_ = None
        self.frequencies_ = None
        if self.radial:
            smallest = min(min(s) for s in images.shapes)
            n_bins = self.n_bins if self.n_bins is not None else max(1, smallest // 2)
            self.n_bins_ = int(n_bins)
            if self.statistic == "spectrum":
                self.frequencies_ = (np.arange(n_bins) + 0.5) * (0.5 / n_bins)
            else:
                self.frequencies_ = np.arange(n_bins, dtype=np.float64)
            self.n_output_features_ = self.n_bins_
        else:
            h, w = self.image_shape_
            qy, qx = self._window(h, w)
            self.n_output_features_ = len(qy) * len(qx)
        return self

    def _check_transform_images(self, images):
        if not self.radial:
            self._check_same_size_as_fit(images, "radial=True for mixed sizes")

    # -- the computation ----------------------------------------------------------------------
    def _window(self, h, w):
        """Wave numbers q_y and q_x >= 0 kept: FFT order for the full plane (no gather on the
        hot path), ascending from -crop to +crop for the cropped window."""
        if self.crop is None:
            return np.fft.fftfreq(h, 1.0 / h).astype(np.int64), np.arange(w // 2 + 1)
        return np.arange(-self.crop, self.crop + 1), np.arange(self.crop + 1)

    @staticmethod
    def _column_weights(w, cols):
        """sqrt(2) for half-plane columns with a mirror partner, 1 for q_x = 0 and Nyquist."""
        self_mirrored = (cols == 0) | ((w % 2 == 0) & (cols == w // 2))
        return np.where(self_mirrored, 1.0, math.sqrt(2.0))

    def transform_tensor(self, images):
        """Differentiable ``transform`` on a torch tensor: the spectrum rows of a batch.

        The same computation as :meth:`transform` (the same rows up to float rounding), kept
        in torch on the tensor's device, so that gradients flow back to the pixels (e.g. a
        loss on the power spectrum or the two-point statistics of generated images).

        Parameters
        ----------
        images : torch.Tensor of shape (n, h, w)
            Grey floating-point images in the input contract's float convention; with
            ``radial=False`` they must have the fitted size.

        Returns
        -------
        rows : torch.Tensor of shape (n, n_output_features), float32

        Examples
        --------
        >>> import numpy as np
        >>> import torch
        >>> from skmicro import PowerSpectrumFeatures
        >>> images = np.random.default_rng(0).random((2, 16, 16)).astype(np.float32)
        >>> ps = PowerSpectrumFeatures(radial=True, device="cpu").fit(images)
        >>> x = torch.tensor(images, requires_grad=True)
        >>> rows = ps.transform_tensor(x)
        >>> rows.shape, bool(np.allclose(rows.detach().numpy(), ps.transform(images),
        ...                              rtol=1e-5, atol=1e-8))
        (torch.Size([2, 8]), True)
        >>> rows.sum().backward()  # gradients reach the pixels
        >>> x.grad.shape
        torch.Size([2, 16, 16])
        """
        from types import SimpleNamespace

        from .._validation import check_is_fitted

        check_is_fitted(self)
        caller = "PowerSpectrumFeatures.transform_tensor"
        images = check_image_tensor(images, caller)
        shape = tuple(int(s) for s in images.shape[1:])
        min_shape = self._min_shape()
        if min_shape is not None and (shape[0] < min_shape[0] or shape[1] < min_shape[1]):
            raise ValueError(
                f"{caller}: images must be at least {min_shape[0]}x{min_shape[1]} for these "
                f"parameters. Got {shape[0]}x{shape[1]} instead."
            )
        self._check_transform_images(SimpleNamespace(shapes=[shape]))  # transform's checks
        return self._spectrum_function(*shape, images.device)(images)

    def _transform_group(self, array, device, progress):
        compute = self._spectrum_function(*array.shape[1:3], device)
        # images, not ops, share the CPU threads: one FFT per image is too small to split well
        return map_batches(lambda batch: map_image_threads(compute, batch), array,
                           batch_size=self.batch_size, device=device, progress=progress,
                           caller="PowerSpectrumFeatures")

    def _spectrum_function(self, h, w, device):
        """The fitted map from a float32 (b, h, w) tensor on ``device`` to rows
        (differentiable)."""
        torch = get_torch()
        stat = self.statistic
        if self.radial:
            bin_index, counts = self._radial_bins(h, w)
            bin_index = torch.as_tensor(bin_index, device=device)
            counts = torch.as_tensor(counts, device=device, dtype=torch.float32)
            col_w = torch.as_tensor(
                self._column_weights(w, np.arange(w // 2 + 1)) ** 2, device=device,
                dtype=torch.float32)
        else:
            qy, cols = self._window(h, w)
            rows_t = None if self.crop is None else torch.as_tensor(qy % h, device=device)
            cols_t = torch.as_tensor(cols, device=device)
            weights = self._column_weights(w, cols)
            if stat == "spectrum":
                weights = weights / (h * w) ** 2  # phi~ = FFT / (h w); dq = 1
            else:
                weights = weights / (h * w) / math.sqrt(h * w)  # P2 = IFFT|F|^2/(hw); d(dr)=1/(hw)
            weights_t = torch.as_tensor(weights, device=device, dtype=torch.float32)

        def compute(x):
            spec = torch.fft.rfft2(x)
            dc_raw = spec[:, 0, 0].real.clone() if self.rescale else None
            # |FFT|^2 as re^2 + im^2 on the float view: twice as fast as complex abs() on CPU.
            parts = torch.view_as_real(spec).square_()
            power = parts[..., 0] + parts[..., 1]  # (b, h, w//2+1)
            scale = None  # per-image a^2 of the rescaling, folded into the weights below
            if self.rescale:
                # Rescaling x' = a x + b is linear: |FFT x'|^2 = a^2 |FFT x|^2 except at q = 0,
                # so it costs a factor on the output instead of passes over the input.
                lo = x.amin(dim=(1, 2))
                span = x.amax(dim=(1, 2)) - lo
                a = torch.where(span > 0, 2.0 / span.clamp_min(1e-30), torch.zeros_like(span))
                b = torch.where(span > 0, -1.0 - a * lo, torch.zeros_like(span))
                scale = a.square().view(-1, 1, 1)
                power[:, 0, 0] = (a * dc_raw + b * (h * w)).square() / scale.view(-1).clamp_min(
                    1e-30)
            if scale is not None and (stat == "autocorrelation" or self.radial):
                power.mul_(scale)
                scale = None
            if stat == "autocorrelation":
                power = torch.fft.irfft2(power, s=(h, w))[..., : w // 2 + 1]
            if self.radial:
                # per-pixel periodogram |FFT|^2/(hw), or the mean product P2 = IFFT(|F|^2)/(hw)
                vals = (power * col_w / (h * w)).reshape(x.shape[0], -1)
                sums = torch.zeros(x.shape[0], counts.shape[0], device=x.device)
                sums.index_add_(1, bin_index, vals)
                out = (sums / counts)[:, :-1]  # drop the overflow bin
            else:
                # one (b, 1, w') factor: column weights times the rescaling's a^2
                factor = weights_t if scale is None else weights_t * scale
                if rows_t is None:  # full half plane, rows in FFT order: no gather needed
                    out = power.mul_(factor)
                else:
                    out = power.index_select(1, rows_t).index_select(2, cols_t).mul_(factor)
                out = out.reshape(x.shape[0], -1)
            if self.log:
                out = floored_log10(out, power=True)
            return out

        return compute

    def _radial_bins(self, h, w):
        """Bin of every half-plane mode (an extra overflow bin takes the rest) and weights."""
        n_bins = self.n_bins_
        qy = np.fft.fftfreq(h)[:, None]  # cycles per pixel
        qx = np.fft.rfftfreq(w)[None, :]
        if self.statistic == "spectrum":
            radius = np.sqrt(qy**2 + qx**2) / (0.5 / n_bins)
        else:  # lags in pixels, wrapped to [-h/2, h/2)
            dy = np.fft.fftfreq(h) * h
            dx = np.arange(w // 2 + 1)
            radius = np.sqrt(dy[:, None] ** 2 + dx[None, :] ** 2) + 0.5
        idx = np.floor(radius).astype(np.int64)
        idx = np.where(idx < n_bins, idx, n_bins)  # overflow bin, dropped below
        mult = self._column_weights(w, np.arange(w // 2 + 1)) ** 2
        counts = np.bincount(idx.ravel(), weights=np.broadcast_to(mult, idx.shape).ravel(),
                             minlength=n_bins + 1)
        if (counts[:n_bins] == 0).any():
            raise ValueError(
                f"PowerSpectrumFeatures: n_bins={n_bins} radial bins leave some bins empty for "
                f"{h}x{w} images. Use fewer bins (at most min(h, w) // 2) or larger images."
            )
        counts = counts.copy()
        counts[n_bins] = 1.0
        return idx.ravel(), counts.astype(np.float32)

    def _feature_names(self):
        if self.radial:
            prefix = "S_f" if self.statistic == "spectrum" else "P2_r"
            return [f"{prefix}{i}" for i in range(self.n_bins_)]
        qy, cols = self._window(*self.image_shape_)
        name = "S_qy{}_qx{}" if self.statistic == "spectrum" else "P2_dy{}_dx{}"
        return [name.format(y, x) for y in qy for x in cols]
