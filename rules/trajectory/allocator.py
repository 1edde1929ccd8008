"""The C allocator tuned for the engine's working arrays (glibc only; elsewhere nothing).

The engine scans a day in parts of whole vehicles, each with a few dozen arrays of ~2 MB that
live for one part (numpy's and the compiled kernels' allocations both go through malloc). By
default glibc serves blocks of that size with a fresh mmap and gives them back when freed (its
dynamic mmap threshold and heap trimming), so every part pays for its memory again in page
faults: measured here, ~4,500 faults per 250,000-point part, 2.7x the part's time on a virtual
machine where a fault is costly. With a fixed mmap threshold of 32 MB and a trim threshold of
256 MB, freed blocks stay in the process and the next part reuses them: no fault at all. Blocks
above 32 MB (a whole day's columns) are still mapped and unmapped on their own, and at most
256 MB of freed memory is kept at the top of a heap.
"""
from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest (HEAP_MAX_SIZE / 2 on 64-bit)
TRIM_THRESHOLD = 256 * 2**20

_state = {"done": False, "tuned": False}


def keep_freed_memory() -> bool:
    """Set the thresholds once per process; True where the C library took them (glibc)."""
    if _state["done"]:
        return _state["tuned"]
    _state["done"] = True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): its defaults stay
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _state["tuned"] = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _state["tuned"]
