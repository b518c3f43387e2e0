"""The disk cache of per-image results: one small file per (descriptor, image), written atomically.

Layout under the cache root (see :func:`default_cache_dir`)::

    features-v1/<descriptor key>/spec.txt               what the key stands for (for people)
    features-v1/<descriptor key>/names-<id>.json        feature names (shared by many entries)
    features-v1/<descriptor key>/<h[:2]>/<h>.npz        one image's row: values + names id
    features-v1/meta-<key>/<h[:2]>/<h>.json             one image's metadata (size, data bar)
    features-v1/file-index/<folder key>.json            content hashes by size, times, inode

``h`` identifies the image's content (and the pixel size it was rescaled from, where that
applies); the descriptor key hashes the estimator's class and parameters, the preprocessing
and the skmicro version. Every file is written to a temporary name in its folder and renamed,
so a killed run leaves complete entries or none; a damaged entry reads as missing.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .._paths import atomic_write

_LAYOUT = "features-v1"


def default_cache_dir():
    """Where describe_folder caches per-image results unless told otherwise.

    ``$XDG_CACHE_HOME/skmicro`` when ``XDG_CACHE_HOME`` is set, else ``~/.cache/skmicro``
    (on Windows ``%LOCALAPPDATA%\\skmicro\\cache``). Deleting the folder only costs
    recomputation.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import os
    >>> from skmicro.workflow import default_cache_dir
    >>> os.environ["XDG_CACHE_HOME"] = "/tmp/xdg"
    >>> default_cache_dir().as_posix()
    '/tmp/xdg/skmicro'
    >>> del os.environ["XDG_CACHE_HOME"]
    """
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "skmicro"
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "skmicro" / "cache"
    return Path.home() / ".cache" / "skmicro"


class FeatureStore:
    """Per-image rows and metadata on disk (``root`` a folder) or in memory (``root=None``)."""

    def __init__(self, root):
        self.root = None if root is None else Path(root) / _LAYOUT
        self._memory = {}
        self._names = {}

    @property
    def enabled(self):
        return self.root is not None

    def check_writable(self):
        """Create the cache folder and write a probe there, or raise an error with the fix
        (before any work, so that no result is computed that could not be kept)."""
        if self.root is None:
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            atomic_write(self.root / ".probe", lambda fh: fh.write(b"ok"))
        except OSError as exc:
            raise OSError(
                f"Cannot write the feature cache in '{self.root.parent}': {exc}. Choose another "
                "folder (cache=PATH, --cache-dir DIR) or run without a cache (cache=False, "
                "--no-cache)."
            ) from exc

    def _entry(self, folder, key, suffix):
        return self.root / folder / key[:2] / f"{key}{suffix}"

    # -- descriptor rows ----------------------------------------------------------------------
    def get(self, desc_key, item_key):
        """``(names, values)`` of a cached row, or None."""
        if self.root is None:
            return self._memory.get((desc_key, item_key))
        path = self._entry(desc_key, item_key, ".npz")
        try:
            with np.load(path, allow_pickle=False) as data:
                values, names_id = data["values"], str(data["names_id"])
            names = self._read_names(desc_key, names_id)
        except (OSError, KeyError, ValueError, EOFError):
            return None  # missing or damaged: recompute
        if names is None or len(names) != len(values):
            return None
        return names, values

    def put(self, desc_key, item_key, names, values, *, describe=""):
        names = tuple(str(n) for n in names)
        values = np.asarray(values, dtype=np.float32)
        if self.root is None:
            self._memory[(desc_key, item_key)] = (names, values)
            return
        folder = self.root / desc_key
        if not (folder / "spec.txt").exists():
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write(folder / "spec.txt", lambda fh: fh.write(describe.encode() + b"\n"))
        names_id = self._write_names(desc_key, names)
        path = self._entry(desc_key, item_key, ".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda fh: np.savez(fh, values=values, names_id=np.str_(names_id)))

    def _names_path(self, desc_key, names_id):
        return self.root / desc_key / f"names-{names_id}.json"

    def _read_names(self, desc_key, names_id):
        if (desc_key, names_id) not in self._names:
            with open(self._names_path(desc_key, names_id), "rb") as fh:
                self._names[(desc_key, names_id)] = tuple(json.loads(fh.read()))
        return self._names[(desc_key, names_id)]

    def _write_names(self, desc_key, names):
        names_id = hashlib.blake2b("\n".join(names).encode(), digest_size=8).hexdigest()
        if (desc_key, names_id) not in self._names:
            path = self._names_path(desc_key, names_id)
            if not path.exists():
                atomic_write(path, lambda fh: fh.write(json.dumps(list(names)).encode()))
            self._names[(desc_key, names_id)] = names
        return names_id

    # -- file identity: content hashes by (size, mtime, ctime, inode) ------------------------
    def content_hashes(self, paths, hasher):
        """``{path: content hash or OSError}``, re-reading only files whose size, times or
        inode changed since the last run. The index is kept per folder in the cache; without
        a cache every file is hashed."""
        by_folder = {}
        for path in paths:
            by_folder.setdefault(Path(path).parent, []).append(path)
        out = {}
        for folder, members in by_folder.items():
            out.update(self._folder_hashes(folder, members, hasher))
        return out

    def _folder_hashes(self, folder, paths, hasher):
        index_path = None if self.root is None else self.root / "file-index" / (
            hashlib.blake2b(str(folder).encode(), digest_size=10).hexdigest() + ".json")
        index = {}
        if index_path is not None:
            try:
                with open(index_path, "rb") as fh:
                    index = json.loads(fh.read())
            except (OSError, ValueError):
                index = {}
        out, changed = {}, False
        for path in paths:
            try:
                st = os.stat(path)
                stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
                known = index.get(Path(path).name)
                if known is not None and known[0] == stamp:
                    out[path] = known[1]
                    continue
                out[path] = hasher(path)
            except OSError as exc:
                out[path] = exc
                continue
            index[Path(path).name] = [stamp, out[path]]
            changed = True
        if changed and index_path is not None:
            index_path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(index_path, lambda fh: fh.write(json.dumps(index).encode()))
        return out

    # -- per-image metadata -------------------------------------------------------------------
    def get_meta(self, meta_key, content):
        if self.root is None:
            return self._memory.get(("meta", meta_key, content))
        try:
            with open(self._entry(f"meta-{meta_key}", content, ".json"), "rb") as fh:
                return json.loads(fh.read())
        except (OSError, ValueError):
            return None

    def put_meta(self, meta_key, content, meta):
        if self.root is None:
            self._memory[("meta", meta_key, content)] = dict(meta)
            return
        path = self._entry(f"meta-{meta_key}", content, ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda fh: fh.write(json.dumps(meta).encode()))
