"""Which files a run describes, the names they get in the table, and their content hashes."""

from __future__ import annotations

import hashlib
import os
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

# skmicro._paths, not skmicro.io: importing skmicro.io would load scikit-learn, which a run
# served from the cache avoids.
from .._messages import SkmicroWarning
from .._paths import MICROGRAPH_EXTENSIONS, folder_micrographs, is_micrograph

#: What describe_folder leaves out of a folder unless told otherwise (``exclude=``): sub-folders
#: of label masks or annotations, by their usual names (any case, at any depth), such as the
#: ``labels/`` folder beside the UHCS micrographs.
DEFAULT_EXCLUDE = ("labels", "label", "masks", "mask", "annotations", "ground_truth")


class FilesLeftOutWarning(SkmicroWarning):
    """A notice of :func:`describe_folder`: image files of the folder were left out by
    ``exclude`` (label masks, by default), or a sub-folder that looks like label masks was
    described with the micrographs.

    Examples
    --------
    >>> import warnings
    >>> from skmicro.workflow import FilesLeftOutWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FilesLeftOutWarning)  # silence these notices only
    ...     warnings.warn("left out labels/ (24)", FilesLeftOutWarning)  # shows nothing
    """


def _excluded_by(relative, patterns):
    """The first pattern that leaves out the file at POSIX path ``relative`` (below a folder
    given to the run), or None. A pattern without ``/`` is matched against each folder name
    and the file name; one with ``/`` against the path and each of its leading folders; any
    case."""
    parts = PurePosixPath(relative.casefold()).parts
    prefixes = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    for pattern in patterns:
        pat = pattern.casefold().strip("/")
        if not pat:
            continue
        targets = prefixes if "/" in pat else parts
        if any(fnmatchcase(t, pat) for t in targets):
            return pattern
    return None


def check_exclude(exclude, caller="describe_folder"):
    """``exclude`` as a tuple of patterns (None: :data:`DEFAULT_EXCLUDE`)."""
    if exclude is None:
        return DEFAULT_EXCLUDE
    if isinstance(exclude, str):
        exclude = (exclude,)
    try:
        patterns = tuple(exclude)
    except TypeError:
        patterns = None
    if patterns is None or not all(isinstance(p, str) for p in patterns):
        raise TypeError(
            f"The 'exclude' parameter of {caller} must be None (leave out sub-folders named "
            f"{', '.join(DEFAULT_EXCLUDE)}), a glob pattern or a list of them (e.g. "
            f"['labels', '*_overview.tif']; [] takes every file). Got {exclude!r} instead."
        )
    return patterns


def list_micrographs(paths, *, recursive=False, exclude=()):
    """``([(absolute Path, table name), ...] sorted by name, {pattern: [names left out]})``
    for folders and/or files.

    One folder: names relative to it. One file: its name. Several paths: names relative to
    their common parent folder. Files whose extension no reader knows are ignored inside
    folders (as :func:`skmicro.io.load_micrographs` does) and rejected when named directly.
    Files inside a folder whose path below it matches one of the ``exclude`` patterns are
    left out; files named directly never are.
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
    files, roots, left_out = [], [], {}
    for path in given:
        if path.is_dir():
            found = folder_micrographs(path, recursive=recursive)
            kept = []
            for f in found:
                relative = f.relative_to(path).as_posix()
                pattern = _excluded_by(relative, exclude)
                if pattern is None:
                    kept.append(f)
                else:
                    left_out.setdefault(pattern, []).append(f)
            if not kept:
                raise ValueError(
                    f"Every micrograph of '{path}' ({len(found)}) matches the exclude patterns "
                    f"{', '.join(sorted(left_out))}: nothing is left to describe. Pass "
                    "exclude=[] to take them, or name the folder itself."
                )
            files += kept
            roots.append(_absolute(path))
        elif path.is_file():
            if not is_micrograph(path):
                raise ValueError(
                    f"Cannot describe '{path}': unknown image type '{path.suffix}'. "
                    f"describe_folder reads {', '.join(MICROGRAPH_EXTENSIONS)} files."
                )
            files.append(path)
            roots.append(_absolute(path).parent)
        else:
            raise FileNotFoundError(
                f"No such folder or file: '{path}'. Give the folder that holds the micrographs."
            )
    base = roots[0] if len(roots) == 1 else Path(os.path.commonpath(roots))

    def name(f):
        return PurePosixPath(*_absolute(f).relative_to(base).parts).as_posix()

    named = {_absolute(f): name(f) for f in files}
    skipped = {pattern: sorted(name(f) for f in fs) for pattern, fs in left_out.items()}
    return sorted(named.items(), key=lambda item: item[1]), skipped


def _absolute(path):
    # Absolute without following links: a folder of symlinks to files elsewhere keeps the
    # links' names (resolve() would name the targets, outside the folder).
    return Path(os.path.abspath(path))


def left_out_notice(skipped, exclude_given):
    """One line on what ``exclude`` left out (None when nothing was)."""
    if not skipped:
        return None
    folders = {}
    for names in skipped.values():
        for n in names:
            parent = str(PurePosixPath(n).parent)
            folders[parent] = folders.get(parent, 0) + 1
    shown = ", ".join(f"{f}/ ({k})" if f != "." else f"{k} beside the others"
                      for f, k in sorted(folders.items())[:5])
    shown += f" and {len(folders) - 5} more folders" if len(folders) > 5 else ""
    total = sum(folders.values())
    files = f"{total} image file{'s' * (total > 1)}"
    patterns = ", ".join(sorted(skipped))
    plural = "s" * (len(skipped) > 1)
    if exclude_given:
        return f"Left out {files} matching the exclude pattern{plural} {patterns}: {shown}."
    return (f"Left out {files} in {shown}: sub-folders named like that usually hold label "
            f"masks (exclude pattern{plural} {patterns}); pass exclude=[] to describe them "
            "too.")


def twin_folder_notice(files):
    """One line when a sub-folder's files all repeat the names (stems) of files elsewhere in
    the run, the way label masks repeat their micrographs' names (None otherwise). For a
    recursive run, whose sub-folders nobody named."""
    stems_by_folder = {}
    for _, name in files:
        p = PurePosixPath(name)
        stems_by_folder.setdefault(str(p.parent), set()).add(p.stem.casefold())
    twins = []
    for folder, stems in sorted(stems_by_folder.items()):
        others = set().union(*(s for f, s in stems_by_folder.items() if f != folder))
        if folder != "." and stems <= others:
            twins.append((folder, len(stems)))
    if not twins:
        return None
    return (f"Took {', '.join(f'{f}/ ({k})' for f, k in twins)}: every file there has the name "
            "of a micrograph in another folder, as label masks do. If they are masks, leave "
            f"them out with exclude={twins[0][0]!r}.")


def content_hash(path, chunk=1 << 20):
    """Hex digest of a file's bytes (BLAKE2b, 128 bits): the cache's identity of an image."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
