"""Readings at matched accuracy: every method against the baseline, at the levels and over the band.

For one split (its open prompts), each method's accuracy and diversity curves over its own
temperatures are evaluated on the K cell-weight tables of ``Cells`` ([K, T]), made monotone and
dense (``metrics.frontier.dense_curves``) and read where the accuracy meets each target:

    levels   accuracies (``levels: {accuracy: [...]}``), or the baseline's fitted accuracy at named
             temperatures (``levels: {temperature: [...]}``, then a target per weight table);
    band     BAND_POINTS accuracies from a_lo to a_hi: the primary endpoint is the mean over the band
             of (method - baseline), the area between the two frontiers over the band's width.

Beside them, the ceiling: each method's best fitted accuracy over its temperatures, and the
difference to the baseline's, with its interval (the accuracy endpoint of protocol v4).

Each difference gets the crossed seeds x categories interval (``Cells.interval``); a reading whose
method does not reach the target carries a status instead of -inf: ``accuracy_cost`` (its best
accuracy is below the target: ``best_accuracy_gap`` says by how much, with an interval) or
``grid_short`` (it is still more accurate than the target at its highest temperature).  A target
the baseline itself does not bracket is ``baseline_unreadable``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..metrics.frontier import STATUS, band_mean, band_targets, dense_curves, monotone_fit, read_at
from .cells import Cells

READ_METRICS = ("lenient_coverage", "valid_simpson", "coverage", "valid_distinct@4")


@dataclass
class Frontier:
    """One method on one split: its temperatures, raw curves [K, T] and dense curves [K, D]."""
    temps: np.ndarray
    curves: dict
    dense_acc: np.ndarray
    dense: dict

    @classmethod
    def of(cls, cells: Cells, table: dict, grid, accuracy: str, metrics) -> Frontier | None:
        acc = cells.curve(table[accuracy])
        keep = np.isfinite(acc[0])
        if not keep.any():
            return None
        curves = {m: cells.curve(table[m])[:, keep] for m in dict.fromkeys((accuracy, *metrics))}
        # a metric undefined at a temperature (no prompt with 2 valid samples) is read as its neighbours;
        # one undefined at every temperature is not read at all
        curves = {m: c if np.isfinite(c).all() else _fill(c) for m, c in curves.items() if np.isfinite(c[0]).any()}
        temps = np.asarray(grid, dtype=np.float64)[keep]
        _, dense_acc, dense = dense_curves(temps, curves[accuracy], {m: curves[m] for m in metrics if m in curves})
        return cls(temps, curves, dense_acc, dense)

    def fitted_accuracy(self, accuracy: str) -> np.ndarray:
        return np.stack([monotone_fit(row) for row in self.curves[accuracy]])

    def read(self, metric: str, targets) -> tuple[np.ndarray, np.ndarray]:
        """(readings [K, L], status [K, L]); NaN readings for a metric this method never defines."""
        if metric not in self.dense:
            shape = (self.dense_acc.shape[0], np.shape(targets)[-1])
            return np.full(shape, np.nan), read_at(self.dense_acc, self.dense_acc, targets)[1]
        return read_at(self.dense_acc, self.dense[metric], targets)


def _fill(curve: np.ndarray) -> np.ndarray:
    out = curve.copy()
    for row in out:
        bad = ~np.isfinite(row)
        if bad.all():
            continue
        row[bad] = np.interp(np.flatnonzero(bad), np.flatnonzero(~bad), row[~bad])
    return out


def level_targets(spec: dict, baseline: Frontier, accuracy: str) -> tuple[list[str], np.ndarray]:
    """(names, targets [K, L]) of the verdict levels."""
    k = baseline.curves[accuracy].shape[0]
    if "accuracy" in spec:
        values = [float(a) for a in spec["accuracy"]]
        return [f"accuracy {a:g}" for a in values], np.broadcast_to(np.array(values), (k, len(values)))
    fitted = baseline.fitted_accuracy(accuracy)
    columns = []
    for t in spec["temperature"]:
        hits = np.flatnonzero(np.isclose(baseline.temps, float(t)))
        if not hits.size:
            raise ValueError(f"verdict level T {t} is not a temperature the baseline was sampled at "
                             f"({baseline.temps.tolist()})")
        columns.append(fitted[:, hits[0]])
    return [f"T {t:g}" for t in spec["temperature"]], np.stack(columns, axis=1)


def _differences(cells: Cells, method: Frontier, baseline: Frontier, metrics, targets, reduce):
    """(metric -> {estimate, ci95, se, df, value, baseline} or None, the method's and the baseline's
    status codes at ``targets`` for the data as they are).  ``reduce`` turns readings [K, L] into
    the statistic [K]: one level's column, or the band mean."""
    block, mine_status, theirs_status = {}, None, None
    for metric in metrics:
        mine, mine_status = method.read(metric, targets)
        theirs, theirs_status = baseline.read(metric, targets)
        diff = cells.interval(reduce(mine - theirs))
        block[metric] = None if diff is None else {**diff, "value": float(reduce(mine[:1])[0]),
                                                   "baseline": float(reduce(theirs[:1])[0])}
    return block, mine_status[0], theirs_status[0]


