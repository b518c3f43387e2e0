"""The package's public surface: subpackage exports, lazy submodules, no torch on import."""

import subprocess
import sys
from pathlib import Path

import pytest

import skmicro

PACKAGE = Path(skmicro.__file__).parent
PUBLIC_SUBPACKAGES = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")
                            if not p.parent.name.startswith("_"))


def test_descriptors_import_from_features():
    from skmicro.features import (
        FilterBankPixelFeatures,
        FunctionPixelFeatures,
        PowerSpectrumFeatures,
        ScatteringFeatures,
        ScatteringPixelFeatures,
        VGGGramFeatures,
        VGGHypercolumnPixelFeatures,
    )

    assert skmicro.features.__all__ == [
        "FilterBankPixelFeatures", "FunctionPixelFeatures", "PowerSpectrumFeatures",
        "ScatteringFeatures", "ScatteringPixelFeatures", "VGGGramFeatures",
        "VGGHypercolumnPixelFeatures"]
    # One class each, whichever way it is imported.
    assert ScatteringFeatures is skmicro.ScatteringFeatures
    assert VGGGramFeatures is skmicro.VGGGramFeatures
    assert PowerSpectrumFeatures is skmicro.PowerSpectrumFeatures
    assert FilterBankPixelFeatures is skmicro.FilterBankPixelFeatures
    assert VGGHypercolumnPixelFeatures is skmicro.VGGHypercolumnPixelFeatures
    assert ScatteringPixelFeatures is skmicro.ScatteringPixelFeatures
    assert FunctionPixelFeatures is skmicro.FunctionPixelFeatures


def test_every_public_subpackage_is_a_lazy_attribute():
    assert "reproduce" in PUBLIC_SUBPACKAGES
    assert sorted(skmicro._SUBMODULES) == PUBLIC_SUBPACKAGES
    for name in PUBLIC_SUBPACKAGES:
        assert getattr(skmicro, name).__name__ == f"skmicro.{name}"
        assert name in dir(skmicro)


@pytest.mark.parametrize("name", PUBLIC_SUBPACKAGES)
def test_subpackage_all_names_exist(name):
    module = getattr(skmicro, name)
    for public in getattr(module, "__all__", []):
        assert hasattr(module, public), f"skmicro.{name}.__all__ lists missing {public!r}"


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        skmicro.nope  # noqa: B018


def test_importing_skmicro_and_its_descriptors_loads_no_torch():
    code = ("import sys, skmicro, skmicro.features; from skmicro.features import "
            "ScatteringFeatures; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=PACKAGE.parent)
    assert out.stdout.strip() == "False"


def test_bare_import_loads_no_numpy_and_clear_caches_resolves_lazily():
    code = ("import sys, skmicro; print('numpy' in sys.modules); skmicro.clear_caches(); "
            "print(callable(skmicro.clear_caches))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=PACKAGE.parent)
    assert out.stdout.split() == ["False", "True"]
