"""Sphinx configuration: MyST user guide, numpydoc API reference, executed example gallery.

Build (README, "Documentation"):  python -m sphinx -W -b html docs docs/_build/html
Quick, without running the gallery examples:  add ``-D plot_gallery=0``.
Nothing here needs the network: intersphinx links to scikit-learn, NumPy, PyTorch and Python
are added only from local inventories (docs/_inventories/<name>.inv) or, online, when
SKMICRO_DOCS_INTERSPHINX=1; MathJax is served from the build (sphinx-mathjax-offline).
"""

import os
import sys
import tempfile
import zlib
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the checkout's skmicro even when another copy is installed.
sys.path[:0] = [str(ROOT), str(DOCS)]

import _apigen  # noqa: E402

import skmicro  # noqa: E402

project = "skmicro"
author = "skmicro developers"
copyright = "2026, skmicro developers"
release = skmicro.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static: math renders without network
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# examples/ is the gallery's input (sphinx-gallery renders it into auto_examples/); scripts/,
# img/ and results/ hold files the pages link to, not pages.
exclude_patterns = ["_build", "examples", "scripts", "results", "img", "Thumbs.db", ".DS_Store"]

# The API reference is generated from each public namespace's __all__ at every build.
_apigen.write_reference(DOCS / "reference")

# -- MyST: the Markdown pages stay plain Markdown ----------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "deflist", "colon_fence"]
myst_heading_anchors = 3
# Unlabelled code fences in the pages are mostly program output and tables, not Python.
highlight_language = "text"

# -- autodoc / numpydoc ------------------------------------------------------------------------
autodoc_typehints = "none"  # the numpydoc Parameters sections carry the types
autodoc_member_order = "groupwise"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- intersphinx: optional, never fatal offline -------------------------------------------------
# Local inventories (docs/_inventories/<name>.inv) are used when present; SKMICRO_DOCS_INTERSPHINX=1
# fetches the rest online, with an empty inventory as the fallback location, so that a failed
# fetch is only logged (Sphinx warns, and -W fails, only when every location fails).
_INVENTORIES = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "sklearn": "https://scikit-learn.org/stable/",
    "torch": "https://docs.pytorch.org/docs/stable/",
}


def _empty_inventory():
    path = Path(tempfile.gettempdir()) / "skmicro-docs-empty-objects.inv"
    if not path.exists():
        path.write_bytes(b"# Sphinx inventory version 2\n# Project: none\n# Version: 0\n"
                         b"# The remainder of this file is compressed using zlib.\n"
                         + zlib.compress(b""))
    return str(path)


intersphinx_mapping = {}
for _name, _url in _INVENTORIES.items():
    _local = DOCS / "_inventories" / f"{_name}.inv"
    if _local.exists():
        intersphinx_mapping[_name] = (_url, str(_local))
    elif os.environ.get("SKMICRO_DOCS_INTERSPHINX") == "1":
        intersphinx_mapping[_name] = (_url, (None, _empty_inventory()))
intersphinx_timeout = 10

# -- sphinx-gallery ----------------------------------------------------------------------------
# Every examples/plot_*.py runs at build time; the UHCS ones read the example micrographs that
# ship with skmicro (skmicro.datasets.load_uhcs24).
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|/_",
    "doc_module": ("skmicro",),
    "backreferences_dir": "reference/backrefs",
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 5,
    "matplotlib_animations": False,
    "download_all_examples": False,
}

# -- HTML --------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skmicro {release}"
html_theme_options = {
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "navbar_persistent": ["search-button"],
    "header_links_before_dropdown": 6,
    "show_toc_level": 2,
    # The five-minute page shows wide command output: it gets the width of the right sidebar.
    "secondary_sidebar_items": {"**": ["page-toc", "sourcelink"], "quickstart": []},
}
# Pages without sub-pages get no (empty) section navigation on the left.
html_sidebars = {page: [] for page in ("index", "lubbers2017", "benchmarks", "api")}
html_show_sourcelink = True
html_static_path = []
