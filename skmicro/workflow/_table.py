"""The features table on disk: Parquet (pyarrow) or CSV, written atomically, read back equal."""

from __future__ import annotations

from pathlib import Path

from .._paths import atomic_write, check_output_path
from ._join import few

__all__ = ["write_features", "read_features"]

FORMATS = (".parquet", ".csv")
META_PREFIX = "meta__"


def descriptor_columns(columns, source=None):
    """``{descriptor: [columns]}`` in column order: the "DESCRIPTOR__FEATURE" columns of a
    features table, grouped by prefix ("meta" and unprefixed columns left out).

    With ``source`` (how the table is named in messages), a table without any descriptor
    column is a ValueError that says how to make one.
    """
    blocks = {}
    for column in columns:
        prefix, sep, _ = str(column).partition("__")
        if sep and prefix and prefix + sep != META_PREFIX:
            blocks.setdefault(prefix, []).append(column)
    if not blocks and source is not None:
        raise ValueError(
            f"{source} is not a features table: no descriptor column named "
            f"'DESCRIPTOR__FEATURE' (other than 'meta__...'). Its columns: {few(columns)}. "
            "Make one with `skmicro features FOLDER --out features.parquet` "
            "(skmicro.workflow.describe_folder).")
    return blocks


def check_table_path(path, caller="write_features"):
    """The output path of a table as a Path, or a clear error (unknown suffix, a folder, a
    missing or read-only folder) before any work is done."""
    return check_output_path(path, caller=caller, suffixes=FORMATS, kind="table",
                             example="features.parquet")


def write_features(table, path):
    """Write a features table to ``.parquet`` or ``.csv`` (by suffix), atomically.

    The table is written to a temporary file in the output's folder and renamed, so the
    output is either the previous file or the complete new one, even if the process is
    killed while writing.

    Parameters
    ----------
    table : pandas.DataFrame
        A table from :func:`describe_folder` (index "file").
    path : str or path-like
        Output file ending in ``.parquet`` (via pyarrow) or ``.csv``; its folder must exist.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from pathlib import Path
    >>> from skmicro.workflow import read_features, write_features
    >>> table = pd.DataFrame({"power_spectrum__S_f0": [1.5, 2.0]},
    ...                      index=pd.Index(["a.png", "b.png"], name="file"), dtype="float32")
    >>> out = write_features(table, Path(tempfile.mkdtemp()) / "f.csv")
    >>> read_features(out).equals(table)
    True
    """
    path = check_table_path(path)
    write_table(table, path)
    return path


def write_table(table, path, *, index=True):
    """``table`` to an already checked ``path``, atomically, as Parquet or CSV by suffix
    (``index=False`` leaves the index out)."""
    if path.suffix.lower() == ".parquet":
        atomic_write(path, lambda fh: table.to_parquet(fh, engine="pyarrow",
                                                       index=None if index else False))
    else:
        atomic_write(path, lambda fh: fh.write(table.to_csv(index=index).encode()))


def read_features(path):
    """Read a features table written by :func:`write_features` (or ``skmicro features``).

    CSV loses column types; they are restored here: the index is "file", descriptor columns
    are float32 and metadata columns keep pandas' reading. The result equals the table that
    was written.

    Parameters
    ----------
    path : str or path-like
        A ``.parquet`` or ``.csv`` file.

    Returns
    -------
    table : pandas.DataFrame

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from pathlib import Path
    >>> from skmicro.workflow import read_features, write_features
    >>> table = pd.DataFrame({"meta__height": [5, 7]},
    ...                      index=pd.Index(["a.png", "b.png"], name="file"))
    >>> read_features(write_features(table, Path(tempfile.mkdtemp()) / "f.parquet"))
           meta__height
    file
    a.png             5
    b.png             7
    """
    import pandas as pd

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"Cannot read '{path}': a features table ends in .parquet or .csv.")
    if not path.is_file():
        raise FileNotFoundError(f"No features table at '{path}'. Make one with: skmicro "
                                "features FOLDER --out " + path.name)
    if suffix == ".parquet":
        table = pd.read_parquet(path, engine="pyarrow")
    else:
        table = pd.read_csv(path, index_col=0, keep_default_na=False,
                            na_values=["", "NaN", "nan"])
        table.index = table.index.astype(str)
        table.index.name = "file"
        desc = [c for c in table.columns if not c.startswith(META_PREFIX)]
        table[desc] = table[desc].astype("float32")
        for col in table.columns:
            if col.startswith(META_PREFIX) and table[col].dtype == object:
                table[col] = table[col].astype(str)
    return table
