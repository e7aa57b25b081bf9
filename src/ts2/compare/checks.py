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
    replicate       with ``checks.replicate`` (the baseline trained and sampled again at other
                    seeds): the replicate against the baseline on the primary endpoint, an A/A
                    comparison of the whole design; passes if its interval covers 0;
    spike_in        the spike-in control (``spike.py``) at size delta must come out reproduced,
                    planted into runs independent of the baseline's (the replicate, else the
                    second half of the baseline's seeds against the first: ``spike_arms``), so
                    that its interval has the variance of a real method difference and a spike
                    below the design's power is missed.  If it is not reproduced, the smallest
                    size that is (bisection) is reported.  Beside it, the effect its own design
                    and the verdict comparison detect with 80% power, (t_0.975 + t_0.8) x se on
                    their df;
    positive_control  a named method (a real control) must come out reproduced.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..metrics.frontier import band_mean, band_targets
from ..metrics.intervals import t_interval, variance_components
from .readings import Frontier, level_targets
from .sections import nearest_one
from .spike import spike_table
from .verdict import primary_endpoints, primary_outcome

SPIKE_MAX = 0.3
SPIKE_STEPS = 6


def _unavailable(threshold, detail: str) -> dict:
    return {"value": None, "threshold": threshold, "passed": None, "available": False, "detail": detail}


def _check_temperature(study) -> float:
    """checks.temperature, else the base's temperature nearest 1 (the base is the collapse reference)."""
    c, temps = study.cfg.checks, study.temperatures
    if c.temperature is not None:
        return float(c.temperature)
    if "base" in study.arrays:
        accuracy = study.arrays["base"][study.cfg.verdict.accuracy]
        temps = [t for i, t in enumerate(temps) if np.isfinite(accuracy[..., i]).any()] or temps
    return nearest_one(temps)


def collapse_checks(study, scores) -> dict:
    cfg, c, v = study.cfg, study.cfg.checks, study.cfg.verdict
    split = c.split or v.split
    temperature = _check_temperature(study)
    where = f"{cfg.baseline} - base, {split}, T {temperature:g}"
    checks = {}
    for name, metric, sign, threshold in (("collapse_sft_share", "sft_share", +1, c.sft_share_rise),
                                          ("collapse_valid_simpson", "valid_simpson", -1, c.simpson_drop),
                                          ("collapse_entropy", "entropy", -1, c.entropy_drop)):
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
    own = study.frontier(cfg.baseline, v.split)
    if own is None:
        checks["format_learned"] = {"value": None, "threshold": c.format_min_accuracy, "passed": False,
                                    "available": True, "detail": f"no open prompts in {v.split}"}
    else:
        best = study.cells[v.split, "open"].interval(own.fitted_accuracy(v.accuracy).max(axis=1))
        checks["format_learned"] = {"value": best["estimate"], "threshold": c.format_min_accuracy,
                                    "ci95": best["ci95"], "available": True,
                                    "passed": bool(best["estimate"] >= c.format_min_accuracy),
                                    "detail": f"best {v.accuracy} of {cfg.baseline} over T on {v.split}"}
    return checks


def _own_values(frontier: Frontier, v: dict, targets) -> dict:
    """Primary endpoint name -> a method's own reading [K] (for its seed variance)."""
    if v.primary == "band":
        return {"band": band_mean(frontier.read(v.metric, band_targets(*v.band))[0])}
    names, _ = targets
    return {name: frontier.read(v.metric, targets[1][:, i:i + 1])[0][:, 0] for i, name in enumerate(names)}


def aa_check(study) -> dict:
    from .study import Study, read_method

    cfg, v, c = study.cfg, study.cfg.verdict, study.cfg.checks
    threshold = f"at most {c.aa_max_rate:.0%} of intervals exclude 0"
    if study.n_seeds < 2:
        return _unavailable(threshold, "needs at least two seeds of the baseline")
    base = study.frontier(cfg.baseline, v.split)
    cells = study.cells.get((v.split, "open"))
    if base is None:
        return {"value": None, "threshold": threshold, "passed": False, "available": True,
                "detail": f"no open prompts in {v.split}"}
    seed_variance = {}
    for name, values in _own_values(base, v, level_targets(v.levels, base, v.accuracy)).items():
        parts = variance_components(cells.pseudo_values(values))
        seed_variance[name] = max(study.n_seeds * (parts["seed_term"] or 0.0), 0.0)
    pairs, excluded = {}, 0
    table = study.arrays[cfg.baseline]
    for i, j in itertools.combinations(range(study.n_seeds), 2):
        pair = Study(cfg, study.prompts, {cfg.baseline: {m: x[[i]] for m, x in table.items()},
                                          "second": {m: x[[j]] for m, x in table.items()}}, study.temperatures, 1)
        reading = read_method(pair, "second", v.split)
        g = len(pair.cells[v.split, "open"].categories)
        for name, block in primary_endpoints(reading, v.primary).items():
            r = block["metrics"][v.metric]
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
                "detail": f"{v.metric} undefined for {cfg.baseline}'s single seeds"}
    rate = excluded / len(pairs)
    n_pairs = study.n_seeds * (study.n_seeds - 1) // 2
    passed = rate <= c.aa_max_rate if n_pairs >= 3 else excluded == 0
    return {"value": rate, "threshold": threshold if n_pairs >= 3 else "every interval covers 0",
            "passed": bool(passed), "available": True, "pairs": pairs,
            "detail": f"{cfg.baseline}'s seeds pairwise, {v.metric} at matched {v.accuracy} ({v.primary}), "
                      f"{v.split}: {excluded} of {len(pairs)} intervals exclude 0"}


