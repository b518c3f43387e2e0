"""Cross-validating descriptors against a measured property (skmicro.workflow.evaluate_features).

The feature tables are built here by calling the estimators directly on generated images whose
content is known: labyrinthine stripe textures of a known period (a band-pass random field, the
texture of lamellar pearlite or a spinodal pattern).
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GroupKFold, KFold, cross_val_predict
from sklearn.neighbors import KNeighborsRegressor

from skmicro import PowerSpectrumFeatures, SkmicroWarning
from skmicro.cli import main
from skmicro.workflow import evaluate_features

SIZE = 64


def _stripes(periods, rng):
    """Isotropic stripe textures whose power spectrum is a ring at 1 / period."""
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(SIZE), np.fft.fftfreq(SIZE), indexing="ij"))
    return np.stack([np.fft.ifft2(np.fft.fft2(rng.normal(size=(SIZE, SIZE)))
                                  * np.exp(-((f - 1 / p) / 0.02) ** 2 / 2)).real
                     for p in periods]).astype(np.float32)


def _table(blocks, files):
    """A features table in describe_folder's format from {descriptor: (estimator, F)}."""
    parts = [pd.DataFrame(F, columns=[f"{name}__{c}" for c in est.get_feature_names_out()])
             for name, (est, F) in blocks.items()]
    table = pd.concat(parts, axis=1)
    table["meta__height"] = SIZE
    table.index = pd.Index(files, name="file")
    return table


@pytest.fixture(scope="module")
def stripes():
    rng = np.random.default_rng(0)
    periods = rng.uniform(4, 16, 30)
    images = _stripes(periods, rng)
    ps = PowerSpectrumFeatures(radial=True, log=True, device="cpu").fit(images)
    ac = PowerSpectrumFeatures(statistic="autocorrelation", radial=True, device="cpu").fit(images)
    files = [f"run{i % 3}/img{i:02d}.tif" for i in range(len(periods))]
    table = _table({"power_spectrum": (ps, ps.transform(images)),
                    "autocorrelation": (ac, ac.transform(images))}, files)
    return table, periods


def test_a_target_read_from_the_images_is_predicted_and_a_shuffled_one_is_not(stripes):
    table, periods = stripes
    result = evaluate_features(table, periods, descriptors=["power_spectrum"])
    assert result[["descriptor", "model"]].values.tolist() == [
        ["baseline", "training mean"], ["power_spectrum", "ridge"], ["power_spectrum", "knn"]]
    fitted = result.iloc[1:]
    assert (fitted["r2_pooled"] > 0.9).all() and (fitted["r2_mean"] > 0.85).all()
    # The mean absolute error is a fraction of the period range (4 to 16).
    assert (fitted["mae"] < 1.0).all() and result["mae"].iloc[0] > 2.0
    assert result["r2_pooled"].iloc[0] < 0  # the baseline, below 0 by construction
    assert (result["n_features"] == [0, 32, 32]).all()
    assert (result["n_samples"] == 30).all() and (result["n_splits"] == 5).all()

    shuffled = np.random.default_rng(1).permutation(periods)
    result = evaluate_features(table, shuffled, descriptors=["power_spectrum"])
    assert (result["r2_pooled"] < 0.3).all() and (result["r2_mean"] < 0.3).all()


def test_each_descriptor_and_their_union_get_rows(stripes):
    table, periods = stripes
    result = evaluate_features(table, periods, models=["ridge"])
    assert result["descriptor"].tolist() == [
        "baseline", "power_spectrum", "autocorrelation", "power_spectrum+autocorrelation"]
    n_ps = table.columns.str.startswith("power_spectrum__").sum()
    n_ac = table.columns.str.startswith("autocorrelation__").sum()
    assert result["n_features"].tolist() == [0, n_ps, n_ac, n_ps + n_ac]
    assert result["r2_pooled"].iloc[3] > 0.9


