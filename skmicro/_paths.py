"""Files on disk: which files are micrographs, whether an output path can be written, and
writing a file atomically.

Standard library only, on purpose: :mod:`skmicro.io`, :mod:`skmicro.plotting` and
:mod:`skmicro.workflow` share it, and a features run served from the cache uses it without
importing scikit-learn.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

TIFF_EXTENSIONS = (".tif", ".tiff")
PILLOW_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
#: File name extensions read from a folder (compared case-insensitively).
MICROGRAPH_EXTENSIONS = TIFF_EXTENSIONS + PILLOW_EXTENSIONS


def is_micrograph(path):
    """True for a file name skmicro reads: a known extension, not hidden (``.name``, such as
    the ``._name.tif`` files macOS leaves on shared drives)."""
    path = Path(path)
    return path.suffix.lower() in MICROGRAPH_EXTENSIONS and not path.name.startswith(".")


def folder_micrographs(folder, *, recursive=False):
    """The micrograph files of ``folder``, sorted by their POSIX path relative to it.

    Other files, hidden files and hidden folders are ignored; sub-folders only with
    ``recursive=True``. A folder without any micrograph is a ValueError that says so.
    """
    folder = Path(folder)
    found = folder.rglob("*") if recursive else folder.iterdir()
    files = sorted(
        (p for p in found if p.is_file() and is_micrograph(p)
         and not any(part.startswith(".") for part in p.relative_to(folder).parts[:-1])),
        key=lambda p: p.relative_to(folder).as_posix(),
    )
    if not files:
        where = "or its sub-folders " if recursive else ""
        raise ValueError(
            f"The folder '{folder}' {where}holds no micrographs: no file ends in "
            f"{', '.join(MICROGRAPH_EXTENSIONS)} (any case). Check the path, or convert the "
            "images to one of these formats."
        )
    return files


class MissingFolderError(FileNotFoundError, ValueError):
    """The folder of an output path does not exist (a bad parameter value, and a missing
    file system entry: ``except ValueError`` and ``except FileNotFoundError`` both catch it)."""


class FolderGivenError(IsADirectoryError, ValueError):
    """An output path names a folder where a file was expected."""


class FileGivenError(NotADirectoryError, ValueError):
    """An output folder names an existing file."""


def _one_of(suffixes):
    return suffixes[0] if len(suffixes) == 1 else \
        f"{', '.join(suffixes[:-1])} or {suffixes[-1]}"


def check_output_path(path, *, caller, example, param="out", suffixes=None, kind="file"):
    """``path`` as a Path once it is known to be writable, checked before any work is done.

    In this order: the suffix (one of ``suffixes``, when given: it picks the format), not an
    existing folder, an existing parent folder, and a probe file created and removed in that
    folder (what writing, and an atomic write's rename, need).

    Parameters
    ----------
    path : str or path-like
    caller : str
        The function the user called, named in the messages.
    example : str
        A file name to suggest (for a folder, or an unknown suffix), e.g. "map.html".
    param : str, default="out"
        The parameter that holds ``path``, named in the messages.
    suffixes : tuple of str, optional
        The accepted suffixes (lower case, with the dot).
    kind : str, default="file"
        What the file holds ("image", "table"), for the unknown-suffix message.

    Raises
    ------
    ValueError
        An unknown suffix.
    FolderGivenError
        ``path`` is a folder (also a ValueError).
    MissingFolderError
        Its folder does not exist (also a ValueError).
    PermissionError
        Nothing can be written in its folder.
    """
    path = Path(os.fspath(path))
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise ValueError(
            f"{caller} cannot write {param}='{path}': unknown {kind} type "
            f"'{path.suffix or 'no suffix'}'. The file name must end in {_one_of(suffixes)} (the "
            f"suffix picks the format), e.g. '{path.parent / example}'."
        )
    if path.is_dir():
        raise FolderGivenError(
            f"{caller} cannot write {param}='{path}': it is a folder. Give a file name in it, "
            f"e.g. '{path / example}'."
        )
    parent = path.parent
    if not parent.is_dir():
        raise MissingFolderError(
            f"{caller} cannot write {param}='{path}': the folder '{parent}' does not exist. "
            f"Create it first (mkdir -p '{parent}') or write into an existing folder."
        )
    _probe(path, parent, caller, param)
    return path


def _probe(path, folder, caller, param):
    """Create and remove a file in ``folder``, or raise a PermissionError naming ``param``."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".skmicro-probe-")
    except OSError as exc:
        raise PermissionError(
            f"{caller} cannot write {param}='{path}': nothing can be written in '{folder}' "
            f"({exc.strerror}). Choose a folder you can write to."
        ) from exc
    os.close(fd)
    os.unlink(probe)


def check_output_folder(path, *, caller, param):
    """An output folder as a Path, created if missing, once it is known to be writable.

    The rule of :func:`check_output_path` for a folder: the folder that holds it must exist
    (a mistyped path is reported, not created), and it must not be a file.

    Raises
    ------
    NotADirectoryError
        ``path`` is a file (also a ValueError).
    MissingFolderError
        The folder that would hold it does not exist (also a ValueError).
    PermissionError
        Nothing can be written there.
    """
    path = Path(os.fspath(path))
    if path.exists() and not path.is_dir():
        raise FileGivenError(
            f"{caller} cannot write {param}='{path}': it is a file, and a folder is needed. "
            f"Give a folder name, e.g. '{path.with_suffix('')}'.")
    if not path.parent.is_dir():
        raise MissingFolderError(
            f"{caller} cannot write {param}='{path}': the folder '{path.parent}' does not "
            f"exist. Create it first (mkdir -p '{path.parent}') or write into an existing "
            "folder.")
    if not path.is_dir():
        _probe(path, path.parent, caller, param)
        path.mkdir()
    else:
        _probe(path, path, caller, param)
    return path


def _new_file_mode(path):
    """The permissions ``open(path, "w")`` would leave: an existing file's, else 0o666 - umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(path, write):
    """``write(file object)`` into a temporary file next to ``path``, then rename it to
    ``path``: readers see the old file or the complete new one, never a partial one.

    The file gets the permissions a plain write would give it (mkstemp's are 0o600, which
    would hide a features table from the colleagues sharing its folder).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, _new_file_mode(path))
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
