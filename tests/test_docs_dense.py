"""docs/dense_features.md's examples run as written (doctest)."""

import doctest
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "dense_features.md"


def test_dense_features_page_examples():
    result = doctest.testfile(str(DOC), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 10 and result.failed == 0
