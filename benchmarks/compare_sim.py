"""The committed simulation of `ts2 compare`'s analysis (protocol v3): calibration, bias and power on
planted comparisons whose truth is known (``ts2.compare.simulate``).

Part A, calibration and bias (score arrays straight from the simulated outcomes, many runs):
    for 3 and 5 seeds, with and without a seed effect, the share of 95% intervals (band mean and
    each level) that cover the truth, for a method identical to the baseline ("same": truth 0) and
    for the baseline at 1.3 T ("hot1.3": the same frontier, truth 0), and the A/A check's pass rate;
    then (5 seeds, no seed effect) the reading's bias for the baseline at c x T, c in {1.1, 1.3, 1.6}
    (mean estimate over runs, with its standard error).
Part B, acceptance through `ts2 compare analyze` on sample files (24 categories x 3 prompts x 16
samples, 5 seeds, a realistic grid): outcome rates of "the baseline at 1.3 T" and of "+0.03
coverage at identical accuracy", and how often the spike-in control and the A/A check pass.

    python benchmarks/compare_sim.py [--runs 200] [--e2e_runs 30] [--workers 2]
writes benchmarks/results/compare_sim.json and prints the tables of docs/compare_v3.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "compare_sim.json"
OUTCOMES = ("reproduced", "not_reproduced", "inconclusive")
METRICS = ("accuracy", "lenient_accuracy", "lenient_coverage", "coverage", "valid_simpson", "valid_distinct@4",
           "sft_share", "share_off_list")
SEED_EFFECT = 0.01  # run-to-run sd of a seed's mean coverage ~0.01 at T 1.2 (0 without)


def _endpoints(reading: dict) -> dict:
    out = {name: block["metrics"]["lenient_coverage"] for name, block in reading["levels"].items()}
    out["band"] = reading["band"]["metrics"]["lenient_coverage"]
    return out


def calibration_run(args) -> dict:
    """One simulated comparison at the array level: every endpoint's estimate and interval per method."""
    seeds, seed_effect, names, rep = args
    from ts2.compare.analysis import Study, read_method
    from ts2.compare.checks import aa_check
    from ts2.compare.simulate import World, prompts_of, score_table, sim_config, simulate

    world = World(seeds=seeds, seed_effect=seed_effect)
    methods = {"baseline": {}, **{n: ({"temperature_factor": float(n[3:])} if n.startswith("hot") else {})
                                  for n in names}}
    sim = simulate(world, methods, rep)
    grid, arrays = score_table(sim, world, METRICS)
    cfg = sim_config(world, methods, {"method": names[0]})
    study = Study(cfg, prompts_of(sim, world), arrays, grid)
    result = {}
    for method in names:
        reading = read_method(study, method, "sft_categories")
        result[method] = {k: {"estimate": e["estimate"], "ci95": e["ci95"]} for k, e in _endpoints(reading).items()}
    result["aa_passed"] = bool(aa_check(study)["passed"])
    return result


def acceptance_run(args) -> dict:
    """One comparison through `ts2 compare analyze` on sample files."""
    scenario, effect, delta, rep = args
    from ts2.compare.from_samples import analyze_samples
    from ts2.compare.simulate import World, sim_config, simulate, write_samples

    world = World(seeds=5, seed_effect=effect)
    method = {"hot1.3": {"temperature_factor": 1.3}, "gain0.03": {"gain": 0.03}}[scenario]
    methods = {"baseline": {}, "method": method, "base": {"kind": "base", "temperatures": (1.0,)}}
    sim = simulate(world, methods, 10_000 + rep)
    with tempfile.TemporaryDirectory() as tmp:
        write_samples(sim, world, Path(tmp))
        cfg = sim_config(world, methods, {"delta": delta}, eval_prompts=str(Path(tmp) / "eval.jsonl"))
        report = analyze_samples(cfg, Path(tmp) / "samples", Path(tmp) / "out", text_metrics=False)
    band = report["readings"]["method"]["sft_categories"]["band"]["metrics"]["lenient_coverage"]
    return {"outcome": report["verdict"]["outcome_before_checks"], "verdict": report["verdict"]["outcome"],
            "band": band["estimate"], "ci95": band["ci95"], "spike_passed": report["checks"]["spike_in"]["passed"],
            "aa_passed": report["checks"]["aa"]["passed"], "failed_checks": report["verdict"]["failed_checks"],
            "detectable": report["checks"]["spike_in"].get("detectable_at_80_percent_power")}


