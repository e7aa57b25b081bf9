"""Checks that a comparison could see the effect it looks for.  Each check is
{value, threshold, passed, available, detail, ...the numbers it used}; ``available: false`` means it
could not be computed from what was given (no base samples, no answer-position statistics) and
fails nothing.

    collapse_sft_share, collapse_valid_simpson, collapse_entropy
        the baseline against the base model on the check split at the check temperature: SFT
        answers' share of the valid samples up, valid-answer Gini-Simpson down, answer-position
        entropy down (needs the model: not available from samples alone), each by its threshold
        with the interval excluding 0;
    format_learned  the baseline's best accuracy on the verdict split;
    aa              every pair of baseline seeds compared as two methods on the primary endpoint.
                    A pair has one run per side, so its interval adds the baseline's seed variance
                    (estimated from all its seeds) to the pair's own category-by-noise variance.
                    Passes if at most ``aa_max_rate`` of the intervals exclude 0 (with 3 pairs or
                    more; with fewer, if none does);
    spike_in        the spike-in control (``spike.py``) at size delta must come out reproduced:
                    the readings register +delta at identical accuracy (it fails where a level or
                    the band cannot be read); if it does not, the smallest size that does
                    (bisection) is reported.  Beside it, the verdict comparison's own power: the
                    effect its primary endpoint detects with 80% power, (t_0.975 + t_0.8) x se on
                    its df;
    positive_control  a named method (a real control) must come out reproduced.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..metrics.frontier import band_mean, band_targets
from ..metrics.intervals import t_interval, variance_components
from .config import nearest_one
from .readings import Frontier, level_targets
from .spike import spike_table
from .verdict import primary_endpoints, primary_outcome

SPIKE_MAX = 0.3
SPIKE_STEPS = 6


def _unavailable(threshold, detail: str) -> dict:
    return {"value": None, "threshold": threshold, "passed": None, "available": False, "detail": detail}


def _check_temperature(study) -> float:
    """checks.temperature, else the base's temperature nearest 1 (the base is the collapse reference)."""
    c, temps = study.cfg.checks, study.temperatures
    if c["temperature"] is not None:
        return float(c["temperature"])
    if "base" in study.arrays:
        accuracy = study.arrays["base"][study.cfg.verdict["accuracy"]]
        temps = [t for i, t in enumerate(temps) if np.isfinite(accuracy[..., i]).any()] or temps
    return nearest_one(temps)


def collapse_checks(study, scores) -> dict:
    cfg, c, v = study.cfg, study.cfg.checks, study.cfg.verdict
    split = c["split"] or v["split"]
    temperature = _check_temperature(study)
    where = f"{cfg.baseline} - base, {split}, T {temperature:g}"
    checks = {}
    for name, metric, sign, threshold in (("collapse_sft_share", "sft_share", +1, c["sft_share_rise"]),
                                          ("collapse_valid_simpson", "valid_simpson", -1, c["simpson_drop"]),
                                          ("collapse_entropy", "entropy", -1, c["entropy_drop"])):
        limit = sign * threshold
        if "base" not in study.arrays:
            checks[name] = _unavailable(limit, f"{metric}: no base-model samples")
            continue
        if metric == "entropy" and not {"base", cfg.baseline} <= scores.positions:
            checks[name] = _unavailable(limit, "answer-position entropy needs the models (not in sample files)")
            continue
        t = study.temperatures.index(temperature) if temperature in study.temperatures else None
        mine, base = study.curve(cfg.baseline, split, metric), study.curve("base", split, metric)
        entry = None if t is None or mine is None else study.cells[split, "open"].interval(mine[:, t] - base[:, t])
        if entry is None:
            checks[name] = {"value": None, "threshold": limit, "passed": False, "available": True,
                            "detail": f"{metric} undefined for {cfg.baseline} or base on {split} at T {temperature:g}"}
            continue
        lo, hi = entry["ci95"]
        clear = lo > 0 if sign > 0 else hi < 0
        checks[name] = {"value": entry["estimate"], "threshold": limit, "ci95": entry["ci95"], "available": True,
                        "passed": bool(sign * entry["estimate"] >= threshold and clear),
                        "baseline_value": float(mine[0, t]), "base_value": float(base[0, t]),
                        "detail": f"{metric}: {where}; passes if {'>=' if sign > 0 else '<='} {limit:g} and the "
                                  f"interval excludes 0"}
    own = study.frontier(cfg.baseline, v["split"])
    if own is None:
        checks["format_learned"] = {"value": None, "threshold": c["format_min_accuracy"], "passed": False,
                                    "available": True, "detail": f"no open prompts in {v['split']}"}
    else:
        best = study.cells[v["split"], "open"].interval(own.fitted_accuracy(v["accuracy"]).max(axis=1))
        checks["format_learned"] = {"value": best["estimate"], "threshold": c["format_min_accuracy"],
                                    "ci95": best["ci95"], "available": True,
                                    "passed": bool(best["estimate"] >= c["format_min_accuracy"]),
                                    "detail": f"best {v['accuracy']} of {cfg.baseline} over T on {v['split']}"}
    return checks


