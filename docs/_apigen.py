"""Writes the API reference (docs/reference/) from each public namespace's ``__all__``.

Run by docs/conf.py at every build, so a name added to an ``__all__`` gets its page without
editing any file here; tests/test_docs.py uses the same functions to check coverage without a
Sphinx build. Each object is documented once, under its canonical namespace (the deepest public
module that exports it, e.g. ``skmicro.manifold.MDSEmbedder``); the other namespaces that
export it (``skmicro``) link to that page.
"""

import importlib
import inspect
import pkgutil
from pathlib import Path

PACKAGE = "skmicro"
# Public-looking modules that are not namespaces of importable names.
NOT_NAMESPACES = {"skmicro.cli", "skmicro.__main__"}


def public_modules():
    """Names of the documented namespaces: the package and every public submodule with __all__."""
    package = importlib.import_module(PACKAGE)
    names = [PACKAGE]
    for info in pkgutil.iter_modules(package.__path__, prefix=PACKAGE + "."):
        leaf = info.name.rsplit(".", 1)[1]
        if leaf.startswith("_") or info.name in NOT_NAMESPACES:
            continue
        if hasattr(importlib.import_module(info.name), "__all__"):
            names.append(info.name)
    return names


def public_names():
    """``{module: [(name, object), ...]}`` for every documented namespace, in ``__all__`` order."""
    table = {}
    for modname in public_modules():
        module = importlib.import_module(modname)
        table[modname] = [(name, getattr(module, name)) for name in module.__all__]
    return table


def kind(obj):
    """'class', 'function' or 'data' (constants such as ``MICROGRAPH_EXTENSIONS``)."""
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def canonical_pages(table=None):
    """``{(module, name): fullname of the page documenting it}`` for every exported name.

    The page lives under the deepest exporting namespace that contains the object's defining
    module (``skmicro.manifold._mds`` -> ``skmicro.manifold``); data and names defined
    elsewhere go to the deepest namespace that exports them.
    """
    table = public_names() if table is None else table
    exporters = {}
    for modname, entries in table.items():
        for name, obj in entries:
            exporters.setdefault((name, id(obj)), []).append(modname)
    pages = {}
    for modname, entries in table.items():
        for name, obj in entries:
            candidates = sorted(exporters[(name, id(obj))], key=len, reverse=True)
            defined_in = getattr(obj, "__module__", None) if kind(obj) != "data" else None
            home = next((m for m in candidates
                         if defined_in and (defined_in + ".").startswith(m + ".")), candidates[0])
            pages[(modname, name)] = f"{home}.{name}"
    return pages


def _title(text):
    return f"{text}\n{'=' * len(text)}\n"


def _object_page(fullname, obj, aliases):
    module, name = fullname.rsplit(".", 1)
    directive = {"class": "autoclass", "function": "autofunction", "data": "autodata"}[kind(obj)]
    lines = [_title(f"``{fullname}``" if kind(obj) == "data" else name),
             f".. currentmodule:: {module}\n",
             f".. {directive}:: {name}"]
    if kind(obj) == "class":
        # Our own methods, also those inherited from skmicro bases (fit/transform of the
        # descriptors); scikit-learn's mixins are documented by scikit-learn.
        foreign = sorted({base.__name__ for base in obj.__mro__[1:]
                          if not base.__module__.startswith(PACKAGE + ".")})
        lines += ["   :members:", f"   :inherited-members: {', '.join(foreign)}"]
        # set_*_request: made by scikit-learn's metadata routing, documented there.
        routing = sorted(m for m in dir(obj) if m.startswith("set_") and m.endswith("_request"))
        if routing:
            lines.append(f"   :exclude-members: {', '.join(routing)}")
        if "__call__" in vars(obj):
            lines.append("   :special-members: __call__")
    if kind(obj) != "data":
        # "Examples using ..." from the gallery's back-references (empty when none does); they
        # are recorded under the shortest import path (skmicro.MDSEmbedder), so list all.
        lines += ["", f".. minigallery:: {' '.join(aliases)}", "   :add-heading:", ""]
    return "\n".join(lines) + "\n"


def _summary(obj):
    """The docstring's first paragraph (autosummary would cut it at "eq." or "et al."); for
    data, the value."""
    if kind(obj) == "data":
        text = repr(obj)
        return f"``{text if len(text) <= 60 else text[:57] + '...'}``"
    doc = inspect.getdoc(obj) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def _module_page(modname, entries, pages):
    lines = [_title(modname),
             f".. automodule:: {modname}", "   :no-members:", ""]
    roles = {"class": "class", "function": "func", "data": "data"}
    for group, heading in (("class", "Classes"), ("function", "Functions"), ("data", "Data")):
        rows = [(name, obj) for name, obj in entries if kind(obj) == group]
        if not rows:
            continue
        lines += [heading, "-" * len(heading), "", ".. list-table::", "   :widths: 30 70",
                  "   :class: skmicro-summary", ""]
        for name, obj in rows:
            lines += [f"   * - :{roles[group]}:`~{pages[(modname, name)]}`",
                      f"     - {_summary(obj)}"]
        lines.append("")
    own = [pages[(modname, n)] for n, _ in entries if pages[(modname, n)] == f"{modname}.{n}"]
    if own:
        lines += [".. toctree::", "   :hidden:", ""] + [f"   generated/{p}" for p in own] + [""]
    return "\n".join(lines)


def reference_files():
    """``{relative path under docs/reference: text}`` for the whole API reference."""
    table = public_names()
    pages = canonical_pages(table)
    files = {}
    for (modname, name), fullname in pages.items():
        if fullname == f"{modname}.{name}":
            obj = dict(table[modname])[name]
            aliases = sorted(f"{m}.{n}" for (m, n), page in pages.items() if page == fullname)
            files[f"generated/{fullname}.rst"] = _object_page(fullname, obj, aliases)
    for modname, entries in table.items():
        files[f"{modname}.rst"] = _module_page(modname, entries, pages)
    index = [_title("API reference"),
             "Every public name, by namespace, generated from the docstrings. The estimators",
             "are also importable from the top level (``from skmicro import MDSEmbedder``).", "",
             ".. toctree::", "   :maxdepth: 2", ""]
    index += [f"   {modname}" for modname in table] + [""]
    files["index.rst"] = "\n".join(index)
    return files


def write_reference(outdir):
    """Write the reference into ``outdir``; files are rewritten only when their text changed
    (so Sphinx's incremental build stays incremental) and stale pages are removed."""
    outdir = Path(outdir)
    files = reference_files()
    for rel, text in files.items():
        path = outdir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    for path in outdir.rglob("*.rst"):
        rel = path.relative_to(outdir).as_posix()
        if rel not in files:
            path.unlink()
    return files
