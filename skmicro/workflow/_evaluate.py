"""Cross-validate each descriptor of a features table against a measured property."""

from __future__ import annotations

import numbers
import os
import re
import warnings
from pathlib import Path

import numpy as np

from .._engine import progress_bar
from .._messages import SkmicroWarning
from .._paths import check_output_folder
from .._validation import Interval, validate_params
from ._join import few, join_table, parse_table_column, read_table
from ._table import check_table_path, descriptor_columns, read_features, write_table
from ._verdict import judge

__all__ = ["evaluate_features"]

MODELS = ("ridge", "knn")
COLUMNS = ["descriptor", "model", "n_features", "r2_mean", "r2_std", "r2_min", "r2_pooled",
           "mae", "n_samples", "n_splits", "n_repeats"]
BASELINE = ("baseline", "training mean")


def _load_features(features):
    """A features table (``describe_folder``'s format) from a DataFrame or a .parquet/.csv file,
    checked to hold descriptor columns (a DataFrame is returned as it is, not copied)."""
    import pandas as pd

    if isinstance(features, pd.DataFrame):
        descriptor_columns(features.columns, "The features table")
        return features
    if not isinstance(features, (str, os.PathLike)):
        raise TypeError(f"The 'features' parameter of evaluate_features must be a features "
                        f"table (a pandas DataFrame) or its .parquet/.csv file. Got "
                        f"{type(features).__name__} instead.")
    source = f"Features file {str(features)!r}"
    if Path(features).suffix.lower() == ".csv" and Path(features).is_file():
        # Check the header first: a spreadsheet passed by mistake gets this message, not a
        # failed conversion of its text columns to float.
        descriptor_columns(pd.read_csv(features, nrows=0, index_col=0).columns, source)
    frame = read_features(features)
    descriptor_columns(frame.columns, source)
    return frame


def _align(values, index, what):
    """A 1-D object array aligned with the features rows (by label for a matching Series)."""
    import pandas as pd

    if isinstance(values, pd.Series) and set(values.index) >= set(index):
        if values.index.has_duplicates:
            raise ValueError(f"{what}: the Series index repeats labels; give one value per row.")
        return values.reindex(index).to_numpy()
    values = np.asarray(values, dtype=object if not isinstance(values, np.ndarray) else None)
    if values.ndim != 1 or len(values) != len(index):
        raise ValueError(f"{what} must give one value per features row ({len(index)}), in the "
                         f"table's order; got shape {values.shape}.")
    return values


def _is_table_column(spec):
    """``"TABLE:COLUMN"`` or ``(table, "COLUMN")`` (a file or a DataFrame), not values."""
    return isinstance(spec, str) or (
        isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], str)
        and (isinstance(spec[0], (str, os.PathLike)) or hasattr(spec[0], "columns")))


def _table_column(frame, spec, what):
    """(values, column, joined spreadsheet) for a ``"TABLE:COLUMN"`` spec."""
    import pandas as pd

    table, column = parse_table_column(spec)
    source = f"table {str(table)!r}" if not isinstance(table, pd.DataFrame) else "the table"
    sheet = table if isinstance(table, pd.DataFrame) else read_table(table)
    if column not in sheet.columns:
        raise ValueError(f"{what} column {column!r} is not in {source}; its columns are: "
                         f"{', '.join(repr(str(c)) for c in sheet.columns)}.")
    joined = join_table(frame, table)  # the file again, so that errors name it
    return joined[column].to_numpy(), str(column), joined


def _resolve_target(frame, target):
    """(values, name, spreadsheet or None) from an array, a Series or "TABLE:COLUMN"."""
    if _is_table_column(target):
        return _table_column(frame, target, "Target")
    name = getattr(target, "name", None)
    return _align(target, frame.index, "target"), str(name) if name else "target", None


def _resolve_groups(frame, groups, joined):
    if groups is None:
        return None
    if isinstance(groups, str) and joined is not None and groups in joined.columns:
        return joined[groups].to_numpy()
    if isinstance(groups, str) and ":" not in groups:
        where = ("the target's spreadsheet, whose columns are: "
                 + ", ".join(repr(str(c)) for c in joined.columns)) if joined is not None \
            else "a spreadsheet: give the target as 'TABLE.csv:COLUMN', or groups as " \
                 "'TABLE.csv:COLUMN' or an array"
        raise ValueError(f"groups={groups!r} is not a column of {where}.")
    if _is_table_column(groups):
        return _table_column(frame, groups, "Groups")[0]
    return _align(groups, frame.index, "groups")