def _detectable(reading: dict) -> float:
    """The effect a two-sided 95% t test on this reading's se and df detects with 80% power."""
    from scipy.stats import t

    return float((t.ppf(0.975, reading["df"]) + t.ppf(0.8, reading["df"])) * reading["se"])


def _replicate_kind(cfg) -> str:
    settings = cfg.methods.get(cfg.checks.replicate, {})
    if settings.get("resample_of"):
        return f"{settings['resample_of']}'s models sampled again: sampling noise, not training noise"
    return "the baseline trained and sampled again at other seeds"


def spike_arms(study, scores):
    """(the study the spike is read in, the source's score table, its labels, a description), or
    None where no design exists.

    The spike is planted into runs independent of the baseline's, so that its interval carries the
    variance of a real method difference (seeds, categories and their interaction): ``checks.replicate``
    (the baseline trained and sampled again at other seeds), paired seed by seed with the baseline;
    without one, the baseline's seeds split in halves, the second half planted and paired with the
    first (half the seeds: less power than the comparison itself)."""
    from .study import Study

    cfg = study.cfg
    replicate = cfg.checks.replicate
    if replicate is not None:
        if replicate not in study.arrays or replicate not in scores.labels:
            return None
        return (study, study.arrays[replicate], scores.labels[replicate],
                f"{replicate} ({_replicate_kind(cfg)}), paired with {cfg.baseline}")
    half = study.n_seeds // 2
    if half < 2 or cfg.baseline not in scores.labels:
        return None
    table = study.arrays[cfg.baseline]
    first = {m: x[:half] for m, x in table.items()}
    second = {m: x[half:2 * half] for m, x in table.items()}
    labels = {(s - half, t): v for (s, t), v in scores.labels[cfg.baseline].items() if half <= s < 2 * half}
    pair = Study(cfg, study.prompts, {cfg.baseline: first}, study.temperatures, half)
    seeds = cfg.seeds
    return (pair, second, labels, f"{cfg.baseline}'s seeds {seeds[half:2 * half]} planted, paired with its seeds "
                                  f"{seeds[:half]}")


def spike_reading(study, arms, size: float) -> tuple[str, dict, dict]:
    """(outcome of the primary endpoint, the reading, T index -> achieved gain) of a spike of
    ``size`` planted into the source of ``arms`` (``spike_arms``) and read against the baseline."""
    from .study import read_method

    cfg, v = study.cfg, study.cfg.verdict
    pair, source, labels, _ = arms
    index = study.cells[v.split, "open"].index
    metric = "coverage" if v.metric == "coverage" else "lenient_coverage"
    table, achieved = spike_table(source, labels, study.prompts, index, size, metric, seed=cfg.bootstrap.seed)
    reading = read_method(pair.with_method("spike_in", table), "spike_in", v.split)
    return primary_outcome(reading, v)[0], reading, achieved


