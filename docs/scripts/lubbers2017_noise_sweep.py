"""Table I's A row against the Perlin field: R^2(A) and R^2(k) of the grid task per noise setting.

Runs the reproduction's grid task (``run_lubbers2017`` with ``tasks=("grid",)``) once per
Perlin setting ``noise_unit`` / ``noise_frequency`` / ``octaves`` on a reduced grid, and records
the linear (eq. 13) and k-nearest-neighbour (cross-validated) R^2 of k and A per embedding
dimension. Each setting is appended to a JSON-lines file as soon as it is done, so a long sweep
can run in pieces (settings already in the file are skipped)::

    python docs/scripts/lubbers2017_noise_sweep.py run sweep.jsonl 64:2:4 32:2:4 16:1:1
    python docs/scripts/lubbers2017_noise_sweep.py table sweep.jsonl --dim 4

A setting ``U:F:O`` means ``noise_unit = 1/U``, ``noise_frequency = F``, ``octaves = O``.
The results in docs/lubbers2017.md are docs/results/lubbers2017_noise_sweep.jsonl.
"""

import argparse
import json
import os
import time


def _parse(setting):
    unit, freq, octaves = (int(v) for v in setting.split(":"))
    return unit, freq, octaves


def run(path, settings_list, n_per_axis, dims, descriptors, seed):
    from skmicro.reproduce import Lubbers2017Settings, run_lubbers2017

    done = set()
    if os.path.exists(path):
        with open(path) as fh:
            done = {json.loads(line)["setting"] for line in fh if line.strip()}
    for setting in settings_list:
        if setting in done:
            print(f"{setting}: already in {path}, skipped", flush=True)
            continue
        unit, freq, octaves = _parse(setting)
        s = Lubbers2017Settings.full(
            tasks=("grid",), grid_per_axis=n_per_axis, grid_dims=dims, regression_dim=dims[0],
            descriptors=tuple(descriptors), noise_unit=1.0 / unit, noise_frequency=freq,
            octaves=octaves)
        t0 = time.perf_counter()
        res = run_lubbers2017(settings=s, seed=seed, device="cpu", verbose=0, figures=False)
        record = {"setting": setting, "noise_unit": f"1/{unit}", "noise_frequency": freq,
                  "octaves": octaves, "n_images": n_per_axis**3, "seed": seed,
                  "knn_neighbors": s.knn_neighbors, "knn_folds": s.knn_folds,
                  "seconds": time.perf_counter() - t0, "grid_task": res["grid_task"]}
        with open(path, "a") as fh:
            fh.write(json.dumps(record) + "\n")
        print(f"{setting}: {record['seconds']:.0f} s", flush=True)


def table(path, dim):
    with open(path) as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    # finest noise unit first, then frequency and octaves ascending
    records.sort(key=lambda r: (-_parse(r["setting"])[0],) + _parse(r["setting"])[1:])
    names = list(records[0]["grid_task"])
    print(f"R^2 at D* = {dim}, linear / kNN; grid of {records[0]['n_images']} images\n")
    print("| noise_unit | noise_frequency | octaves | " + " | ".join(
        f"{n} A | {n} k" for n in names) + " |")
    print("|---|---:|---:|" + "---:|---:|" * len(names))
    for r in records:
        cells = []
        for n in names:
            g = r["grid_task"][n]
            i = g["embedding_dims"].index(dim)
            cells += [f"{g['r2_noise'][i]:.2f} / {g['knn_r2_noise'][i]:.2f}",
                      f"{g['r2_scale'][i]:.2f} / {g['knn_r2_scale'][i]:.2f}"]
        print(f"| {r['noise_unit']} | {r['noise_frequency']} | {r['octaves']} | "
              + " | ".join(cells) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("path")
    r.add_argument("settings", nargs="+", help="U:F:O = noise_unit 1/U, frequency F, octaves O")
    r.add_argument("--n-per-axis", type=int, default=6)
    r.add_argument("--dims", type=int, nargs="+", default=[4, 2, 3, 6, 10])
    r.add_argument("--descriptors", nargs="+",
                   default=["power_spectrum", "vgg_gram", "scattering"])
    r.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("table")
    t.add_argument("path")
    t.add_argument("--dim", type=int, default=4)
    args = parser.parse_args()
    if args.command == "run":
        run(args.path, args.settings, args.n_per_axis, args.dims, args.descriptors, args.seed)
    else:
        table(args.path, args.dim)


if __name__ == "__main__":
    main()
