"""The restricted wild cluster bootstrap the effect's OLS interval uses when there are few listings
(rules/effect.py): a test of beta = b0 for one regressor whose fixed effects are already
partialled out, and the interval obtained by inverting it over b0. Pure numpy."""
from __future__ import annotations

from typing import Callable

import numpy as np

WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def wild_pvalues(x: np.ndarray, y: np.ndarray, cluster: np.ndarray, nulls: np.ndarray, reps: int, seed: int) -> np.ndarray:
    """Two-sided p-values of beta = b0 for each b0 in `nulls`, by the restricted wild cluster
    bootstrap (WCR-11, Webb six-point weights, the same draws for every b0) for one regressor `x`
    whose fixed effects are already partialled out. The same test as wildboottest's
    WildboottestCL(bootstrap_type="11", impose_null=True) for k = 1 (checked in tests), written
    out in numpy because the interval needs it for many b0 and that class recompiles its numba
    kernel on every call."""
    codes = np.unique(cluster, return_inverse=True)[1]
    G = codes.max() + 1
    xx = np.bincount(codes, weights=x * x, minlength=G)  # A_g = x_g'x_g
    XX = xx.sum()
    v = WEBB[np.random.default_rng(seed).integers(0, 6, size=(G, reps))]
    out = []
    for b0 in np.atleast_1d(nulls):
        u = y - b0 * x  # restricted residuals (no other regressor once the fixed effects are out)
        S = np.bincount(codes, weights=x * u, minlength=G)  # x_g'u_g
        beta = S.sum() / XX + b0
        score = S - xx * (beta - b0)
        t = (beta - b0) / np.sqrt((score**2).sum() / XX**2)
        num = (v * S[:, None]).sum(axis=0) / XX  # beta* - b0
        scores = v * S[:, None] - xx[:, None] * num[None, :]
        tb = num / np.sqrt((scores**2).sum(axis=0) / XX**2)
        out.append(float(np.mean(np.abs(tb) >= abs(t))))
    return np.array(out)


def wild_interval(x: np.ndarray, y: np.ndarray, cluster: np.ndarray, step: float, reps: int, seed: int,
                  level: float = 0.95) -> tuple[float, float] | None:
    """The interval of beta in y = beta x + u: the b0 the bootstrap test does not reject at
    1 - `level`. Walks out from the estimate in steps doubling from `step` (the analytic SE)
    until the test rejects, then bisects each end. None when an end is not found."""
    alpha = 1 - level

    def pvalue(b0: float) -> float:
        return float(wild_pvalues(x, y, cluster, np.array([b0]), reps, seed)[0])

    beta = float((x @ y) / (x @ x))
    return _invert(pvalue, beta, step or max(abs(beta), 1e-9), alpha)


def _invert(pvalue: Callable[[float], float], beta: float, step0: float, alpha: float) -> tuple[float, float] | None:
    ends = []
    for sign in (-1, 1):
        inside, outside, step = beta, None, step0
        for _ in range(12):  # walk out until the test rejects
            probe = beta + sign * step
            if pvalue(probe) < alpha:
                outside = probe
                break
            inside, step = probe, step * 2
        if outside is None:
            return None
        for _ in range(20):  # bisect the boundary
            mid = (inside + outside) / 2
            if pvalue(mid) >= alpha:
                inside = mid
            else:
                outside = mid
        ends.append((inside + outside) / 2)
    return ends[0], ends[1]
