"""The torch engine: device choice, batching, CUDA out-of-memory back-off, threads, progress.

Every descriptor runs its tensor work through :func:`map_batches`, so device handling and the
host/device traffic live in one place. torch is imported lazily: ``import skmicro`` stays fast.
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from ._messages import SkmicroWarning  # a leaf module: the standard library only

__all__ = [
    "get_torch",
    "resolve_device",
    "check_device_param",
    "usable_cores",
    "n_threads",
    "torch_threads",
    "PrecisionFallbackWarning",
    "bf16_support",
    "resolve_precision",
    "progress_bar",
    "map_batches",
    "to_numpy",
    "is_cuda_oom",
    "map_image_threads",
    "block_rows",
    "host_tensor",
]

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


def get_torch():
    """Import torch on first use (kept out of ``import skmicro``)."""
    import torch

    return torch


def check_device_param(device, *, caller="skmicro"):
    """Validate a ``device`` parameter's value without touching any hardware."""
    torch = get_torch()
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str) or not _DEVICE_RE.match(device):
        raise ValueError(
            f"The 'device' parameter of {caller} must be 'auto', 'cpu', 'cuda', 'cuda:N' or a "
            f"torch.device. Got {device!r} instead."
        )
    return device


def resolve_device(device="auto", *, caller="skmicro"):
    """Turn a ``device`` parameter into a :class:`torch.device`, checking it is usable.

    ``"auto"`` picks the current CUDA device when one is available, else the CPU.

    Examples
    --------
    >>> from skmicro._engine import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    torch = get_torch()
    device = check_device_param(device, caller=caller)
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"The 'device' parameter of {caller} is {str(device)!r}, but CUDA is not "
                "available on this machine. Use device='auto' or device='cpu'."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"The 'device' parameter of {caller} is {str(device)!r}, but only "
                f"{torch.cuda.device_count()} CUDA device(s) exist."
            )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"The 'device' parameter of {caller} is 'mps', but MPS is not available.")
    return dev


def usable_cores():
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def n_threads(n_jobs=None):
    """Intra-op threads for an ``n_jobs`` value, the rule of every skmicro estimator.

    ``None`` and ``-1`` mean every usable core (as BLAS does under scikit-learn), ``-2`` all
    but one, ``k >= 1`` exactly ``k``.

    Examples
    --------
    >>> from skmicro._engine import n_threads, usable_cores
    >>> n_threads(None) == n_threads(-1) == usable_cores(), n_threads(1)
    (True, 1)
    """
    cores = usable_cores()
    if n_jobs is None:
        return cores
    n_jobs = int(n_jobs)
    return n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)


@contextmanager
def torch_threads(n_jobs=None):
    """Run the block with torch's intra-op CPU threads set by :func:`n_threads`, then restore.

    Examples
    --------
    >>> import torch
    >>> from skmicro._engine import torch_threads
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    """
    torch = get_torch()
    before = torch.get_num_threads()
    torch.set_num_threads(n_threads(n_jobs))
    try:
        yield
    finally:
        torch.set_num_threads(before)


class PrecisionFallbackWarning(SkmicroWarning):
    """The requested arithmetic precision is not native on the device; skmicro ran fp32.

    Raised by ``precision="bf16"`` on a CPU without bfloat16 instructions (AVX2 only, no
    AVX512-BF16 or AMX), where torch emulates bf16 about 7x *slower* than fp32, or on a GPU
    without bf16 support. Ask for ``precision="fp32"`` to silence it.

    Examples
    --------
    >>> import warnings
    >>> from skmicro import PrecisionFallbackWarning
    >>> warnings.simplefilter("ignore", PrecisionFallbackWarning)  # accept the fp32 fallback
    """


class OutOfMemoryRetryWarning(SkmicroWarning, RuntimeWarning):
    """The device ran out of memory; skmicro halved the batch and went on (same results)."""


# Native bfloat16 arithmetic: x86 AVX512-BF16 or AMX-BF16; aarch64 BF16 (/proc/cpuinfo names).
_NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


@functools.lru_cache(maxsize=1)
def _cpu_flags():
    """The CPU's feature flags from /proc/cpuinfo (Linux), or None where there is none."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() in ("flags", "Features"):  # x86, aarch64
                    return frozenset(value.split())
    except OSError:
        pass
    return None


