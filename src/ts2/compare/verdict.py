"""Checks that a comparison could see the effect, and the pre-registered verdict (rule and checks:
see ``ts2.compare.analysis``).  Each check is {value, threshold, passed, ...the numbers it used}."""

from __future__ import annotations

import numpy as np

from ..metrics.bootstrap import interval
from .analysis import Split, matched_diff


def _diff_entry(a, b, t: int) -> dict | None:
    """mean(a) - mean(b) at grid index t, with its bootstrap interval (curves of one split: the same draw)."""
    a_point, a_reps = a[0][t], a[1][:, t]
    b_point, b_reps = b[0][t], b[1][:, t]
    if np.isnan(a_point) or np.isnan(b_point):
        return None
    return {"diff": float(a_point - b_point), "ci95": interval(a_reps - b_reps),
            "baseline_value": float(a_point), "base_value": float(b_point)}


def collapse_checks(cfg, curves) -> dict:
    c, v = cfg.checks, cfg.verdict
    temps = cfg.sampling["temperatures"]
    temperature = c["temperature"] if c["temperature"] is not None else max(v["levels"])
    t = temps.index(temperature)
    split = c["split"] or v["split"]
    base, ce = curves["base"][split], curves[cfg.baseline][split]
    checks = {}
    for name, metric, sign, threshold in (("collapse_sft_share", "sft_share", +1, c["sft_share_rise"]),
                                          ("collapse_valid_simpson", "valid_simpson", -1, c["simpson_drop"]),
                                          ("collapse_entropy", "entropy", -1, c["entropy_drop"])):
        entry = _diff_entry(ce[metric], base[metric], t)
        where = f"{cfg.baseline} - base, {split}, T {temperature}"
        if entry is None:
            checks[name] = {"value": None, "threshold": sign * threshold, "passed": False,
                            "detail": f"{metric} undefined for {cfg.baseline} or base on {split}"}
            continue
        lo, hi = entry["ci95"]
        clear = (lo is not None and lo > 0) if sign > 0 else (hi is not None and hi < 0)
        passed = bool(sign * entry["diff"] >= threshold and clear)
        checks[name] = {"value": entry["diff"], "threshold": sign * threshold, "passed": passed, **entry,
                        "detail": f"{metric}: {where}; passes if {'>=' if sign > 0 else '<='} {sign * threshold:g} "
                                  f"and the interval excludes 0"}
    lowest = min(v["levels"])
    point, reps = ce[v["accuracy"]][0][temps.index(lowest)], ce[v["accuracy"]][1][:, temps.index(lowest)]
    checks["format_learned"] = {"value": float(point), "threshold": c["format_min_accuracy"],
                                "passed": bool(point >= c["format_min_accuracy"]), "ci95": interval(reps),
                                "detail": f"{v['accuracy']} of {cfg.baseline} at T {lowest} on {split}"}
    return checks


def aa_check(cfg, arrays, prompts) -> dict:
    """Two seeds of the baseline compared as if they were two methods."""
    v, temps = cfg.verdict, cfg.sampling["temperatures"]
    if len(cfg.seeds) < 2:
        return {"value": None, "threshold": "interval covers 0", "passed": False,
                "detail": "needs at least two seeds"}
    split = Split(cfg, prompts, v["split"], n_seeds=1)
    table = arrays[cfg.baseline]
    a = [split.curve(table[v["accuracy"]], slice(0, 1)), split.curve(table[v["metric"]], slice(0, 1))]
    b = [split.curve(table[v["accuracy"]], slice(1, 2)), split.curve(table[v["metric"]], slice(1, 2))]
    levels, passed = {}, True
    for temperature in v["levels"]:
        level = temps.index(temperature)
        d = matched_diff(temps, level, b[0], b[1], a[0], a[1], v["accuracy_tolerance"])
        lo, hi = d["ci95"]
        covers = (lo is None or lo <= 0) and (hi is not None and hi >= 0)
        passed &= covers
        levels[f"T{temperature}"] = d
    return {"value": {k: d["diff"] for k, d in levels.items()}, "threshold": "interval covers 0 at every level",
            "passed": bool(passed), "levels": levels,
            "detail": f"{cfg.baseline} seed {cfg.seeds[1]} vs seed {cfg.seeds[0]}, {v['metric']} at matched "
                      f"{v['accuracy']}, {v['split']}"}


