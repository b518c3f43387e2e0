"""Which files a run describes, the names they get in the table, and their content hashes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath

# skmicro._paths, not skmicro.io: importing skmicro.io would load scikit-learn, which a run
# served from the cache avoids.
from .._paths import MICROGRAPH_EXTENSIONS, folder_micrographs, is_micrograph


def list_micrographs(paths, *, recursive=False):
    """``[(absolute Path, table name), ...]`` sorted by name, for folders and/or files.

    One folder: names relative to it. One file: its name. Several paths: names relative to
    their common parent folder. Files whose extension no reader knows are ignored inside
    folders (as :func:`skmicro.io.load_micrographs` does) and rejected when named directly.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    try:
        given = [Path(p) for p in paths]
    except TypeError as exc:
        raise TypeError(
            "The 'paths' parameter of describe_folder must be a folder, a file, or a list of "
            f"them. Got {type(paths).__name__} instead."
        ) from exc
    if not given:
        raise ValueError("The 'paths' parameter of describe_folder is empty: give a folder.")
    files, roots = [], []
    for path in given:
        if path.is_dir():
            files += folder_micrographs(path, recursive=recursive)
            roots.append(path.resolve())
        elif path.is_file():
            if not is_micrograph(path):
                raise ValueError(
                    f"Cannot describe '{path}': unknown image type '{path.suffix}'. "
                    f"describe_folder reads {', '.join(MICROGRAPH_EXTENSIONS)} files."
                )
            files.append(path)
            roots.append(path.resolve().parent)
        else:
            raise FileNotFoundError(
                f"No such folder or file: '{path}'. Give the folder that holds the micrographs."
            )
    base = roots[0] if len(roots) == 1 else Path(os.path.commonpath(roots))
    named = {}
    for f in files:
        full = f.resolve()
        named[full] = PurePosixPath(*full.relative_to(base).parts).as_posix()
    return sorted(named.items(), key=lambda item: item[1])


def content_hash(path, chunk=1 << 20):
    """Hex digest of a file's bytes (BLAKE2b, 128 bits): the cache's identity of an image."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