def test_scores_equal_those_of_scikit_learns_cross_validation(stripes):
    """Folds are KFold(cv, shuffle=True, random_state); R^2 per fold and pooled, MAE per fold."""
    table, periods = stripes
    X = table.filter(like="power_spectrum__").to_numpy(np.float64)
    cv = KFold(4, shuffle=True, random_state=3)
    result = evaluate_features(table, periods, descriptors=["power_spectrum"], cv=4,
                               random_state=3, models=[LinearRegression()])
    pred = cross_val_predict(LinearRegression(), X, periods, cv=cv)
    per_fold = [1 - np.sum((periods[t] - pred[t]) ** 2)
                / np.sum((periods[t] - periods[t].mean()) ** 2) for _, t in cv.split(X)]
    row = result.iloc[1]
    assert row["model"] == "LinearRegression"
    assert row["r2_pooled"] == pytest.approx(
        1 - np.sum((periods - pred) ** 2) / np.sum((periods - periods.mean()) ** 2))
    assert row["r2_mean"] == pytest.approx(np.mean(per_fold))
    assert row["r2_std"] == pytest.approx(np.std(per_fold))
    assert row["r2_min"] == pytest.approx(np.min(per_fold))
    assert row["mae"] == pytest.approx(np.mean([np.mean(np.abs(periods[t] - pred[t]))
                                                for _, t in cv.split(X)]))
    # The baseline predicts the mean of each training fold.
    base = np.empty_like(periods)
    for train, test in cv.split(X):
        base[test] = periods[train].mean()
    assert result["mae"].iloc[0] == pytest.approx(np.mean([np.mean(np.abs(periods[t] - base[t]))
                                                           for _, t in cv.split(X)]))


def test_groups_keep_a_leaking_target_honest():
    """A target that only identifies the group is learnt by KFold, not by GroupKFold."""
    rng = np.random.default_rng(2)
    n_groups, per_group = 6, 8
    group_period = np.linspace(4, 16, n_groups)
    group_value = rng.permutation(n_groups).astype(float)  # unrelated to the period
    labels = np.repeat([f"specimen {g}" for g in range(n_groups)], per_group)
    images = _stripes(np.repeat(group_period, per_group), rng)
    ps = PowerSpectrumFeatures(radial=True, log=True, device="cpu").fit(images)
    files = [f"img{i:02d}.tif" for i in range(len(images))]
    table = _table({"power_spectrum": (ps, ps.transform(images))}, files)
    y = np.repeat(group_value, per_group)

    leaky = evaluate_features(table, y, models=["knn"], cv=4)
    honest = evaluate_features(table, y, groups=labels, models=["knn"], cv=4)
    assert leaky["r2_pooled"].iloc[1] > 0.8
    assert honest["r2_pooled"].iloc[1] < 0.3
    assert "GroupKFold" in honest.attrs["cv"] and "KFold" in leaky.attrs["cv"]


class _Recorder(KNeighborsRegressor):
    """A regressor whose predict fails if a test row's group was in its training fold."""

    def fit(self, X, y):
        self.seen_ = set(X[:, 0])
        return super().fit(X, y)

    def predict(self, X):
        assert not self.seen_ & set(X[:, 0]), "a group is on both sides of a split"
        return super().predict(X)


def test_group_folds_never_split_a_group():
    groups = np.repeat(np.arange(6), [1, 2, 3, 4, 5, 6])
    table = pd.DataFrame({"id__group": groups.astype(float)},
                         index=pd.Index([f"{i}.tif" for i in range(len(groups))], name="file"))
    y = np.arange(len(groups), dtype=float)
    evaluate_features(table, y, groups=groups, cv=3, models=[_Recorder(n_neighbors=1)])
    with pytest.raises(AssertionError, match="both sides"):  # KFold does split them
        evaluate_features(table, y, cv=3, models=[_Recorder(n_neighbors=1)])


def test_too_few_samples_or_groups_lower_the_folds_with_a_warning():
    table = pd.DataFrame({"d__x": np.arange(4.0)},
                         index=pd.Index(list("abcd"), name="file"))
    y = np.array([0.0, 1.0, 2.0, 3.1])
    with pytest.warns(SkmicroWarning, match=r"Only 4 samples for 5 folds \(cv=5\): using 4 "
                                            r"folds, leave-one-sample-out"):
        result = evaluate_features(table, y, models=["ridge"])
    # Leave-one-out: no fold has an R^2 of its own, the pooled one exists.
    assert (result["n_splits"] == 4).all()
    assert result["r2_mean"].isna().all() and result["r2_pooled"].iloc[1] > 0.9
    with pytest.warns(SkmicroWarning, match=r"Only 2 groups for 5 folds"):
        evaluate_features(table, y, groups=["p", "p", "q", "q"], models=["ridge"])
    with pytest.raises(ValueError, match="at least 2 groups; got 1"):
        evaluate_features(table, y, groups=["p"] * 4)