def positive_control_check(cfg, matched: dict) -> dict:
    v, control = cfg.verdict, cfg.checks["positive_control"]
    readings = {k: b["metrics"][v["metric"]] for k, b in matched[control][v["split"]].items()}
    passed = all(r["ci95"][0] is not None and r["ci95"][0] > 0 for r in readings.values())
    return {"value": {k: r["diff"] for k, r in readings.items()}, "threshold": "interval above 0 at every level",
            "passed": bool(passed), "levels": readings,
            "detail": f"{control} - {cfg.baseline}: {v['metric']} at matched {v['accuracy']}, {v['split']}"}


def all_checks(cfg, arrays, curves, prompts, matched: dict) -> dict:
    if cfg.checks is None:
        return {}
    checks = collapse_checks(cfg, curves)
    if cfg.checks["aa"]:
        checks["aa"] = aa_check(cfg, arrays, prompts)
    if cfg.checks["positive_control"] is not None:
        checks["positive_control"] = positive_control_check(cfg, matched)
    return checks


def rule_text(cfg) -> str:
    v = cfg.verdict
    levels = ", ".join(f"T {t}" for t in v["levels"])
    return (f"On {v['split']}, read {v['method']} at the {v['accuracy']} that {cfg.baseline} has at {levels} "
            f"(monotone interpolation over the temperature grid; within {v['accuracy_tolerance']} of it at best) and "
            f"compare {v['metric']} there with {cfg.baseline}'s, read by the same rule at that accuracy "
            f"(hierarchical paired bootstrap, 95%). "
            f"reproduced: the interval is above 0 at every level; not_reproduced: at some level its upper "
            f"bound is below delta = {v['delta']}, or {v['method']}'s best {v['accuracy']} on the grid is "
            f"below the level by more than {v['accuracy_tolerance']} with its whole interval; inconclusive: "
            f"otherwise, or if any check failed.")


def verdict(cfg, matched: dict, checks: dict) -> dict | None:
    if cfg.verdict is None:
        return None
    v = cfg.verdict
    readings = matched.get(v["method"], {}).get(v["split"])
    if not readings:
        return {"outcome": "inconclusive", "rule": rule_text(cfg), "failed_checks": [],
                "reason": f"no open prompts in split {v['split']!r}", "numbers": {}}
    numbers, above, excluded = {}, [], []
    for level, block in readings.items():
        reading = block["metrics"][v["metric"]]
        gap = block["best_accuracy_gap"]
        lo, hi = reading["ci95"]
        above.append(lo is not None and lo > 0)
        out_of_reach = gap["ci95"][1] is not None and gap["ci95"][1] < -v["accuracy_tolerance"]
        excluded.append((hi is not None and hi < v["delta"]) or out_of_reach)
        numbers[level] = {"target_accuracy": block["target_accuracy"], v["metric"]: reading,
                          "best_accuracy_gap": gap, "accuracy_out_of_reach": out_of_reach}
    measured = "reproduced" if all(above) else "not_reproduced" if any(excluded) else "inconclusive"
    failed = sorted(name for name, check in checks.items() if not check["passed"])
    return {"outcome": "inconclusive" if failed else measured, "outcome_before_checks": measured,
            "rule": rule_text(cfg), "failed_checks": failed, "numbers": numbers,
            "preliminary": len(cfg.seeds) < v["min_seeds"],
            "reproduced": (measured == "reproduced" and not failed)}
