"""A comparison's data as the analysis reads it: ``Study`` (prompts, cells, score arrays, curves and
frontiers computed once) and ``read_method`` (one method against the baseline at the verdict's
levels and band).  Both the analysis and its checks build on these."""

from __future__ import annotations

import numpy as np

from ..metrics.answer_sets import CLOSED_METRICS
from .cells import Cells
from .readings import READ_METRICS, Frontier, compare_frontiers, level_targets


class Study:
    """A comparison's prompts, cells and score arrays, with every curve computed once."""

    def __init__(self, cfg, prompts: list[dict], arrays: dict, temperatures: list[float], n_seeds: int | None = None):
        self.cfg, self.prompts, self.arrays, self.temperatures = cfg, prompts, arrays, list(temperatures)
        self.n_seeds = n_seeds or len(cfg.seeds)
        self.splits = sorted({r["split"] for r in prompts})
        self.cells = {}
        for split in self.splits:
            for kind in ("open", "closed"):
                index = [i for i, r in enumerate(prompts) if r["split"] == split and r["kind"] == kind]
                if index:
                    self.cells[split, kind] = Cells(prompts, index, self.n_seeds)
        self._curves, self._frontiers = {}, {}

    def cells_for(self, split: str, metric: str) -> Cells | None:
        return self.cells.get((split, "closed" if metric in CLOSED_METRICS else "open"))

    def curve(self, method: str, split: str, metric: str) -> np.ndarray | None:
        """[K, T] means of ``metric`` (None where the split has no prompt of the metric's kind)."""
        key = (method, split, metric)
        if key not in self._curves:
            cells = self.cells_for(split, metric)
            self._curves[key] = None if cells is None else cells.curve(self.arrays[method][metric])
        return self._curves[key]

    def frontier(self, method: str, split: str) -> Frontier | None:
        key = (method, split)
        if key not in self._frontiers:
            cells = self.cells.get((split, "open"))
            accuracy, metric = self.read_keys()
            metrics = tuple(dict.fromkeys((metric, *READ_METRICS)))
            self._frontiers[key] = None if cells is None else Frontier.of(cells, self.arrays[method], self.temperatures,
                                                                          accuracy, metrics)
        return self._frontiers[key]

    def read_keys(self) -> tuple[str, str]:
        """(accuracy, metric) of the verdict; without one, lenient accuracy and lenient coverage."""
        v = self.cfg.verdict
        return ("lenient_accuracy", "lenient_coverage") if v is None else (v.accuracy, v.metric)

    def with_method(self, name: str, table: dict) -> Study:
        """The same study with one more method (the spike-in control), sharing the computed curves."""
        other = Study.__new__(Study)
        other.__dict__.update(self.__dict__)
        other.arrays = {**self.arrays, name: table}
        other._curves = {k: v for k, v in self._curves.items() if k[0] != name}
        other._frontiers = {k: v for k, v in self._frontiers.items() if k[0] != name}
        return other


def read_method(study: Study, method: str, split: str) -> dict | None:
    """{"levels", "band"} of ``method`` against the baseline on ``split`` (None without open prompts)."""
    cfg, v = study.cfg, study.cfg.verdict
    own, base = study.frontier(method, split), study.frontier(cfg.baseline, split)
    if own is None or base is None:
        return None
    names, targets = level_targets(v.levels, base, v.accuracy)
    metrics = tuple(dict.fromkeys((v.metric, *READ_METRICS)))
    return compare_frontiers(study.cells[split, "open"], own, base, names, targets, v.band, v.accuracy, metrics,
                             v.accuracy_tolerance)