def _numeric_target(values, name):
    import pandas as pd

    numeric = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)
    bad = list(dict.fromkeys(v for v, x in zip(values, numeric) if np.isnan(x)
                             and not pd.isna(v)))
    if bad:
        raise ValueError(f"The target {name!r} must be numeric (evaluate fits regressors); "
                         f"these values are not numbers: {few(bad)}. Give a numeric column, "
                         "or encode the classes as numbers first.")
    if np.isinf(numeric).any():
        raise ValueError(f"The target {name!r} has infinite values; give finite numbers.")
    return numeric


def _group_codes(groups, index):
    """Integer codes; a row without a group becomes a group of its own (with a warning)."""
    import pandas as pd

    codes, _ = pd.factorize(pd.Series(groups, dtype=object), use_na_sentinel=True)
    missing = np.flatnonzero(codes < 0)
    if missing.size:
        warnings.warn(f"Micrographs without a group are each kept as a group of their own "
                      f"({missing.size}): {few(index[missing])}.", SkmicroWarning, stacklevel=4)
        codes = codes.copy()
        codes[missing] = codes.max(initial=-1) + 1 + np.arange(missing.size)
    return codes


def _splitter(cv, n_samples, groups):
    """``(make(seed) -> splitter, n_splits)``, the folds lowered (with a notice) to the number
    of samples or groups."""
    from sklearn.model_selection import GroupKFold, KFold

    units, what = (n_samples, "samples") if groups is None else (len(np.unique(groups)), "groups")
    if units < 2:
        raise ValueError(f"Cross-validation needs at least 2 {what}; got {units}. Give "
                         f"micrographs of at least 2 {what}"
                         + (" (specimens), or leave groups out." if groups is not None else "."))
    if cv > units:
        warnings.warn(f"Only {units} {what} for {cv} folds (cv={cv}): using {units} folds, "
                      f"leave-one-{what[:-1]}-out.", SkmicroWarning, stacklevel=4)
        cv = units
    kind = KFold if groups is None else GroupKFold
    return lambda seed: kind(cv, shuffle=True, random_state=seed), cv


def _model_factories(models):
    """``[(name, make(n_train) -> unfitted regressor)]``."""
    from sklearn.base import clone
    from sklearn.linear_model import RidgeCV
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if isinstance(models, str) or not len(models):
        raise ValueError(f"The 'models' parameter of evaluate_features must be a non-empty list "
                         f"of 'ridge', 'knn' or regressors, e.g. ['ridge']. Got {models!r} "
                         "instead.")
    out = []
    for model in models:
        if model == "ridge":
            # RidgeCV picks alpha by efficient leave-one-out on the training fold only; the grid
            # scales with the number of features (the trace of the scaled X^T X is n * p).
            out.append(("ridge", lambda n, p: make_pipeline(
                StandardScaler(), RidgeCV(alphas=max(p, 1) * np.logspace(-4, 3, 15)))))
        elif model == "knn":
            out.append(("knn", lambda n, p: make_pipeline(
                StandardScaler(), KNeighborsRegressor(n_neighbors=max(1, min(5, n - 1))))))
        elif hasattr(model, "fit") and hasattr(model, "predict"):
            out.append((type(model).__name__, lambda n, p, m=model: clone(m)))
        else:
            raise ValueError(f"Unknown model {model!r}: use 'ridge', 'knn' or a scikit-learn "
                             "regressor instance.")
    return out


class _Mean:
    """The baseline: predict the mean of the training fold."""

    def fit(self, X, y):
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def _r2(y, pred):
    """R^2, or NaN where it is undefined (under 2 samples or a constant target)."""
    if len(y) < 2:
        return np.nan
    ss = np.sum((y - y.mean()) ** 2)
    return 1.0 - np.sum((y - pred) ** 2) / ss if ss > 0 else np.nan


def _cross_validate(make, X, y, split_sets):
    """Cross-validate over each repeat's folds: out-of-fold predictions per repeat, and per
    fold (over all repeats) R^2, mean absolute error and sum of squared errors."""
    oofs, r2, mae, sse = [], [], [], []
    for splits in split_sets:
        oof = np.empty_like(y)
        for train, test in splits:
            pred = np.asarray(make(len(train)).fit(X[train], y[train]).predict(X[test]), float)
            oof[test] = pred.ravel()
            r2.append(_r2(y[test], oof[test]))
            mae.append(np.mean(np.abs(y[test] - oof[test])))
            sse.append(np.sum((y[test] - oof[test]) ** 2))
        oofs.append(oof)
    return dict(oof=oofs, r2=np.asarray(r2), mae=np.asarray(mae), sse=np.asarray(sse),
                pooled=np.array([_r2(y, oof) for oof in oofs]))


