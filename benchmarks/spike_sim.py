"""Can the spike-in control fail?  Its acceptance on simulated comparisons (protocol v4, issue 38).

The spike-in (``ts2.compare.checks.spike_reading``) is planted into runs independent of the
baseline's (the replicate: the baseline's process at other seeds) and read against the baseline,
exactly as a run reads it.  On a simulated world (``ts2.compare.simulate``; its knobs from
``benchmarks/fit_world.py``, fitted to the pilots' variances) with the real design (seeds,
categories, prompts, grid, band), for spikes of 0, delta / 4 and delta, how often it comes out
``reproduced``; beside them, the design's own power at delta: how often a real independent method
with +delta coverage at identical accuracy (``simulate.plant_gain`` in its own runs) comes out with
its band interval above 0.  Acceptance (issue 38): spike 0 not reproduced in >= 95% of runs, spike
delta reproduced at the design's power, spike delta / 4 mostly not.

    python benchmarks/spike_sim.py --world benchmarks/results/fit_world_v3.json --band 0.6,0.86
        --temperatures 0.6,1.0,1.2,1.4,1.6,1.7,1.8 --delta 0.03125 [--seeds 5] [--prompts 3] [--runs 200]

The grid must bracket the band for the simulated baseline (a run extends its grid until it does);
a reading whose baseline does not reach the band is inconclusive, for the spike and the method alike.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from compare_sim import METRICS, _rate  # benchmarks/ is on sys.path as the script's folder

RESULTS = Path(__file__).parent / "results" / "spike_sim.json"


def labels_of(outcomes, prompts: list[dict], temperatures: list[float], grid: list[float]) -> dict:
    """(seed index, T index) -> prompt index -> [(class, answer key)] of simulated outcomes, as
    ``scores.score_arrays`` labels a real run's samples (valid answers by their key, the rest None)."""
    from ts2.compare.simulate import OTHER
    from ts2.metrics.answer_sets import answer_key, normalize

    keys = [answer_key(p["valid"]) for p in prompts]
    labels = {}
    for s, per_t in enumerate(outcomes):
        for t, temperature in enumerate(temperatures):
            g = grid.index(temperature)
            for p, row in enumerate(per_t[t]):
                labels.setdefault((s, g), {})[p] = [
                    ("valid", keys[p][normalize(prompts[p]["valid"][o])]) if o >= 0 else
                    ("invalid" if o == OTHER else "off_list", None) for o in row]
    return labels


def spike_run(args) -> dict:
    knobs, design, verdict, rep = args
    from ts2.compare.analysis import Study, read_method
    from ts2.compare.checks import spike_reading
    from ts2.compare.config import CompareConfig
    from ts2.compare.simulate import SIM_VERDICT, World, plant_gain, prompts_of, score_table, simulate
    from ts2.compare.verdict import primary_outcome

    world = World(**design, **knobs)
    sim = simulate(world, {"baseline": {}, "again": {}}, rep)
    prompts = prompts_of(sim, world)
    grid, arrays = score_table(sim, world, METRICS)
    cfg = CompareConfig.from_dict({
        "name": "spike", "eval_prompts": "eval.jsonl", "baseline": "baseline",
        "methods": {"baseline": {}, "again": {"seed_offset": 1000}, "method": {}},
        "sampling": {"n": world.n, "temperatures": list(world.temperatures)}, "seeds": list(range(world.seeds)),
        "verdict": {**SIM_VERDICT, **verdict, "method": "method"},
        "checks": {"replicate": "again", "spike_in": True, "temperature": None}}, None, analysis=True)
    again = sim["outcomes"]["again"]
    labels = labels_of(again["runs"], prompts, again["temperatures"], grid)
    # the design's own power: a real method = independent runs with +delta planted by the simulation
    rng = np.random.default_rng([rep, 7])
    planted = [[plant_gain(per_t, sim["sizes"], verdict["delta"], world.n, rng) for per_t in run]
               for run in again["runs"]]
    _, method = score_table({**sim, "outcomes": {"method": {**again, "runs": planted}}}, world, METRICS)
    study = Study(cfg, prompts, {**arrays, **method}, grid)
    arms = (study, arrays["again"], labels, "again")
    result = {}
    for name, size in (("0", 0.0), ("delta/4", verdict["delta"] / 4), ("delta", verdict["delta"])):
        outcome, reading, _ = spike_reading(study, arms, size)
        band = reading["band"]["metrics"]["lenient_coverage"]
        result[name] = {"outcome": outcome, "estimate": band["estimate"], "ci95": band["ci95"]}
    reading = read_method(study, "method", "sft_categories")
    real = reading["band"]["metrics"]["lenient_coverage"]
    result["method"] = {"estimate": real["estimate"], "ci95": real["ci95"],
                        "reproduced": primary_outcome(reading, cfg.verdict)[0] == "reproduced"}
    return result


