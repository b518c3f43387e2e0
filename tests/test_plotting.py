"""skmicro.plotting: saved figures are non-empty and show exactly the data passed in."""

import subprocess
import sys

import numpy as np
import pytest

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.base import BaseEstimator, TransformerMixin  # noqa: E402

from skmicro.plotting import (  # noqa: E402
    plot_embedding,
    plot_power_spectrum,
    plot_s2_spectrum,
    plot_scattering_descriptor,
)

J, L = 3, 4
N1, N2 = J * L, L * L * J * (J - 1) // 2


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def saved(ax, path):
    ax.figure.savefig(path)
    assert path.stat().st_size > 1000
    return path


def scattering_names(J, L):
    """ScatteringFeatures' documented names, in kymatio's order, written out independently."""
    s1 = [f"S1_j{j}_t{t}" for j in range(J) for t in range(L)]
    s2 = [f"S2_j{a}_t{s}_j{b}_t{t}" for a in range(J) for s in range(L)
          for b in range(a + 1, J) for t in range(L)]
    return ["S0"] + s1 + s2


@pytest.fixture
def full_output():
    rng = np.random.default_rng(0)
    return rng.uniform(0.1, 2.0, size=(3, 1 + N1 + N2))


def test_s1_plot_from_plain_values(tmp_path):
    s1 = np.arange(1, 2 * N1 + 1, dtype=float).reshape(2, N1)
    ax = plot_scattering_descriptor(s1, J=J, L=L, labels=["a", "b"])
    saved(ax, tmp_path / "s1.png")
    assert len(ax.lines) == 2 + (J - 1)  # the curves, then the dashed scale separators
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(1, N1 + 1))
    np.testing.assert_allclose(ax.lines[1].get_ydata(), np.log10(s1[1]))
    assert [t.get_text() for t in ax.texts] == ["j=0", "j=1", "j=2"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]


def test_s1_plot_from_named_shuffled_columns(tmp_path, full_output):
    names = scattering_names(J, L)
    perm = np.random.default_rng(1).permutation(len(names))
    import pandas as pd
    df = pd.DataFrame(full_output[:, perm], columns=[f"scat__{names[i]}" for i in perm])
    ax = plot_scattering_descriptor(df, log=False)
    # Whatever the column order, point j * L + t + 1 is S1_j{j}_t{t}.
    np.testing.assert_allclose(ax.lines[2].get_ydata(), full_output[2, 1:1 + N1])
    # The unnamed full output gives the same curve.
    ax2 = plot_scattering_descriptor(full_output, J=J, L=L, log=False)
    np.testing.assert_allclose(ax2.lines[2].get_ydata(), full_output[2, 1:1 + N1])


class FakeScattering(TransformerMixin, BaseEstimator):
    """Stands in for ScatteringFeatures: per-image constants times known factors."""

    def fit(self, X, y=None):
        self.n_features_out_ = 1 + N1 + N2
        return self

    def transform(self, X):
        means = np.asarray(X, dtype=float).reshape(len(X), -1).mean(axis=1)
        return means[:, None] * np.arange(1, self.n_features_out_ + 1)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(scattering_names(J, L), dtype=object)


def test_s1_plot_from_estimator_and_images():
    images = np.stack([np.full((8, 8), 0.5), np.full((8, 8), 2.0)])
    est = FakeScattering()
    ax = plot_scattering_descriptor(images, estimator=est)
    assert not hasattr(est, "n_features_out_")  # a clone was fitted, not the caller's
    np.testing.assert_allclose(ax.lines[1].get_ydata(), np.log10(2.0 * np.arange(2, N1 + 2)))


def test_s2_spectrum(tmp_path, full_output):
    ax = plot_s2_spectrum(full_output, J=J, L=L, offset=2.0, show_indices=True,
                          labels=["x", "y", "z"])
    saved(ax, tmp_path / "s2.png")
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(1, N2 + 1))
    for i in range(3):
        np.testing.assert_allclose(ax.lines[i].get_ydata(),
                                   np.log10(full_output[i, 1 + N1:]) - 2.0 * i)
    strip = ax.child_axes[0]
    j1 = strip.lines[0].get_ydata()
    # kymatio's order: j1 is non-decreasing, and J=3, L=4 has 2*16 points with j1 = 0.
    assert np.all(np.diff(j1) >= 0) and (j1 == 0).sum() == 2 * L * L
    # Named columns in another order give the same curves.
    names = scattering_names(J, L)
    perm = np.random.default_rng(2).permutation(len(names))
    ax2 = plot_s2_spectrum(full_output[:, perm], feature_names=[names[i] for i in perm])
    np.testing.assert_allclose(ax2.lines[1].get_ydata(), np.log10(full_output[1, 1 + N1:]))