def spike_check(study, scores, readings: dict) -> dict:
    cfg, v = study.cfg, study.cfg.verdict
    index = study.cells[v.split, "open"].index if (v.split, "open") in study.cells else []
    arms = spike_arms(study, scores) if len(index) else None
    if arms is None:
        reason = (f"no open prompts of {cfg.baseline} in {v.split}" if not len(index) else
                  "needs checks.replicate (the baseline at other seeds) or at least 4 seeds of the baseline")
        return _unavailable(f"reproduced at +{v.delta}", reason)
    design = arms[3]
    metric = "coverage" if v.metric == "coverage" else "lenient_coverage"

    def attempt(size):
        return spike_reading(study, arms, size)

    outcome, reading, achieved = attempt(v.delta)
    endpoints = {name: block["metrics"][v.metric] or {}
                 for name, block in primary_endpoints(reading, v.primary).items()}
    check = {"value": {n: e.get("estimate") for n, e in endpoints.items()}, "threshold": f"reproduced at +{v.delta}",
             "passed": outcome == "reproduced", "available": True, "outcome": outcome, "endpoints": endpoints,
             "design": design,
             "achieved_gain": {str(study.temperatures[t]): g for t, g in sorted(achieved.items())},
             "detail": f"{design}: repeated answers replaced by unused listed ones, +{v.delta} {metric} at "
                       f"identical accuracy, {v.split}"}
    detectable = [_detectable(e) for e in endpoints.values() if e.get("se") is not None]
    if detectable:  # the power of the spike-in's own design
        check["detectable_at_80_percent_power"] = max(detectable)
        check["detail"] += f"; this design detects {max(detectable):.3f} with 80% power"
    own = (readings.get(v.method, {}).get(v.split))
    if own is not None:  # the power of the comparison itself: its primary endpoint's se and df
        mine = [_detectable(b["metrics"][v.metric]) for b in primary_endpoints(own, v.primary).values()
                if (b["metrics"].get(v.metric) or {}).get("se") is not None]
        if mine:
            check["comparison_detectable_at_80_percent_power"] = max(mine)
            check["detail"] += f"; the {v.method} comparison itself detects {max(mine):.3f}"
    if outcome != "reproduced":
        lo, hi, found = v.delta, SPIKE_MAX, None
        if attempt(hi)[0] == "reproduced":
            for _ in range(SPIKE_STEPS):
                mid = (lo + hi) / 2
                lo, hi = (lo, mid) if attempt(mid)[0] == "reproduced" else (mid, hi)
            found = hi
        check["detectable_effect"] = found
        check["detail"] += (f"; smallest spike reproduced: +{found:.3f}" if found is not None else
                            f"; not reproduced even at +{SPIKE_MAX}")
    return check


def replicate_check(study, readings: dict) -> dict:
    """The baseline against its replicate (the same process at other seeds) on the primary endpoint:
    an A/A comparison of the whole design, with the comparison's own interval.  Passes if every
    primary interval covers 0 (it fails 5% of the time by chance, as any such interval would)."""
    cfg, v = study.cfg, study.cfg.verdict
    replicate = cfg.checks.replicate
    reading = readings.get(replicate, {}).get(v.split)
    if reading is None:
        return {"value": None, "threshold": "interval covers 0", "passed": False, "available": True,
                "detail": f"no readings of {replicate} on {v.split}"}
    endpoints = {name: block["metrics"][v.metric] or {}
                 for name, block in primary_endpoints(reading, v.primary).items()}
    covers = [bool(e.get("ci95") and e["ci95"][0] <= 0 <= e["ci95"][1]) for e in endpoints.values()]
    return {"value": {n: e.get("estimate") for n, e in endpoints.items()}, "threshold": "interval covers 0",
            "passed": bool(covers and all(covers)), "available": True, "endpoints": endpoints,
            "detail": f"{replicate} - {cfg.baseline} ({_replicate_kind(cfg)}), {v.metric} at matched "
                      f"{v.accuracy} ({v.primary}), {v.split}"}


def positive_control_check(cfg, readings: dict) -> dict:
    v, control = cfg.verdict, cfg.checks.positive_control
    reading = readings.get(control, {}).get(v.split)
    if reading is None:
        return {"value": None, "threshold": "reproduced", "passed": False, "available": True,
                "detail": f"no readings of {control} on {v.split}"}
    outcome, parts = primary_outcome(reading, v)
    values = {n: (b["metrics"][v.metric] or {}).get("estimate")
              for n, b in primary_endpoints(reading, v.primary).items()}
    return {"value": values, "threshold": "reproduced", "passed": outcome == "reproduced", "available": True,
            "outcome": outcome, "endpoints": parts,
            "detail": f"{control} - {cfg.baseline}: {v.metric} at matched {v.accuracy}, {v.split}"}


def all_checks(study, scores, readings: dict) -> dict:
    cfg = study.cfg
    if cfg.checks is None:
        return {}
    checks = collapse_checks(study, scores)
    if cfg.checks.aa:
        checks["aa"] = aa_check(study)
    if cfg.checks.replicate is not None:
        checks["replicate"] = replicate_check(study, readings)
    if cfg.checks.spike_in:
        checks["spike_in"] = spike_check(study, scores, readings)
    if cfg.checks.positive_control is not None:
        checks["positive_control"] = positive_control_check(cfg, readings)
    return checks