def test_rows_without_a_target_are_dropped_by_name():
    table = pd.DataFrame({"d__x": np.arange(6.0)},
                         index=pd.Index([f"m{i}.tif" for i in range(6)], name="file"))
    y = np.array([0.0, np.nan, 2.0, 3.0, 4.0, np.nan])
    with pytest.warns(SkmicroWarning, match=r"Left out 2 micrographs without a 'target' "
                                            r"value: 'm1.tif', 'm5.tif'"):
        result = evaluate_features(table, y, cv=2, models=["ridge"])
    assert (result["n_samples"] == 4).all()
    with pytest.raises(ValueError, match="at least 2 micrographs with a 'target' value; got 1"):
        with pytest.warns(UserWarning):
            evaluate_features(table, [1.0] + [np.nan] * 5)


@pytest.fixture(scope="module")
def files_on_disk(stripes, tmp_path_factory):
    """The stripe table as parquet and csv, and a spreadsheet in another order."""
    table, periods = stripes
    folder = tmp_path_factory.mktemp("evaluate")
    table.to_parquet(folder / "f.parquet")
    table.to_csv(folder / "f.csv")
    order = np.random.default_rng(4).permutation(len(table))
    sheet = pd.DataFrame({"sample": np.arange(len(table))[order] // 3,
                          "file": [table.index[i].split("/")[1] for i in order],
                          "period": periods[order], "grade": ["a"] * len(table)})
    sheet.loc[0, "sample"] = None
    sheet.to_csv(folder / "meta.csv", index=False)
    return folder


@pytest.mark.parametrize("name", ["f.parquet", "f.csv"])
def test_a_spreadsheet_column_gives_the_same_answer_as_the_array(stripes, files_on_disk, name):
    table, periods = stripes
    folder = files_on_disk
    by_array = evaluate_features(table, periods, descriptors=["power_spectrum"])
    by_sheet = evaluate_features(folder / name, f"{folder / 'meta.csv'}:period",
                                 descriptors=["power_spectrum"])
    pd.testing.assert_frame_equal(by_array, by_sheet, check_exact=False, rtol=1e-4)
    assert by_sheet.attrs["target"] == "period"
    with pytest.warns(UserWarning, match=r"without a group are each kept as a group of "
                                         r"their own \(1\)"):
        grouped = evaluate_features(folder / name, (folder / "meta.csv", "period"),
                                    groups="sample", descriptors=["power_spectrum"])
    assert "GroupKFold" in grouped.attrs["cv"]


