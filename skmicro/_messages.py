"""How skmicro's messages reach people: its warning class, and their command-line form.

Standard library only and importing nothing of ours, so that every layer (the engine included)
can raise :class:`SkmicroWarning`. The Python API raises warnings that a caller can filter; the
command line (``skmicro.cli.main``) shows them with :func:`command_line_notices` as one clean
line each, and rewrites the Python names in messages (``The 'cv' parameter of
evaluate_features``, ``out='x.csv'``) as the options a person typed (``--cv``, ``--out``) with
:func:`for_command_line`.
"""

from __future__ import annotations

import contextlib
import re
import sys
import warnings

__all__ = ["SkmicroWarning", "command_line_notices", "for_command_line"]


class SkmicroWarning(UserWarning):
    """A notice from skmicro: something the user should know, though the work went on.

    For example rows left out of an evaluation because their target is missing, or fewer
    folds than asked for. Every warning skmicro raises about the user's data or parameters is
    of this class (or a subclass, such as :class:`~skmicro.PrecisionFallbackWarning`), so one
    filter silences or escalates them all; it is a :class:`UserWarning`. The command line
    prints each as one line, ``skmicro COMMAND: notice: ...``.

    Examples
    --------
    >>> import warnings
    >>> from skmicro import SkmicroWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", SkmicroWarning)  # stop at the first notice
    ...     try:
    ...         warnings.warn("2 micrographs have no target value.", SkmicroWarning)
    ...     except SkmicroWarning as notice:
    ...         print(notice)
    2 micrographs have no target value.
    """


# "The 'cv' parameter of evaluate_features" / "The 'cv' parameter of MDSEmbedder"
_PARAMETER = re.compile(r"\b[Tt]he '(\w+)' parameter of [\w.]+")
# "describe_folder cannot write out='x'" -> "cannot write out='x'"
_CALLER_VERB = re.compile(r"\b[a-z]\w*_\w+ (cannot|can't|could not) ")
# "map_collection: cannot ..." or "MDSEmbedder: X must ..." at the start of a message
_CALLER_PREFIX = re.compile(r"^(?:[a-z]\w*_\w+|[A-Z][a-z]+[A-Z]\w*): ")
# "run_demo needs ..." at the start of a message (a function name, then a verb)
_CALLER_SUBJECT = re.compile(r"^([a-z]\w*_\w+) (?=[a-z])")
# "size >= 8": a name compared with a value
_COMPARISON = re.compile(r"\b(\w+)(?= (?:>=|<=|>|<|==|!=) )")
# name=value, the value quoted, bracketed or a plain token
_ASSIGNMENT = re.compile(r"\b(\w+)=('[^']*'|\"[^\"]*\"|\[[^\]]*\]|[^\s,;:)]+)")


def _value(text):
    """A value as typed on a command line: quotes kept only where it holds a space, a list as
    its items."""
    if text.startswith("[") and text.endswith("]"):
        return " ".join(_value(item.strip()) for item in text[1:-1].split(",") if item.strip())
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"" and " " not in text:
        return text[1:-1]
    return text


def for_command_line(message, options):
    """``message`` with Python parameter names replaced by the options that set them.

    Parameters
    ----------
    message : str
        An error or warning text of the Python API.
    options : dict of str to str
        Python parameter name -> what a person types, e.g. ``{"out": "--out",
        "random_state": "--seed", "features": "FEATURES"}``. Names not listed stay as they are.

    Returns
    -------
    text : str
        ``The 'cv' parameter of evaluate_features`` becomes ``--cv``, ``cv=7`` becomes
        ``--cv 7`` (a list ``--descriptors a b``), ``size >= 8`` becomes ``--size >= 8``, and
        a leading ``describe_folder:``, ``run_demo needs`` or ``describe_folder cannot`` loses
        the function's name (the command line names the command instead).

    Examples
    --------
    >>> from skmicro._messages import for_command_line
    >>> for_command_line("describe_folder cannot write out='a/b.csv': the folder 'a' does "
    ...                  "not exist.", {"out": "--out"})
    "cannot write --out a/b.csv: the folder 'a' does not exist."
    >>> for_command_line("The 'cv' parameter of evaluate_features must be an int in the "
    ...                  "range [2, inf). Got 1 instead.", {"cv": "--cv"})
    '--cv must be an int in the range [2, inf). Got 1 instead.'
    """
    def parameter(match):
        name = match.group(1)
        return options[name] if name in options else match.group(0)

    def assignment(match):
        name, value = match.groups()
        if name not in options:
            return match.group(0)
        option, typed = options[name], _value(value) or "''"  # an empty value is typed ''
        return f"{option} {typed}" if option.startswith("-") else typed

    text = _PARAMETER.sub(parameter, message)
    text = _CALLER_VERB.sub(lambda m: m.group(1) + " ", text)
    text = _CALLER_PREFIX.sub("", text)
    text = _CALLER_SUBJECT.sub(lambda m: m.group(0) if m.group(1) in options else "", text)
    text = _COMPARISON.sub(parameter, text)
    return _ASSIGNMENT.sub(assignment, text)


@contextlib.contextmanager
def command_line_notices(prefix, options=None, file=None):
    """Within the block, every :class:`SkmicroWarning` prints as one line on stderr,
    ``PREFIX: notice: MESSAGE``, without the Python source file and line; other warnings
    print as Python prints them.

    Parameters
    ----------
    prefix : str
        What starts each line, e.g. ``"skmicro evaluate"``.
    options : dict of str to str, optional
        Passed to :func:`for_command_line`, so that notices name the options.
    file : file object, optional
        Where notices go (default: ``sys.stderr`` at the time of the warning).

    Examples
    --------
    >>> import io, warnings
    >>> from skmicro._messages import SkmicroWarning, command_line_notices
    >>> stream = io.StringIO()
    >>> with command_line_notices("skmicro evaluate", {"cv": "--cv"}, file=stream):
    ...     warnings.warn("cv=5 folds but only 4 samples.", SkmicroWarning)
    >>> print(stream.getvalue().strip())
    skmicro evaluate: notice: --cv 5 folds but only 4 samples.
    """
    python_show = warnings.showwarning

    def show(message, category, filename, lineno, file_=None, line=None):
        if not issubclass(category, SkmicroWarning):
            python_show(message, category, filename, lineno, file_, line)
            return
        text = " ".join(str(message).split())  # one line, whatever the message held
        print(f"{prefix}: notice: {for_command_line(text, options or {})}",
              file=file or sys.stderr, flush=True)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = python_show