def _rate(flags) -> dict:
    flags = np.asarray(list(flags), dtype=float)
    p = float(flags.mean())
    return {"rate": p, "se": float(np.sqrt(p * (1 - p) / len(flags))), "runs": len(flags)}


def summarize_calibration(runs: list[dict]) -> dict:
    out = {}
    for method in [m for m in runs[0] if m != "aa_passed"]:
        for endpoint in runs[0][method]:
            values = [r[method][endpoint] for r in runs]
            est = np.array([v["estimate"] for v in values])
            out.setdefault(method, {})[endpoint] = {
                "coverage": _rate(v["ci95"][0] <= 0 <= v["ci95"][1] for v in values),
                "bias": float(est.mean()), "bias_se": float(est.std(ddof=1) / np.sqrt(len(est))),
                "mean_half_width": float(np.mean([(v["ci95"][1] - v["ci95"][0]) / 2 for v in values]))}
    out["aa_pass"] = _rate(r["aa_passed"] for r in runs)
    return out


def _pct(rate: dict) -> str:
    return f"{100 * rate['rate']:.1f}% (±{100 * rate['se']:.1f})"


def _acceptance_rows(acceptance: dict) -> list[str]:
    lines = ["| scenario | reproduced | not reproduced | inconclusive | verdict: reproduced / not reproduced / "
             "inconclusive | spike-in passes | A/A passes | mean band estimate | mean half-width |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, block in acceptance.items():
        verdicts = " / ".join(f"{100 * block[f'verdict_{o}']['rate']:.0f}%" for o in OUTCOMES)
        lines.append(f"| {name} | " + " | ".join(_pct(block[k]) for k in OUTCOMES) + f" | {verdicts} | "
                     + " | ".join(_pct(block[k]) for k in ("spike_in_passed", "aa_passed"))
                     + f" | {block['mean_band_estimate']:+.4f} | {block['mean_half_width']:.4f} |")
    return lines


def render(result: dict) -> str:
    """The tables of docs/compare_v3.md from a results file."""
    lines = ["Coverage of the 95% interval (truth 0; runs per row: "
             f"{result['settings']['runs']}; ± one binomial standard error):", "",
             "| scenario | method | band | accuracy 0.95 | accuracy 0.9 | accuracy 0.8 | mean half-width (band) "
             "| A/A check passes |", "|---|---|---|---|---|---|---|---|"]
    for name, block in result["calibration"].items():
        for method in ("same", "hot1.3"):
            b = block[method]
            lines.append(f"| {name} | {method} | {_pct(b['band']['coverage'])} | "
                         + " | ".join(_pct(b[f'accuracy {a}']['coverage']) for a in ("0.95", "0.9", "0.8"))
                         + f" | {b['band']['mean_half_width']:.4f} | {_pct(block['aa_pass'])} |")
    lines += ["", "Bias of the reading, the baseline at c x T (5 seeds, no seed effect; mean estimate ± its standard "
              "error; delta / 4 = 0.005):", "", "| method | band | accuracy 0.95 | accuracy 0.9 | accuracy 0.8 |",
              "|---|---|---|---|---|"]
    for method in ("hot1.1", "hot1.3", "hot1.6"):
        b = result["bias"][method]
        lines.append(f"| {method} | " + " | ".join(f"{b[e]['bias']:+.4f} ± {b[e]['bias_se']:.4f}"
                                                  for e in ("band", "accuracy 0.95", "accuracy 0.9", "accuracy 0.8"))
                     + " |")
    runs = result["settings"]["e2e_runs"]
    lines += ["", f"Outcomes through `ts2 compare analyze` (5 seeds; runs per row: {runs}; the rule's outcome before "
              "the checks, then the verdict after them):", ""]
    lines += _acceptance_rows(result["acceptance"])
    if result.get("acceptance_rotated_spike"):  # kept from the first run: the rotated spike-in design
        lines += ["", "The same, first run, with the spike-in made from the baseline's seed s + 1 (rejected: see "
                  "above):", "", *_acceptance_rows(result["acceptance_rotated_spike"])[-len(
                      result["acceptance_rotated_spike"]) - 2:]]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=200, help="simulated comparisons per calibration scenario")
    p.add_argument("--e2e_runs", type=int, default=30, help="comparisons through ts2 compare analyze per scenario")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--output", default=str(RESULTS))
    p.add_argument("--render", metavar="RESULTS_JSON", help="only print the markdown tables of a results file")
    p.add_argument("--parts", default="calibration,bias,acceptance", type=lambda t: t.split(","),
                   help="which parts to run (comma-separated)")
    p.add_argument("--deltas", default="0.02,0.03", type=lambda t: [float(x) for x in t.split(",")],
                   help="verdict deltas of the acceptance part (the spike-in is planted at delta)")
    p.add_argument("--merge", action="store_true", help="keep the other parts of an existing results file")
    args = p.parse_args(argv)
    if args.render:
        print(render(json.loads(Path(args.render).read_text())))
        return 0
    start = time.perf_counter()
    path = Path(args.output)
    result = json.loads(path.read_text()) if args.merge and path.is_file() else {"calibration": {}, "acceptance": {}}
    result["settings"] = {"runs": args.runs, "e2e_runs": args.e2e_runs, "seed_effect": SEED_EFFECT,
                          "world": "24 categories x 3 prompts x 16 samples, T 0.4-2.0 (step 0.1 from 1.0 to 1.8)",
                          "verdict": "lenient_coverage at lenient_accuracy levels 0.95/0.90/0.80, band 0.80-0.95"}
    with ProcessPoolExecutor(args.workers) as pool:
        if "calibration" in args.parts:
            for seeds in (3, 5):
                for effect in (0.0, SEED_EFFECT):
                    name = f"{seeds} seeds, seed effect {'yes' if effect else 'no'}"
                    jobs = [(seeds, effect, ("same", "hot1.3"), r) for r in range(args.runs)]
                    result["calibration"][name] = summarize_calibration(list(pool.map(calibration_run, jobs)))
                    print(name, json.dumps({m: {e: round(v["coverage"]["rate"], 3) for e, v in x.items()}
                                            for m, x in result["calibration"][name].items() if m != "aa_pass"}),
                          file=sys.stderr, flush=True)
        if "bias" in args.parts:
            jobs = [(5, 0.0, ("hot1.1", "hot1.3", "hot1.6"), 50_000 + r) for r in range(args.runs)]
            result["bias"] = summarize_calibration(list(pool.map(calibration_run, jobs)))
            print("bias", json.dumps({m: {e: round(v["bias"], 4) for e, v in x.items()}
                                      for m, x in result["bias"].items() if m != "aa_pass"}), file=sys.stderr,
                  flush=True)
        if "acceptance" in args.parts:
            for delta, scenario, effect in itertools.product(args.deltas, ("hot1.3", "gain0.03"), (0.0, SEED_EFFECT)):
                jobs = [(scenario, effect, delta, r) for r in range(args.e2e_runs)]
                runs = list(pool.map(acceptance_run, jobs))
                name = f"{scenario}, seed effect {'yes' if effect else 'no'}, delta {delta}"
                result["acceptance"][name] = {
                    **{o: _rate(r["outcome"] == o for r in runs) for o in OUTCOMES},
                    **{f"verdict_{o}": _rate(r["verdict"] == o for r in runs) for o in OUTCOMES},
                    "spike_in_passed": _rate(r["spike_passed"] for r in runs),
                    "aa_passed": _rate(r["aa_passed"] for r in runs),
                    "mean_band_estimate": float(np.mean([r["band"] for r in runs])),
                    "mean_half_width": float(np.mean([(r["ci95"][1] - r["ci95"][0]) / 2 for r in runs])),
                    "runs": runs}
                print(name, {k: v for k, v in result["acceptance"][name].items() if k != "runs"}, file=sys.stderr,
                      flush=True)
    result["seconds"] = round(time.perf_counter() - start, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(render(result))
    print(f"wrote {args.output} ({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
