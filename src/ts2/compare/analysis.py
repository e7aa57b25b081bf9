"""What a `ts2 compare` run concludes, in one pass: scores -> curves -> readings -> checks -> verdict.

``analyze(cfg, prompts, scores)`` takes the score arrays (``scores.score_arrays``) and returns the
report's numbers; ``report.py`` only formats them.  The stages:

    curves    every method's mean of every metric at every temperature, per split, on the cell-weight
              tables of ``cells.Cells`` (seeds x categories; open and closed prompts apart, so closed
              prompts never enter a coverage or diversity statistic);
    tables    those means with their intervals at each temperature, and their differences to the
              baseline (the per-temperature tables and the frontier);
    readings  each method against the baseline at the verdict's levels and over its band
              (``readings.compare_frontiers``), and each method's peak coverage;
    checks    collapse, format, A/A over all pairs of baseline seeds, the spike-in control, the
              positive control (``checks``);
    verdict   the stated rule applied to the readings and the checks (``verdict``).

Every interval is the crossed seeds x categories interval of ``metrics.intervals`` (t on
Satterthwaite df), from pseudo-values of the statistic itself; in the per-temperature tables an
interval is clipped to the metric's range ([0, 1] for shares, coverage and diversity indices).
"""

from __future__ import annotations

import numpy as np

from .cells import Cells
from .readings import peak
from .study import Study, read_method

# A t interval is symmetric; one that leaves a metric's range is clipped to it (the truth lies inside)
RANGES = {"self_bleu": (0.0, 100.0), "valid_distinct@4": (1.0, 4.0), "entropy": (0.0, np.inf)}
FRONTIER_METRICS = ("accuracy", "lenient_accuracy", "coverage", "lenient_coverage", "valid_simpson",
                    "valid_distinct@4", "share_off_list", "pass@1", "lenient_pass@1")


def _clipped(result: dict | None, metric: str, difference: bool = False) -> dict | None:
    """An interval entry with its bounds clipped to the metric's range (a difference: to +-width)."""
    if result is None:
        return None
    lo, hi = RANGES.get(metric, (0.0, 1.0))
    if difference:
        lo, hi = lo - hi, hi - lo
    return {**result, "ci95": [float(np.clip(b, lo, hi)) for b in result["ci95"]]}


def _entry(cells: Cells, stat: np.ndarray, metric: str, key: str = "mean") -> dict | None:
    result = _clipped(cells.interval(stat), metric, key == "diff")
    if result is None:
        return None
    estimate = result.pop("estimate")
    return {key: estimate, **result}


def tables(study: Study, metrics) -> dict:
    """"T" -> {"methods": method -> split -> metric -> {mean, ci95, se, df, prompts},
    "vs": method -> split -> metric -> {diff, ...}} at every temperature."""
    baseline = study.cfg.baseline
    result = {}
    for t, temperature in enumerate(study.temperatures):
        methods, versus = {}, {}
        for method, table in study.arrays.items():
            for split in study.splits:
                for metric in metrics:
                    curve = study.curve(method, split, metric)
                    if curve is None:
                        continue
                    cells = study.cells_for(split, metric)
                    entry = _entry(cells, curve[:, t], metric)
                    if entry is None:
                        continue
                    entry["prompts"] = int((~np.isnan(table[metric][:, cells.index, t])).any(0).sum())
                    methods.setdefault(method, {}).setdefault(split, {})[metric] = entry
                    if method == baseline:
                        continue
                    diff = _entry(cells, curve[:, t] - study.curve(baseline, split, metric)[:, t], metric, "diff")
                    if diff is not None:
                        versus.setdefault(method, {}).setdefault(split, {})[metric] = diff
        result[str(temperature)] = {"methods": methods, "vs": versus}
    return result


def frontier_table(per_temperature: dict) -> dict:
    """method -> split -> "T" -> metric -> {mean, ci95, ...} (the frontier metrics only)."""
    result = {}
    for temperature, block in per_temperature.items():
        for method, by_split in block["methods"].items():
            for split, by_metric in by_split.items():
                cell = {m: e for m, e in by_metric.items() if m in FRONTIER_METRICS}
                if cell:
                    result.setdefault(method, {}).setdefault(split, {})[temperature] = cell
    return result


def readings(study: Study) -> dict:
    """method -> split -> {"levels", "band"} for every method but the base and the baseline."""
    result = {}
    for method in study.arrays:
        if method in ("base", study.cfg.baseline):
            continue
        for split in study.splits:
            reading = read_method(study, method, split)
            if reading is not None:
                result.setdefault(method, {})[split] = reading
    return result


def peaks(study: Study) -> dict:
    """method -> split -> {temperature, <metric>, <accuracy>}: each method's highest mean verdict metric."""
    accuracy, metric = study.read_keys()
    result = {}
    for method in study.arrays:
        for split in study.splits:
            own = study.frontier(method, split)
            best = None if own is None else peak(study.cells[split, "open"], own, accuracy, metric)
            if best is not None:
                best = {k: _clipped(e, k) if isinstance(e, dict) else e for k, e in best.items()}
                result.setdefault(method, {})[split] = best
    return result


def method_outcomes(cfg, readings: dict) -> dict:
    """method -> {"outcome", "endpoints"}: the verdict's rule applied to every method on the verdict
    split, before the checks (the secondary comparisons: each method against the baseline)."""
    from .verdict import claim_outcome

    v, result = cfg.verdict, {}
    for method, by_split in readings.items():
        reading = by_split.get(v.split)
        if reading:
            outcome, parts = claim_outcome(reading, v)
            result[method] = {"outcome": outcome, "endpoints": parts}
    return result


def analyze(cfg, prompts: list[dict], scores, metrics, audit: dict | None = None) -> dict:
    """The report's numbers (``report.py`` formats them): tables, frontier, readings, peaks, checks,
    verdict, and the audit's sensitivity readings when judgements are given."""
    from .checks import all_checks
    from .verdict import verdict

    study = Study(cfg, prompts, scores.arrays, scores.temperatures)
    per_temperature = tables(study, metrics)
    result = {"temperatures": per_temperature, "frontier": frontier_table(per_temperature), "readings": {},
              "peaks": peaks(study), "checks": {}, "verdict": None}
    if cfg.verdict is not None:
        result["readings"] = readings(study)
        result["checks"] = all_checks(study, scores, result["readings"])
        result["verdict"] = verdict(cfg, result["readings"], result["checks"])
        result["outcomes"] = method_outcomes(cfg, result["readings"])
        if audit is not None:
            judged = Study(cfg, prompts, audit["arrays"], scores.temperatures)
            result["audit_readings"] = readings(judged)
    return result
