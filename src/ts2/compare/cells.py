"""Seeds crossed with categories: the cells every `ts2 compare` statistic is built from.

A split's prompts of one kind (open, or closed) fall into G categories; with S seeds, a method's
score array [S, P, T] becomes cell sums and counts [S, G, T].  A curve (the mean of a metric over
the split at each temperature) is a weighted mean of cells.  Every statistic is evaluated at once
on a stack of K = 1 + 2 S G cell-weight tables: the data as they are (row 0), then each cell's weight
moved up and down by ``EPS`` (central differences).  From those K values ``interval`` forms the
cells' pseudo-values (the infinitesimal jackknife) and the crossed seeds x categories interval of
``ts2.metrics.intervals``.  Every method is evaluated with the same weights, seed s of one method
in a cell with seed s of the other, so differences are paired by category.  A split whose prompts
of a kind all share one category (the demo's closed questions) uses its prompts as the groups.
"""

from __future__ import annotations

import numpy as np

from ..metrics.intervals import crossed_interval

EPS = 1e-3


class Cells:
    def __init__(self, prompts: list[dict], index, n_seeds: int):
        self.index = np.asarray(index, dtype=int)
        groups = [prompts[i].get("category", prompts[i]["id"]) for i in self.index]
        if len(set(groups)) < 2:  # one category: nothing to resample but its prompts
            groups = [prompts[i]["id"] for i in self.index]
        self.categories = sorted(set(groups), key=str)
        self.membership = np.array([[g == c for g in groups] for c in self.categories], dtype=np.float64)
        self.n_seeds = n_seeds
        s, g = n_seeds, len(self.categories)
        weights = np.ones((1 + 2 * s * g, s, g))
        for i in range(s * g):
            weights[1 + 2 * i].flat[i] += EPS
            weights[2 + 2 * i].flat[i] -= EPS
        self.weights = weights

    def __len__(self) -> int:
        return len(self.index)

    def curve(self, values: np.ndarray) -> np.ndarray:
        """[K, ...] weighted means over seeds and prompts of ``values`` [S, P, ...] (NaN left out)."""
        v = np.asarray(values, dtype=np.float64)[:, self.index]
        present = ~np.isnan(v)
        sums = np.einsum("gp,sp...->sg...", self.membership, np.where(present, v, 0.0))
        counts = np.einsum("gp,sp...->sg...", self.membership, present.astype(np.float64))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.einsum("ksg,sg...->k...", self.weights, sums) / np.einsum("ksg,sg...->k...", self.weights,
                                                                                 counts)

    def pseudo_values(self, stat: np.ndarray) -> np.ndarray:
        """[S, G, ...] pseudo-values of a statistic evaluated on the K weight tables [K, ...]."""
        stat = np.asarray(stat, dtype=np.float64)
        s, g = self.n_seeds, len(self.categories)
        grad = (stat[1::2] - stat[2::2]) / (2 * EPS)  # [S*G, ...]
        return (stat[0] + s * g * grad).reshape(s, g, *stat.shape[1:])

    def interval(self, stat: np.ndarray) -> dict | None:
        """{"estimate", "ci95", "se", "df"} of a scalar statistic [K]; None where it is undefined."""
        stat = np.asarray(stat, dtype=np.float64)
        if not np.isfinite(stat[0]):
            return None
        cells = self.pseudo_values(stat)
        if not np.isfinite(cells).all():  # a cell without data: its weight moves nothing
            cells = np.where(np.isfinite(cells), cells, stat[0])
        return {"estimate": float(stat[0]), **crossed_interval(float(stat[0]), cells)}