def _row(descriptor, model, n_features, y, scores, n_splits, repeats):
    r2 = scores["r2"]
    finite = r2[np.isfinite(r2)]
    stats = (finite.mean(), finite.std(), finite.min()) if finite.size else (np.nan,) * 3
    row = dict(zip(COLUMNS, (descriptor, model, n_features, *stats, scores["pooled"].mean(),
                             scores["mae"].mean(), len(y), n_splits, repeats)))
    if repeats > 1:
        row["r2_pooled_std"] = scores["pooled"].std()
    return row


def _repeat_seeds(random_state, repeats):
    """The fold seeds: random_state itself once; random_state, +1, ... for an int; drawn from
    it otherwise."""
    from sklearn.utils import check_random_state

    if repeats == 1:
        return [random_state]
    if isinstance(random_state, numbers.Integral):
        return [int(random_state) + r for r in range(repeats)]
    return list(check_random_state(random_state).randint(np.iinfo(np.int32).max, size=repeats))


def _figure(path, y, oof, descriptor, model, r2, target_name):
    """Predicted (out of fold) against measured, identity line, R^2 in the title."""
    from matplotlib.figure import Figure  # no pyplot: no backend state, Agg when saved
    from matplotlib.ticker import MaxNLocator
    from sklearn.metrics import PredictionErrorDisplay

    fig = Figure(figsize=(4.5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    PredictionErrorDisplay.from_predictions(y, oof, kind="actual_vs_predicted", ax=ax)
    for axis in (ax.xaxis, ax.yaxis):  # round tick values instead of min..max in 5 steps
        axis.set_major_locator(MaxNLocator(6))
    ax.set_xlabel(f"predicted {target_name} (out of fold)")
    ax.set_ylabel(f"measured {target_name}")
    ax.set_title(f"{descriptor}, {model}: R$^2$ = {r2:.2f} (out of fold, n = {len(y)})",
                 fontsize=10)
    fig.savefig(path, dpi=120)


# Warnings use stacklevel counted through validate_params' wrapper, so they name the caller.
@validate_params(
    {"features": "no_validation", "target": "no_validation", "groups": "no_validation",
     "cv": [Interval(numbers.Integral, 2, None, closed="left")],
     "repeats": [Interval(numbers.Integral, 1, None, closed="left")],
     "models": [list, tuple],
     "descriptors": [None, list, tuple],
     "random_state": ["random_state"],
     "figures": [None, str, os.PathLike],
     "out": [None, str, os.PathLike],
     "verbose": [Interval(numbers.Integral, 0, None, closed="left"), "boolean"]},
    prefer_skip_nested_validation=True,
)
def evaluate_features(features, target, *, groups=None, cv=5, repeats=1, models=MODELS,
                      descriptors=None, random_state=0, figures=None, out=None, verbose=0):
    """Cross-validate each descriptor of a features table (and their union) against a target.

    For each descriptor (every column prefix of the table other than ``meta``), and for the
    union of the chosen descriptors when there are several, each model is cross-validated on
    the same folds, and so is a baseline that predicts the mean of the training fold. This is
    "which descriptor predicts my property, and how well" without writing a Pipeline.

    Parameters
    ----------
    features : pandas.DataFrame or str or path-like
        A features table (``describe_folder``'s output) or its .parquet/.csv file.
    target : str, tuple, pandas.Series or array-like
        The property to predict: ``"TABLE.csv:COLUMN"`` or ``(table, column)`` (a spreadsheet
        file or DataFrame, joined to the features rows by file name with ``join_table``), or one
        value per features row (a Series indexed like the table is aligned by label). Rows with
        a missing target are left out with a warning that names them.
    groups : str, tuple, array-like or None, default=None
        Samples that must never be split between training and test folds (e.g. several
        micrographs of one specimen): a column of the target's spreadsheet, a
        ``"TABLE.csv:COLUMN"``, or one label per row. Given, folds are GroupKFold; otherwise
        KFold. A row without a group is a group of its own (with a warning).
    cv : int, default=5
        Number of folds; lowered, with a warning, to the number of samples (or groups) when
        there are fewer.
    repeats : int, default=1
        Repeat the cross-validation with this many fold draws (seeds ``random_state``,
        ``random_state + 1``, ... for an int) and report means over them: on a few dozen
        micrographs one draw of folds can move R^2 by 0.3, so one split misleads.
    models : sequence of {"ridge", "knn"} or regressors, default=("ridge", "knn")
        "ridge": StandardScaler + RidgeCV, alpha chosen from ``n_features * 10**[-4 ... 3]``
        (15 values) by leave-one-out within the training fold (the test fold never tunes
        anything). "knn": StandardScaler + KNeighborsRegressor with
        ``k = min(5, n_train - 1)``. A scikit-learn regressor instance is cloned per fold.
    descriptors : list of str or None, default=None
        Descriptors to evaluate (column prefixes); None evaluates all of them.
    random_state : int, RandomState instance or None, default=0
        Shuffles the samples (KFold) or groups (GroupKFold) into folds.
    figures : str or path-like or None, default=None
        Folder for one ``{descriptor}.png`` per descriptor: the out-of-fold predictions of its
        best model (highest ``r2_pooled``) against the measured values, with the identity line
        (from the first fold draw). The folder is created if missing; the folder it goes into
        must exist, as for ``out`` (checked before any work).
    out : str or path-like or None, default=None
        Also write the table there, as ``.csv`` or ``.parquet`` (by suffix); a wrong suffix or
        a missing folder is reported before any work.
    verbose : int, default=0
        Show a progress bar over the fits when > 0.

    Returns
    -------
    table : pandas.DataFrame
        One row per (descriptor, model), the baseline first, with columns ``descriptor``,
        ``model``, ``n_features``, ``r2_mean``, ``r2_std``, ``r2_min`` (R^2 of each test fold:
        mean, standard deviation, worst), ``r2_pooled`` (R^2 of all out-of-fold predictions
        together, as ``cross_val_predict`` gives them), ``mae`` (mean absolute error, mean over
        folds), ``n_samples``, ``n_splits`` and ``n_repeats``. With ``repeats > 1`` the
        per-fold figures are over the folds of every repeat, ``r2_pooled`` and ``mae`` are
        means over the repeats, and a column ``r2_pooled_std`` after ``r2_pooled`` holds the
        standard deviation of ``r2_pooled`` over the repeats.

        ``table.attrs`` holds ``"target"`` (its name), ``"cv"`` (the splitter of the first
        repeat), ``"figures"`` (their paths), ``"verdict"`` (one line of text, which the
        command line prints below the table) and ``"best"``: a dict with the ``descriptor``
        and ``model`` of the highest ``r2_pooled``, that ``r2_pooled``, the baseline's
        (``baseline_r2_pooled``), the ``gain`` of the first over the second and its standard
        error over the folds (``gain_se``), and ``beats_baseline``: whether the gain exceeds
        twice its standard error (None when the target is constant). See Notes.

    Raises
    ------
    ValueError
        No descriptor column in the table; a missing folder for ``out`` or ``figures``; a target or groups column missing from the
        spreadsheet (its columns are listed); micrographs the spreadsheet does not name (a few
        are listed); a non-numeric target; fewer than 2 samples (or groups) with a target.

    See Also
    --------
    join_table : How the spreadsheet's rows are matched to the micrographs.

    Notes
    -----
    With few samples a test fold holds a handful of micrographs, and its R^2 (measured against
    that fold's own mean) swings widely from fold to fold: ``r2_mean`` is noisy and
    ``r2_min`` can be far below it. ``r2_pooled`` uses every out-of-fold prediction at once
    and is the steadier figure for small collections; compare each row against the baseline,
    whose ``r2_pooled`` is slightly below 0 by construction. A test fold of one sample or of a
    constant target has no R^2 and is left out of ``r2_mean``, ``r2_std`` and ``r2_min``.

    The verdict names the row with the highest ``r2_pooled`` and tests it against the
    baseline on the same folds: pooled R^2 is ``1 - SSE / SST`` with one SST for all rows, so
    the gain over the baseline is a sum of one term per test fold, ``(SSE_baseline - SSE) /
    SST``. ``n_splits`` times each term is that fold's estimate of the gain; their mean is the
    gain, and their standard deviation over ``sqrt(n_splits)`` its standard error. The row
    "beats the baseline" when the gain exceeds twice that standard error. The verdict then says
    which R^2 to read, and why when the row's ``r2_mean`` and ``r2_pooled`` differ in sign.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skmicro.workflow import evaluate_features
    >>> rng = np.random.default_rng(0)
    >>> y = rng.uniform(0, 1, 20)
    >>> table = pd.DataFrame({"good__a": y + 0.01 * rng.normal(size=20),
    ...                       "noise__a": rng.normal(size=20)},
    ...                      index=pd.Index([f"{i}.tif" for i in range(20)], name="file"))
    >>> result = evaluate_features(table, y, models=["ridge"])
    >>> result[["descriptor", "model", "n_features"]].values.tolist()
    [['baseline', 'training mean', 0], ['good', 'ridge', 1], ['noise', 'ridge', 1], \
['good+noise', 'ridge', 2]]
    >>> bool(result["r2_pooled"].iloc[1] > 0.99 > 0.2 > result["r2_pooled"].iloc[2])
    True
    >>> result.attrs["best"]["beats_baseline"]  # the verdict: attrs["verdict"] says it in words
    True
    """
    import pandas as pd

    out = None if out is None else check_table_path(out, caller="evaluate_features")
    figures = None if figures is None else check_output_folder(
        figures, caller="evaluate_features", param="figures")
    frame = _load_features(features)
    blocks = descriptor_columns(frame.columns)
    if descriptors is not None:
        unknown = [d for d in descriptors if d not in blocks]
        if unknown or not descriptors:
            raise ValueError(f"descriptors={list(descriptors)!r} must name descriptors of the "
                             f"table: {', '.join(map(repr, blocks))}.")
        blocks = {d: blocks[d] for d in descriptors}
    if len(blocks) > 1:
        blocks["+".join(blocks)] = [c for cols in list(blocks.values()) for c in cols]
    factories = _model_factories(models)

    raw, target_name, joined = _resolve_target(frame, target)
    y = _numeric_target(raw, target_name)
    group_values = _resolve_groups(frame, groups, joined)
    keep = ~np.isnan(y)
    if not keep.all():
        left_out = int((~keep).sum())
        warnings.warn(f"Left out {left_out} micrograph{'s' * (left_out > 1)} without a "
                      f"{target_name!r} value: {few(frame.index[~keep])}.", SkmicroWarning,
                      stacklevel=3)
    y = y[keep]
    index = frame.index[keep]
    if y.size < 2:
        raise ValueError(f"Cross-validation needs at least 2 micrographs with a {target_name!r} "
                         f"value; got {y.size}.")
    codes = None if group_values is None else _group_codes(group_values[keep], index)
    make_splitter, n_splits = _splitter(cv, y.size, codes)
    splitters = [make_splitter(seed) for seed in _repeat_seeds(random_state, repeats)]
    split_sets = [list(s.split(np.zeros((y.size, 1)), y, codes)) for s in splitters]

    used = dict.fromkeys(c for cols in blocks.values() for c in cols)
    non_numeric = [c for c in used if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise ValueError(f"Descriptor columns must be numeric; these are not: "
                         f"{few(non_numeric)}.")
    scores = _cross_validate(lambda n: _Mean(), np.zeros((y.size, 0)), y, split_sets)
    rows, best, fold_sse = [_row(*BASELINE, 0, y, scores, n_splits, repeats)], {}, {}
    fold_sse[BASELINE] = scores["sse"]
    with progress_bar(len(blocks) * len(factories), verbose=verbose, desc="evaluate",
                      unit="model") as bar:
        for descriptor, cols in blocks.items():
            X = frame.loc[keep, cols].to_numpy(dtype=np.float64)
            if not np.isfinite(X).all():
                bad = index[~np.isfinite(X).all(axis=1)]
                raise ValueError(f"Descriptor {descriptor!r} has NaN or infinite values in "
                                 f"rows {few(bad)}; recompute or drop those rows.")
            for name, make in factories:
                scores = _cross_validate(lambda n: make(n, X.shape[1]), X, y, split_sets)
                row = _row(descriptor, name, X.shape[1], y, scores, n_splits, repeats)
                rows.append(row)
                fold_sse[descriptor, name] = scores["sse"]
                if descriptor not in best or row["r2_pooled"] > best[descriptor][0]:
                    # its figure shows the first fold draw: that draw's predictions and R^2
                    best[descriptor] = (row["r2_pooled"], name, scores["pooled"][0],
                                        scores["oof"][0])
                bar.update()
    columns = COLUMNS if repeats == 1 else \
        COLUMNS[:COLUMNS.index("r2_pooled") + 1] + ["r2_pooled_std"] + \
        COLUMNS[COLUMNS.index("r2_pooled") + 1:]
    table = pd.DataFrame(rows, columns=columns)
    verdict_best, verdict = judge(table, fold_sse, y, target_name)
    table.attrs.update(target=target_name, cv=repr(splitters[0]), figures=[], verdict=verdict,
                       best=verdict_best)
    if figures is not None:
        for descriptor, (_, name, r2_pooled, oof) in best.items():
            path = figures / (re.sub(r"[^\w.+-]", "_", descriptor) + ".png")
            _figure(path, y, oof, descriptor, name, r2_pooled, target_name)
            table.attrs["figures"].append(str(path))
    if out is not None:
        write_table(table, out, index=False)
    return table
