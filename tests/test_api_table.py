"""docs/api.md lists every public parameter with its current default (it cannot go stale)."""

import importlib.util
import re
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "scripts" / "make_api_table.py"


def _script():
    spec = importlib.util.spec_from_file_location("make_api_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_table_matches_the_public_signatures():
    script = _script()
    expected = {key for _, _, key in script.row_keys(script.public_objects())}
    text = script.API_MD.read_text()
    listed = {m.group(1) for m in re.finditer(r"^(\| `skmicro[^|]*\|[^|]*\|[^|]*\|)", text, re.M)}
    fix = "Regenerate it: PYTHONPATH=. python docs/scripts/make_api_table.py"
    assert not expected - listed, f"docs/api.md lacks {sorted(expected - listed)[:5]}. {fix}"
    assert not listed - expected, f"docs/api.md lists gone {sorted(listed - expected)[:5]}. {fix}"


def test_shared_parameters_are_in_the_table():
    # The consistency summary names the parameters every estimator shares.
    text = _script().render()
    for name in ("device", "n_jobs", "batch_size", "verbose", "random_state", "precision"):
        assert re.search(rf"^\| `{name}` \| `", text, re.M), name
