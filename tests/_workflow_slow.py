"""A power spectrum that counts (and can slow down) its work, shared by the workflow tests and
the subprocess they kill: both must use the very same class so their cache keys agree."""

import time
import zlib

import numpy as np

from skmicro import PowerSpectrumFeatures


class CountingPowerSpectrum(PowerSpectrumFeatures):
    """PowerSpectrumFeatures that counts the images it transforms; ``delay`` seconds each."""

    images_transformed = 0
    delay = 0.0

    def transform(self, X):
        n = len(X)
        type(self).images_transformed += n
        if type(self).delay:
            time.sleep(type(self).delay * n)
        return super().transform(X)


def counting_descriptor():
    return ("ps", CountingPowerSpectrum(radial=True, log=True, n_bins=8, device="cpu"))


def write_stripes(folder, names, size=(64, 80)):
    """PNG vertical stripes whose period (4 ... 11 px) follows the file's position in
    ``names`` and whose phase follows its name (so that no two files are equal)."""
    from PIL import Image

    rows = np.arange(size[1])[None, :] * np.ones((size[0], 1))
    for i, name in enumerate(names):
        period = 4 + i % 8
        image = 127.5 * (1 + np.sin(2 * np.pi * rows / period + zlib.crc32(name.encode())))
        Image.fromarray(image.astype(np.uint8)).save(folder / name)