def test_figures_one_png_per_descriptor_and_a_parquet_table(stripes, tmp_path):
    table, periods = stripes
    result = evaluate_features(table, periods, figures=tmp_path / "figs",
                               out=tmp_path / "scores.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "scores.parquet"), result)
    paths = result.attrs["figures"]
    assert [p.rsplit("/", 1)[1] for p in paths] == [
        "power_spectrum.png", "autocorrelation.png", "power_spectrum+autocorrelation.png"]
    for p in paths:
        with open(p, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_bad_input_gets_clear_messages(stripes, files_on_disk, tmp_path):
    table, periods = stripes
    sheet = files_on_disk / "meta.csv"
    with pytest.raises(ValueError, match=r"Target column 'hardness' is not in table .*its columns "
                                         r"are: 'sample', 'file', 'period', 'grade'"):
        evaluate_features(table, f"{sheet}:hardness")
    with pytest.raises(ValueError, match=r"groups='specimen' is not a column of the target's "
                                         r"spreadsheet, whose columns are: 'sample'"):
        evaluate_features(table, f"{sheet}:period", groups="specimen")
    with pytest.raises(ValueError, match=r"target 'grade' must be numeric.*'a'"):
        evaluate_features(table, f"{sheet}:grade")
    partial = pd.read_csv(sheet).iloc[3:]
    with pytest.raises(ValueError, match=r"3 of 30 micrographs are not named in column 'file'"):
        evaluate_features(table, (partial, "period"))
    with pytest.raises(ValueError, match=r"one value per features row \(30\)"):
        evaluate_features(table, periods[:10])
    with pytest.raises(ValueError, match=r"is not a features table: no descriptor column.*"
                                         r"'meta__height'"):
        evaluate_features(table[["meta__height"]], periods)
    pd.DataFrame({"hardness": [1.0, 2.0]}).to_csv(tmp_path / "plain.csv")
    with pytest.raises(ValueError, match=r"Features file '.*plain.csv' is not a features table"):
        evaluate_features(tmp_path / "plain.csv", [1.0, 2.0])
    with pytest.raises(FileNotFoundError, match=r"No features table at '.*missing.parquet'"):
        evaluate_features(tmp_path / "missing.parquet", periods)
    # A spreadsheet passed as the features table by mistake (text columns and all).
    with pytest.raises(ValueError, match=r"Features file '.*meta.csv' is not a features table"):
        evaluate_features(sheet, f"{sheet}:period")
    # Output paths are checked before any work.
    for out, error, match in [(tmp_path / "no" / "t.csv", FileNotFoundError, "does not exist"),
                              (tmp_path / "t.txt", ValueError, "must end in .parquet or .csv")]:
        with pytest.raises(error, match=match):
            evaluate_features(tmp_path / "missing.parquet", periods, out=out)
    # The figures folder is created, but like out's folder, the folder it goes in must exist.
    with pytest.raises(FileNotFoundError, match=r"cannot write figures='.*no.figs': the folder "
                                                r"'.*no' does not exist"):
        evaluate_features(tmp_path / "missing.parquet", periods, figures=tmp_path / "no" / "figs")
    (tmp_path / "a_file").write_text("")
    with pytest.raises(NotADirectoryError, match=r"it is a file, and a folder is needed"):
        evaluate_features(tmp_path / "missing.parquet", periods, figures=tmp_path / "a_file")
    with pytest.raises(ValueError, match=r"descriptors=\['vgg'\] must name descriptors of the "
                                         r"table: 'power_spectrum', 'autocorrelation'"):
        evaluate_features(table, periods, descriptors=["vgg"])
    with pytest.raises(ValueError, match=r"Unknown model 'svm'"):
        evaluate_features(table, periods, models=["svm"])
    with pytest.raises(ValueError, match=r"The 'cv' parameter of evaluate_features must be"):
        evaluate_features(table, periods, cv=1)
    nan = table.copy()
    nan.iloc[2, 0] = np.nan
    with pytest.raises(ValueError, match=r"'power_spectrum' has NaN .* rows 'run2/img02.tif'"):
        evaluate_features(nan, periods)


def test_the_callers_table_and_target_are_not_modified(stripes):
    table, periods = stripes
    before = table.copy(), periods.copy()
    y = periods.copy()
    y[0] = np.nan
    with pytest.warns(UserWarning):
        evaluate_features(table, y, models=["ridge"])
    pd.testing.assert_frame_equal(table, before[0])
    assert np.isnan(y[0]) and np.array_equal(y[1:], periods[1:])


def expected_verdict(table, periods):
    return evaluate_features(table, pd.Series(periods, table.index, name="period"), cv=3, models=["ridge"],
                             descriptors=["power_spectrum"], random_state=1).attrs["verdict"]


def test_cli_prints_the_table_and_writes_csv(stripes, files_on_disk, tmp_path, capsys):
    table, periods = stripes
    out = tmp_path / "scores.csv"
    assert main(["evaluate", str(files_on_disk / "f.parquet"),
                 "--target", f"{files_on_disk / 'meta.csv'}:period", "--cv", "3",
                 "--models", "ridge", "--descriptors", "power_spectrum", "--seed", "1",
                 "--out", str(out), "--figures", str(tmp_path / "figs")]) == 0
    head, blank, *printed = capsys.readouterr().out.splitlines()
    # the counts shared by every row are printed once, above the table
    assert (head, blank) == (f"n_samples = {len(periods)}, n_splits = 3, n_repeats = 1", "")
    # below it, a blank line, the verdict, and where the files went
    assert printed[-5:] == ["", expected_verdict(table, periods), "",
                            f"wrote {tmp_path / 'figs' / 'power_spectrum.png'}", f"wrote {out}"]
    assert printed[0].split("|")[1:3] == [" descriptor     ", " model         "]
    assert "n_samples" not in printed[0] and "n_repeats" not in printed[0]
    assert set(printed[1]) <= set("|:-")
    written = pd.read_csv(out)
    assert not list(tmp_path.glob(".*.tmp"))  # written through a temporary file, renamed
    expected = evaluate_features(table, periods, cv=3, models=["ridge"],
                                 descriptors=["power_spectrum"], random_state=1)
    pd.testing.assert_frame_equal(written, expected, check_exact=False, rtol=1e-4,
                                  check_dtype=False)
    assert f"{expected['r2_pooled'].iloc[1]:.3f}" in printed[3]
    assert (tmp_path / "figs" / "power_spectrum.png").is_file()


def _judged(model_sse, r2_mean=0.5):
    """judge() on a hand-made table: y = 0, 1, 2, 3 in two folds ({0, 1}, {2, 3}).

    SST = 5; the training-mean baseline predicts 2.5 then 0.5: SSE 8.5 in each fold, pooled R^2
    1 - 17/5 = -2.4. A fold's estimate of the gain is 2 * (8.5 - SSE_fold) / 5.
    """
    from skmicro.workflow._verdict import judge

    y = np.arange(4.0)
    pooled = 1 - sum(model_sse) / 5
    table = pd.DataFrame({"descriptor": ["baseline", "d"], "model": ["training mean", "ridge"],
                          "r2_mean": [-3.0, r2_mean], "r2_pooled": [-2.4, pooled],
                          "n_samples": 4, "n_splits": 2, "n_repeats": 1})
    sse = {("baseline", "training mean"): np.array([8.5, 8.5]), ("d", "ridge"): model_sse}
    return judge(table, sse, y, "y")


def test_the_verdict_tests_the_gain_against_its_standard_error_over_the_folds():
    # Gains per fold 3.2 and 2.8: mean 3.0 (= 0.6 - (-2.4)), std 0.2, standard error 0.2/sqrt(2).
    best, text = _judged(np.array([0.5, 1.5]))
    assert best["descriptor"] == "d" and best["model"] == "ridge" and best["beats_baseline"]
    assert best["r2_pooled"] == pytest.approx(0.6)
    assert best["baseline_r2_pooled"] == pytest.approx(-2.4)
    assert best["gain"] == pytest.approx(3.0)
    assert best["gain_se"] == pytest.approx(0.2 / np.sqrt(2))
    assert text.startswith("Verdict: d + ridge predicts 'y' best and beats the training-mean "
                           "baseline: pooled R^2 0.60 against the baseline's -2.40, a gain of "
                           "3.00 ± 0.14 (standard error over the 2 folds). Read r2_pooled "
                           "against the baseline's")
    # Gains 1.6 and 0.2: mean 0.9 < 2 * 0.7 / sqrt(2).
    best, text = _judged(np.array([4.5, 8.0]))
    assert not best["beats_baseline"] and best["gain"] == pytest.approx(0.9)
    assert "no descriptor clearly beats the training-mean baseline: the best, d + ridge" in text
    assert "less than twice its standard error" in text
    # Gains 0.2 and -0.4: worse than the mean.
    best, text = _judged(np.array([8.0, 9.5]))
    assert not best["beats_baseline"] and best["gain"] == pytest.approx(-0.1)
    assert "no descriptor predicts 'y' better than the training mean: the best, d + ridge, " \
           "has pooled R^2 -2.50 against the baseline's -2.40." in text


def test_the_verdict_says_which_r2_to_read_when_they_disagree_in_sign():
    _, text = _judged(np.array([0.5, 1.5]), r2_mean=-0.5)
    assert text.endswith("Read r2_pooled, not r2_mean (-0.50): each test fold of about 2 "
                         "micrographs is scored against its own mean, which dominates the "
                         "per-fold R^2, while r2_pooled scores all out-of-fold predictions "
                         "together, as the baseline's is scored.")


def test_the_verdict_is_returned_with_the_table(stripes):
    table, periods = stripes
    result = evaluate_features(table, periods, models=["ridge"])
    best, top = result.attrs["best"], result.iloc[1:]["r2_pooled"].idxmax()
    assert (best["descriptor"], best["model"], best["beats_baseline"]) == (
        result["descriptor"][top], "ridge", True)
    assert best["gain"] == pytest.approx(result["r2_pooled"][top] - result["r2_pooled"][0])
    assert result.attrs["verdict"].startswith(f"Verdict: {best['descriptor']} + ridge predicts "
                                              "'target' best and beats")
    noise = pd.DataFrame({"noise__a": np.random.default_rng(5).normal(size=len(periods))},
                         index=table.index)
    result = evaluate_features(noise, periods, models=["ridge"])
    assert not result.attrs["best"]["beats_baseline"]
    assert result.attrs["verdict"].startswith("Verdict: no descriptor")
    with pytest.warns(SkmicroWarning):  # one fold of one value: no R^2 anywhere
        constant = evaluate_features(noise.iloc[:4], np.ones(4), models=["ridge"])
    assert constant.attrs["best"] is None and "single value" in constant.attrs["verdict"]


def test_repeats_average_the_fold_draws_of_consecutive_seeds(stripes, tmp_path):
    table, periods = stripes
    kwargs = dict(descriptors=["power_spectrum"], models=["knn"], cv=3)
    shuffled = np.random.default_rng(1).permutation(periods)  # a noisy target: draws differ
    result = evaluate_features(table, shuffled, repeats=3, random_state=7, figures=tmp_path,
                               **kwargs)
    assert result.attrs["figures"] == [str(tmp_path / "power_spectrum.png")]
    single = [evaluate_features(table, shuffled, random_state=seed, **kwargs) for seed in (7, 8, 9)]
    pooled = [s["r2_pooled"].to_numpy() for s in single]
    assert list(result.columns[6:8]) == ["r2_pooled", "r2_pooled_std"]
    np.testing.assert_allclose(result["r2_pooled"], np.mean(pooled, axis=0))
    np.testing.assert_allclose(result["r2_pooled_std"], np.std(pooled, axis=0))
    assert (result["r2_pooled_std"] > 0).all()
    np.testing.assert_allclose(result["mae"], np.mean([s["mae"] for s in single], axis=0))
    np.testing.assert_allclose(result["r2_min"], np.min([s["r2_min"] for s in single], axis=0))
    assert (result["n_repeats"] == 3).all() and (single[0]["n_repeats"] == 1).all()
    assert "r2_pooled_std" not in single[0].columns
    assert "(mean of 3 fold draws, spread " in result.attrs["verdict"]
    with pytest.raises(ValueError, match="The 'repeats' parameter of evaluate_features"):
        evaluate_features(table, periods, repeats=0)


def test_cli_notices_are_one_clean_line_and_errors_name_options(files_on_disk, tmp_path,
                                                                 capsys):
    sheet = pd.read_csv(files_on_disk / "meta.csv")
    sheet.loc[[2, 5], "period"] = None
    sheet.to_csv(tmp_path / "meta.csv", index=False)
    args = ["evaluate", str(files_on_disk / "f.parquet"), "--target",
            f"{tmp_path / 'meta.csv'}:period", "--models", "ridge",
            "--descriptors", "power_spectrum"]
    assert main(args + ["--cv", "40"]) == 0
    err = capsys.readouterr().err
    left_out = ", ".join(repr(n) for n in sorted(
        f"run{i % 3}/img{i:02d}.tif" for i in range(30)
        if f"img{i:02d}.tif" in set(sheet.loc[[2, 5], "file"])))
    assert err.splitlines() == [
        f"skmicro evaluate: notice: Left out 2 micrographs without a 'period' value: {left_out}.",
        "skmicro evaluate: notice: Only 28 samples for 40 folds (--cv 40): using 28 folds, "
        "leave-one-sample-out."]
    assert ".py" not in err and "Warning" not in err
    # Errors name the options, not the Python function and its parameters.
    for extra, message in [
            (["--out", str(tmp_path / "no" / "t.csv")],
             f"cannot write --out {tmp_path / 'no' / 't.csv'}: the folder"),
            (["--figures", str(tmp_path / "no" / "figs")],
             f"cannot write --figures {tmp_path / 'no' / 'figs'}: the folder"),
            (["--cv", "1"], "--cv must be an int in the range [2, inf). Got 1 instead."),
            (["--repeats", "0"], "--repeats must be an int in the range [1, inf)")]:
        assert main(args + extra) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"skmicro evaluate: error: {message}"), err
        assert "evaluate_features" not in err


def test_a_fresh_process_prints_notices_without_python_source(files_on_disk, tmp_path):
    import subprocess
    import sys

    sheet = pd.read_csv(files_on_disk / "meta.csv")
    sheet.loc[[4], "period"] = None
    sheet.to_csv(tmp_path / "meta.csv", index=False)
    run = subprocess.run(
        [sys.executable, "-m", "skmicro", "evaluate", str(files_on_disk / "f.csv"), "--target",
         f"{tmp_path / 'meta.csv'}:period", "--models", "ridge", "--descriptors",
         "power_spectrum"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    name = next(n for n in pd.read_csv(files_on_disk / "f.csv")["file"]
                if n.endswith("/" + sheet.loc[4, "file"]))
    assert run.stderr == (f"skmicro evaluate: notice: Left out 1 micrograph without a 'period' "
                          f"value: '{name}'.\n")
    assert "Verdict: " in run.stdout