def _status(mine, theirs, gap: dict | None, tolerance: float) -> str:
    """The reading's status from the status codes of its targets (see ``read_at``): the baseline
    first; an accuracy cost within ``tolerance`` of the method's best accuracy is read there, ok."""
    if theirs.any():
        return "baseline_unreadable"
    status = STATUS[1] if (mine == 1).any() else STATUS[2] if (mine == 2).any() else STATUS[0]
    if status == "accuracy_cost" and gap is not None and gap["estimate"] >= -tolerance - 1e-12:
        return "ok"
    return status


def _within_01(entry: dict | None) -> dict | None:
    """An accuracy's interval clipped to [0, 1] (a t interval is symmetric; the truth lies inside)."""
    if entry is None:
        return None
    return {**entry, "ci95": [float(np.clip(b, 0.0, 1.0)) for b in entry["ci95"]]}


def compare_frontiers(cells: Cells, method: Frontier, baseline: Frontier, names, targets, band, accuracy: str,
                      metrics, tolerance: float) -> dict:
    """{"levels": name -> reading, "band": reading or None, "ceiling": best accuracies and their
    difference} of ``method`` - ``baseline``."""
    best = method.fitted_accuracy(accuracy).max(axis=1)  # [K]
    levels = {}
    for i, name in enumerate(names):
        target = targets[:, i:i + 1]
        gap = cells.interval(best - target[:, 0])
        block, mine, theirs = _differences(cells, method, baseline, metrics, target, lambda x: x[:, 0])
        levels[name] = {"target_accuracy": float(target[0, 0]), "best_accuracy_gap": gap, "metrics": block,
                        "status": _status(mine, theirs, gap, tolerance)}
    base_best = baseline.fitted_accuracy(accuracy).max(axis=1)
    result = {"levels": levels, "band": None,
              "ceiling": {"method": _within_01(cells.interval(best)), "baseline": _within_01(cells.interval(base_best)),
                          "difference": cells.interval(best - base_best)}}
    if band is not None:
        gap = cells.interval(best - band[1])
        block, mine, theirs = _differences(cells, method, baseline, metrics, band_targets(*band), band_mean)
        result["band"] = {"band": list(band), "best_accuracy_gap": gap, "metrics": block,
                          "status": _status(mine, theirs, gap, tolerance)}
    return result


def peak(cells: Cells, frontier: Frontier, accuracy: str, metric: str) -> dict | None:
    """The largest mean ``metric`` over the method's temperatures, with its accuracy and temperature."""
    if metric not in frontier.curves:
        return None
    values = frontier.curves[metric]
    t = int(np.nanargmax(values[0]))
    return {"temperature": float(frontier.temps[t]), metric: cells.interval(values.max(axis=1)),
            accuracy: cells.interval(frontier.curves[accuracy][:, t])}
