"""The rules of docs/v4/pilots.md, applied to the pilots' output: control, band, grid, variances.

    python docs/v4/choose.py PILOT_OUTPUT [--json OUT]

PILOT_OUTPUT is the `ts2 compare docs/v4/pilot.yaml` output directory (its compare.yaml, samples/).
Reads CE and the candidate controls only.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import yaml

from ts2.compare.analysis import Study, read_method
from ts2.compare.config import CompareConfig, read_eval_prompts
from ts2.compare.scores import discover_temperatures, score_arrays
from ts2.metrics.intervals import variance_components

SPLIT, ACCURACY, METRIC = "sft_categories", "lenient_accuracy", "lenient_coverage"
MARGIN, MIN_WIDTH, LOWEST_BOTTOM = 0.03, 0.10, 0.60  # LOWEST_BOTTOM: amendment 2 (pilots.md)
CANDIDATES = ("ce_mix25", "ce_mix50")


def _config(raw: dict, root: Path, verdict: dict) -> CompareConfig:
    return CompareConfig.from_dict({**raw, "verdict": verdict, "checks": None}, root, analysis=True)


def measured_ranges(study: Study, method: str, n_seeds: int) -> list[dict]:
    """Per seed: the fitted accuracy at the highest temperature and the best fitted accuracy."""
    out = []
    for s in range(n_seeds):
        one = Study(study.cfg, study.prompts, {method: {k: x[[s]] for k, x in study.arrays[method].items()}},
                    study.temperatures, 1)
        fitted = one.frontier(method, SPLIT).fitted_accuracy(ACCURACY)[0]
        out.append({"lowest": float(fitted[-1]), "ceiling": float(fitted.max()),
                    "by_temperature": [round(float(a), 4) for a in fitted]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pilot", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    raw = yaml.safe_load((args.pilot / "compare.yaml").read_text())
    cfg = CompareConfig.from_dict(raw, args.pilot, analysis=True)
    prompts = read_eval_prompts(cfg.eval_prompts)
    methods = ["ce", *CANDIDATES]
    temps = discover_temperatures(args.pilot / "samples", methods, cfg.seeds, {})
    scores = score_arrays(methods, cfg.seeds, temps, args.pilot / "samples", prompts, "ce", text_metrics=False)
    study = Study(cfg, prompts, scores.arrays, scores.temperatures)
    n = len(cfg.seeds)
    ranges = {m: measured_ranges(study, m, n) for m in methods}
    result = {"temperatures": scores.temperatures, "ranges": ranges, "candidates": {}}
    for cand in CANDIDATES:
        seeds = ranges["ce"] + ranges[cand]
        lo = max(math.ceil((max(r["lowest"] for r in seeds) + MARGIN) * 100 - 1e-9) / 100, LOWEST_BOTTOM)
        hi = math.floor((min(r["ceiling"] for r in seeds) - MARGIN) * 100 + 1e-9) / 100
        entry = {"band": [lo, hi], "width": round(hi - lo, 4), "eligible": hi - lo >= MIN_WIDTH - 1e-9}
        if hi > lo:
            verdict = {"method": cand, "split": SPLIT, "metric": METRIC, "accuracy": ACCURACY,
                       "levels": {"accuracy": [round((lo + hi) / 2, 4)]}, "band": [lo, hi], "primary": "band"}
            pair = Study(_config(raw, args.pilot, verdict), prompts, scores.arrays, scores.temperatures)
            reading = read_method(pair, cand, SPLIT)
            band = reading["band"]["metrics"][METRIC]
            entry.update(status=reading["band"]["status"], difference=band["estimate"], ci95=band["ci95"],
                         se=band["se"], df=band["df"], t=band["estimate"] / band["se"] if band["se"] else None,
                         ceiling_difference=reading["ceiling"]["difference"])
            ce_band = pair.frontier("ce", SPLIT)
            from ts2.metrics.frontier import band_mean, band_targets

            own = band_mean(ce_band.read(METRIC, band_targets(lo, hi))[0])
            entry["ce_band_components"] = variance_components(pair.cells[SPLIT, "open"].pseudo_values(own))
        result["candidates"][cand] = entry
    eligible = {c: e for c, e in result["candidates"].items() if e["eligible"] and e.get("t") is not None}
    chosen = max(eligible, key=lambda c: eligible[c]["t"]) if eligible else None
    result["control"] = chosen
    if chosen is not None:
        lo, hi = result["candidates"][chosen]["band"]
        t = scores.temperatures
        ce = np.array([r["by_temperature"] for r in ranges["ce"]])  # [seeds, T]
        above = [i for i in range(len(t)) if (ce[:, i] > hi).all()]
        below = [i for i in range(len(t)) if (ce[:, i] < lo).all()]
        first = max(above) if above else 0
        last = min(below) if below else len(t) - 1
        result["grid"] = t[first:last + 1]
    print(json.dumps(result, indent=1, default=float))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=float))


if __name__ == "__main__":
    main()
