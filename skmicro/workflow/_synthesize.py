"""``skmicro synthesize``: micrograph files in, a new synthesized micrograph file out."""

from __future__ import annotations

__all__ = ["synthesize_file"]


def synthesize_file(input, out, *, size=None, descriptor="vgg_gram", n_iter=100,
                    periodic=False, spectrum_weight=None, coarse_to_fine="auto",
                    random_state=0, device="auto", verbose=1):
    """Synthesize a new micrograph with the statistics of image files and write it to a file.

    Reads ``input`` with :func:`~skmicro.io.load_micrographs` (colour kept), runs
    :func:`~skmicro.synthesis.synthesize_texture` on the pooled images and writes the result
    with :func:`~skmicro.io.save_micrograph`.

    Parameters
    ----------
    input : str or path-like
        One micrograph file, or a folder whose micrographs are pooled (their mean descriptor
        is the target).
    out : str or path-like
        The image to write; its extension picks the format (``.tif`` keeps the values
        exactly, ``.png`` and the others hold 8 bits).
    size : int, (h, w) or None, default=None
        Output size; None: the first input's.
    descriptor : {"vgg_gram", "scattering"} or estimator, default="vgg_gram"
        The statistics to match.
    n_iter : int, default=100
        L-BFGS iterations.
    periodic : bool, default=False
        A seamlessly tileable result.
    spectrum_weight : float or None, default=None
        Weight of the Fourier-modulus constraint (0: off); None: synthesize_texture's default.
    coarse_to_fine : "auto" or int, default="auto"
        Pyramid levels, optimized coarsest first.
    random_state : int, RandomState instance or None, default=0
        Seed of the starting noise.
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
        Where the optimization runs.
    verbose : int, default=1
        Progress bar over the iterations.

    Returns
    -------
    image : ndarray of shape (h, w) or (h, w, 3)
        The synthesized image, as written (before any 8-bit conversion of the format).

    See Also
    --------
    skmicro.synthesis.synthesize_texture : the same on arrays.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from skmicro.io import load_micrographs, save_micrograph
    >>> from skmicro.workflow import synthesize_file
    >>> folder = Path(tempfile.mkdtemp())
    >>> rng = np.random.default_rng(0)
    >>> _ = save_micrograph(folder / "in.png", (rng.random((32, 32)) * 255).astype(np.uint8))
    >>> new = synthesize_file(folder / "in.png", folder / "out.png", size=40,
    ...                       descriptor="scattering", n_iter=2, device="cpu", verbose=0)
    >>> new.shape, load_micrographs(folder / "out.png")[0].shape
    ((40, 40), (40, 40))
    """
    from .._paths import MICROGRAPH_EXTENSIONS, check_output_path
    from ..io import load_micrographs, save_micrograph
    from ..synthesis import synthesize_texture

    # before the work, not after
    check_output_path(out, caller="synthesize_file", suffixes=MICROGRAPH_EXTENSIONS,
                      kind="image", example="micrograph.tif")
    images = load_micrographs(input, as_gray=False)
    options = {} if spectrum_weight is None else {"spectrum_weight": spectrum_weight}
    image = synthesize_texture(images, size=size, descriptor=descriptor, n_iter=n_iter,
                               periodic=periodic, coarse_to_fine=coarse_to_fine,
                               random_state=random_state, device=device, verbose=verbose,
                               **options)
    save_micrograph(out, image)
    return image
