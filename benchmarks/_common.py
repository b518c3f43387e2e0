"""What every benchmark shares: timing, peak memory, the machine header and the table.

Run a benchmark as a script (``python benchmarks/bench_x.py``): this folder is then first on
``sys.path`` and ``from _common import ...`` finds this module.

- :func:`best_time` / :func:`best_rate`: best-of-``repeat`` wall time after optional warm-up;
  CUDA work is synchronised before the clock is read.
- :func:`peak_rss_mib`: peak resident memory of this process.
- :func:`machine_header`: CPU model and the flags that decide which kernels run (AVX2, FMA,
  AVX-512, AVX512-BF16, AMX), core count, torch/numpy versions and the load average. Print it
  at the start (and :func:`load_line` at the end) of every run: ratios are only comparable
  between runs on the same machine at similar load.
- :func:`print_table`: a Markdown table; :func:`ratio` formats ours vs the peer.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time

# /proc/cpuinfo flags that change which matmul/conv kernels oneDNN and BLAS pick.
CPU_FLAGS = ("fma", "avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")


def _sync(device):
    """Wait for queued CUDA work so the clock measures it (no-op on CPU).

    ``device``: None (no sync), a torch device or its name; ``"auto"`` syncs when CUDA is
    present, as the estimators' ``device="auto"`` then runs there.
    """
    name = None if device is None else str(device)
    if name is None or not (name.startswith("cuda") or name == "auto"):
        return
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn, device=None):
    """Seconds for one call of ``fn()`` and its result."""
    _sync(device)
    t0 = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - t0, out


def best_time(fn, repeat=3, warmup=0, device=None):
    """Fastest of ``repeat`` timed calls of ``fn()`` after ``warmup`` untimed ones.

    Returns ``(seconds, last result)``. The warm-up fills per-process caches (filters,
    weights, oneDNN primitives, the allocator), which no user pays for more than once.
    """
    for _ in range(warmup):
        fn()
    best, out = float("inf"), None
    for _ in range(max(1, repeat)):
        t, out = timed(fn, device)
        best = min(best, t)
    return best, out


def best_rate(fn, n, repeat=3, warmup=0, device=None):
    """Items per second of the fastest of ``repeat`` calls that each process ``n`` items."""
    t, out = best_time(fn, repeat=repeat, warmup=warmup, device=device)
    return n / t, out


def peak_rss_mib():
    """Peak resident set size of this process so far, in MiB (ru_maxrss: KiB on Linux)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


def load_average():
    """1-minute load average (NaN where the OS does not report one)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def load_line():
    """``# load average 1.23`` for the end of a run."""
    return f"# load average {load_average():.2f}"


def cpu_info(cpuinfo="/proc/cpuinfo"):
    """CPU model, the flags of :data:`CPU_FLAGS` present, and the logical core count.

    Reads ``cpuinfo`` (Linux); elsewhere the model falls back to ``platform`` and the
    flags are unknown (an empty tuple).
    """
    model, flags = None, set()
    try:
        with open(cpuinfo) as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model is None:
                    model = value.strip()
                elif key in ("flags", "Features") and not flags:
                    flags = set(value.split())
                if model is not None and flags:
                    break
    except OSError:
        pass
    model = model or platform.processor() or platform.machine()
    return {"model": model, "flags": tuple(f for f in CPU_FLAGS if f in flags),
            "cores": os.cpu_count()}


def machine_header(cpuinfo="/proc/cpuinfo"):
    """Lines (each starting ``# ``) describing the machine, libraries and current load."""
    import numpy

    info = cpu_info(cpuinfo)
    flags = ", ".join(info["flags"]) or "none of " + ", ".join(CPU_FLAGS)
    libs = f"python {platform.python_version()}, numpy {numpy.__version__}"
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        libs += f", torch {torch.__version__} ({torch.get_num_threads()} threads)"
        if torch.cuda.is_available():
            p = torch.cuda.get_device_properties(0)
            libs += (f", CUDA device {p.name} (compute capability {p.major}.{p.minor}, "
                     f"{p.multi_processor_count} SMs, {p.total_memory / 2**30:.1f} GiB), "
                     f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
    return "\n".join([
        f"# CPU: {info['model']}, {info['cores']} logical cores; flags: {flags}",
        f"# {libs}",
        load_line(),
    ])


def print_machine_header():
    print(machine_header(), flush=True)


def ratio(ours, peer):
    """``peer / ours`` as ``"2.50x"``: how many times faster ours is, given two times."""
    return f"{peer / ours:.2f}x"


def print_table(headers, rows, align=None):
    """Print a Markdown table. ``align``: one of ``"l"``/``"r"`` per column (default: the
    first column left, the rest right)."""
    align = align or ["l"] + ["r"] * (len(headers) - 1)
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" if a == "l" else "---:" for a in align) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |", flush=True)
