"""The documentation site: every public name has a reference page with an example, and the
site builds with warnings as errors (quick mode: gallery examples not executed)."""

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

pytest.importorskip("sphinx")
docscrape = pytest.importorskip("numpydoc.docscrape")


def _load_apigen():
    spec = importlib.util.spec_from_file_location("skmicro_docs_apigen", DOCS / "_apigen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


apigen = _load_apigen()


def _public_subpackages():
    """Public subpackages found on disk (independent of the generator's import-based walk)."""
    return sorted(f"skmicro.{p.name}" for p in (ROOT / "skmicro").iterdir()
                  if (p / "__init__.py").exists() and not p.name.startswith("_"))


def test_every_public_subpackage_is_a_documented_namespace():
    missing = set(_public_subpackages()) - set(apigen.public_modules())
    assert not missing, (f"public subpackages without __all__ (so without API pages): "
                         f"{sorted(missing)}; give each an __all__")


def test_every_public_name_has_a_reference_page():
    files = apigen.reference_files()
    pages = apigen.canonical_pages()
    for modname in apigen.public_modules():
        module = importlib.import_module(modname)
        assert f"{modname}.rst" in files
        for name in module.__all__:
            fullname = pages[(modname, name)]
            assert f"generated/{fullname}.rst" in files, f"{modname}.{name} has no page"
            # the page documents the very object the namespace exports
            home, leaf = fullname.rsplit(".", 1)
            assert getattr(importlib.import_module(home), leaf) is getattr(module, name)
            # and the namespace's page lists it
            assert f"`~{fullname}`" in files[f"{modname}.rst"], f"{modname}.rst lacks {name}"


def _documented_callables():
    seen = {}
    for entries in apigen.public_names().values():
        for name, obj in entries:
            if apigen.kind(obj) != "data":
                seen[id(obj)] = (name, obj)
    return sorted(seen.values(), key=lambda item: item[0])


@pytest.mark.parametrize("name, obj", _documented_callables(), ids=lambda v: v
                         if isinstance(v, str) else "")
def test_public_docstring_has_examples(name, obj):
    doc = (docscrape.ClassDoc(obj, config={"show_class_members": False})
           if apigen.kind(obj) == "class" else docscrape.FunctionDoc(obj))
    assert any(">>>" in line for line in doc["Examples"]), f"{name}: no Examples doctest"


def test_docs_build_quick(tmp_path):
    """`sphinx -W` over a copy of docs/ (so the build writes nothing into the checkout),
    with ``plot_gallery=0``: a broken docstring, page or link target fails here."""
    src = tmp_path / "docs"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns(
        "_build", "auto_examples", "reference", "sg_execution_times.rst", "__pycache__"))
    (tmp_path / "benchmarks").mkdir()
    shutil.copy(ROOT / "benchmarks" / "README.md", tmp_path / "benchmarks" / "README.md")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    out = tmp_path / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-D", "plot_gallery=0", "-d", str(tmp_path / "doctrees"), str(src), str(out)],
        capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, (
        "the docs build has warnings (-W). A new page goes into a toctree (docs/guide.md for the "
        "user guide, docs/index.md otherwise); a link must point at a page or an existing "
        "file; docstrings are numpydoc + reStructuredText (a trailing '_' as in "
        "'n_features_in_)' is a link in RST: write it in ``double backticks``).\n"
        + proc.stdout[-3000:] + proc.stderr[-6000:])
    for fullname in set(apigen.canonical_pages().values()):
        assert (out / "reference" / "generated" / f"{fullname}.html").exists(), fullname
    assert (out / "auto_examples" / "index.html").exists()
    assert (out / "_static" / "mathjax" / "tex-chtml.js").exists()  # math renders offline