def _own_values(frontier: Frontier, v: dict, targets) -> dict:
    """Primary endpoint name -> a method's own reading [K] (for its seed variance)."""
    if v["primary"] == "band":
        return {"band": band_mean(frontier.read(v["metric"], band_targets(*v["band"]))[0])}
    names, _ = targets
    return {name: frontier.read(v["metric"], targets[1][:, i:i + 1])[0][:, 0] for i, name in enumerate(names)}


def aa_check(study) -> dict:
    from .analysis import Study, read_method

    cfg, v, c = study.cfg, study.cfg.verdict, study.cfg.checks
    threshold = f"at most {c['aa_max_rate']:.0%} of intervals exclude 0"
    if study.n_seeds < 2:
        return _unavailable(threshold, "needs at least two seeds of the baseline")
    base = study.frontier(cfg.baseline, v["split"])
    cells = study.cells.get((v["split"], "open"))
    if base is None:
        return {"value": None, "threshold": threshold, "passed": False, "available": True,
                "detail": f"no open prompts in {v['split']}"}
    seed_variance = {}
    for name, values in _own_values(base, v, level_targets(v["levels"], base, v["accuracy"])).items():
        parts = variance_components(cells.pseudo_values(values))
        seed_variance[name] = max(study.n_seeds * (parts["seed_term"] or 0.0), 0.0)
    pairs, excluded = {}, 0
    table = study.arrays[cfg.baseline]
    for i, j in itertools.combinations(range(study.n_seeds), 2):
        pair = Study(cfg, study.prompts, {cfg.baseline: {m: x[[i]] for m, x in table.items()},
                                          "second": {m: x[[j]] for m, x in table.items()}}, study.temperatures, 1)
        reading = read_method(pair, "second", v["split"])
        g = len(pair.cells[v["split"], "open"].categories)
        for name, block in primary_endpoints(reading, v["primary"]).items():
            r = block["metrics"][v["metric"]]
            if r is None:
                continue
            own, seeds = r["se"] ** 2, 2 * seed_variance[name]
            variance = own + seeds
            df = variance ** 2 / (own ** 2 / max(g - 1, 1) + seeds ** 2 / (study.n_seeds - 1)) if variance > 0 else 1.0
            ci = t_interval(r["estimate"], variance, df)
            out = ci[0] > 0 or ci[1] < 0
            excluded += out
            pairs[f"seed {cfg.seeds[j]} vs {cfg.seeds[i]}: {name}"] = {"diff": r["estimate"], "ci95": ci,
                                                                      "df": df, "excludes_0": bool(out)}
    if not pairs:
        return {"value": None, "threshold": threshold, "passed": False, "available": True,
                "detail": f"{v['metric']} undefined for {cfg.baseline}'s single seeds"}
    rate = excluded / len(pairs)
    n_pairs = study.n_seeds * (study.n_seeds - 1) // 2
    passed = rate <= c["aa_max_rate"] if n_pairs >= 3 else excluded == 0
    return {"value": rate, "threshold": threshold if n_pairs >= 3 else "every interval covers 0",
            "passed": bool(passed), "available": True, "pairs": pairs,
            "detail": f"{cfg.baseline}'s seeds pairwise, {v['metric']} at matched {v['accuracy']} ({v['primary']}), "
                      f"{v['split']}: {excluded} of {len(pairs)} intervals exclude 0"}


