"""The user's route: a folder of micrographs -> a features table -> a cross-validated answer.

:func:`describe_folder` turns a folder of micrographs into a features table (one row per
file, cached per file; ``skmicro features`` on the command line), each file prepared as a
:class:`Preparation` says (data bar, pixel size, contrast, tiles); :func:`write_features` and
:func:`read_features` store it as Parquet or CSV; :func:`join_table` matches a spreadsheet to
it by file name, :func:`evaluate_features` cross-validates each descriptor against a column
and :func:`map_collection` draws the collection as an interactive map;
:func:`fit_segmenter` trains a pixel classifier on label images and :func:`segment_folder`
turns a folder into label maps, overlays and a measurements table. Functions here compose
the public estimators (no new math).

Names load on first use (as in ``skmicro`` itself): a features run served from the cache
imports neither scikit-learn nor torch, which keeps it a small fraction of the first run.
"""

from importlib import import_module

_LAZY = {
    "DEFAULT_DESCRIPTORS": "._describe",
    "DEFAULT_EXCLUDE": "._files",
    "FilesLeftOutWarning": "._files",
    "MixedMagnificationWarning": "._pixel_sizes",
    "DENSE_FEATURES": "._segment",
    "describe_folder": "._describe",
    "evaluate_features": "._evaluate",
    "fit_segmenter": "._segment",
    "format_table": "._markdown",
    "join_table": "._join",
    "map_collection": "._map",
    "parse_table_column": "._join",
    "Preparation": "._preparation",
    "read_table": "._join",
    "segment_folder": "._segment",
    "synthesize_file": "._synthesize",
    "DESCRIPTORS": "._specs",
    "parse_descriptor": "._specs",
    "default_cache_dir": "._store",
    "read_features": "._table",
    "write_features": "._table",
}

__all__ = sorted(_LAZY, key=str.lower)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skmicro.workflow' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
