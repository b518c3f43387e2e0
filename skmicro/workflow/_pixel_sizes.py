"""Micrometres per pixel for each file of a run: one number, a mapping, a spreadsheet column or
a spreadsheet's scale bar (its length and its length in pixels)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from pathlib import PurePosixPath

#: The two spreadsheet forms of ``pixel_size``, as error messages and help texts show them.
FORMS = ("'TABLE.csv:COLUMN' (a column of micrometres per pixel) or "
         "'TABLE.csv:LENGTH/PIXELS' (a scale bar: a column of its length in micrometres and "
         "one of its length in pixels, e.g. 'metadata.csv:micron_bar/micron_bar_px')")

# A scale bar's unit column (LENGTH_units or LENGTH_unit), if the sheet has one: its values
# in micrometres.
_UNITS = {"um": 1.0, "µm": 1.0, "μm": 1.0, "micron": 1.0, "microns": 1.0, "micrometer": 1.0,
          "micrometre": 1.0, "micrometers": 1.0, "micrometres": 1.0, "nm": 1e-3, "mm": 1e3}


@dataclass(frozen=True)
class TableSpec:
    """A spreadsheet and its column of pixel sizes, or (``pixels`` set) its scale-bar columns:
    pixel size = ``column`` / ``pixels``."""

    table: str
    column: str
    pixels: str | None = None

    def __str__(self):
        return f"{self.table}:{self.column}" + (f"/{self.pixels}" if self.pixels else "")


def parse_pixel_size(value, caller):
    """A number (str numbers too), a :class:`TableSpec` for a spreadsheet form, or the value
    itself (None, a mapping); raises for anything else, naming the two spreadsheet forms."""
    if value is None or hasattr(value, "items"):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return _positive(value, caller)
    if not isinstance(value, str):
        raise TypeError(
            f"The 'pixel_size' parameter of {caller} must be None (read from the files), a "
            "number (micrometres per pixel, for every image), a mapping / pandas Series from "
            f"file name to micrometres per pixel, or {FORMS}. Got {type(value).__name__} "
            "instead."
        )
    try:
        return _positive(float(value), caller)
    except ValueError:
        pass
    table, sep, column = value.rpartition(":")
    length, slash, pixels = column.partition("/")
    if not sep or not table or not length or (slash and (not pixels or "/" in pixels)) \
            or "\\" in column:
        raise ValueError(
            f"The 'pixel_size' parameter of {caller} must be a number of micrometres per pixel "
            f"or {FORMS}. Got {value!r} instead."
        )
    return TableSpec(table, length, pixels or None)


def _positive(value, caller):
    if not (0 < value < math.inf):
        raise ValueError(
            f"The 'pixel_size' parameter of {caller} must be positive and finite (micrometres "
            f"per pixel). Got {value!r} instead."
        )
    return float(value)


def pixel_sizes(pixel_size, names):
    """One value (float, or None where unknown) per table file name ``names``.

    ``pixel_size`` is what :func:`parse_pixel_size` returned. A mapping is looked up by the
    file name as in the table (``"sub/a.tif"``) and then by its base name (``"a.tif"``);
    NaN counts as unknown.
    """
    if pixel_size is None:
        return [None] * len(names)
    if isinstance(pixel_size, float):
        return [pixel_size] * len(names)
    if isinstance(pixel_size, TableSpec):
        pixel_size = _from_table(pixel_size, names)
    mapping = {str(k): v for k, v in dict(pixel_size.items()).items()}
    out = []
    for name in names:
        value = mapping.get(name, mapping.get(PurePosixPath(name).name))
        if isinstance(value, numbers.Real) and math.isnan(value):
            value = None
        if value is not None and not (isinstance(value, numbers.Real) and value > 0
                                      and math.isfinite(value)):
            raise ValueError(
                f"The 'pixel_size' given for '{name}' must be a positive number of "
                f"micrometres per pixel. Got {value!r} instead."
            )
        out.append(None if value is None else float(value))
    return out


def _numeric(joined, column, spec):
    if column not in joined.columns:
        raise ValueError(
            f"The pixel_size table '{spec.table}' has no column {column!r}; its columns are "
            f"{', '.join(map(str, joined.columns))}. Write {FORMS}."
        )
    values = joined[column]
    if values.dtype.kind not in "fiu":
        raise ValueError(
            f"The pixel_size column {column!r} of '{spec.table}' must hold numbers "
            f"({'micrometres' if spec.pixels is None or column != spec.pixels else 'pixels'}"
            f"{' per pixel' if spec.pixels is None else ''}); it holds {values.dtype} values "
            f"such as {values.iloc[0]!r}."
        )
    return values.to_numpy(dtype=float)


def _unit_factors(joined, spec):
    """Micrometres per unit of the scale bar's length column, per row (1 without a unit
    column)."""
    import numpy as np

    for unit_column in (f"{spec.column}_units", f"{spec.column}_unit"):
        if unit_column in joined.columns:
            factors = []
            for value in joined[unit_column]:
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    factors.append(np.nan)
                    continue
                factor = _UNITS.get(str(value).strip().lower())
                if factor is None:
                    raise ValueError(
                        f"The scale bar's unit column {unit_column!r} of '{spec.table}' holds "
                        f"{value!r}; known units: um, nm, mm. Convert the lengths to "
                        "micrometres or fix the unit."
                    )
                factors.append(factor)
            return np.array(factors)
    return 1.0


def _from_table(spec, names):
    """``{file name: micrometres per pixel or NaN}`` from a spreadsheet, rows matched by file
    name (:func:`join_table`)."""
    import numpy as np

    from ._join import join_table

    joined = join_table(list(names), spec.table, missing="keep")
    if spec.pixels is not None and f"{spec.column}/{spec.pixels}" in joined.columns:
        spec = TableSpec(spec.table, f"{spec.column}/{spec.pixels}")  # a column named a/b
    if spec.pixels is None:
        values = _numeric(joined, spec.column, spec)
    else:
        length = _numeric(joined, spec.column, spec) * _unit_factors(joined, spec)
        pixels = _numeric(joined, spec.pixels, spec)
        bad = np.flatnonzero(~(pixels > 0) & ~np.isnan(pixels))
        if bad.size:
            raise ValueError(
                f"The scale bar of '{names[bad[0]]}' is {pixels[bad[0]]:g} pixels long "
                f"(column {spec.pixels!r} of '{spec.table}'): a scale bar's length in pixels "
                "must be positive. Fix that row, or leave it empty to use what the file "
                "declares."
            )
        with np.errstate(invalid="ignore"):
            values = length / pixels
    return dict(zip(names, values.tolist()))
