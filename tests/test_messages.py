"""skmicro._messages: skmicro's warning class and the command-line form of its messages."""

import io
import warnings

import pytest

from skmicro import PrecisionFallbackWarning, SkmicroWarning
from skmicro._messages import command_line_notices, for_command_line

OPTIONS = {"out": "--out", "cv": "--cv", "random_state": "--seed", "features": "FEATURES",
           "on_error": "--on-error", "descriptors": "--descriptors", "size": "--size"}


@pytest.mark.parametrize("message, expected", [
    ("The 'cv' parameter of evaluate_features must be an int. Got 1 instead.",
     "--cv must be an int. Got 1 instead."),
    ("The 'random_state' parameter of MDSEmbedder must be an int.", "--seed must be an int."),
    ("The 'features' parameter of evaluate_features must be a features table.",
     "FEATURES must be a features table."),
    ("describe_folder cannot write out='a b/f.csv': the folder 'a b' does not exist.",
     "cannot write --out 'a b/f.csv': the folder 'a b' does not exist."),
    ("map_collection: cannot colour by 'x'.", "cannot colour by 'x'."),
    ("Fix the file, or pass on_error='skip' to leave it out.",
     "Fix the file, or pass --on-error skip to leave it out."),
    ("descriptors=['vgg', 'x y'] must name descriptors.", "--descriptors vgg 'x y' must name descriptors."),
    ("run_demo needs size >= 8; got size=4.", "needs --size >= 8; got --size 4."),
    # an empty list or string is typed as ''
    ("pass descriptors=[] to take them.", "pass --descriptors '' to take them."),
    ("pass out='' here.", "pass --out '' here."),
    ("on_error must be 'raise'.", "on_error must be 'raise'."),  # a parameter, not a function
    # Names the command line does not have are left as they are.
    ("The 'precision' parameter of VGGGramFeatures must be 'fp32'; use batch_size=4.",
     "The 'precision' parameter of VGGGramFeatures must be 'fp32'; use batch_size=4."),
    ("tile_size=4 and n_bins=3", "tile_size=4 and n_bins=3"),  # size is an option
])
def test_python_names_become_options(message, expected):
    assert for_command_line(message, OPTIONS) == expected


def test_notices_are_one_line_and_other_warnings_unchanged():
    stream = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        shown = []
        warnings.showwarning = lambda *args, **kwargs: shown.append(args[0])
        with command_line_notices("skmicro x", OPTIONS, file=stream):
            warnings.warn("Two\nlines with cv=3.", SkmicroWarning)
            warnings.warn("bf16 runs as fp32.", PrecisionFallbackWarning)  # a subclass
            warnings.warn("not ours", RuntimeWarning)
        after = warnings.showwarning
    assert stream.getvalue() == ("skmicro x: notice: Two lines with --cv 3.\n"
                                 "skmicro x: notice: bf16 runs as fp32.\n")
    assert [str(m) for m in shown] == ["not ours"]
    assert after is not None and after.__name__ == "<lambda>"  # restored on exit


def test_skmicro_warnings_can_be_filtered_in_python():
    assert issubclass(SkmicroWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkmicroWarning)
        with pytest.raises(SkmicroWarning):
            warnings.warn("x", PrecisionFallbackWarning)
