"""Dask scale-out: overhead of the blockwise dispatch, and a million-row landmark embedding.

Workers get glibc's usual allocator thresholds (``skmicro._dask.WORKER_MALLOC_CONFIG``, see
docs/scaling.md); ``--dask-malloc-defaults`` keeps distributed's ``MALLOC_TRIM_THRESHOLD_``.

(a) ScatteringFeatures (J=3, L=8) of N images 64x64 (default 20,000): through
    ``LocalCluster(2 workers x 1 thread)`` (estimator n_jobs=1 per worker) against the
    single-process numpy transform (n_jobs=None: both cores) on the same images, in the same
    run. The input is generated on the workers and persisted there before timing (as if read
    from shared storage), the result is gathered to the client as numpy like the peer's. Both
    sides are warmed up (torch import, filters). Overhead = dask time / single-process time - 1.
(b) M feature rows (default 1,000,000 x 31, float32) stored in zarr -> read_zarr ->
    MDSEmbedder(method="landmark", n_landmarks=1000).fit_transform -> to_zarr, end to end on a
    fresh LocalCluster(2 x 1), with peak RSS of each worker and of the client process; peers:
    the same fit in memory in one process (rows already in RAM), with n_jobs=None (both
    cores) and n_jobs=1, same run; the embeddings must agree (printed: largest gap).

Each part runs in its own subprocess so that peak RSS belongs to that part alone.

    python benchmarks/bench_dask.py                      # 20,000 images, 1,000,000 rows
    python benchmarks/bench_dask.py --quick              # 2,000 images, 50,000 rows
    python benchmarks/bench_dask.py --n-images 40000 --n-rows 2000000 --part b
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile

import numpy as np
from _common import load_line, peak_rss_mib, print_machine_header, print_table, timed

SIZE = 64
N_FEATURES = 31
N_LANDMARKS = 1000


def _cluster(malloc_defaults=False):
    import dask
    from distributed import Client, LocalCluster

    from skmicro._dask import WORKER_MALLOC_CONFIG

    if not malloc_defaults:
        dask.config.set(WORKER_MALLOC_CONFIG)  # as docs/scaling.md advises
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    return cluster, Client(cluster)


def _reset_peak():
    """Reset this process's peak RSS (VmHWM; Linux >= 4.0). ru_maxrss cannot be reset and a
    worker started by fork inherits the client's high-water mark."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _peak_mib():
    """Peak RSS (VmHWM) of this process since the last :func:`_reset_peak`, in MiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**10
    return peak_rss_mib()


def _start_peaks(client):
    client.run(_reset_peak)
    _reset_peak()


def _worker_peaks(client):
    return sorted(client.run(_peak_mib).values())


def _warm_up(estimator, images):
    estimator.transform(images)


def part_a(n_images, chunk, malloc_defaults):
    import dask.array as da
    import torch  # noqa: F401  (import cost outside the timing)

    from skmicro import ScatteringFeatures

    images = da.random.default_rng(0).random((n_images, SIZE, SIZE), dtype=np.float32,
                                             chunks=(chunk, SIZE, SIZE))
    X = images.compute(scheduler="sync")  # the very same images, in this process
    single = ScatteringFeatures(J=3, L=8, device="cpu").fit(X[:1])
    single.transform(X[:chunk])  # warm-up
    t_single, expected = timed(lambda: single.transform(X))

    cluster, client = _cluster(malloc_defaults)
    with cluster, client:
        images = images.persist()
        from distributed import wait

        wait(images)
        est = ScatteringFeatures(J=3, L=8, device="cpu", n_jobs=1).fit(images)
        # Warm-up on every worker (torch import, filter bank), as the peer's warm-up above.
        client.run(_warm_up, est, X[:chunk])
        client.run(_reset_peak)
        t_dask, got = timed(lambda: est.transform(images).compute())
        workers = _worker_peaks(client)
    assert np.allclose(got, expected, rtol=1e-5, atol=1e-9), "dask result differs"
    return dict(part="a", n=n_images, chunk=chunk, single=t_single, dask=t_dask,
                overhead=t_dask / t_single - 1, worker_peak_mib=workers)


def _rows(block_id, chunk, n_rows):
    """Feature rows of one chunk: bench_mds's noisy angle manifold, seeded per chunk."""
    start = block_id[0] * chunk
    rng = np.random.default_rng([7, start])
    n = min(chunk, n_rows - start)
    th, s, a = rng.uniform(0, np.pi, n), rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    lat = np.c_[np.cos(2 * th), np.sin(2 * th), s, a]
    W = np.random.default_rng(0).normal(size=(4, N_FEATURES - 3)) * 1.5
    b = np.random.default_rng(1).uniform(0, 2 * np.pi, N_FEATURES - 3)
    F = np.c_[2 * (1 + s)[:, None] * lat[:, :2], a, 0.4 * np.cos(lat @ W + b)]
    return (F + rng.normal(scale=0.05, size=F.shape)).astype(np.float32)


