"""Bootstrap intervals for comparisons over prompts (percentile method, fixed seed).

``hierarchical_counts`` draws seeds, then groups (categories), then the prompts of each drawn
group; ``weighted_means`` turns the draws into replicate means of any [seeds, prompts, ...] array
(every method with the same draws: paired); ``interval`` is the 95% percentile interval.  With one
seed and one prompt per group this is the ordinary bootstrap over prompts.
"""

from __future__ import annotations

import numpy as np

CONFIDENCE = 0.95


def hierarchical_counts(n_seeds: int, groups, resamples: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Resampling counts of a hierarchical bootstrap: seeds, then groups (categories), then the
    units (prompts) of each drawn group, all with replacement.

    Returns (seed_counts [B, S], unit_counts [B, P]): how often seed s and unit p occur in
    replicate b.  A unit's weight in replicate b is seed_counts[b, s] * unit_counts[b, p]; every
    method is evaluated with the same counts, so differences are paired.
    """
    rng = np.random.default_rng(seed)
    groups = list(groups)
    names = sorted(set(groups), key=str)
    members = [np.array([i for i, g in enumerate(groups) if g == name]) for name in names]
    seed_counts = np.zeros((resamples, n_seeds))
    unit_counts = np.zeros((resamples, len(groups)))
    for b in range(resamples):
        np.add.at(seed_counts[b], rng.integers(0, n_seeds, n_seeds), 1.0)
        for g in rng.integers(0, len(names), len(names)):
            np.add.at(unit_counts[b], members[g][rng.integers(0, len(members[g]), len(members[g]))], 1.0)
    return seed_counts, unit_counts


def weighted_means(values: np.ndarray, seed_counts: np.ndarray,
                   unit_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(point, replicates) of the mean of ``values`` [S, P, ...] over seeds and units, NaN left out.

    point [...]: the plain mean over the non-NaN (s, p) entries; replicates [B, ...]: the same mean
    with weights seed_counts[b, s] * unit_counts[b, p] (NaN where a replicate holds no value).
    """
    values = np.asarray(values, dtype=np.float64)
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        point = filled.sum(axis=(0, 1)) / present.sum(axis=(0, 1))
        num = np.einsum("bs,bp,sp...->b...", seed_counts, unit_counts, filled)
        den = np.einsum("bs,bp,sp...->b...", seed_counts, unit_counts, present.astype(np.float64))
        return point, num / den


def interval(replicates) -> list[float | None]:
    """95% percentile interval of replicate values; -inf entries (a failure counted against the
    method) are allowed and give None as a bound; NaN entries are left out."""
    reps = np.asarray(replicates, dtype=np.float64)
    reps = reps[~np.isnan(reps)]
    if reps.size == 0:
        return [None, None]
    tail = (1 - CONFIDENCE) / 2
    bounds = np.quantile(reps, [tail, 1 - tail], method="inverted_cdf")
    return [float(b) if np.isfinite(b) else None for b in bounds]
