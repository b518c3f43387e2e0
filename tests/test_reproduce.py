"""The Lubbers 2017 reproduction on a tiny configuration: schema, files, and sanity of scores."""

import json
import re

import numpy as np
import pytest

from skmicro.cli import main
from skmicro.reproduce import Lubbers2017Settings, run_lubbers2017


def _tiny(**kw):
    base = dict(image_size=32, angle_amplitudes=[0.5], angle_sizes=[12], angle_trials=2,
                grid_per_axis=3, grid_dims=[1, 2, 3], regression_dim=3,
                descriptors=("power_spectrum",))
    base.update(kw)
    return Lubbers2017Settings.quick(**base)


def test_results_schema_and_files(tmp_path):
    res = run_lubbers2017(settings=_tiny(), out=tmp_path, device="cpu", verbose=0)
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert on_disk["angle_task"] == res["angle_task"]
    row, = on_disk["angle_task"]
    assert set(row) >= {"descriptor", "noise_amplitude", "n_images", "rmse", "rmse_std",
                        "stress", "trials"}
    assert row["descriptor"] == "power_spectrum" and row["trials"] == 2
    assert row["n_images"] == 12 and row["noise_amplitude"] == 0.5
    assert 0 <= row["rmse"] <= np.pi / np.sqrt(12) + 1e-9  # RMSE of wrapped residuals is bounded
    assert 0 <= row["stress"] < 1
    g = on_disk["grid_task"]["power_spectrum"]
    assert g["embedding_dims"] == [1, 2, 3]
    assert len(g["stress"]) == len(g["r2_scale"]) == len(g["r2_noise"]) == 3
    assert len(g["knn_r2_scale"]) == len(g["knn_r2_noise"]) == 3
    # cross-validated R^2 can be negative, never above 1
    assert all(-10 < v <= 1 for v in g["knn_r2_scale"] + g["knn_r2_noise"])
    assert on_disk["settings"]["knn_neighbors"] == 10 and on_disk["settings"]["knn_folds"] == 5
    # more dimensions never fit the distances worse (up to optimizer noise)
    assert g["stress"][2] <= g["stress"][0] + 1e-3
    assert 0 <= g["regression_angle_deg"] <= 180
    table = (tmp_path / "table.md").read_text()
    assert table.startswith("## Angle task")
    assert "| power_spectrum kNN R^2 A |" in table and "| power_spectrum R^2 A |" in table
    for name in ("fig5_rings.png", "fig6_rmse_vs_A.png", "fig7_stress_vs_A.png",
                 "fig8_stress_vs_dim.png", "fig9_embedding3d_power_spectrum.png"):
        assert (tmp_path / name).stat().st_size > 1000


def test_grid_task_only_with_other_noise_field(tmp_path):
    kw = dict(tasks=("grid",), grid_dims=[2, 3], regression_dim=2)
    res = run_lubbers2017(settings=_tiny(**kw), out=tmp_path, device="cpu", verbose=0)
    assert res["angle_task"] == [] and list(res["grid_task"]) == ["power_spectrum"]
    assert (tmp_path / "table.md").read_text().startswith("## Grid task")
    assert (tmp_path / "fig8_stress_vs_dim.png").exists()
    assert not (tmp_path / "fig5_rings.png").exists()
    # the Perlin settings reach the data: a 4x coarser noise unit changes the distances
    other = run_lubbers2017(settings=_tiny(noise_unit=1 / 16, **kw), device="cpu", verbose=0,
                            figures=False)
    assert other["settings"]["noise_unit"] == 1 / 16
    assert other["grid_task"]["power_spectrum"]["stress"] != res["grid_task"][
        "power_spectrum"]["stress"]
    with pytest.raises(ValueError, match="tasks"):
        run_lubbers2017(settings=_tiny(tasks=("fig1",)), verbose=0)


def test_same_seed_same_numbers():
    a = run_lubbers2017(settings=_tiny(grid_dims=[2]), device="cpu", verbose=0, figures=False)
    b = run_lubbers2017(settings=_tiny(grid_dims=[2]), device="cpu", verbose=0, figures=False)
    assert a["angle_task"][0]["rmse"] == pytest.approx(b["angle_task"][0]["rmse"], rel=1e-6)


def test_unknown_descriptor():
    with pytest.raises(ValueError, match="unknown descriptors"):
        run_lubbers2017(settings=_tiny(), descriptors=["sift"], verbose=0)


def test_cli_demo(capsys):
    assert main(["demo", "--size", "32", "--n-pairs", "2", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "| 90 |" in out


def test_fig8_shows_every_embedding_dimension_of_the_table(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from skmicro.reproduce._figures import fig_stress_vs_dim

    closed = []
    monkeypatch.setattr(plt, "close", closed.append)  # keep the figure to inspect it
    grid = {"power_spectrum": {"embedding_dims": [1, 2, 10, 50], "stress": [0.4, 0.2, 0.05, 0.01]}}
    fig_stress_vs_dim(grid, tmp_path / "fig8.png")
    (ax,) = closed[0].axes
    (line,) = ax.lines
    assert list(line.get_xdata()) == [1, 2, 10, 50]  # D* = 50 is in Table I, so in the figure
    assert list(line.get_ydata()) == [0.4, 0.2, 0.05, 0.01]
    assert 50 in ax.get_xticks() and ax.get_xlim()[1] > 50
    plt.close(closed[0])


def test_demo_distances_rise_above_the_noise_floor():
    from skmicro.reproduce import run_demo

    rows = [line.split("|")[1:3] for line in run_demo(size=64, n_realizations=3, device="cpu")
            .splitlines() if re.match(r"\| \d", line)]
    mean = {int(a): float(d) for a, d in rows}
    assert sorted(mean) == [0, 2, 4, 8, 16, 32, 64, 90]
    assert mean[90] > 1.2 * mean[0] and mean[64] > mean[0]
    with pytest.raises(ValueError, match="n_realizations >= 2"):
        run_demo(n_realizations=1)


def test_cli_rejects_unknown_paper():
    with pytest.raises(SystemExit):
        main(["reproduce", "gatys2015"])


def test_reproduce_out_folder_is_checked_before_the_work(tmp_path, capsys):
    # Like every output of skmicro: created if missing, but the folder that holds it must exist.
    assert main(["reproduce", "lubbers2017", "--quick", "--out", str(tmp_path / "no" / "res"),
                 "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skmicro reproduce: error: cannot write --out {tmp_path / 'no' / 'res'}"
                          f": the folder '{tmp_path / 'no'}' does not exist."), err
