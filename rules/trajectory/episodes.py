"""Run detection on boolean masks over sorted points (vectorised)."""
from __future__ import annotations

import numpy as np


def runs(mask: np.ndarray, breaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) inclusive of maximal runs of True; breaks[i] stops a run continuing into i."""
    m = np.asarray(mask, dtype=bool)
    if m.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cont = np.zeros_like(m)
    cont[1:] = m[1:] & m[:-1] & ~breaks[1:]
    starts = np.flatnonzero(m & ~cont)
    nxt = np.zeros_like(m)
    nxt[:-1] = cont[1:]
    ends = np.flatnonzero(m & ~nxt)
    return starts, ends


def breach_after(t: np.ndarray, s: int, e: int, min_s: float) -> float:
    """The moment an episode from point s to e has lasted min_s: its breach (the first point at
    or after t[s] + min_s)."""
    i = int(np.searchsorted(t[s:e + 1], t[s] + min_s, side="left"))
    return float(t[min(s + i, e)])
