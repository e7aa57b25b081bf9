"""Accuracy-diversity frontiers over the sampling temperature, and readings at matched accuracy.

A method sampled at temperatures t_1 < ... < t_G has a mean accuracy a(t_g) and a mean diversity
d(t_g) (coverage, valid-answer Gini-Simpson, ...).  Raising T trades accuracy for diversity, so two
methods are compared at the same accuracy, not at the same T:

    monotone_fit   a(t) made monotone in t (least squares, pool-adjacent-violators), decreasing
                   unless the data say increasing (a(t_G) > a(t_1)), so that a level is crossed once;
    crossing       the t* where the piecewise-linear fitted curve equals a target accuracy, the
                   largest such t where the curve is flat at the target (a method as accurate at
                   T 1.0 as at T 0.4 is read at T 1.0, its most diverse setting at that accuracy);
                   None when the target lies outside the curve's range;
    read_matched   d(t*) by linear interpolation in t: a method's diversity at a target accuracy,
                   with an optional tolerance: a target above the method's best accuracy by at most
                   ``tolerance`` is read at that best point (the highest t where the fitted curve
                   has its best value).

Pure functions of numbers; no I/O.
"""

from __future__ import annotations

import numpy as np


def monotone_fit(values, increasing: bool | None = None) -> np.ndarray:
    """Least-squares monotone fit of ``values`` (pool adjacent violators); direction from the end
    points when ``increasing`` is None."""
    y = np.asarray(values, dtype=np.float64)
    if increasing is None:
        increasing = bool(y[-1] > y[0])
    sign = 1.0 if increasing else -1.0
    blocks: list[list[float]] = []  # [sum, count]
    for v in sign * y:
        blocks.append([v, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    fitted = np.concatenate([np.full(int(c), s / c) for s, c in blocks])
    return sign * fitted


def crossing(ts, fitted, target: float) -> float | None:
    """Largest t where the piecewise-linear curve (ts, fitted) equals ``target``; None if never.
    (A monotone curve meets a level once, or along one flat stretch: then its right end.)"""
    ts = np.asarray(ts, dtype=np.float64)
    f = np.asarray(fitted, dtype=np.float64)
    for i in reversed(range(len(ts))):
        if f[i] == target:
            return float(ts[i])
        if i > 0 and (f[i - 1] - target) * (f[i] - target) < 0:
            w = (target - f[i - 1]) / (f[i] - f[i - 1])
            return float(ts[i - 1] + w * (ts[i] - ts[i - 1]))
    return None


def interpolate(ts, values, t: float) -> float:
    return float(np.interp(t, np.asarray(ts, dtype=np.float64), np.asarray(values, dtype=np.float64)))


def read_matched(ts, accuracy, metric, target: float, tolerance: float = 0.0) -> tuple[float | None, float | None]:
    """(t*, metric(t*)) at the temperature where the monotone accuracy curve meets ``target``.

    If the curve never reaches ``target`` but its best value is within ``tolerance`` below it, the
    reading is taken at the best point; otherwise (None, None): the method fails that level.
    """
    fitted = monotone_fit(accuracy)
    t_star = crossing(ts, fitted, target)
    if t_star is None:
        best = len(fitted) - 1 - int(np.argmax(fitted[::-1]))  # the last index of the maximum
        if fitted[best] < target and target - fitted[best] <= tolerance + 1e-12:
            t_star = float(np.asarray(ts, dtype=np.float64)[best])
        else:
            return None, None
    return t_star, interpolate(ts, metric, t_star)
