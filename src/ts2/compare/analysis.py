"""What a `ts2 compare` run concludes: frontiers, readings at matched accuracy, checks, verdict.

Inputs are the score arrays of ``ts2.compare.scores`` (method -> metric -> [seeds, prompts, T]).
Every interval is a hierarchical paired bootstrap (``metrics.bootstrap.hierarchical_counts``):
seeds, then categories, then prompts within categories, with the same draw for every method; a
reading at matched accuracy redoes the monotone interpolation inside every replicate.

Matched accuracy (``verdict.levels``): at each named temperature T_L the baseline has accuracy
a_L (its monotone-fitted accuracy there); every method, the baseline included, is read where its
own accuracy curve meets a_L
(``metrics.frontier``; on a flat stretch, at its high-T end), and the metrics there are compared.
(Amended after the first v2 run: the baseline used to be read at T_L itself, which is not the same
rule when its accuracy is flat around T_L; the A/A check caught the bias, +0.034 coverage at T 0.6.)
A method whose accuracy never comes within ``accuracy_tolerance`` of a_L on the grid fails that
level (a replicate where it fails counts as -inf, against the method).

Verdict rule (three outcomes, on ``verdict.split``, metric ``verdict.metric``):
  reproduced      at every level the 95% interval of (method - baseline) lies above 0;
  not_reproduced  at some level its upper bound is below ``delta`` (an effect of that size is
                  excluded), or the method's best accuracy on the grid is below a_L - tolerance
                  with its whole interval;
  inconclusive    otherwise, or whenever a check failed (then ``failed_checks`` says which).
Checks (baseline and base only; thresholds in ``checks``): collapse (share of SFT answers among
valid samples up, valid-answer diversity down, answer-position entropy down, on SFT categories at
``checks.temperature``), format learned (the baseline's accuracy at the lowest level), A/A (two
baseline seeds compared as two methods: the interval covers 0 at every level), positive control
(a named method that must win: interval above 0 at every level).
"""

from __future__ import annotations

import numpy as np

from ..metrics.bootstrap import hierarchical_counts, interval, weighted_means
from ..metrics.frontier import monotone_fit, read_matched

FRONTIER_METRICS = ("accuracy", "lenient_accuracy", "coverage", "lenient_coverage", "valid_simpson",
                    "valid_distinct@4", "share_off_list", "pass@1", "lenient_pass@1")
MATCHED_METRICS = ("lenient_coverage", "valid_simpson", "coverage", "valid_distinct@4")


def _entry(point, reps, key="mean") -> dict | None:
    point = float(point)
    if np.isnan(point):
        return None
    return {key: point, "ci95": interval(reps)}


