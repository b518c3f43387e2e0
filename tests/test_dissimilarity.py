"""skmicro._dissimilarity: the row sources and stress math shared by manifold and metrics."""

import ast
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from skmicro._dissimilarity import (
    DissimilarityRows,
    check_dissimilarities,
    guttman_sweep,
    kruskal_stress_rows,
    sum_squares,
    symmetric_guttman_sweep,
    symmetric_product,
    upper_blocks,
)
from skmicro._engine import get_torch, resolve_device

PACKAGE = Path(__file__).resolve().parents[1] / "skmicro"
CPU = resolve_device("cpu")


def test_rows_hand_out_blocks_and_selected_columns():
    D = np.arange(20, dtype=np.float64).reshape(4, 5)
    rows = DissimilarityRows(D, CPU, columns=[4, 0])
    assert rows.shape == (4, 2)
    np.testing.assert_array_equal(rows(1, 3).numpy(), [[9.0, 5.0], [14.0, 10.0]])
    assert DissimilarityRows(D.astype(np.float32), CPU).dtype == get_torch().float32


def test_sum_squares_matches_numpy():
    D = np.random.default_rng(0).random((300, 7))
    assert sum_squares(DissimilarityRows(D, CPU)) == pytest.approx((D ** 2).sum(), rel=1e-12)


@pytest.mark.parametrize("batch_size", ["auto", 2])
def test_guttman_sweep_against_direct_formulas(batch_size):
    # G_i = sum_j (d_ij / dhat_ij) (x_i - y_j), raw = sum (d - dhat)^2; written out directly.
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=(9, 2))
    D = rng.random((6, 9)) + 0.5
    dhat = cdist(x, y)
    G_ref = ((D / dhat)[:, :, None] * (x[:, None, :] - y[None, :, :])).sum(axis=1)
    torch = get_torch()
    rows = DissimilarityRows(D, CPU, batch_size=batch_size)
    G, raw = guttman_sweep(rows, torch.from_numpy(x), torch.from_numpy(y))
    np.testing.assert_allclose(G.numpy(), G_ref, rtol=1e-10)
    assert raw == pytest.approx(((D - dhat) ** 2).sum(), rel=1e-10)


@pytest.mark.parametrize("batch_size", ["auto", 1, 3])
def test_symmetric_product_equals_full_product(batch_size):
    rng = np.random.default_rng(2)
    A = rng.random((7, 7))
    S, V = A + A.T, rng.normal(size=(7, 3))
    torch = get_torch()
    acc = torch.zeros((3, 7), dtype=torch.float64)
    rows = DissimilarityRows(S, CPU, batch_size=batch_size)
    for a, b, block in upper_blocks(rows):
        symmetric_product(acc, torch.from_numpy(V.T.copy()), block, a, b)
    np.testing.assert_allclose(acc.numpy().T, S @ V, rtol=1e-12)


@pytest.mark.parametrize("batch_size", ["auto", 1, 4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_symmetric_guttman_sweep_against_direct_formulas(batch_size, dtype):
    # Points 0 and 1 coincide: their ratio d / dhat is taken as 0 (dhat = 0), like the
    # diagonal. G_i = sum_j (d_ij / dhat_ij) (x_i - x_j), raw = sum (d - dhat)^2, written out.
    rng = np.random.default_rng(3)
    x = rng.normal(size=(9, 2))
    x[1] = x[0]
    A = rng.random((9, 9)) + 0.5
    D = A + A.T
    np.fill_diagonal(D, 0.0)
    dhat = cdist(x, x)
    ratio = np.divide(D, dhat, out=np.zeros_like(D), where=dhat > 0)
    G_ref = (ratio[:, :, None] * (x[:, None, :] - x[None, :, :])).sum(axis=1)
    torch = get_torch()
    rows = DissimilarityRows(D.astype(dtype), CPU, batch_size=batch_size)
    G, raw = symmetric_guttman_sweep(rows, torch.from_numpy(x))
    tol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(G.numpy(), G_ref, rtol=tol, atol=tol)
    assert raw == pytest.approx(((D - dhat) ** 2).sum(), rel=tol)


def test_kruskal_stress_rows_hand_checked():
    # Three points on a line at 0, 1, 3 with a dissimilarity 2 (instead of 3) between the ends:
    # stress-1 = sqrt(2 * 1^2 / (2 * (1 + 4 + 4))) = 1/3.
    D = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 2.0], [2.0, 2.0, 0.0]])
    E = np.array([[0.0], [1.0], [3.0]])
    assert kruskal_stress_rows(DissimilarityRows(D, CPU), E, CPU) == pytest.approx(1 / 3)


@pytest.mark.parametrize("D, square, match", [
    (np.array([[0.0, -1.0], [-1.0, 0.0]]), True, "non-negative"),
    (np.zeros((2, 3)), True, "square"),
    (np.eye(2), True, "zero diagonal"),
    (np.array([[0.0, 1.0], [2.0, 0.0]]), True, "symmetric"),
])
def test_check_dissimilarities_errors_name_caller_and_parameter(D, square, match):
    with pytest.raises(ValueError, match=match) as info:
        check_dissimilarities(D, square=square, caller="Caller", name="D")
    assert str(info.value).startswith("Caller")


def test_check_dissimilarities_accepts_rectangular_when_not_square():
    check_dissimilarities(np.ones((2, 3)), square=False, caller="Caller")


def _module_name(path):
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _is_module(source, name):
    folder = PACKAGE.parent.joinpath(*source.split("."), name)
    return folder.with_suffix(".py").is_file() or (folder / "__init__.py").is_file()


def _subpackage(module):
    """``skmicro.io._load`` -> ``io``; a private top-level module is its own."""
    parts = module.split(".")
    if len(parts) == 2 and parts[1].startswith("_"):
        return module
    return parts[1]


def _private_name_imports():
    """(importer, source, name) for every ``from skmicro... import _name`` across subpackages
    (e.g. metrics reaching into manifold); within one subpackage its modules share freely.

    A submodule imported by name (``from ..features import _vgg19``) is a module, not a private
    name, and ``_fit_context`` is scikit-learn's, re-exported by ``_validation``.
    """
    found = []
    for path in PACKAGE.rglob("*.py"):
        importer = _module_name(path)
        package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package.split(".")
                source = ".".join(base[:len(base) - node.level + 1] + [node.module or ""])
            else:
                source = node.module or ""
            source = source.strip(".")
            if not source.startswith("skmicro"):
                continue
            for alias in node.names:
                name = alias.name
                if (not name.startswith("_") or name == "_fit_context"
                        or _is_module(source, name)
                        or _subpackage(source) == _subpackage(importer)):
                    continue
                found.append((importer, source, name))
    return found


def test_no_module_imports_another_modules_private_names():
    assert _private_name_imports() == []
