"""Micrometres per pixel for each file of a run: one number, a mapping, a spreadsheet column or
a spreadsheet's scale bar (its length and its length in pixels)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from pathlib import PurePosixPath

from .._messages import SkmicroWarning

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


class MixedMagnificationWarning(SkmicroWarning):
    """A notice of :func:`describe_folder`: the micrographs were taken at different
    magnifications (their pixel sizes differ by more than 1.25x) and are described without a
    target pixel size, each at its own scale; the message says what to add.

    Examples
    --------
    >>> import warnings
    >>> from skmicro.workflow import MixedMagnificationWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", MixedMagnificationWarning)  # make it an error
    ...     try:
    ...         warnings.warn("pixel sizes differ by 10x", MixedMagnificationWarning)
    ...     except MixedMagnificationWarning as notice:
    ...         print(notice)
    pixel sizes differ by 10x
    """


# Pixel sizes (or magnifications) of one collection that differ by more than this factor get a
# notice when no target pixel size is set.
MIXED_RATIO = 1.25
_SHEETS = (".csv", ".tsv", ".txt", ".xlsx", ".parquet")


def _suggest(sizes):
    """A target pixel size to propose: the median, to two significant digits."""
    import numpy as np

    median = float(np.median(sizes))
    return float(f"{median:.2g}")


def _sheet_candidates(sheet, joined):
    """``(spec or None, values, what)`` of the first column (pair) of ``joined`` that tells
    the files' scales: a pixel-size column, a scale bar (X and X_px), or a magnification."""
    import re

    import numpy as np

    columns = [str(c) for c in joined.columns]
    numeric = {c for c in columns if joined[c].dtype.kind in "fiu"}
    for c in columns:
        low = c.casefold()
        if c in numeric and ("pixel_size" in low or "per_px" in low or "per_pixel" in low
                             or low in ("pixel_um", "um_px", "um_per_pixel")):
            return f"{sheet}:{c}", joined[c].to_numpy(float), f"column {c!r}"
    for c in columns:
        for suffix in ("_px", "_pixels", "_pix"):
            if c in numeric and c + suffix in numeric:
                with np.errstate(divide="ignore", invalid="ignore"):
                    values = joined[c].to_numpy(float) / joined[c + suffix].to_numpy(float)
                return f"{sheet}:{c}/{c}{suffix}", values, f"scale bar {c!r} / {c + suffix!r}"
    for c in columns:
        low = c.casefold()
        if "magnif" in low or low == "mag":
            values = [re.search(r"\d+(\.\d*)?", str(v)) for v in joined[c]]
            values = np.array([float(m.group()) if m else np.nan for m in values])
            return None, values, f"column {c!r}"
    return None


def _from_sheets(folders, names):
    """The first spreadsheet in ``folders`` (not recursive) that names the files and tells
    their scales: ``(sheet path, spec or None, values, what)`` or None."""
    import numpy as np

    from ._join import join_table

    for folder in folders:
        sheets = sorted(p for p in folder.iterdir()
                        if p.suffix.lower() in _SHEETS and p.is_file()
                        and p.stat().st_size < 20_000_000 and not p.name.startswith("."))
        for sheet in sheets[:10]:
            try:
                joined = join_table(names, sheet, missing="keep")
            except Exception:  # noqa: BLE001, S112 - any sheet that cannot be read or joined
                continue
            found = _sheet_candidates(sheet, joined)
            if found is not None:
                spec, values, what = found
                values = values[np.isfinite(values) & (values > 0)]
                if len(values) >= 2:
                    return sheet, spec, values, what
    return None


def magnification_notice(table, prep, folders):
    """One line when the collection mixes scales and is described without a target pixel
    size (None otherwise): from the pixel sizes in the table, else from a spreadsheet beside
    the micrographs (a pixel-size column, a scale bar, a magnification column)."""
    import numpy as np

    if prep.target_pixel_size is not None or len(table) < 2:
        return None
    sizes = table["meta__pixel_size_um"].to_numpy(dtype=float)
    known = sizes[np.isfinite(sizes)]
    if len(known) >= 2 and known.max() > MIXED_RATIO * known.min():
        target = _suggest(known)
        unknown = len(sizes) - len(known)
        return (f"The micrographs' pixel sizes differ by up to {known.max() / known.min():.1f}x "
                f"({known.min():.3g} to {known.max():.3g} um per pixel) and each is described "
                "at its own scale. To describe them at one physical scale, add "
                f"target_pixel_size={target:g}" + (
                    f" and give the pixel sizes of the {unknown} micrograph(s) that have none"
                    if unknown else "") + " (then compare both tables with evaluate).")
    if prep.pixel_size is not None or np.isfinite(sizes).all():
        return None
    found = _from_sheets(folders, [str(n) for n in table.index])
    if found is None:
        return None
    sheet, spec, values, what = found
    ratio = values.max() / values.min()
    if ratio <= MIXED_RATIO:
        return None
    if spec is None:
        return (f"The micrographs were taken at magnifications from {values.min():g}x to "
                f"{values.max():g}x ({sheet}, {what}) and are described without pixel sizes, "
                "each at its own scale. To describe them at one physical scale, give each "
                "file's pixel size with pixel_size='TABLE.csv:COLUMN' (or "
                "'TABLE.csv:LENGTH/PIXELS' from the scale bar) and a target_pixel_size.")
    target = _suggest(values)
    return (f"The micrographs' pixel sizes differ by up to {ratio:.1f}x ({sheet}, {what}) "
            "and each is described at its own scale. To describe them at one physical scale, "
            f"add pixel_size='{spec}' and target_pixel_size={target:g} (then compare both "
            "tables with evaluate).")
