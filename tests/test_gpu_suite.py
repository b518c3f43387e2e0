"""The GPU readiness suite (benchmarks/gpu_suite.py) and the one ``gpu`` test marker."""

import ast
import json
import os
import pathlib
import subprocess
import sys

TESTS = pathlib.Path(__file__).parent
ROOT = TESTS.parent
SECTIONS = ["tests", "agreement", "oom", "matmul", "vgg", "profile", "scattering", "dense",
            "distances_mds", "lubbers_grid", "synthesis"]


def test_dry_run_reports_every_section(tmp_path):
    # The GPU suite's own code paths on the CPU with tiny sizes, so it cannot rot between
    # sessions that have a GPU (about 25 s here).
    out = tmp_path / "report.md"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_suite.py"),
                           "--dry-run", "--out", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    report = out.read_text()
    data = json.loads(out.with_suffix(".json").read_text())
    assert list(data["sections"]) == SECTIONS
    for name in SECTIONS:
        assert data["sections"][name]["status"] == "ok", (name, data["sections"][name])
        assert f"\n## {name}\n" in report
    assert "| benchmark | ours | same-run reference | ratio | target (H100) | met |" in report
    # The engine halved the batch under the simulated cap (8 -> 4 -> 2) and the rows equal
    # the unconstrained ones exactly (the same CPU arithmetic).
    oom = data["sections"]["oom"]["raw"]
    assert oom["halvings"] == [4, 2] and oom["unconstrained_halvings"] == []
    assert oom["rel_diff"] == 0.0
    agreement = data["sections"]["agreement"]
    assert len(agreement["checks"]) >= 20 and all(c["ok"] for c in agreement["checks"])
    uncovered = agreement["raw"]["uncovered"]
    assert not uncovered, ("public names taking `device` without a CPU/GPU check: add one to "
                           f"section_agreement in benchmarks/gpu_suite.py: {uncovered}")
    # Every summary target the issue names has a row.
    benchmarks = " ".join(r["benchmark"] for s in data["sections"].values()
                          for r in s["summary"])
    for part in ("Lubbers grid", "VGG Gram", "ScatteringFeatures", "MDSEmbedder SMACOF",
                 "landmark", "PairwiseDistances", "synthesis", "dense matmul",
                 "dense FilterBankPixelFeatures", "dense VGGHypercolumnPixelFeatures"):
        assert part in benchmarks


def _uses_cuda(node):
    """True when a call in ``node`` asks for CUDA: ``device="cuda..."``, ``torch.device("cuda")``,
    ``.to("cuda")`` or ``.cuda()``."""
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        for kw in call.keywords:
            if (kw.arg == "device" and isinstance(kw.value, ast.Constant)
                    and str(kw.value.value).startswith("cuda")):
                return True
        name = call.func.attr if isinstance(call.func, ast.Attribute) else None
        if name == "cuda":
            return True
        if name in ("device", "to") and call.args and isinstance(call.args[0], ast.Constant) \
                and str(call.args[0].value).startswith("cuda"):
            return True
    return False


def _has_gpu_marker(func):
    return any(ast.unparse(d) == "pytest.mark.gpu" for d in func.decorator_list)


def _skips_when_cuda_present(func):
    """Tests of the no-CUDA behaviour (``skipif(torch.cuda.is_available())``)."""
    return any("skipif" in ast.unparse(d) and "cuda.is_available()" in ast.unparse(d)
               and "not " not in ast.unparse(d) for d in func.decorator_list)


def test_every_cuda_test_has_the_gpu_marker():
    unmarked, marked = [], []
    for path in sorted(TESTS.glob("test_*.py")):
        for func in ast.parse(path.read_text()).body:
            if not (isinstance(func, ast.FunctionDef) and func.name.startswith("test_")):
                continue
            if _has_gpu_marker(func):
                marked.append(func.name)
            elif _uses_cuda(func) and not _skips_when_cuda_present(func):
                unmarked.append(f"{path.name}::{func.name}")
    assert not unmarked, f"CUDA tests without @pytest.mark.gpu: {unmarked}"
    assert len(marked) >= 7  # PS, scattering, VGG, distances, MDS, engine, synthesis


def test_the_marker_checker_sees_cuda_calls():
    src = ("def test_a():\n    f(device='cuda')\n"
           "def test_b():\n    x.to('cuda:1')\n"
           "def test_c():\n    f(device='cpu')\n")
    found = [_uses_cuda(f) for f in ast.parse(src).body]
    assert found == [True, True, False]


def test_gpu_marker_registered_and_slow_gone(pytestconfig):
    markers = [m.split(":")[0].strip() for m in pytestconfig.getini("markers")]
    assert "gpu" in markers and "slow" not in markers
