"""The verdict on an evaluation table: the best descriptor, whether it beats the baseline beyond
the noise of the folds, and which R^2 to read."""

from __future__ import annotations

import numpy as np

__all__ = ["judge"]


def _gain(y, base_sse, model_sse, n_splits):
    """The gain in pooled R^2 over the baseline and its standard error over the folds.

    Pooled R^2 is ``1 - SSE / SST`` with one SST for every model, so the gain of a model over
    the baseline is a sum over folds, ``sum_f (SSE_base_f - SSE_f) / SST``; ``n_splits`` times
    each fold's term is that fold's estimate of the gain. Their mean is the gain (averaged over
    the repeats); their spread over the folds, divided by sqrt(n_splits), its standard error.
    Repeats re-split the same micrographs, so they steady the spread but do not shrink it.
    """
    sst = np.sum((y - y.mean()) ** 2)
    per_fold = n_splits * (np.asarray(base_sse) - np.asarray(model_sse)) / sst
    return float(per_fold.mean()), float(per_fold.std() / np.sqrt(n_splits))


def _reading(row, n_samples, n_splits):
    """Which R^2 to read, and why when per-fold and pooled R^2 disagree in sign."""
    mean, pooled = row["r2_mean"], row["r2_pooled"]
    if np.isfinite(mean) and np.sign(mean) != np.sign(pooled):
        return (f"Read r2_pooled, not r2_mean ({mean:.2f}): each test fold of about "
                f"{n_samples / n_splits:.0f} micrographs is scored against its own mean, which "
                "dominates the per-fold R^2, while r2_pooled scores all out-of-fold predictions "
                "together, as the baseline's is scored.")
    return "Read r2_pooled against the baseline's; the per-fold r2_mean is noisier."


def judge(table, fold_sse, y, target):
    """``(best, text)`` for an evaluation table (``evaluate_features``' rows, baseline first).

    ``fold_sse`` maps ``(descriptor, model)`` to the sum of squared errors of each test fold
    (every repeat's folds, in one order for all rows); ``y`` is the target of the evaluated rows.
    ``best`` is a dict (None where no R^2 is defined) and ``text`` the one-line verdict.
    """
    fitted = table.iloc[1:]
    base = table.iloc[0]
    n_splits, n_samples = int(base["n_splits"]), int(base["n_samples"])
    if fitted.empty or fitted["r2_pooled"].isna().all():
        return None, (f"Verdict: none: {target!r} takes a single value, so no model can "
                      "explain any of its variance (R^2 is undefined).")
    row = fitted.loc[fitted["r2_pooled"].idxmax()]
    gain, se = _gain(y, fold_sse[tuple(base[["descriptor", "model"]])],
                     fold_sse[(row["descriptor"], row["model"])], n_splits)
    beats = bool(gain > 0 and gain > 2 * se)
    best = dict(descriptor=row["descriptor"], model=row["model"],
                r2_pooled=float(row["r2_pooled"]),
                baseline_r2_pooled=float(base["r2_pooled"]), gain=gain, gain_se=se,
                beats_baseline=beats)
    name = f"{row['descriptor']} + {row['model']}"
    repeats = int(base["n_repeats"])
    spread = (f" (mean of {repeats} fold draws, spread {row['r2_pooled_std']:.2f})"
              if repeats > 1 else "")
    scores = (f"pooled R^2 {row['r2_pooled']:.2f}{spread} against the baseline's "
              f"{base['r2_pooled']:.2f}")
    noise = f"{gain:.2f} ± {se:.2f} (standard error over the {n_splits} folds)"
    if beats:
        text = (f"{name} predicts {target!r} best and beats the training-mean baseline: "
                f"{scores}, a gain of {noise}.")
    elif gain > 0:
        text = (f"no descriptor clearly beats the training-mean baseline: the best, {name}, "
                f"has {scores}, a gain of {noise}, less than twice its standard error.")
    else:
        text = (f"no descriptor predicts {target!r} better than the training mean: the best, "
                f"{name}, has {scores}.")
    return best, f"Verdict: {text} {_reading(row, n_samples, n_splits)}"
