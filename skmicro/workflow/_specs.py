"""Descriptors by name: the compact defaults for whole micrographs and the "NAME:key=value" specs.

A descriptor reaches :func:`~skmicro.workflow.describe_folder` as a name (``"scattering"``),
a spec with options (``"scattering:J=4,L=8"``), an estimator instance, or a ``(name,
estimator)`` pair. Named descriptors are kept as plain data (class path + parameters) until a
file actually needs computing, so that a run served entirely from the cache never imports
scikit-learn or torch.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import re
from dataclasses import dataclass, field

__all__ = ["DESCRIPTORS", "parse_descriptor"]

#: The named descriptors and their compact defaults for whole real micrographs, with the row
#: length each gives (independent of the image size):
#:
#: - ``power_spectrum``: ``PowerSpectrumFeatures(radial=True, log=True, n_bins=64)``, the
#:   ring-averaged log10 power spectrum from zero to the Nyquist frequency: 64 numbers
#:   (images of at least 128x128 pixels).
#: - ``scattering``: ``ScatteringFeatures(J=5, L=8, log=True)``, the globally averaged
#:   scattering coefficients up to order 2 over scales of 1 to 32 pixels and 8 orientations,
#:   S1 and S2 in log10: 681 numbers (images of at least 32x32).
#: - ``vgg_gram``: ``VGGGramFeatures(n_components=2048, random_state=0)``, the Gatys Gram
#:   texture vector of layers conv1_1 ... conv5_1 (305,888 numbers) projected to 2048 by a
#:   seeded Johnson-Lindenstrauss map that keeps squared distances to about 3%: 2048 numbers
#:   (images of at least 16x16).
DESCRIPTORS = {
    "power_spectrum": ("skmicro.features._power_spectrum", "PowerSpectrumFeatures",
                       {"radial": True, "log": True, "n_bins": 64}),
    "scattering": ("skmicro.features._scattering", "ScatteringFeatures",
                   {"J": 5, "L": 8, "log": True}),
    "vgg_gram": ("skmicro.features._vgg_gram", "VGGGramFeatures",
                 {"n_components": 2048, "random_state": 0}),
}

# Parameters that change how a descriptor runs, never its numbers: left out of cache keys,
# and set by describe_folder's own device / n_jobs for named descriptors.
RUNTIME_PARAMS = frozenset({"device", "n_jobs", "verbose", "batch_size"})

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _parse_value(text):
    """'4' -> 4, '0.5' -> 0.5, 'true' -> True, 'none' -> None, '[a,b]' -> ('a', 'b'), else str."""
    text = text.strip()
    if text[:1] in "[(" and text[-1:] in "])":
        inner = text[1:-1].strip()
        return tuple(_parse_value(v) for v in _split_top(inner)) if inner else ()
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "none":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _split_top(text):
    """Split on commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _check_label(label, source):
    if not isinstance(label, str) or not _NAME_RE.match(label) or "__" in label \
            or label == "meta":
        raise ValueError(
            f"Descriptor name {label!r} ({source}) is not usable as a column prefix: use "
            "letters, digits and single underscores, starting with a letter, other than "
            "'meta' (columns are named NAME__FEATURE)."
        )


def _class_params(module, cls_name):
    cls = getattr(importlib.import_module(module), cls_name)
    return cls, [p for p in inspect.signature(cls.__init__).parameters if p != "self"]


@dataclass
class DescriptorSpec:
    """One descriptor of a run: a column prefix, and how to build (or which) estimator."""

    name: str
    module: str = None
    cls_name: str = None
    params: dict = field(default_factory=dict)
    estimator: object = None  # a user's instance (then module/cls_name/params are unused)

    @property
    def named(self):
        return self.estimator is None

    @property
    def has_options(self):
        """True when a named descriptor's parameters differ from its compact defaults (whose
        validity needs no check, so a run from the cache need not import the estimator)."""
        defaults = next((d for m, c, d in DESCRIPTORS.values()
                         if (m, c) == (self.module, self.cls_name)), {})
        return self.params != defaults

    def build(self, *, device="auto", n_jobs=None):
        """The estimator (a fresh one for a named descriptor; the user's own object otherwise).

        Unknown options raise a ValueError that lists the valid ones; invalid values raise
        the estimator's own parameter error, before any image is read.
        """
        if not self.named:
            return self.estimator
        cls, valid = _class_params(self.module, self.cls_name)
        unknown = sorted(set(self.params) - set(valid))
        if unknown:
            raise ValueError(
                f"Unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} for "
                f"descriptor '{self.name}' ({self.cls_name}). Valid options: "
                f"{', '.join(p for p in valid if p not in RUNTIME_PARAMS)}."
            )
        runtime = {k: v for k, v in {"device": device, "n_jobs": n_jobs}.items() if k in valid}
        est = cls(**{**runtime, **self.params})
        est._validate_params()  # sklearn's constraint check: a bad value fails here, early
        return est

    def key(self, version):
        """A stable hash of what decides the descriptor's numbers (for the disk cache)."""
        if self.named:
            what = ["named", self.module, self.cls_name,
                    {k: v for k, v in self.params.items() if k not in RUNTIME_PARAMS}]
        else:
            what = ["instance", _canonical(self.estimator)]
        return _digest([version, what])

    def describe(self):
        """A short human-readable form, written next to the cache entries."""
        if self.named:
            opts = ",".join(f"{k}={v!r}" for k, v in self.params.items())
            return f"{self.cls_name}({opts})"
        return repr(self.estimator)


