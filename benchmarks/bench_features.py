"""`skmicro features` on a folder of full-size micrographs against the loop a user would write.

A temporary folder of ``--n-files`` micrographs (645x522 8-bit TIFFs with their 38-row data
bar, like the originals) is made from the 24 UHCS images that ship with skmicro (skmicro.datasets.load_uhcs24): each file is
one of them, flipped and circularly shifted differently, so that every file's content is new to
the cache. The folder is deleted at the end (never commit these images: CC BY-SA).

For each descriptor, in one run:

- ours: ``skmicro features FOLDER -d NAME --out NAME.parquet`` as a fresh process with an
  empty cache (wall time from start to exit: imports, filters, reading, data-bar detection,
  descriptors, the Parquet file), then the same command again (every file cached);
- the peer, also a fresh process: a plain loop that loads each TIFF with tifffile, cuts the
  data bar by its known height, and computes the descriptor per image the way one would without
  skmicro: numpy FFT + radial profile (power spectrum), kymatio's torch frontend averaged over
  space (scattering), a per-image torch VGG-19 with full Gram matrices (vgg_gram, the
  straightforward implementation of bench_vgg_gram.py). Slow peers run on ``--n-peer`` files:
  their set-up (imports, kymatio's filters, weights) and their per-image rate are measured
  separately, and their time for all files is set-up + files / rate.

Printed: images/s end to end, peak resident memory of each process, the ratio, the cached
re-run as a fraction of the first run, and for VGG the achieved convolution FLOP/s as a
fraction of this CPU's measured fp32 matmul rate.

    python benchmarks/bench_features.py                      # 100 files
    python benchmarks/bench_features.py --n-files 500        # the issue's size
    python benchmarks/bench_features.py --descriptors power_spectrum --n-files 20

``--mixed``: a folder of ``--n-files`` crops of ``--n-sizes`` different sizes (PNG, no data
bar; the sizes interleave in file order), described with the scattering descriptor (J=4, L=8,
log) in this process: ours is ``describe_folder`` from an empty filter cache (one filter bank
per size, built on first use; no disk cache); the peer is the plain loop (read the PNG, build
kymatio's torch frontend for each new size, torch, mean over space, numpy). Both run on the
same files in one process after their imports. kymatio's set-up takes tens of seconds per
size, so by default the peer runs on the files of ``--peer-sizes`` sizes and its time for the
folder is projected as sizes x set-up + files x per-image time (``--peer-sizes 20``: all).

    python benchmarks/bench_features.py --mixed              # 100 files of 20 sizes
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import load_line, print_machine_header, print_table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BAR_ROWS = 38  # the UHCS data bar: rows 484-521
DESCRIPTORS = ("power_spectrum", "scattering", "vgg_gram")


def make_folder(source, folder, n_files):
    """n_files TIFFs from the source micrographs: flipped and shifted copies, data bar kept."""
    import tifffile

    sources = sorted(Path(source).glob("*.tif"))
    images = [tifffile.imread(p) for p in sources]
    for i in range(n_files):
        image = images[i % len(images)]
        variant = i // len(images)
        picture = image[:-BAR_ROWS]
        if variant & 1:
            picture = picture[:, ::-1]
        if variant & 2:
            picture = picture[::-1]
        picture = np.roll(picture, 53 * (variant // 4) + 7 * (variant % 4), axis=1)
        out = np.concatenate([picture, image[-BAR_ROWS:]])
        tifffile.imwrite(folder / f"m{i:05d}.tif", out, compression="zlib")


def make_mixed_folder(source, folder, n_files, n_sizes, seed=0):
    """n_files PNG crops (no data bar) of n_sizes sizes, interleaved; returns the sizes."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    images = [_read_tif(p)[:-BAR_ROWS] for p in sorted(Path(source).glob("*.tif"))]
    H, W = images[0].shape
    sizes = set()
    while len(sizes) < n_sizes:
        sizes.add((int(rng.integers(H // 2, H + 1)), int(rng.integers(W // 2, W + 1))))
    sizes = sorted(sizes)
    for i in range(n_files):
        h, w = sizes[i % n_sizes]
        image = images[i % len(images)]
        r, c = rng.integers(0, H - h + 1), rng.integers(0, W - w + 1)
        Image.fromarray(np.ascontiguousarray(image[r:r + h, c:c + w])).save(
            folder / f"m{i:05d}.png")
    return sizes


def _read_tif(path):
    import tifffile

    return tifffile.imread(path)


def bench_mixed(args, folder, J=4, L=8):
    """describe_folder vs the plain kymatio loop on a mixed-size folder, in this process."""
    import torch
    from kymatio.scattering2d.frontend.torch_frontend import ScatteringTorch2D
    from PIL import Image

    import skmicro
    from skmicro.features._scattering_core import get_filter_bank
    from skmicro.workflow import describe_folder

    sizes = make_mixed_folder(args.source, folder, args.n_files, args.n_sizes)
    files = sorted(folder.glob("*.png"))
    print(f"# {len(files)} crops of {len(sizes)} sizes from {sizes[0][0]}x{sizes[0][1]} to "
          f"{sizes[-1][0]}x{sizes[-1][1]} ({args.source}), sizes interleaved in file order; "
          f"scattering J={J}, L={L}, log10", flush=True)

    skmicro.clear_caches()
    t0 = time.perf_counter()
    table = describe_folder(folder, f"scattering:J={J},L={L}", crop_data_bar=False,
                            cache=False, device="cpu")
    t_ours = time.perf_counter() - t0
    ours = table.filter(like="scattering__").to_numpy()

    peer_sizes = set(sizes[:min(args.peer_sizes, len(sizes))])
    threads = torch.get_num_threads()
    torch.set_num_threads(args.peer_threads or threads)
    frontends, t_setup, t_images, rows, peer_idx = {}, 0.0, 0.0, [], []
    for i, f in enumerate(files):
        image = np.asarray(Image.open(f))
        if image.shape not in peer_sizes:
            continue
        t0 = time.perf_counter()
        if image.shape not in frontends:
            frontends[image.shape] = ScatteringTorch2D(J=J, shape=image.shape, L=L)
            t_setup += time.perf_counter() - t0
            t0 = time.perf_counter()
        with torch.inference_mode():
            x = torch.from_numpy(image.astype(np.float32) / 255.0)[None]
            s = frontends[image.shape](x)[0].mean(dim=(-2, -1)).numpy()
        s[1:] = np.log10(np.maximum(s[1:], 1e-6))
        t_images += time.perf_counter() - t0
        rows.append(s)
        peer_idx.append(i)
    torch.set_num_threads(threads)
    n_peer = len(peer_idx)
    setup_per_size, per_image = t_setup / len(peer_sizes), t_images / n_peer
    projected = len(sizes) * setup_per_size + len(files) * per_image
    diff = np.abs(np.stack(rows) - ours[peer_idx]).max()

    skmicro.clear_caches()
    ours_setup = []
    for shape in sizes:
        t0 = time.perf_counter()
        get_filter_bank(shape, J, L, torch.device("cpu"))
        ours_setup.append(time.perf_counter() - t0)
    label = "measured" if n_peer == len(files) else f"projected from {n_peer} files"
    print_table(["method", "files", "sizes", "wall (s)", "set-up per new size (s)",
                 "ours faster by"], [
        ("ours: describe_folder, scattering (empty filter cache, no disk cache)", len(files),
         len(sizes), f"{t_ours:.1f}", f"{np.median(ours_setup):.3f}", "1.00x"),
        (f"peer: load + kymatio torch frontend per size + mean ({label})", len(files),
         len(sizes), f"{projected:.1f}", f"{setup_per_size:.2f}", f"{projected / t_ours:.1f}x"),
    ])
    print(f"# peer ({args.peer_threads or threads} torch threads) measured on {n_peer} files of "
          f"{len(peer_sizes)} sizes: {t_setup:.1f} s of set-up, {per_image:.3f} s per image; "
          f"max |peer - ours| over them: {diff:.2e}")
    print(f"# ours: set-up per new size is get_filter_bank(shape, J={J}, L={L}) from an empty "
          f"cache, median over the {len(sizes)} sizes (min {min(ours_setup):.3f} s, max "
          f"{max(ours_setup):.3f} s)")


def run_child(argv, env=None):
    """Run a child process; (wall seconds, peak RSS in MiB, stdout)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, **(env or {})})
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed with {proc.returncode}")
    return wall, usage.ru_maxrss / 1024, stdout


# -- the peers: what one writes without skmicro ----------------------------------------------

def _peer_power_spectrum(n_bins=64):
    def setup(shape):
        h, w = shape
        fy, fx = np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :]
        radius = np.sqrt(fy**2 + fx**2)
        ring = np.minimum((radius / 0.5 * n_bins).astype(int), n_bins)  # beyond 0.5: dropped
        counts = np.bincount(ring.ravel(), minlength=n_bins + 1)[:n_bins]

        def describe(image):
            x = image.astype(np.float64)
            x = 2 * (x - x.min()) / max(x.max() - x.min(), 1e-12) - 1
            power = np.abs(np.fft.fft2(x)) ** 2 / x.size
            sums = np.bincount(ring.ravel(), weights=power.ravel(), minlength=n_bins + 1)
            return np.log10(np.maximum(sums[:n_bins] / counts, 1e-12))
        return describe
    return setup


def _peer_scattering(J=5, L=8):
    def setup(shape):
        import torch
        from kymatio.scattering2d.frontend.torch_frontend import ScatteringTorch2D

        S = ScatteringTorch2D(J=J, shape=shape, L=L)

        def describe(image):
            with torch.inference_mode():
                x = torch.from_numpy(image.astype(np.float32) / 255.0)[None]
                s = S(x)[0].mean(dim=(-2, -1)).numpy()
            s[1:] = np.log10(np.maximum(s[1:], 1e-6))
            return s
        return describe
    return setup


def _peer_vgg_gram():
    def setup(shape):
        sys.path.insert(0, str(HERE))
        from bench_vgg_gram import baseline

        from skmicro.features import _vgg19 as vgg

        state = vgg.load_state("vgg19-normalized")

        def describe(image):
            rgb = np.repeat((image.astype(np.float32) / 255.0)[..., None], 3, axis=-1)
            return baseline([rgb], state)[0]
        return describe
    return setup


PEERS = {"power_spectrum": _peer_power_spectrum, "scattering": _peer_scattering,
         "vgg_gram": _peer_vgg_gram}


def peer_main(name, folder, n_files, out):
    """Child process: the plain loop over the first n_files files; prints a JSON line."""
    t0 = time.perf_counter()
    import tifffile

    files = sorted(Path(folder).glob("*.tif"))[:n_files]
    first = tifffile.imread(files[0])[:-BAR_ROWS]
    describe = PEERS[name]()(first.shape)
    describe(first)  # the set-up's first call (filters, weights, allocator), as ours pays too
    t_setup = time.perf_counter() - t0
    rows = [describe(tifffile.imread(f)[:-BAR_ROWS]) for f in files]
    t_loop = time.perf_counter() - t0 - t_setup
    np.save(out, np.stack(rows).astype(np.float32))
    print(json.dumps({"setup": t_setup, "loop": t_loop, "n": len(files)}))


# -- the benchmark ---------------------------------------------------------------------------

def matmul_gflops(n=2048, repeat=3):
    """This CPU's dense fp32 matmul rate with torch's default threads."""
    import torch

    a, b = torch.rand(n, n), torch.rand(n, n)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeat))
    return 2 * n**3 / best / 1e9


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def vgg_conv_flops(h, w):
    """Multiply-adds x 2 of VGG-19's convolutions up to conv5_1 on one h x w image."""
    blocks = [(3, 64, 2), (64, 128, 2), (128, 256, 4), (256, 512, 4), (512, 512, 1)]
    flops = 0
    for cin, cout, n in blocks:
        for k in range(n):
            flops += 2 * 9 * (cin if k == 0 else cout) * cout * h * w
        h, w = h // 2, w // 2
    return flops


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-files", type=int, default=100)
    parser.add_argument("--n-peer", type=int, default=8,
                        help="files for the slow peers (kymatio, per-image VGG); the numpy FFT "
                             "peer runs on all files (default: %(default)s)")
    parser.add_argument("--descriptors", nargs="+", default=list(DESCRIPTORS),
                        choices=DESCRIPTORS)
    parser.add_argument("--source", default=None,
                        help="folder of UHCS micrographs (default: the copy that ships with "
                             "skmicro, skmicro.datasets.load_uhcs24().folder)")
    parser.add_argument("--keep", default=None, help="make the folder here and keep it")
    parser.add_argument("--mixed", action="store_true",
                        help="the mixed-size folder benchmark (scattering) instead")
    parser.add_argument("--n-sizes", type=int, default=20,
                        help="with --mixed: distinct image sizes (default: %(default)s)")
    parser.add_argument("--peer-sizes", type=int, default=3,
                        help="with --mixed: sizes whose files the kymatio loop runs on; its "
                             "folder time is projected from them (default: %(default)s)")
    parser.add_argument("--peer-threads", type=int, default=None,
                        help="with --mixed: torch threads of the kymatio loop (default: torch's "
                             "default, every core; on a loaded machine its intra-op threads "
                             "stall, 1 is the fairer choice there)")
    parser.add_argument("--peer", nargs=3, metavar=("NAME", "N", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peer:
        return peer_main(args.peer[0], args.folder, int(args.peer[1]), args.peer[2])
    if args.source is None:
        from skmicro.datasets import load_uhcs24

        args.source = load_uhcs24(return_labels=False).folder

    print_machine_header()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench_features_"))
    folder = work / "micrographs"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if args.mixed:
            bench_mixed(args, folder)
            print(load_line())
            return
        make_folder(args.source, folder, args.n_files)
        rate = matmul_gflops()
        print(f"# {args.n_files} micrographs 645x522 (data bar 38 rows) from {args.source}; "
              f"fp32 matmul 2048^3: {rate:.0f} GFLOP/s")
        rows, notes = [], []
        for name in args.descriptors:
            rows += bench_one(name, folder, work, args, rate, notes)
        print_table(["descriptor", "method", "files", "wall (s)", "images/s", "peak RSS (MiB)",
                     "ours faster by"], rows)
        for note in notes:
            print(f"# {note}")
        print(load_line())
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def bench_one(name, folder, work, args, matmul_rate, notes):
    import pandas as pd

    n = args.n_files
    cache, out = work / f"cache_{name}", work / f"{name}.parquet"
    shutil.rmtree(cache, ignore_errors=True)
    cmd = [sys.executable, "-m", "skmicro", "features", str(folder), "-d", name, "--out",
           str(out), "--cache-dir", str(cache), "--quiet"]
    env = {"PYTHONPATH": str(ROOT)}
    t1, rss1, _ = run_child(cmd, env)
    t2, rss2, _ = run_child(cmd, env)
    ours = pd.read_parquet(out).filter(like=f"{name}__").to_numpy()

    n_peer = n if name == "power_spectrum" else min(n, args.n_peer)
    peer_out = work / f"peer_{name}.npy"
    t_peer, rss_peer, stdout = run_child(
        [sys.executable, str(HERE / "bench_features.py"), "--folder", str(folder), "--peer",
         name, str(n_peer), str(peer_out)], env)
    info = json.loads(stdout.strip().splitlines()[-1])
    per_image = info["loop"] / info["n"]
    projected = t_peer - info["loop"] + n * per_image  # the whole folder: set-up + n x loop
    peer = np.load(peer_out)
    k = min(len(peer), len(ours))
    if name != "vgg_gram":  # same numbers up to the peer's binning / rounding
        diff = np.abs(peer[:k] - ours[:k]).max()
        notes.append(f"{name}: max |peer - ours| over the first {k} rows: {diff:.2e}")
    label = {"power_spectrum": "numpy fft2 + radial profile loop",
             "scattering": "kymatio torch frontend loop, spatial mean",
             "vgg_gram": "per-image torch VGG-19, full Gram"}[name]
    rows = [
        (name, "skmicro features (empty cache)", n, f"{t1:.1f}", f"{n / t1:.2f}", f"{rss1:.0f}",
         f"{projected / t1:.2f}x"),
        (name, "skmicro features (cached re-run)", n, f"{t2:.2f}", f"{n / t2:.1f}",
         f"{rss2:.0f}", f"re-run = {t2 / t1:.3f} of first"),
        (name, f"peer: {label}", n_peer, f"{t_peer:.1f}", f"{n / projected:.2f}",
         f"{rss_peer:.0f}", "1.00x"),
    ]
    notes.append(f"{name}: peer set-up {t_peer - info['loop']:.1f} s, {per_image:.3f} s per "
                 f"image; whole folder projected {projected:.0f} s")
    if name == "vgg_gram":
        flops = vgg_conv_flops(484, 645)
        achieved = flops * n / t1 / 1e9
        peer_rate = flops / per_image / 1e9
        notes.append(f"vgg_gram: {flops / 1e9:.1f} GFLOP of convolutions per image; ours "
                     f"{achieved:.0f} GFLOP/s end to end = {achieved / matmul_rate:.0%} of the "
                     f"fp32 matmul rate; the peer's loop {peer_rate:.0f} GFLOP/s = "
                     f"{peer_rate / matmul_rate:.0%}")
    return rows


if __name__ == "__main__":
    main()
