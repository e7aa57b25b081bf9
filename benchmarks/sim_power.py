"""Power of `ts2 compare`'s band reading on a fitted simulated world, per design: how often a planted
gain of d coverage at identical accuracy comes out with the band-mean interval's lower bound above 0,
and, at d = 0, how often the interval covers the truth.

The world is ``benchmarks/fit_world.py``'s (its knobs), with the design's categories, prompts per
category, seeds, n and the candidate temperature grid.  One simulated comparison (the fast path of
``compare_sim.calibration_run``: score arrays straight from the outcomes): the baseline and a second
process with its own independent runs ("method"), each of the gains d then planted into the method's
samples (``simulate.plant_gain``: repeated valid answers replaced by unused listed ones, +d expected
coverage, accuracy unchanged), and each read against the baseline by ``read_method`` over the band
(lenient coverage at matched lenient accuracy).  The gains of one comparison share its draws (common
random numbers: each d's rate is that of independent comparisons, and the rates rise with d as they
would in expectation).

    python benchmarks/sim_power.py --world benchmarks/results/fit_world_v3.json [--runs 100]
        [--band 0.70,0.90] [--temperatures 1.0,1.2,1.4,1.6,1.8] [--gains 0,0.02,...]
        [--seeds 3,4,5,6] [--prompts 3,4,6] [--categories 24] [--workers 2] [--output FILE]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from compare_sim import METRICS  # the scores the analysis reads (benchmarks/ is on sys.path as the script's folder)

RESULTS = Path(__file__).parent / "results" / "sim_power.json"
GAINS = (0.0, 0.02, 0.03125, 0.04, 0.05, 0.0625)


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",")]


def power_run(args) -> dict:
    """One comparison of the design, read at every gain: "d" -> {estimate, ci95, status}."""
    knobs, design, band, gains, rep = args
    from ts2.compare.analysis import Study, read_method
    from ts2.compare.simulate import World, plant_gain, prompts_of, score_table, sim_config, simulate

    world = World(**design, **knobs)
    sim = simulate(world, {"baseline": {}, "method": {}}, rep)
    rng = np.random.default_rng([rep, 1])
    cfg = sim_config(world, ["baseline", "method"], {"method": "method", "band": list(band),
                                                     "levels": {"accuracy": [float(np.mean(band))]},
                                                     "primary": "band"})
    prompts = prompts_of(sim, world)
    own = sim["outcomes"]["method"]
    grid, base_arrays = score_table({**sim, "outcomes": {"baseline": sim["outcomes"]["baseline"]}}, world, METRICS)
    result = {}
    for d in gains:
        runs = [[plant_gain(rows, sim["sizes"], d, world.n, rng) if d else rows for rows in per_t]
                for per_t in own["runs"]]
        _, arrays = score_table({**sim, "outcomes": {"method": {**own, "runs": runs}}}, world, METRICS)
        study = Study(cfg, prompts, {"baseline": base_arrays["baseline"], "method": arrays["method"]}, grid)
        band_reading = read_method(study, "method", "sft_categories")["band"]
        block = band_reading["metrics"]["lenient_coverage"]
        result[str(d)] = {"estimate": block["estimate"] if block else None, "ci95": block["ci95"] if block else None,
                          "status": band_reading["status"]}
    return result


def _rate(flags) -> dict:
    flags = np.asarray(list(flags), dtype=float)
    p = float(flags.mean())
    return {"rate": p, "se": float(np.sqrt(p * (1 - p) / len(flags))), "runs": len(flags)}


def summarize(runs: list[dict], d: float) -> dict:
    rows = [r[str(d)] for r in runs]
    read = [r for r in rows if r["ci95"] is not None]
    out = {"power": _rate(r["ci95"] is not None and r["ci95"][0] > 0 for r in rows),
           "mean_estimate": float(np.mean([r["estimate"] for r in read])) if read else None,
           "mean_half_width": float(np.mean([(r["ci95"][1] - r["ci95"][0]) / 2 for r in read])) if read else None,
           "status": {s: sum(r["status"] == s for r in rows) for s in sorted({r["status"] for r in rows})}}
    if d == 0:
        out["coverage"] = _rate(r["ci95"] is not None and r["ci95"][0] <= 0 <= r["ci95"][1] for r in rows)
    return out


def render(result: dict) -> str:
    gains = result["settings"]["gains"]
    s = result["settings"]
    lines = [f"Power (band-mean lower bound > 0), band {s['band']}, T {s['temperatures']}, "
             f"{s['categories']} categories, runs per cell {s['runs']}; "
             "d = 0: interval coverage of 0, then the false-positive rate:", "",
             "| seeds | prompts/category | " + " | ".join(f"d {d:g}" for d in gains) + " | half-width (d 0) |",
             "|---|---|" + "---|" * (len(gains) + 1)]
    for key, block in result["designs"].items():
        seeds, prompts = key.split("x")
        cells = []
        for d in gains:
            b = block[str(d)]
            if d == 0:
                cells.append(f"cov {100 * b['coverage']['rate']:.0f}% / fp {100 * b['power']['rate']:.1f}%")
            else:
                cells.append(f"{100 * b['power']['rate']:.0f}%")
        hw = block[str(gains[0])]["mean_half_width"]
        lines.append(f"| {seeds} | {prompts} | " + " | ".join(cells) + f" | {hw:.4f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--world", required=True, help="benchmarks/fit_world.py's JSON (its knobs)")
    p.add_argument("--runs", type=int, default=100, help="simulated comparisons per design")
    p.add_argument("--band", default="0.70,0.90", type=_floats, help="accuracy band low,high")
    p.add_argument("--temperatures", default="1.0,1.2,1.4,1.6,1.8", type=_floats)
    p.add_argument("--gains", default=",".join(map(str, GAINS)), type=_floats, help="planted gains d (0: truth 0)")
    p.add_argument("--seeds", default="3,4,5,6", type=_ints)
    p.add_argument("--prompts", default="3,4,6", type=_ints, help="prompts per category")
    p.add_argument("--categories", default=24, type=int)
    p.add_argument("--n", default=None, type=int, help="samples per prompt (default: the fitted world's)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--output", default=str(RESULTS))
    args = p.parse_args(argv)
    start = time.perf_counter()
    fitted = json.loads(Path(args.world).read_text())
    knobs = fitted["knobs"]
    n = args.n or fitted["design"]["n"]
    result = {"world": args.world, "knobs": knobs,
              "settings": {"runs": args.runs, "band": args.band, "temperatures": args.temperatures,
                           "gains": args.gains, "categories": args.categories, "n": n},
              "designs": {}}
    with ProcessPoolExecutor(args.workers) as pool:
        for seeds, per_category in itertools.product(args.seeds, args.prompts):
            t0 = time.perf_counter()
            design = {"categories": args.categories, "prompts_per_category": per_category, "seeds": seeds, "n": n,
                      "temperatures": tuple(args.temperatures)}
            jobs = [(knobs, design, args.band, args.gains, 90_000 + 1_000 * seeds + 100 * per_category + r)
                    for r in range(args.runs)]
            runs = list(pool.map(power_run, jobs))
            block = {str(d): summarize(runs, d) for d in args.gains}
            block["seconds"] = round(time.perf_counter() - t0, 1)
            result["designs"][f"{seeds}x{per_category}"] = block
            print(seeds, per_category, json.dumps({d: round(b["power"]["rate"], 3) for d, b in block.items()
                                                   if d != "seconds"}), block["seconds"], "s", file=sys.stderr,
                  flush=True)
    result["seconds"] = round(time.perf_counter() - start, 1)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(render(result))
    print(f"wrote {out} ({result['seconds']} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
