"""Give back what a finished training or evaluation run held, so a long-lived worker stays at its baseline."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc


def release_memory() -> None:
    """Collect unreachable models and tensors, empty torch's CUDA cache and return freed heap pages to the OS.

    Call it after the last reference to a run's model, trainer and data is gone (a worker: after each job).
    """
    gc.collect()
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    _trim_heap()


def _trim_heap() -> None:
    # glibc keeps freed small blocks in its arenas; malloc_trim hands them back (RSS falls). No-op elsewhere.
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