def bf16_support(device):
    """Whether ``device`` runs bfloat16 natively, and why: ``(bool, reason)``.

    CPU: the CPU flags ``avx512_bf16``/``amx_bf16`` (x86) or ``bf16`` (aarch64) in
    /proc/cpuinfo; without /proc/cpuinfo, oneDNN's own bf16 check. CUDA:
    ``torch.cuda.is_bf16_supported(including_emulation=False)`` on that device. Other
    devices are trusted.

    Examples
    --------
    >>> from skmicro._engine import bf16_support, resolve_device
    >>> native, reason = bf16_support(resolve_device("cpu"))
    >>> isinstance(native, bool) and isinstance(reason, str)
    True
    """
    torch = get_torch()
    if device.type == "cuda":
        with torch.cuda.device(device):
            ok = torch.cuda.is_bf16_supported(including_emulation=False)
            name = torch.cuda.get_device_name(device)
        return ok, f"GPU {name} {'supports' if ok else 'does not support'} bfloat16"
    if device.type != "cpu":
        return True, f"{device.type} device"
    capability = torch.backends.cpu.get_cpu_capability()
    flags = _cpu_flags()
    if flags is None:
        ok = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        return ok, f"oneDNN bf16 check {'passed' if ok else 'failed'} (torch CPU capability " \
                   f"{capability})"
    found = sorted(flags & _NATIVE_BF16_FLAGS)
    if found:
        return True, f"CPU flags {', '.join(found)}"
    return False, (f"this CPU has no bfloat16 instructions (no avx512_bf16, amx_bf16 or bf16 "
                   f"flag in /proc/cpuinfo; torch CPU capability {capability})")


def resolve_precision(precision, device, *, caller="skmicro"):
    """The precision to run: ``"bf16"`` becomes ``"fp32"`` where bf16 is not native.

    Emulated bf16 is several times slower than fp32 (7x on an AVX2-only CPU), so the request
    is not honoured there: a :class:`PrecisionFallbackWarning` names the reason and the fix.

    Examples
    --------
    >>> from skmicro._engine import resolve_device, resolve_precision
    >>> resolve_precision("fp32", resolve_device("cpu"))
    'fp32'
    """
    if precision != "bf16":
        return precision
    native, reason = bf16_support(device)
    if native:
        return precision
    warnings.warn(
        f"{caller}: precision='bf16' runs as fp32 on {device} because {reason}; emulated "
        "bfloat16 would be several times slower than fp32 (7x on an AVX2-only CPU). Use "
        "precision='fp32' to silence this warning, or a CPU with AVX512-BF16/AMX or a GPU "
        "with bfloat16 for the faster bf16 convolutions.",
        PrecisionFallbackWarning,
        stacklevel=3,
    )
    return "fp32"


class _NullBar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, s):
        pass

    def close(self):
        pass


@contextmanager
def progress_bar(total, *, verbose=0, desc=None, unit="img"):
    """A tqdm progress bar when ``verbose`` is truthy, else an object that ignores updates."""
    if not verbose:
        yield _NullBar()
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, leave=verbose > 1, dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()


def to_numpy(t, dtype=np.float32):
    """Detach a tensor (or pass an array), move it to host memory, return a numpy array."""
    if isinstance(t, np.ndarray):
        return t.astype(dtype, copy=False)
    return t.detach().to("cpu").numpy().astype(dtype, copy=False)


def host_tensor(a):
    """A CPU tensor viewing ``a`` (copied only when ``a`` is read-only or not contiguous)."""
    a = np.ascontiguousarray(a)
    # torch warns on read-only buffers (e.g. memory maps) even though we never write to them.
    return get_torch().from_numpy(a if a.flags.writeable else a.copy())


