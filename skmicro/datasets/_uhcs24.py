"""The example data shipped with skmicro: 24 real SEM micrographs of ultrahigh-carbon steel.

The folder ``data/uhcs24`` beside this module holds the micrographs unchanged (TIFFs with the
microscope's data bar), the experts' label masks, ``metadata.csv``, ``folds.json``, and the
attribution and licence (CC BY-SA 3.0 US) that travel with them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

__all__ = ["load_uhcs24", "export_uhcs24"]

UHCS24_FOLDER = Path(__file__).resolve().parent / "data" / "uhcs24"
CLASS_NAMES = ("matrix", "network", "spheroidite", "widmanstatten")
UNLABELLED = 255
DATA_BAR_ROWS = 38


def _folder():
    if not (UHCS24_FOLDER / "metadata.csv").is_file():
        raise FileNotFoundError(
            f"skmicro's example data is missing from '{UHCS24_FOLDER}': the installation is "
            "incomplete. Reinstall skmicro (pip install --force-reinstall skmicro)."
        )
    return UHCS24_FOLDER


def load_uhcs24(*, return_labels=True):
    """Load the 24 SEM micrographs of ultrahigh-carbon steel that ship with skmicro.

    Real scanning-electron micrographs (522 x 645 pixels, 8-bit grey) as the microscope wrote
    them, data bar included (the bottom 38 rows), taken at 491x to 4910x; with the experts'
    per-pixel microconstituent labels, a spreadsheet of processing conditions, scale bars and
    area fractions, and the six validation folds of DeCost et al. (2019).

    The data are **not** under skmicro's licence: they are CC BY-SA 3.0 US, "Ultrahigh Carbon
    Steel Microconstituent Annotations", B. DeCost, M. Hecht, T. Sibley, T. Francis,
    B. Webler, Y. Picard, E. Holm (https://hdl.handle.net/11256/940). Attribute them as in
    ``DESCR`` in any figure or document made from them.

    Parameters
    ----------
    return_labels : bool, default=True
        Also read the 24 label masks (``labels``). With False the Bunch has no ``labels``.

    Returns
    -------
    data : :class:`sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        images : ndarray of shape (24, 522, 645), uint8
            The micrographs, in the order of ``file_names``, unchanged from the TIFF files.
        labels : ndarray of shape (24, 522, 645), uint8
            Only with ``return_labels=True``: one class index per pixel, 0 to 3 as in
            ``class_names``, and 255 (unlabelled) in the data bar, rows 484 to 521.
        metadata : pandas.DataFrame of shape (24, 19)
            ``metadata.csv``, one row per micrograph in the order of ``file_names``: ``file``,
            ``magnification``, the scale bar (``micron_bar``, ``micron_bar_px``) and the pixel
            size computed from it (``pixel_size_um``, micrometres per pixel), the processing
            (``anneal_temperature``, ``anneal_time``, ``cool_method``, ...), the specimen
            (``sample_label``: 12 specimens), ``primary_microconstituent`` and the area
            fractions ``frac_matrix``, ``frac_network``, ``frac_spheroidite`` and
            ``frac_widmanstatten`` measured on the labels.
        file_names : list of str
            The TIFF file names (``"uhcs0006.tif"``, ...), sorted.
        folds : ndarray of shape (24,), int64
            The validation fold (0 to 5, four micrographs each) of each micrograph, as in
            DeCost et al. (2019); for :class:`~sklearn.model_selection.PredefinedSplit`.
        class_names : list of str
            ``["matrix", "network", "spheroidite", "widmanstatten"]``, the meaning of the
            label values 0 to 3.
        data_bar_rows : int
            38, the rows of the data bar at the bottom of each image (``crop_data_bar=38``).
        folder : pathlib.Path
            The installed folder of the files; read from it, never write into it (write a
            copy with :func:`export_uhcs24`).
        DESCR : str
            The folder's README: description, sources, attribution and licence.

    See Also
    --------
    export_uhcs24 : Write a copy of the folder, e.g. to run ``skmicro features`` on it.

    References
    ----------
    .. [1] B. L. DeCost, B. Lei, T. Francis and E. A. Holm, "High throughput quantitative
       metallography for complex microstructures using deep learning: a case study in
       ultrahigh carbon steel", Microscopy and Microanalysis 25 (2019) 21-29.

    Examples
    --------
    >>> from skmicro.datasets import load_uhcs24
    >>> uhcs = load_uhcs24()
    >>> uhcs.images.shape, uhcs.images.dtype.name
    ((24, 522, 645), 'uint8')
    >>> uhcs.file_names[:2]
    ['uhcs0006.tif', 'uhcs0007.tif']
    >>> columns = ["file", "magnification", "micron_bar", "micron_bar_px", "pixel_size_um"]
    >>> print(uhcs.metadata[columns].head(3).round(4).to_string(index=False))
            file magnification  micron_bar  micron_bar_px  pixel_size_um
    uhcs0006.tif         1178X        20.0            124         0.1613
    uhcs0007.tif          982x        20.0            103         0.1942
    uhcs0075.tif          982x        20.0            103         0.1942
    >>> sorted(set(uhcs.labels[0, :484].ravel().tolist()))
    [0, 1, 2, 3]
    """
    if not isinstance(return_labels, (bool, np.bool_)):
        raise TypeError("The 'return_labels' parameter of load_uhcs24 must be True or False. "
                        f"Got {return_labels!r} instead.")
    import pandas as pd
    from sklearn.utils import Bunch

    from ..io import load_micrographs

    folder = _folder()
    metadata = pd.read_csv(folder / "metadata.csv")
    file_names = sorted(p.name for p in folder.glob("*.tif"))
    metadata = metadata.set_index("file").loc[file_names].reset_index()
    fold_of = {name: int(fold) for fold, names in
               json.loads((folder / "folds.json").read_text())["folds"].items()
               for name in names}
    data = Bunch(
        images=np.stack(load_micrographs([folder / n for n in file_names])),
        metadata=metadata,
        file_names=file_names,
        folds=np.array([fold_of[n] for n in file_names], dtype=np.int64),
        class_names=list(CLASS_NAMES),
        data_bar_rows=DATA_BAR_ROWS,
        folder=folder,
        DESCR=(folder / "README.md").read_text(encoding="utf-8"),
    )
    if return_labels:
        masks = [folder / "labels" / (Path(n).stem + ".png") for n in file_names]
        data.labels = np.stack(load_micrographs(masks))
    return data


def export_uhcs24(out):
    """Write a copy of skmicro's example micrographs to a folder, ready for ``skmicro features``.

    The folder gets the 24 TIFF micrographs (byte for byte as shipped), ``labels/`` (the 24
    label masks, PNG), ``metadata.csv``, ``folds.json``, and ``README.md`` and ``LICENSE.txt``:
    the attribution and the CC BY-SA 3.0 US licence under which the data may be shared.
    :func:`load_uhcs24` describes the contents. The command line does the same:
    ``skmicro datasets uhcs24 --out DIR``.

    Parameters
    ----------
    out : str or path-like
        The folder to write. It is created (with its parents) if missing; an existing folder
        must be empty.

    Returns
    -------
    folder : pathlib.Path
        ``out``, as a path.

    Raises
    ------
    FileExistsError
        ``out`` is a file, or a folder that is not empty (nothing is written).
    TypeError
        ``out`` is not a path.

    See Also
    --------
    load_uhcs24 : The same data as arrays and a DataFrame.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skmicro.datasets import export_uhcs24
    >>> folder = export_uhcs24(Path(tempfile.mkdtemp()) / "uhcs24")
    >>> len(list(folder.glob("*.tif"))), len(list(folder.glob("labels/*.png")))
    (24, 24)
    >>> sorted(p.name for p in folder.iterdir() if p.suffix != ".tif")
    ['LICENSE.txt', 'README.md', 'folds.json', 'labels', 'metadata.csv']
    """
    try:
        out = Path(out)
    except TypeError:
        raise TypeError("The 'out' parameter of export_uhcs24 must be a folder path (str or "
                        f"path-like). Got {type(out).__name__} instead.") from None
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"Cannot write the example data to '{out}': it is a file. Give "
                              "the path of a new (or empty) folder.")
    if out.is_dir() and any(out.iterdir()):
        raise FileExistsError(f"Cannot write the example data to '{out}': the folder is not "
                              "empty. Give a new folder, or empty this one.")
    source = _folder()
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_file() and not any(part.startswith((".", "__")) for part in relative.parts):
            (out / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out / relative)  # the data, not the installation's permissions
    return out
