"""Readings at matched accuracy: every method against the baseline, at the levels and over the band.

For one split (its open prompts), each method's accuracy and diversity curves over its own
temperatures are evaluated on the K cell-weight tables of ``Cells`` ([K, T]), made monotone and
dense (``metrics.frontier.dense_curves``) and read where the accuracy meets each target:

    levels   accuracies (``levels: {accuracy: [...]}``), or the baseline's fitted accuracy at named
             temperatures (``levels: {temperature: [...]}``, then a target per weight table);
    band     BAND_POINTS accuracies from a_lo to a_hi: the primary endpoint is the mean over the band
             of (method - baseline), the area between the two frontiers over the band's width.

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


def _status(code) -> str:
    return STATUS[int(code)]


def compare_frontiers(cells: Cells, method: Frontier, baseline: Frontier, names, targets, band, accuracy: str,
                      metrics, tolerance: float) -> dict:
    """{"levels": name -> reading, "band": reading or None} of ``method`` - ``baseline``."""
    best = method.fitted_accuracy(accuracy).max(axis=1)  # [K]
    levels = {}
    for i, name in enumerate(names):
        target = targets[:, i:i + 1]
        gap = cells.interval(best - target[:, 0])
        block = {"target_accuracy": float(target[0, 0]), "best_accuracy_gap": gap, "metrics": {}}
        status = None
        for metric in metrics:
            mine, my_status = method.read(metric, target)
            theirs, their_status = baseline.read(metric, target)
            diff = cells.interval(mine[:, 0] - theirs[:, 0])
            status = _status(my_status[0, 0]) if their_status[0, 0] == 0 else "baseline_unreadable"
            if status == "accuracy_cost" and gap is not None and gap["estimate"] >= -tolerance - 1e-12:
                status = "ok"  # within the tolerance of its best accuracy: read there
            block["metrics"][metric] = None if diff is None else {**diff, "value": float(mine[0, 0]),
                                                                  "baseline": float(theirs[0, 0])}
        block["status"] = status
        levels[name] = block
    result = {"levels": levels, "band": None}
    if band is not None:
        grid = band_targets(*band)
        gap = cells.interval(best - band[1])
        block = {"band": list(band), "best_accuracy_gap": gap, "metrics": {}}
        for metric in metrics:
            mine, my_status = method.read(metric, grid)
            theirs, their_status = baseline.read(metric, grid)
            diff = cells.interval(band_mean(mine - theirs))
            block["metrics"][metric] = None if diff is None else {**diff, "value": float(band_mean(mine[0])),
                                                                  "baseline": float(band_mean(theirs[0]))}
        status = "baseline_unreadable" if their_status[0].any() else \
            "accuracy_cost" if my_status[0, -1] == 1 else "grid_short" if my_status[0, 0] == 2 else "ok"
        if status == "accuracy_cost" and gap is not None and gap["estimate"] >= -tolerance - 1e-12:
            status = "ok"
        block["status"] = status
        result["band"] = block
    return result


def peak(cells: Cells, frontier: Frontier, accuracy: str, metric: str) -> dict | None:
    """The largest mean ``metric`` over the method's temperatures, with its accuracy and temperature."""
    if metric not in frontier.curves:
        return None
    values = frontier.curves[metric]
    t = int(np.nanargmax(values[0]))
    return {"temperature": float(frontier.temps[t]), metric: cells.interval(values.max(axis=1)),
            accuracy: cells.interval(frontier.curves[accuracy][:, t])}
