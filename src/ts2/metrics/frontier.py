"""Accuracy-diversity frontiers over the sampling temperature, read at matched accuracy.

A method sampled at temperatures t_1 < ... < t_G has mean accuracy a(t_g) and mean diversity
d(t_g) (coverage, valid-answer Gini-Simpson, ...).  Raising T trades accuracy for diversity, so two
methods are compared at the same accuracy, not at the same T:

    monotone_fit     a(t) made non-increasing in t (least squares, pool adjacent violators).  The
                     direction is fixed, never taken from the data: accuracy falls as T rises, and a
                     direction read from the curve's end points favoured methods whose accuracy
                     falls at low T (ts2 compare v2);
    dense_curves     the fitted a(t) and the raw d(t) interpolated on a fine grid of t by monotone
                     cubic Hermite splines (PCHIP, Fritsch-Carlson), many curves at once.  A chord
                     between grid points sags below a concave frontier, and two methods whose grid
                     points sit at different places on one frontier then read differently (linear
                     interpolation on a 0.2 grid read "the baseline at 1.3 T" at -0.010 coverage);
    read_at          d where the dense accuracy curve meets a target accuracy: the largest t with
                     a(t) >= target (on a flat stretch its high-T end: the most diverse setting of
                     that accuracy), with a status: ``ok``; ``accuracy_cost`` (target above the
                     curve's best accuracy: read at the best point); ``grid_short`` (target below
                     the accuracy at the highest t: read there).  Never -inf: a reading is always a
                     number, and its status says whether it may be used;
    band_mean        the mean of d(a) over an accuracy band [a_lo, a_hi] (the area under the
                     diversity-accuracy frontier divided by the band width), by the trapezoid rule on
                     ``BAND_POINTS`` accuracies.

Arrays carry leading batch dimensions [..., T]; pure functions of numbers, no I/O.
"""

from __future__ import annotations

import numpy as np

DENSE_POINTS = 401
BAND_POINTS = 41
STATUS = ("ok", "accuracy_cost", "grid_short")


def monotone_fit(values, increasing: bool = False) -> np.ndarray:
    """Least-squares monotone fit of ``values`` [T] (pool adjacent violators), non-increasing
    unless ``increasing``."""
    y = np.asarray(values, dtype=np.float64)
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


def dense_curves(ts, accuracy, metrics: dict, points: int = DENSE_POINTS) -> tuple[np.ndarray, np.ndarray, dict]:
    """(t_dense [D], a_dense [..., D], metric -> d_dense [..., D]).

    ``accuracy`` [..., T] is made non-increasing row by row (``monotone_fit``), then it and every
    metric [..., T] are interpolated by PCHIP on ``points`` temperatures from t_1 to t_G (PCHIP keeps
    a monotone sequence monotone, so the dense accuracy is non-increasing too).  One temperature:
    the curves are that single point.
    """
    from scipy.interpolate import PchipInterpolator

    ts = np.asarray(ts, dtype=np.float64)
    acc = np.asarray(accuracy, dtype=np.float64)
    flat = acc.reshape(-1, acc.shape[-1])
    fitted = np.stack([monotone_fit(row) for row in flat]).reshape(acc.shape)
    if len(ts) == 1:
        return ts, fitted, {k: np.asarray(v, dtype=np.float64) for k, v in metrics.items()}
    dense_t = np.linspace(ts[0], ts[-1], points)

    def spline(y):
        return PchipInterpolator(ts, np.asarray(y, dtype=np.float64), axis=-1)(dense_t)

    return dense_t, spline(fitted), {k: spline(v) for k, v in metrics.items()}


def read_at(acc_dense, metric_dense, targets) -> tuple[np.ndarray, np.ndarray]:
    """(readings [..., L], status codes [..., L]) of ``metric_dense`` [..., D] where the
    non-increasing ``acc_dense`` [..., D] meets each target accuracy ([L], or [..., L]: one set per row).

    Status 0 ok, 1 accuracy_cost (every accuracy on the curve is below the target: read at the
    curve's start, its best accuracy), 2 grid_short (every accuracy is above the target: read at its
    end).  A flat stretch at the target is read at its high-T end."""
    acc = np.asarray(acc_dense, dtype=np.float64)
    met = np.asarray(metric_dense, dtype=np.float64)
    targets = np.broadcast_to(np.asarray(targets, dtype=np.float64), (*acc.shape[:-1], np.shape(targets)[-1]))
    d = acc.shape[-1]
    # number of dense points with a >= target: the last such index is where the curve leaves it
    above = (acc[..., None, :] >= targets[..., None] - 1e-12).sum(-1)  # [..., L]
    j = np.clip(above - 1, 0, d - 1)
    k = np.clip(j + 1, 0, d - 1)
    a_j, a_k = np.take_along_axis(acc, j, -1), np.take_along_axis(acc, k, -1)
    m_j, m_k = np.take_along_axis(met, j, -1), np.take_along_axis(met, k, -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(a_j > a_k, (a_j - targets) / (a_j - a_k), 0.0)
    w = np.clip(w, 0.0, 1.0)
    values = m_j + w * (m_k - m_j)
    status = np.where(above == 0, 1, np.where(above == d, 2, 0))
    status = np.where((above == d) & (np.abs(acc[..., -1:] - targets) <= 1e-12), 0, status)
    return values, status


def band_targets(low: float, high: float, points: int = BAND_POINTS) -> np.ndarray:
    return np.linspace(low, high, points)


def band_mean(readings) -> np.ndarray:
    """Mean of readings [..., BAND_POINTS] taken at ``band_targets`` (trapezoid rule)."""
    r = np.asarray(readings, dtype=np.float64)
    weights = np.ones(r.shape[-1])
    weights[[0, -1]] = 0.5
    return (r * weights).sum(-1) / weights.sum()