def _detectable(reading: dict) -> float:
    """The effect a two-sided 95% t test on this reading's se and df detects with 80% power."""
    from scipy.stats import t

    return float((t.ppf(0.975, reading["df"]) + t.ppf(0.8, reading["df"])) * reading["se"])


def spike_check(study, scores, readings: dict) -> dict:
    from .analysis import read_method

    cfg, v = study.cfg, study.cfg.verdict
    index = study.cells[v["split"], "open"].index if (v["split"], "open") in study.cells else []
    if not len(index) or not scores.labels:
        return _unavailable(f"reproduced at +{v['delta']}", f"no open prompts of {cfg.baseline} in {v['split']}")
    metric = "coverage" if v["metric"] == "coverage" else "lenient_coverage"

    def attempt(size):
        table, achieved = spike_table(study.arrays[cfg.baseline], scores.labels, study.prompts, index, size, metric,
                                      seed=cfg.bootstrap["seed"])
        reading = read_method(study.with_method("spike_in", table), "spike_in", v["split"])
        return primary_outcome(reading, v)[0], reading, achieved

    outcome, reading, achieved = attempt(v["delta"])
    endpoints = {name: block["metrics"][v["metric"]] or {}
                 for name, block in primary_endpoints(reading, v["primary"]).items()}
    check = {"value": {n: e.get("estimate") for n, e in endpoints.items()}, "threshold": f"reproduced at +{v['delta']}",
             "passed": outcome == "reproduced", "available": True, "outcome": outcome, "endpoints": endpoints,
             "achieved_gain": {str(study.temperatures[t]): g for t, g in sorted(achieved.items())},
             "detail": f"{cfg.baseline}'s own samples with repeated answers replaced by unused listed ones: "
                       f"+{v['delta']} {metric} at identical accuracy, {v['split']}"}
    own = (readings.get(v["method"], {}).get(v["split"]))
    if own is not None:  # the power of the comparison itself: its primary endpoint's se and df
        detectable = [_detectable(b["metrics"][v["metric"]]) for b in primary_endpoints(own, v["primary"]).values()
                      if (b["metrics"].get(v["metric"]) or {}).get("se") is not None]
        if detectable:
            check["detectable_at_80_percent_power"] = max(detectable)
            check["detail"] += (f"; the {v['method']} comparison itself detects {max(detectable):.3f} with 80% "
                                "power")
    if outcome != "reproduced":
        lo, hi, found = v["delta"], SPIKE_MAX, None
        if attempt(hi)[0] == "reproduced":
            for _ in range(SPIKE_STEPS):
                mid = (lo + hi) / 2
                lo, hi = (lo, mid) if attempt(mid)[0] == "reproduced" else (mid, hi)
            found = hi
        check["detectable_effect"] = found
        check["detail"] += (f"; smallest spike reproduced: +{found:.3f}" if found is not None else
                            f"; not reproduced even at +{SPIKE_MAX}")
    return check


def positive_control_check(cfg, readings: dict) -> dict:
    v, control = cfg.verdict, cfg.checks["positive_control"]
    reading = readings.get(control, {}).get(v["split"])
    if reading is None:
        return {"value": None, "threshold": "reproduced", "passed": False, "available": True,
                "detail": f"no readings of {control} on {v['split']}"}
    outcome, parts = primary_outcome(reading, v)
    values = {n: (b["metrics"][v["metric"]] or {}).get("estimate")
              for n, b in primary_endpoints(reading, v["primary"]).items()}
    return {"value": values, "threshold": "reproduced", "passed": outcome == "reproduced", "available": True,
            "outcome": outcome, "endpoints": parts,
            "detail": f"{control} - {cfg.baseline}: {v['metric']} at matched {v['accuracy']}, {v['split']}"}


def all_checks(study, scores, readings: dict) -> dict:
    cfg = study.cfg
    if cfg.checks is None:
        return {}
    checks = collapse_checks(study, scores)
    if cfg.checks["aa"]:
        checks["aa"] = aa_check(study)
    if cfg.checks["spike_in"]:
        checks["spike_in"] = spike_check(study, scores, readings)
    if cfg.checks["positive_control"] is not None:
        checks["positive_control"] = positive_control_check(cfg, readings)
    return checks

