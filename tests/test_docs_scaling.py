"""docs/scaling.md's recipe runs as written, on a real LocalCluster, in a fresh process."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")
pytest.importorskip("zarr")

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "scaling.md"


def test_scaling_recipe_runs_as_written(tmp_path):
    recipe = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)[0]
    script = tmp_path / "recipe.py"
    script.write_text(recipe)
    # The checkout first on the path (a no-op when skmicro is installed, as in CI).
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    stress = float(re.search(r"stress: ([0-9.]+) embedding: \(256, 3\)", done.stdout).group(1))
    assert 0 < stress < 0.2
    r2 = float(re.search(r"R\^2: (-?[0-9.]+)", done.stdout).group(1))
    assert r2 > 0.5  # the noise amplitude is read from the power spectrum