def test_embedding_2d_with_colour_and_angle_arrows(tmp_path):
    theta = np.linspace(0, np.pi, 10, endpoint=False)
    emb = np.c_[np.cos(2 * theta), np.sin(2 * theta), theta]
    ax = plot_embedding(emb, color=theta, color_label="theta", angles=theta, arrow_length=0.5)
    saved(ax, tmp_path / "emb.png")
    np.testing.assert_allclose(ax.collections[0].get_offsets(), emb[:, :2])
    np.testing.assert_allclose(ax.collections[0].get_array(), theta)
    quiver = ax.collections[1]
    np.testing.assert_allclose(quiver.U, 0.5 * np.cos(2 * theta))
    np.testing.assert_allclose(quiver.V, 0.5 * np.sin(2 * theta))


def test_embedding_3d_projection_and_fitted_embedder(tmp_path):
    class Fitted:
        embedding_ = np.random.default_rng(0).normal(size=(20, 4))

    ax = plot_embedding(Fitted(), components=(0, 2, 3), color=np.arange(20))
    saved(ax, tmp_path / "emb3.png")
    xs, ys, zs = ax.collections[0]._offsets3d
    np.testing.assert_allclose(np.c_[xs, ys, zs], Fitted.embedding_[:, [0, 2, 3]])
    fig, flat = plt.subplots()
    with pytest.raises(ValueError, match="3-D Axes"):
        plot_embedding(Fitted(), components=(0, 1, 2), ax=flat)


def test_power_spectrum_image_and_axes(tmp_path):
    n = 16
    stripes = np.cos(2 * np.pi * 3 * np.arange(n) / n)[None, :] * np.ones((n, 1))
    spectrum = np.abs(np.fft.fft2(stripes)) ** 2
    ax = plot_power_spectrum(spectrum)
    saved(ax, tmp_path / "ps.png")
    shown = np.asarray(ax.images[0].get_array())
    # The two peaks at q = (0, +-3) land on x = +-3, y = 0 in the displayed coordinates.
    x0, x1, y0, y1 = ax.images[0].get_extent()  # origin="lower": row 0 is the lowest q_y
    rows, cols = np.nonzero(shown == shown.max())
    assert sorted(x0 + 0.5 + cols) == [-3, 3] and set(y0 + 0.5 + rows) == {0}
    assert shown.max() == pytest.approx(np.log10(spectrum.max()))


def test_power_spectrum_from_named_half_plane_row():
    names = [f"S_qy{y}_qx{x}" for y in (0, 1, -1) for x in (0, 1)]
    row = np.array([1.0, 10.0, 100.0, 1000.0, 1e4, 1e5])
    ax = plot_power_spectrum(row, feature_names=names, colorbar=False)
    shown = np.asarray(ax.images[0].get_array())
    np.testing.assert_allclose(shown, [[4, 5], [0, 1], [2, 3]])  # rows qy = -1, 0, 1
    np.testing.assert_allclose(ax.images[0].get_extent(), [-0.5, 1.5, -1.5, 1.5])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: plot_scattering_descriptor(np.ones((2, 5))), "J and L"),
        (lambda: plot_scattering_descriptor(np.ones((2, 5)), J=J, L=L), "expected 12 S1"),
        (lambda: plot_scattering_descriptor(-np.ones((1, N1)), J=J, L=L), "log=False"),
        (lambda: plot_scattering_descriptor(np.ones((1, 2)), feature_names=["a", "b"]),
         "no S1 features"),
        (lambda: plot_scattering_descriptor(np.ones((1, N1)), J=J, L=L, labels=["a", "b"]),
         "2 labels for 1"),
        (lambda: plot_s2_spectrum(np.ones((1, 7)), J=J, L=L), "expected 48 S2"),
        (lambda: plot_embedding(np.ones(5)), "n_components >= 2"),
        (lambda: plot_embedding(np.ones((5, 2)), color=[1, 2]), "2 values for 5"),
        (lambda: plot_embedding(np.ones((5, 2)), components=(0, 2)), "components"),
        (lambda: plot_power_spectrum(np.ones(4)), "2-D spectrum"),
        (lambda: plot_power_spectrum(np.ones((4, 4)), log="yes"),
         "The 'log' parameter of plot_power_spectrum must be an instance of 'bool'"),
        (lambda: plot_scattering_descriptor(np.ones((1, N1)), J=0, L=L),
         r"The 'J' parameter of plot_scattering_descriptor must be None or an int in the "
         r"range \[1, inf\)"),
        (lambda: plot_embedding(np.ones((5, 2)), arrow_length=-1.0),
         r"The 'arrow_length' parameter of plot_embedding must be None or a float in the "
         r"range \(0.0, inf\)"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_import_is_lazy_and_broken_matplotlib_says_reinstall():
    code = (
        "import sys; sys.modules['matplotlib'] = None; sys.modules['matplotlib.pyplot'] = None\n"
        "import skmicro.plotting as p\n"
        "try:\n    p.plot_embedding([[0, 1], [1, 0]])\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "matplotlib" in out.stdout and "reinstall skmicro" in out.stdout
    assert "skmicro[" not in out.stdout