def part_b(n_rows, chunk, with_peer, malloc_defaults):
    import dask.array as da
    import torch  # noqa: F401

    from skmicro import MDSEmbedder
    from skmicro.io import read_zarr, to_zarr

    store = tempfile.mkdtemp(prefix="bench_dask_")
    cluster, client = _cluster(malloc_defaults)
    with cluster, client:
        rows = da.map_blocks(_rows, chunk=chunk, n_rows=n_rows, dtype=np.float32,
                             chunks=(da.core.normalize_chunks(chunk, (n_rows,))[0],
                                     (N_FEATURES,)),
                             meta=np.empty((0, 0), np.float32))
        to_zarr(rows, f"{store}/features.zarr",
                feature_names=[f"f{i}" for i in range(N_FEATURES)])
        _start_peaks(client)  # peaks of the end-to-end run alone, workers and client

        def pipeline():
            X = read_zarr(f"{store}/features.zarr")
            mds = MDSEmbedder(n_components=2, method="landmark", n_landmarks=N_LANDMARKS,
                              random_state=0, device="cpu", n_jobs=1)
            to_zarr(mds.fit_transform(X), f"{store}/embedding.zarr",
                    feature_names=mds.get_feature_names_out())
            return mds

        t_dask, mds = timed(pipeline)
        workers, client_peak = _worker_peaks(client), _peak_mib()
        embedding = read_zarr(f"{store}/embedding.zarr").compute()
    out = dict(part="b", n=n_rows, chunk=chunk, dask=t_dask, worker_peak_mib=workers,
               client_peak_mib=client_peak, stress=mds.stress_)
    if with_peer:
        X = read_zarr(f"{store}/features.zarr").compute(scheduler="sync")
        out["single"], gaps = {}, []
        for n_jobs in (None, 1):
            t_mem, local = timed(lambda: MDSEmbedder(
                n_components=2, method="landmark", n_landmarks=N_LANDMARKS, random_state=0,
                device="cpu", n_jobs=n_jobs).fit(X))
            out["single"][str(n_jobs)] = t_mem
            extent = np.ptp(local.embedding_, axis=0).max()
            gaps.append(float(np.abs(local.embedding_ - embedding).max() / extent))
        out["max_gap_rel"] = max(gaps)
    return out


def _run(args):
    out = subprocess.run([sys.executable, __file__, "--one", json.dumps(args)],
                         capture_output=True, text=True, check=False)
    if out.returncode:
        sys.exit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-images", type=int, default=20_000)
    ap.add_argument("--n-rows", type=int, default=1_000_000)
    ap.add_argument("--image-chunk", type=int, default=500)
    ap.add_argument("--row-chunk", type=int, default=50_000)
    ap.add_argument("--part", choices=["a", "b", "both"], default="both")
    ap.add_argument("--no-peer", action="store_true",
                    help="(b) without the in-memory peer (it needs the rows in RAM)")
    ap.add_argument("--dask-malloc-defaults", action="store_true",
                    help="keep distributed's MALLOC_TRIM_THRESHOLD_=65536 on the workers")
    ap.add_argument("--quick", action="store_true", help="2,000 images and 50,000 rows")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.one:
        job = json.loads(opts.one)
        result = (part_a(job["n"], job["chunk"], job["malloc"]) if job["part"] == "a"
                  else part_b(job["n"], job["chunk"], job["peer"], job["malloc"]))
        print(json.dumps(result))
        return
    if opts.quick:
        opts.n_images, opts.n_rows, opts.row_chunk = 2_000, 50_000, 10_000
    print_machine_header()
    print("# dask workers: " + ("distributed's default MALLOC_TRIM_THRESHOLD_"
                                if opts.dask_malloc_defaults else "WORKER_MALLOC_CONFIG"))
    if opts.part in ("a", "both"):
        a = _run(dict(part="a", n=opts.n_images, chunk=opts.image_chunk,
                      malloc=opts.dask_malloc_defaults))
        print(f"\n(a) ScatteringFeatures(J=3, L=8), {a['n']:,} images {SIZE}x{SIZE}, chunks of "
              f"{a['chunk']}; dask result equals the single-process one (rtol 1e-5)")
        print_table(["run", "time (s)", "dask / single"], [
            ["single process, n_jobs=None (2 threads)", f"{a['single']:.1f}", "1.00"],
            ["LocalCluster 2 workers x 1 thread, n_jobs=1", f"{a['dask']:.1f}",
             f"{a['dask'] / a['single']:.2f} (overhead {100 * a['overhead']:+.0f}%)"],
        ])
        print("peak RSS of the workers during the timed run: "
              f"{', '.join(f'{w:.0f}' for w in a['worker_peak_mib'])} MiB")
        print(load_line(), flush=True)
    if opts.part in ("b", "both"):
        b = _run(dict(part="b", n=opts.n_rows, chunk=opts.row_chunk, peer=not opts.no_peer,
                      malloc=opts.dask_malloc_defaults))
        print(f"\n(b) {b['n']:,} rows x {N_FEATURES} float32 in zarr -> landmark MDS "
              f"({N_LANDMARKS} landmarks, 2-D) -> zarr, chunks of {b['chunk']:,} rows; "
              f"stress {b['stress']:.3f} (2,000-row estimate)")
        rows = [["LocalCluster 2 workers x 1 thread, zarr -> zarr", f"{b['dask']:.1f}",
                 "1.00", ", ".join(f"{w:.0f}" for w in b["worker_peak_mib"]),
                 f"{b['client_peak_mib']:.0f}"]]
        for n_jobs, t in b.get("single", {}).items():
            threads = "2 threads" if n_jobs == "None" else "1 thread"
            rows.append([f"single process in memory, n_jobs={n_jobs} ({threads}; peer)",
                         f"{t:.1f}", f"{t / b['dask']:.2f}", "-", "-"])
        print_table(["run", "time (s)", "peer time / ours", "worker peak RSS (MiB)",
                     "client peak RSS (MiB)"], rows)
        if "max_gap_rel" in b:
            print(f"largest difference dask vs in-memory embedding: {b['max_gap_rel']:.1e} "
                  "of the extent")
        print(load_line(), flush=True)


if __name__ == "__main__":
    main()
