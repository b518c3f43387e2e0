"""Join a user's spreadsheet to a features table by file name.

The features table (``describe_folder``) is indexed by each micrograph's path relative to the
folder it was found in (POSIX, e.g. ``"sample_a/img01.tif"``). A user's spreadsheet names the same
micrographs in a column of its own, written however the user wrote it: the relative path, the
file name (``img01.tif``), the stem (``img01``), with or without folders, in another case. The
functions here find that column (or take the one the user names) and return the spreadsheet's
rows in the features table's order, or raise a ValueError that lists what did not match.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

__all__ = ["read_table", "join_table", "parse_table_column"]

# How a spreadsheet value and a features-table index entry are compared, most specific first.
_MATCH_MODES = ("path", "name", "stem")
# On a tie between columns, one with one of these names wins (then the leftmost column).
_FILE_COLUMN_NAMES = ("file", "filename", "file_name", "path", "image", "micrograph")
_SHOW = 5  # names listed in an error message


def _norm_path(value):
    """A relative POSIX path, case-folded, without leading ``./``."""
    s = str(value).strip().replace("\\", "/")
    while s.startswith("./"):
        s = s[2:]
    return s.casefold()


def _key(value, mode):
    path = _norm_path(value)
    if mode == "path":
        return path
    name = PurePosixPath(path).name
    if mode == "name":
        return name
    return PurePosixPath(name).stem if "." in name else name


def few(values, n=_SHOW):
    """A few values, quoted, and how many there are in all (for error messages)."""
    values = [str(v) for v in values]
    shown = ", ".join(repr(v) for v in values[:n])
    return shown + (f" ... ({len(values)} in all)" if len(values) > n else "")


def _table_source(table):
    return f"table {str(table)!r}" if isinstance(table, (str, os.PathLike)) else "the table"


def read_table(path):
    """Read a spreadsheet: CSV (any other suffix is read as CSV too), Excel or Parquet.

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` (or ``.tsv``/``.txt``, separator sniffed), ``.xlsx``/``.xls`` (needs the
        optional package openpyxl) or ``.parquet`` file.

    Returns
    -------
    table : pandas.DataFrame
        As read, with a fresh integer index.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ImportError
        An Excel file without openpyxl installed (the message says to save it as CSV instead).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skmicro.workflow import read_table
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "meta.csv"
    >>> _ = path.write_text("file,hardness\\na.tif,210\\nb.tif,180\\n")
    >>> read_table(path)["hardness"].tolist()
    [210, 180]
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"Spreadsheet {str(path)!r} {what}; give a .csv, .xlsx or "
                                ".parquet file.")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path).reset_index(drop=True)
    if suffix in (".xlsx", ".xlsm", ".xls"):
        try:
            return pd.read_excel(path)
        except ImportError as exc:
            raise ImportError(f"Reading the Excel file {str(path)!r} needs openpyxl, which is "
                              "not installed: `pip install openpyxl`, or save the sheet as CSV "
                              "and pass that.") from exc
    # sep=None sniffs comma, semicolon (European Excel exports) and tab.
    return pd.read_csv(path, sep=None, engine="python")


def parse_table_column(spec):
    """Split ``"TABLE:COLUMN"`` into ``(TABLE, COLUMN)`` at the last colon.

    A ``(table, column)`` tuple is returned as it is, so callers accept both forms.

    Examples
    --------
    >>> from skmicro.workflow import parse_table_column
    >>> parse_table_column("data/metadata.csv:frac_spheroidite")
    ('data/metadata.csv', 'frac_spheroidite')
    >>> parse_table_column(r"C:\\data\\meta.csv:hardness")
    ('C:\\\\data\\\\meta.csv', 'hardness')
    """
    if isinstance(spec, tuple) and len(spec) == 2:
        return spec
    if not isinstance(spec, (str, os.PathLike)):
        raise TypeError(f"Expected 'TABLE.csv:COLUMN' or a (table, column) tuple; got "
                        f"{type(spec).__name__}.")
    table, sep, column = str(spec).rpartition(":")
    if not sep or not table or not column or "/" in column or "\\" in column:
        raise ValueError(f"Expected 'TABLE.csv:COLUMN' (a spreadsheet, a colon, a column "
                         f"name); got {str(spec)!r}. Example: metadata.csv:hardness.")
    return table, column


def _index_of(features):
    import pandas as pd

    if isinstance(features, pd.DataFrame):
        return features.index
    return pd.Index([str(f) for f in features], name="file")


def _match_counts(index_keys, values, mode):
    """Number of distinct index entries whose key (in ``mode``) occurs among ``values``."""
    keys = {_key(v, mode) for v in values}
    return sum(k in keys for k in index_keys[mode])


def _candidate_values(table, column):
    col = table[column]
    if col.dtype.kind == "f":  # 6.0 names no file; "6" might (a stem)
        return []
    return [v for v in col if not (v is None or (isinstance(v, float) and v != v))]


def _choose_column(index, table, on):
    """The spreadsheet column and match mode that pair most index entries."""
    index_keys = {m: [_key(f, m) for f in index] for m in _MATCH_MODES}
    columns = [on] if on is not None else list(table.columns)
    best = None  # (score tuple, column, mode, n)
    for pos, column in enumerate(columns):
        values = _candidate_values(table, column)
        for rank, mode in enumerate(_MATCH_MODES):
            n = _match_counts(index_keys, values, mode)
            named = str(column).strip().casefold() in _FILE_COLUMN_NAMES
            score = (n, -rank, named, -pos)
            if n and (best is None or score > best[0]):
                best = (score, column, mode, n)
    return best


def join_table(features, table, *, on=None, missing="raise"):
    """Rows of a spreadsheet, matched to a features table's rows by file name.

    Parameters
    ----------
    features : pandas.DataFrame or sequence of str
        A features table (its index, named "file", holds each micrograph's path relative to the
        folder, as ``describe_folder`` writes it) or those paths themselves.
    table : pandas.DataFrame or str or path-like
        The spreadsheet, or a file ``read_table`` reads (.csv, .xlsx, .parquet).
    on : str or None, default=None
        The spreadsheet column that names the micrographs. None chooses it: the column whose
        values pair the most features rows, compared by relative path, else by file name, else
        by file stem (name without extension), ignoring case and ``./``; on a tie a column
        called "file" (or "filename", "path", "image") wins.
    missing : {"raise", "keep"}, default="raise"
        What to do with features rows that no spreadsheet row names: "raise" a ValueError that
        lists them, or "keep" them as rows of NaN. Spreadsheet rows that name no features row
        are always left out (a sheet may describe more samples than were imaged).

    Returns
    -------
    joined : pandas.DataFrame
        The spreadsheet's columns, one row per features row, in the features table's order and
        with its index. ``joined.attrs["join"]`` records the column used, how it was matched
        ("path", "name" or "stem") and the number of rows matched.

    Raises
    ------
    ValueError
        ``on`` is not a column (the columns are listed); no column names any features row (a
        few names from each side and the columns are listed); two spreadsheet rows name the same
        micrograph; a file name matches micrographs in several subfolders (use relative paths);
        with ``missing="raise"``, some features rows are not named (listed).

    Examples
    --------
    >>> import pandas as pd
    >>> from skmicro.workflow import join_table
    >>> features = pd.DataFrame({"power_spectrum__S_r0": [1.0, 2.0]},
    ...                         index=pd.Index(["a/img1.tif", "b/img2.tif"], name="file"))
    >>> sheet = pd.DataFrame({"image": ["IMG2", "img1", "img3"], "hardness": [180, 210, 199]})
    >>> joined = join_table(features, sheet)
    >>> joined["hardness"].tolist()
    [210, 180]
    >>> joined.attrs["join"]
    {'column': 'image', 'match': 'stem', 'n_matched': 2}
    """
    import pandas as pd

    if missing not in ("raise", "keep"):
        raise ValueError(f"The 'missing' parameter of join_table must be 'raise' or 'keep'. "
                         f"Got {missing!r} instead.")
    source = _table_source(table)
    if not isinstance(table, pd.DataFrame):
        table = read_table(table)
    index = _index_of(features)
    if len(index) == 0:
        raise ValueError("The features table has no rows: nothing to join.")
    columns = ", ".join(repr(str(c)) for c in table.columns)
    if on is not None and on not in table.columns:
        raise ValueError(f"Column {on!r} is not in {source}; its columns are: {columns}.")

    best = _choose_column(index, table, on)
    if best is None:
        where = f"column {on!r}" if on is not None else "every column"
        raise ValueError(
            f"No row of {source} names a micrograph of the features table: {where} was compared "
            f"with the table's file names by relative path, file name and stem. Features rows: "
            f"{few(index)}. Spreadsheet columns: {columns}"
            + (f"; values of {on!r}: {few(_candidate_values(table, on))}." if on is not None
               else ". Add a column of the micrographs' file names (e.g. 'file'), written as "
                    "in the features table's index or as bare file names.")
        )
    _, column, mode, _ = best

    # Spreadsheet key -> row position; a key written twice is ambiguous if a micrograph has it.
    positions = {}
    duplicated = set()
    for pos, value in enumerate(table[column]):
        if value is None or (isinstance(value, float) and value != value):
            continue
        k = _key(value, mode)
        if k in positions:
            duplicated.add(k)
        positions.setdefault(k, pos)
    index_keys = [_key(f, mode) for f in index]
    clash = sorted({k for k in index_keys if k in duplicated})
    if clash:
        raise ValueError(f"Several rows of {source} name the same micrograph in column "
                         f"{column!r} (compared by {mode}): {few(clash)}. Keep one row per "
                         "micrograph.")
    if mode != "path":
        seen = {}
        for f, k in zip(index, index_keys):
            seen.setdefault(k, []).append(f)
        shared = [fs for k, fs in seen.items() if len(fs) > 1 and k in positions]
        if shared:
            raise ValueError(
                f"Column {column!r} of {source} gives file {mode}s only, and some match "
                f"micrographs in several subfolders: {few(shared[0])}. Write paths relative to "
                "the folder (as in the features table's index) in that column.")

    rows = [positions.get(k) for k in index_keys]
    unmatched = [f for f, r in zip(index, rows) if r is None]
    if unmatched and missing == "raise":
        used = {r for r in rows if r is not None}
        spare = [v for p, v in enumerate(table[column]) if p not in used]
        raise ValueError(
            f"{len(unmatched)} of {len(index)} micrographs are not named in column {column!r} "
            f"of {source} (compared by {mode}): {few(unmatched)}. Spreadsheet names that match "
            f"no micrograph: {few(spare) if spare else 'none'}. Add rows for them, or drop them "
            "from the features table.")
    # Row -1 is absent from a fresh RangeIndex: unmatched rows come out as NaN.
    joined = table.reset_index(drop=True).reindex([-1 if r is None else r for r in rows])
    joined.index = index
    joined.attrs["join"] = {"column": column, "match": mode, "n_matched": len(index)
                            - len(unmatched)}
    return joined