class Split:
    """One split's prompts and its bootstrap draw (shared by every method)."""

    def __init__(self, cfg, prompts, name, n_seeds=None):
        self.name = name
        self.index = np.array([i for i, r in enumerate(prompts) if r["split"] == name])
        groups = [prompts[i].get("category", prompts[i]["id"]) for i in self.index]
        self.counts = hierarchical_counts(n_seeds or len(cfg.seeds), groups, cfg.bootstrap["resamples"],
                                          cfg.bootstrap["seed"])

    def curve(self, values: np.ndarray, seeds=slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """(point [T], replicates [B, T]) of a metric's mean over this split's prompts."""
        return weighted_means(values[seeds][:, self.index], *self.counts)


def all_curves(arrays, splits) -> dict:
    """method -> split -> metric -> (point [T], replicates [B, T]): every curve the report reads
    (tables, frontier, matched readings, checks), each computed once."""
    return {method: {split.name: {metric: split.curve(values) for metric, values in table.items()}
                     for split in splits.values()} for method, table in arrays.items()}


def summarize(cfg, arrays, curves, splits, t_index: int, metrics) -> tuple[dict, dict]:
    """Tables at one temperature: method -> split -> metric -> {mean, ci95}, and the paired
    differences to the baseline: method -> split -> metric -> {diff, ci95}."""
    methods, versus = {}, {}
    for method, table in arrays.items():
        for split in splits.values():
            for metric in metrics:
                point, reps = curves[method][split.name][metric]
                point, reps = point[t_index], reps[:, t_index]
                entry = _entry(point, reps)
                if entry is None:
                    continue
                entry["prompts"] = int((~np.isnan(table[metric][:, split.index, t_index])).any(0).sum())
                methods.setdefault(method, {}).setdefault(split.name, {})[metric] = entry
                if method == cfg.baseline:
                    continue
                b_point, b_reps = curves[cfg.baseline][split.name][metric]
                diff = _entry(point - b_point[t_index], reps - b_reps[:, t_index], "diff")
                if diff is not None:
                    versus.setdefault(method, {}).setdefault(split.name, {})[metric] = diff
    return methods, versus


def frontier(cfg, curves) -> dict:
    """method -> split -> "T" -> metric -> {mean, ci95}."""
    temps = cfg.sampling["temperatures"]
    result = {}
    for method, by_split in curves.items():
        for split, by_metric in by_split.items():
            block = result.setdefault(method, {}).setdefault(split, {})
            for metric in FRONTIER_METRICS:
                point, reps = by_metric[metric]
                for t, temperature in enumerate(temps):
                    entry = _entry(point[t], reps[:, t])
                    if entry is not None:
                        block.setdefault(str(temperature), {})[metric] = entry
    return result


def level_accuracy(acc, level: int) -> float:
    """The accuracy that defines a level: the baseline's monotone-fitted accuracy at grid index
    ``level`` (its raw mean there when that is already monotone), so that the baseline's own
    curve always meets it."""
    acc = np.asarray(acc, dtype=np.float64)
    return np.nan if np.isnan(acc).any() else float(monotone_fit(acc)[level])


def _read(temps, acc, metric, target, tolerance):
    if np.isnan(target) or np.isnan(acc).any() or np.isnan(metric).any():
        return None
    return read_matched(temps, acc, metric, float(target), tolerance)[1]


def matched_diff(temps, level, method_acc, method_metric, base_acc, base_metric, tolerance) -> dict:
    """Both methods read by the same rule at the accuracy a_L the baseline has at grid index
    ``level``: the method's metric where its curve meets a_L, minus the baseline's where *its*
    curve meets a_L.  On a strictly monotone baseline curve that is the baseline at T_L; where the
    baseline is flat at a_L (accuracy at the ceiling over several temperatures) both are read at
    the high-T end of their flat stretch, so a method identical to the baseline differs by 0.
    Each argument is a (point [T], replicates [B, T]) pair."""
    def reading(m_acc, m_metric, b_acc, b_metric):
        target = level_accuracy(b_acc, level)
        baseline = _read(temps, b_acc, b_metric, target, 0.0)
        if baseline is None:
            return None, np.nan
        return _read(temps, m_acc, m_metric, target, tolerance), baseline

    value, baseline = reading(method_acc[0], method_metric[0], base_acc[0], base_metric[0])
    reps = []
    for b in range(method_acc[1].shape[0]):
        v, base_value = reading(method_acc[1][b], method_metric[1][b], base_acc[1][b], base_metric[1][b])
        reps.append(np.nan if np.isnan(base_value) else -np.inf if v is None else v - base_value)
    reps = np.array(reps)
    finite = reps[~np.isnan(reps)]
    return {"diff": None if value is None or np.isnan(baseline) else value - baseline, "ci95": interval(reps),
            "value": value, "baseline": None if np.isnan(baseline) else float(baseline),
            "unreachable_share": float(np.isinf(finite).mean()) if finite.size else None}


def best_accuracy_gap(level, method_acc, base_acc) -> dict:
    """max over the grid of the method's monotone accuracy curve minus the baseline's accuracy at
    the level: below -tolerance with its whole interval means the level is out of reach."""
    def gap(acc, target):
        return np.nan if np.isnan(acc).any() or np.isnan(target) else float(monotone_fit(acc).max() - target)

    reps = [gap(method_acc[1][b], level_accuracy(base_acc[1][b], level)) for b in range(method_acc[1].shape[0])]
    return {"diff": gap(method_acc[0], level_accuracy(base_acc[0], level)), "ci95": interval(reps)}


def matched(cfg, curves) -> dict:
    """method -> split -> "<baseline>@T<t>" -> {target_accuracy, metrics, accuracy_at_matched_<metric>,
    best_accuracy_gap}."""
    v, temps = cfg.verdict, cfg.sampling["temperatures"]
    acc_key, tol = v["accuracy"], v["accuracy_tolerance"]
    result = {}
    for method in [m for m in curves if m not in ("base", cfg.baseline)]:
        for split, own in curves[method].items():
            base = curves[cfg.baseline][split]
            for temperature in v["levels"]:
                level = temps.index(temperature)
                block = {"target_accuracy": level_accuracy(base[acc_key][0], level),
                         "baseline_temperature": temperature, "metrics": {},
                         "best_accuracy_gap": best_accuracy_gap(level, own[acc_key], base[acc_key])}
                for metric in dict.fromkeys((v["metric"], *MATCHED_METRICS)):
                    block["metrics"][metric] = matched_diff(temps, level, own[acc_key], own[metric], base[acc_key],
                                                            base[metric], tol)
                block[f"accuracy_at_matched_{v['metric']}"] = matched_diff(
                    temps, level, own[v["metric"]], own[acc_key], base[v["metric"]], base[acc_key], 0.0)
                result.setdefault(method, {}).setdefault(split, {})[f"{cfg.baseline}@T{temperature}"] = block
    return result