def block_rows(n_cols, block_elements, batch_size="auto"):
    """Rows per block: ``batch_size``, or for "auto" as many as make ``(rows, n_cols)`` hold
    about ``block_elements`` values."""
    if batch_size != "auto":
        return int(batch_size)
    return int(max(1, min(block_elements // max(1, n_cols), 1 << 20)))


def is_cuda_oom(exc):
    """True for a CUDA (or other accelerator) out-of-memory error."""
    torch = get_torch()
    oom_types = tuple(
        t for t in (getattr(torch, "OutOfMemoryError", None),
                    getattr(torch.cuda, "OutOfMemoryError", None)) if t is not None
    )
    return isinstance(exc, oom_types) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    )


def map_batches(func, array, *, batch_size, device, progress=None, caller="skmicro"):
    """Apply ``func`` to consecutive batches of ``array`` on ``device``; return numpy float32.

    Parameters
    ----------
    func : callable
        Takes a float32 tensor ``array[i:j]`` on ``device`` and returns a tensor (or array)
        whose first axis has length ``j - i``.
    array : ndarray
        Host array, batched along axis 0.
    batch_size : int
        Images per batch. A CUDA out-of-memory error halves it and retries the same batch.
    device : torch.device
    progress : object with ``update(n)``, optional

    Returns
    -------
    out : ndarray of float32, shape ``(len(array), ...)``

    Examples
    --------
    >>> import numpy as np

from ._messages import SkmicroWarning  # a leaf module: the standard library only
    >>> from skmicro._engine import map_batches, resolve_device
    >>> map_batches(lambda t: t.sum(dim=(1, 2)), np.ones((5, 2, 2), np.float32),
    ...             batch_size=2, device=resolve_device("cpu"))
    array([4., 4., 4., 4., 4.], dtype=float32)
    """
    torch = get_torch()
    n = len(array)
    out = None
    start = 0
    size = max(1, int(batch_size))
    with torch.inference_mode():
        while start < n:
            stop = min(start + size, n)
            try:
                batch = torch.from_numpy(np.ascontiguousarray(array[start:stop], np.float32))
                result = to_numpy(func(batch.to(device, non_blocking=True)))
            except Exception as exc:  # noqa: BLE001 - re-raised unless it is an OOM
                if not is_cuda_oom(exc):
                    raise
                if size == 1:
                    raise MemoryError(
                        f"{caller}: out of device memory with batch_size=1 on {device}. Use "
                        "smaller images, fewer features, or device='cpu'."
                    ) from exc
                size = max(1, size // 2)
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                warnings.warn(
                    f"{caller}: out of memory on {device}; retrying with batch_size={size}.",
                    OutOfMemoryRetryWarning,
                    stacklevel=2,
                )
                continue
            if out is None:
                out = np.empty((n,) + result.shape[1:], dtype=np.float32)
            out[start:stop] = result
            if progress is not None:
                progress.update(stop - start)
            start = stop
    return out


def map_image_threads(fn, x):
    """``fn(x)`` on CPU with torch's threads spread over images instead of inside each op.

    The batch is split into ``torch.get_num_threads()`` parts computed concurrently, each
    single-threaded (torch ops and numpy release the GIL). Intra-op threads synchronize at
    every op; for descriptors made of many small ops (hundreds of small FFTs per image in the
    scattering) that collapsed on a loaded 2-core machine, while independent images never wait
    for each other. A batch of one image (a folder of mixed sizes gives many) runs on one
    thread for the same reason: one 437x551 scattering took 5.6 s with two intra-op threads
    and 0.7 s with one, at load average 15 on 2 cores. ``fn`` returns a tensor or a tuple of
    tensors (or None) with a leading image axis. On other devices, or with one thread,
    ``fn(x)`` runs as is.

    Examples
    --------
    >>> import torch
    >>> from skmicro._engine import map_image_threads
    >>> map_image_threads(lambda t: t * 2, torch.ones(4, 2)).shape
    torch.Size([4, 2])
    """
    torch = get_torch()
    n = min(torch.get_num_threads(), x.shape[0])
    if x.device.type != "cpu" or torch.get_num_threads() < 2:
        return fn(x)
    if n < 2:
        with torch_threads(1):
            return fn(x)

    def work(part):
        with torch.inference_mode():
            return fn(part)

    outs = list(_image_pool(n).map(work, torch.tensor_split(x, n)))
    if isinstance(outs[0], torch.Tensor):
        return torch.cat(outs)
    return tuple(None if parts[0] is None else torch.cat(parts) for parts in zip(*outs))


_POOLS = {}


def _image_pool(n):
    """A process-wide pool of ``n`` single-threaded torch workers, made once (workers set their
    own OpenMP thread count once, not per call)."""
    pool = _POOLS.get(n)
    if pool is None:
        torch = get_torch()
        pool = _POOLS[n] = ThreadPoolExecutor(n, thread_name_prefix="skmicro-img",
                                              initializer=torch.set_num_threads, initargs=(1,))
    return pool
