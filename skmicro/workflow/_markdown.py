"""A table as aligned Markdown text, for printing results on a terminal or in a page."""

from __future__ import annotations

from ._join import few

__all__ = ["format_table"]


def format_table(table, *, digits=3, above=None):
    """A DataFrame as an aligned Markdown (pipe) table, numbers right-aligned.

    Parameters
    ----------
    table : pandas.DataFrame
        Printed without its index (``reset_index()`` first to keep it).
    digits : int, default=3
        Decimals of floating-point columns.
    above : list of str, optional
        Columns that hold one value in every row (such as ``n_samples`` and ``n_splits`` of
        :func:`evaluate_features`): printed once, on a line above the table (then a blank
        line), which keeps the table narrow. A listed column whose rows differ stays in the
        table.

    Returns
    -------
    text : str

    Examples
    --------
    >>> import pandas as pd
    >>> from skmicro.workflow import format_table
    >>> scores = pd.DataFrame({"model": ["ridge", "knn"], "r2": [0.91234, -0.5],
    ...                        "n_samples": [24, 24]})
    >>> print(format_table(scores, above=["n_samples"]))
    n_samples = 24
    <BLANKLINE>
    | model |     r2 |
    |:------|-------:|
    | ridge |  0.912 |
    | knn   | -0.500 |
    """
    import pandas as pd

    def text_of(values):
        if pd.api.types.is_float_dtype(values):
            return [("" if pd.isna(v) else f"{v:.{digits}f}") for v in values]
        return ["" if pd.isna(v) else str(v) for v in values]

    header = []
    for column in above or ():
        if column not in table.columns:
            raise ValueError(f"The 'above' parameter of format_table names {column!r}, which "
                             f"is not a column; the columns are: {few(table.columns)}.")
        if len(table) and table[column].nunique(dropna=False) == 1:
            header.append(f"{column} = {text_of(table[column].iloc[:1])[0]}")
            table = table.drop(columns=column)
    cells, right = [], []
    for column in table.columns:
        values = table[column]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        cells.append([str(column), *text_of(values)])
        right.append(numeric)
    widths = [max(len(s) for s in col) for col in cells]
    lines = []
    for i in range(len(table) + 1):
        parts = [c[i].rjust(w) if r else c[i].ljust(w) for c, w, r in zip(cells, widths, right)]
        lines.append("| " + " | ".join(parts) + " |")
    rule = [("-" * (w + 1) + ":") if r else (":" + "-" * (w + 1)) for w, r in zip(widths, right)]
    lines.insert(1, "|" + "|".join(rule) + "|")
    if header:  # a blank line after it keeps the text valid Markdown
        lines[:0] = [", ".join(header), ""]
    return "\n".join(lines)
