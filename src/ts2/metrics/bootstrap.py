"""Bootstrap confidence intervals over prompts (percentile method, fixed seed).

``mean_ci``: the mean of per-prompt values and its 95% interval; ``paired_diff_ci``: the mean
difference of two methods on the same prompts, resampling prompts jointly (a paired bootstrap).
Prompts where a value is missing (None) are left out (for the paired version: where either is).
"""

from __future__ import annotations

import numpy as np

CONFIDENCE = 0.95


def _interval(samples: np.ndarray) -> list[float]:
    tail = (1 - CONFIDENCE) / 2 * 100
    lo, hi = np.percentile(samples, [tail, 100 - tail])
    return [float(lo), float(hi)]


def _resample_means(values: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(resamples, len(values)))
    return values[idx].mean(axis=1)


def mean_ci(values, resamples: int = 2000, seed: int = 0) -> dict | None:
    """{"mean", "ci95": [lo, hi], "prompts"} of the non-missing values; None if there are none."""
    kept = np.array([v for v in values if v is not None], dtype=np.float64)
    if kept.size == 0:
        return None
    return {"mean": float(kept.mean()), "ci95": _interval(_resample_means(kept, resamples, seed)),
            "prompts": int(kept.size)}


def paired_diff_ci(a, b, resamples: int = 2000, seed: int = 0) -> dict | None:
    """{"diff": mean(a - b), "ci95": [lo, hi], "prompts"} over prompts where both have a value."""
    if len(a) != len(b):
        raise ValueError(f"paired values need equal lengths, got {len(a)} and {len(b)}")
    diffs = np.array([x - y for x, y in zip(a, b) if x is not None and y is not None], dtype=np.float64)
    if diffs.size == 0:
        return None
    return {"diff": float(diffs.mean()), "ci95": _interval(_resample_means(diffs, resamples, seed)),
            "prompts": int(diffs.size)}