def _digest(obj):
    text = json.dumps(obj, sort_keys=True, default=repr)
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def is_fitted(est):
    """True for a fitted estimator (scikit-learn's check_is_fitted, without raising)."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(est)
        return True
    except (NotFittedError, TypeError):
        return False


def _canonical(est):
    """Class path and parameters of an estimator, recursively; a fitted one by its pickle."""
    if is_fitted(est):  # learned state decides the numbers: key by the whole object
        import pickle

        return ["fitted", hashlib.blake2b(pickle.dumps(est), digest_size=16).hexdigest()]
    params = est.get_params(deep=False) if hasattr(est, "get_params") else {}
    out = {}
    for k, v in sorted(params.items()):
        if k in RUNTIME_PARAMS:
            continue
        out[k] = _canonical(v) if hasattr(v, "get_params") else _plain(v)
    return [f"{type(est).__module__}.{type(est).__qualname__}", out]


def _plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


def _default_label(estimator):
    for label, (_, cls_name, _) in DESCRIPTORS.items():
        if type(estimator).__name__ == cls_name:
            return label
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(estimator).__name__).lower()
    return re.sub(r"_features$", "", name) or "descriptor"


def spec_from_text(text):
    """``"[LABEL=]NAME[:key=value,...]"`` -> DescriptorSpec (no import of the estimator)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"A descriptor spec must be a non-empty string; got {text!r}.")
    head, _, options = text.strip().partition(":")
    label, eq, name = head.partition("=")
    if not eq:
        label, name = head, head
    label, name = label.strip(), name.strip()
    if name not in DESCRIPTORS:
        raise ValueError(
            f"Unknown descriptor {name!r} in {text!r}. Valid descriptors: "
            f"{', '.join(DESCRIPTORS)}; options follow a colon, e.g. 'scattering:J=4,L=8'."
        )
    _check_label(label, f"from {text!r}")
    params = {}
    for item in _split_top(options):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(
                f"Cannot read option {item.strip()!r} of descriptor spec {text!r}: write "
                "key=value, separated by commas (lists in brackets: layers=[conv1_1,conv2_1])."
            )
        params[key.strip()] = _parse_value(value)
    module, cls_name, defaults = DESCRIPTORS[name]
    return DescriptorSpec(label, module, cls_name, {**defaults, **params})


def resolve_descriptors(descriptors):
    """Any accepted form of ``descriptors`` -> a list of DescriptorSpec with distinct names."""
    if isinstance(descriptors, str) or hasattr(descriptors, "fit"):
        descriptors = [descriptors]
    elif isinstance(descriptors, dict):
        descriptors = list(descriptors.items())
    try:
        items = list(descriptors)
    except TypeError:
        items = None
    if not items:
        raise ValueError(
            "The 'descriptors' parameter of describe_folder must name at least one descriptor "
            f"({', '.join(DESCRIPTORS)}), or give estimators. Got {descriptors!r} instead."
        )
    specs = []
    for item in items:
        if isinstance(item, str):
            specs.append(spec_from_text(item))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            label, est = item
            _check_label(label, "a (name, estimator) pair")
            specs.append(spec_from_text(f"{label}={est}") if isinstance(est, str)
                         else _instance_spec(label, est))
        elif hasattr(item, "fit") and hasattr(item, "transform"):
            specs.append(_instance_spec(_default_label(item), item))
        else:
            raise TypeError(
                "Each descriptor must be a name or spec string ('scattering:J=4'), an "
                "estimator with fit and transform, or a (name, estimator) pair. Got "
                f"{type(item).__name__} {item!r:.60} instead."
            )
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(
            f"Descriptor names must be distinct (they prefix the columns); {', '.join(dupes)} "
            "appears more than once. Label each, e.g. 'scattering_j3=scattering:J=3', or pass "
            "(name, estimator) pairs."
        )
    return specs


def _instance_spec(label, est):
    if not (hasattr(est, "fit") and hasattr(est, "transform")):
        raise TypeError(
            f"Descriptor {label!r} must be an estimator with fit and transform; got "
            f"{type(est).__name__}."
        )
    return DescriptorSpec(label, estimator=est)


def parse_descriptor(spec):
    """Build a descriptor from a ``"NAME:key=value,..."`` spec, as ``skmicro features`` does.

    Parameters
    ----------
    spec : str
        ``NAME`` is one of ``power_spectrum``, ``scattering``, ``vgg_gram``; the options are
        constructor parameters of its estimator, applied over the compact defaults of
        :data:`DESCRIPTORS`. Values are read as int, float, ``true``/``false``, ``none``, a
        bracketed list (``layers=[conv1_1,conv2_1]``) or else a string. ``LABEL=NAME:...``
        gives the descriptor another column prefix (for two variants of one descriptor).

    Returns
    -------
    name : str
        The column prefix (``LABEL``, or ``NAME``).
    estimator : estimator
        An unfitted instance with the defaults and the options.

    Raises
    ------
    ValueError
        An unknown descriptor name or option (the message lists the valid ones), or an
        option value the estimator rejects.

    Examples
    --------
    >>> from skmicro.workflow import parse_descriptor
    >>> name, est = parse_descriptor("scattering:J=4,rotation_invariant=true")
    >>> name, est.J, est.L, est.log, est.rotation_invariant
    ('scattering', 4, 8, True, True)
    >>> parse_descriptor("power_spectrum:bins=8")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Unknown option bins for descriptor 'power_spectrum' ... Valid options:
    statistic, radial, n_bins, log, crop, rescale, image_shape.
    """
    s = spec_from_text(spec)
    return s.name, s.build()