def summarize(runs: list[dict]) -> dict:
    out = {}
    for name in ("0", "delta/4", "delta"):
        truth = {"0": 0.0, "delta/4": None, "delta": None}[name]
        out[f"spike {name}"] = {"reproduced": _rate(r[name]["outcome"] == "reproduced" for r in runs),
                                **({"covers_0": _rate(r[name]["ci95"][0] <= 0 <= r[name]["ci95"][1] for r in runs)}
                                   if truth is not None else {}),
                                "mean_estimate": float(np.mean([r[name]["estimate"] for r in runs])),
                                "mean_half_width": float(np.mean([(r[name]["ci95"][1] - r[name]["ci95"][0]) / 2
                                                                  for r in runs]))}
    out["design power at delta (a real method +delta)"] = {
        "reproduced": _rate(r["method"]["reproduced"] for r in runs),
        "mean_estimate": float(np.mean([r["method"]["estimate"] for r in runs])),
        "mean_half_width": float(np.mean([(r["method"]["ci95"][1] - r["method"]["ci95"][0]) / 2 for r in runs]))}
    return out


def render(result: dict) -> str:
    s = result["settings"]
    lines = [f"Spike-in acceptance ({s['seeds']} seeds x {s['categories']} categories x "
             f"{s['prompts_per_category']} prompts, "
             f"n {s['n']}, T {s['temperatures']}, band {s['band']}, delta {s['delta']}; {s['runs']} simulated runs "
             "per row; ± one binomial standard error):", "",
             "| row | reproduced | interval covers 0 | mean band estimate | mean half-width |", "|---|---|---|---|---|"]
    for name, row in result["rows"].items():
        r, c = row["reproduced"], row.get("covers_0")
        cover = f"{100 * c['rate']:.1f}% (±{100 * c['se']:.1f})" if c else "-"
        lines.append(f"| {name} | {100 * r['rate']:.1f}% (±{100 * r['se']:.1f}) | {cover} | "
                     f"{row['mean_estimate']:+.4f} | {row['mean_half_width']:.4f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--world", help="fit_world.py's results (its fitted knobs); default: the default world")
    p.add_argument("--band", default="0.6,0.9")
    p.add_argument("--temperatures", default="0.6,1.2,1.4,1.6,1.8")
    p.add_argument("--delta", type=float, default=0.03125)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--categories", type=int, default=24)
    p.add_argument("--prompts", type=int, default=3)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--output", default=str(RESULTS))
    p.add_argument("--render", metavar="RESULTS_JSON")
    args = p.parse_args(argv)
    if args.render:
        print(render(json.loads(Path(args.render).read_text())))
        return 0
    knobs = json.loads(Path(args.world).read_text())["knobs"] if args.world else {}
    band = [float(x) for x in args.band.split(",")]
    temps = tuple(float(x) for x in args.temperatures.split(","))
    design = {"seeds": args.seeds, "categories": args.categories, "prompts_per_category": args.prompts,
              "temperatures": temps}
    verdict = {"band": band, "levels": {"accuracy": [float(np.mean(band))]}, "primary": "band", "delta": args.delta}
    start = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        runs = list(pool.map(spike_run, [(knobs, design, verdict, 70_000 + r) for r in range(args.runs)]))
    result = {"settings": {**{k: v for k, v in design.items()}, "n": 16, "band": band, "delta": args.delta,
                           "runs": args.runs, "world": args.world, "knobs": knobs,
                           "seconds": round(time.perf_counter() - start, 1)},
              "rows": summarize(runs)}
    Path(args.output).write_text(json.dumps(result, indent=1))
    print(render(result))
    print(f"{result['settings']['seconds']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
