"""A simulated world fitted to a real run's baseline: its knobs searched so that the simulated baseline
has the real accuracy curve and the real variance components of coverage.

The targets are one method's components (``benchmarks/variance_components.py``'s JSON) at the
temperatures it was sampled at: lenient accuracy's mean, lenient coverage's mean and its category,
seed x category and seed sds (the seed term pooled over temperatures: with 5 seeds one temperature's
estimate is mostly noise).  A candidate world (``ts2.compare.simulate.World``: the real design's
categories, prompts per category, seeds and n, the knobs below) is simulated ``--reps`` times with
the same random seeds for every candidate (common random numbers), its components computed as for
the real run and averaged as variances.  The search is coordinate descent on a coarse grid per knob
(each knob in turn set to the best of its grid values, the others held, until a round changes
nothing), then the chosen world is measured again on ``--final_reps`` fresh replicates.

Loss (sum of squares): accuracy error / 0.015; coverage mean log-ratio / 0.1; coverage category,
interaction and within-cell sd log-ratios / 0.2 (per temperature; the within-cell part tells how
much of the interaction is the prompts' own, which decides what more prompts per category buy),
pooled seed sd / 0.3; accuracy category and interaction sds / 0.5 (weak: kept in range, not fitted).
A target sd below 0.005 counts as 0.005.

    python benchmarks/fit_world.py --target benchmarks/results/variance_components_v3.json --method ce
        [--reps 16] [--final_reps 40] [--workers 2] [--output benchmarks/results/fit_world_v3.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from variance_components import components  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "fit_world.json"
METRICS = ("lenient_coverage", "lenient_accuracy")
KINDS = ("mean", "var_seed", "var_category", "var_interaction", "var_within")
FLOOR = 0.005
GRID = {  # knob -> coarse grid (ts2.compare.simulate.World's fields)
    "head_scale": [2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0],
    "tail_level": [-5.0, -6.0, -6.5, -7.0, -7.5, -8.0, -8.5, -9.0, -10.0, -11.0],
    "category_tail": [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0],
    "category_dominance": [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0],
    "category_scale": [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0],
    "invalid_shift": [-2.0, -1.5, -1.25, -1.0, -0.75, -0.5, -0.25, 0.0, 0.5],
    "off_list_shift": [-4.0, -3.0, -2.0, -1.0, 0.0, 1.0],
    "run_category": [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0],
    "interaction": [0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0],
    "seed_shift": [0.0, 0.02, 0.04, 0.06, 0.08, 0.12, 0.16],
}
START = {"head_scale": 3.0, "tail_level": -8.0, "category_tail": 1.5, "category_dominance": 2.0,
         "category_scale": 2.0, "invalid_shift": -0.75, "off_list_shift": -2.0, "run_category": 1.25,
         "interaction": 0.0, "seed_shift": 0.03}  # the fit to v3's CE (results/fit_world_v3.json)


def world_of(design: dict, knobs: dict, **override):
    from ts2.compare.simulate import World

    return World(categories=design["categories"], prompts_per_category=design["prompts_per_category"],
                 n=design["n"], seeds=design["seeds"], temperatures=tuple(design["temperatures"]),
                 **{**knobs, **override})


def one_world(args) -> dict:
    """metric -> "T" -> {mean, var_*} of one simulated world's baseline."""
    design, knobs, rep = args
    from ts2.compare.simulate import prompts_of, score_table, simulate

    world = world_of(design, knobs)
    sim = simulate(world, {"baseline": {}}, rep)
    grid, arrays = score_table(sim, world, METRICS)
    return components(arrays["baseline"], prompts_of(sim, world), grid)


def measure(design: dict, knobs: dict, reps, pool=None) -> dict:
    """metric -> "T" -> {mean, sd_seed, sd_category, sd_interaction, sd_within} averaged over ``reps``."""
    jobs = [(design, knobs, r) for r in reps]
    runs = list(pool.map(one_world, jobs) if pool else map(one_world, jobs))
    return summarize(runs)


def summarize(runs: list[dict]) -> dict:
    out = {}
    for metric, by_t in runs[0].items():
        for t in by_t:
            mean = {k: float(np.mean([r[metric][t][k] for r in runs])) for k in KINDS}
            out.setdefault(metric, {})[t] = {"mean": mean["mean"], **{
                "sd_" + k[4:]: float(np.sqrt(max(mean[k], 0.0))) for k in KINDS[1:]}, **{k: mean[k] for k in KINDS[1:]}}
    return out


def pooled_seed(block: dict) -> float:
    """The seed sd pooled over temperatures (mean of the unclipped variances)."""
    return float(np.sqrt(max(np.mean([c["var_seed"] for c in block.values()]), 0.0)))


def _log_ratio(a: float, t: float) -> float:
    return float(np.log(max(a, FLOOR) / max(t, FLOOR)))


def loss(achieved: dict, target: dict) -> float:
    cov, acc = "lenient_coverage", "lenient_accuracy"
    total = 0.0
    for t, want in target[acc].items():
        got = achieved[acc][t]
        total += ((got["mean"] - want["mean"]) / 0.015) ** 2
        total += sum((_log_ratio(got[k], want[k]) / 0.5) ** 2 for k in ("sd_category", "sd_interaction"))
    for t, want in target[cov].items():
        got = achieved[cov][t]
        total += (_log_ratio(got["mean"], want["mean"]) / 0.1) ** 2
        total += sum((_log_ratio(got[k], want[k]) / 0.2) ** 2 for k in ("sd_category", "sd_interaction", "sd_within"))
    total += (_log_ratio(pooled_seed(achieved[cov]), pooled_seed(target[cov])) / 0.3) ** 2
    return float(total)


def fit(design: dict, target: dict, reps: int, rounds: int, pool=None, start=None, grid=None, log=print) -> dict:
    """Coordinate descent on the grid: {"knobs", "loss", "evaluations", "trace"}."""
    grid = grid or GRID
    knobs = dict(start or START)
    seen = {}

    def evaluate(candidate: dict) -> float:
        key = tuple(sorted(candidate.items()))
        if key not in seen:
            seen[key] = loss(measure(design, candidate, range(reps), pool), target)
        return seen[key]

    if rounds == 0:  # the knobs given, measured only on the final replicates
        return {"knobs": knobs, "loss": None, "evaluations": 0, "trace": [{"round": 0, "knobs": dict(knobs)}]}
    best = evaluate(knobs)
    trace = [{"round": 0, "knobs": dict(knobs), "loss": best}]
    log(f"start loss {best:.1f} {knobs}")
    for rnd in range(1, rounds + 1):
        changed = False
        for name, values in grid.items():
            scores = {v: evaluate({**knobs, name: v}) for v in values}
            value = min(scores, key=scores.get)
            if scores[value] < best - 1e-9:
                knobs[name], best, changed = value, scores[value], True
            log(f"round {rnd} {name} -> {knobs[name]} loss {best:.1f}")
        trace.append({"round": rnd, "knobs": dict(knobs), "loss": best})
        if not changed:
            break
    return {"knobs": knobs, "loss": best, "evaluations": len(seen), "trace": trace}


def side_by_side(achieved: dict, target: dict) -> dict:
    """metric -> "T" -> quantity -> {target, achieved, ok} (ok: the fit's tolerance met)."""
    out = {}
    for metric in METRICS:
        for t, want in target[metric].items():
            got = achieved[metric][t]
            row = {}
            for k in ("mean", "sd_seed", "sd_category", "sd_interaction", "sd_within"):
                row[k] = {"target": want[k], "achieved": got[k]}
                if metric == "lenient_accuracy" and k == "mean":
                    row[k]["ok"] = abs(got[k] - want[k]) <= 0.03
                elif metric == "lenient_coverage" and k in ("sd_category", "sd_interaction", "sd_within"):
                    row[k]["ok"] = abs(got[k] / max(want[k], FLOOR) - 1) <= 0.2
            out.setdefault(metric, {})[t] = row
    out["lenient_coverage_pooled_sd_seed"] = {"target": pooled_seed(target["lenient_coverage"]),
                                              "achieved": pooled_seed(achieved["lenient_coverage"])}
    return out


def render(result: dict) -> str:
    lines = [f"knobs: {json.dumps(result['knobs'])}", "",
             "| metric | T | mean target / sim | sd seed | sd category | sd interaction | sd within |",
             "|---|---|---|---|---|---|---|"]
    for metric in METRICS:
        for t, row in result["components"][metric].items():
            cells = []
            for k in ("mean", "sd_seed", "sd_category", "sd_interaction", "sd_within"):
                c = row[k]
                mark = "" if c.get("ok", True) else " (!)"
                fmt = "{:.3f}" if k == "mean" else "{:.4f}"
                cells.append(f"{fmt.format(c['target'] or 0)} / {fmt.format(c['achieved'])}{mark}")
            lines.append(f"| {metric} | {t} | " + " | ".join(cells) + " |")
    p = result["components"]["lenient_coverage_pooled_sd_seed"]
    lines.append(f"\ncoverage seed sd pooled over temperatures: target {p['target']:.4f}, sim {p['achieved']:.4f}")
    return "\n".join(lines)


def target_of(path: Path, method: str) -> tuple[dict, dict]:
    """(design, target components) of ``method`` in a variance_components JSON."""
    data = json.loads(Path(path).read_text())
    target = {m: data["methods"][method][m] for m in METRICS}
    temps = sorted(set(target["lenient_coverage"]) & set(target["lenient_accuracy"]), key=float)
    target = {m: {t: target[m][t] for t in temps} for m in METRICS}
    first = target["lenient_coverage"][temps[0]]
    ppc = first["prompts_per_category"]
    if len(ppc) != 1:
        raise SystemExit(f"{path}: categories of unequal sizes ({ppc}); the simulated world has one size")
    design = {"categories": first["categories"], "prompts_per_category": ppc[0], "seeds": first["seeds"],
              "n": data.get("n", 16), "temperatures": [float(t) for t in temps]}
    return design, target


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", required=True, help="benchmarks/variance_components.py's JSON of the real run")
    p.add_argument("--method", default="ce", help="the baseline whose components are fitted")
    p.add_argument("--reps", type=int, default=16, help="simulated worlds per candidate (the same for all)")
    p.add_argument("--final_reps", type=int, default=40, help="fresh worlds measuring the chosen knobs")
    p.add_argument("--rounds", type=int, default=4, help="0: no search, the --start knobs measured")
    p.add_argument("--start", type=json.loads, help="JSON of starting knobs (default: START)")
    p.add_argument("--fix", type=json.loads, default={}, help="JSON of knobs held at a value (not searched)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--output", default=str(RESULTS))
    args = p.parse_args(argv)
    start_time = time.perf_counter()
    design, target = target_of(Path(args.target), args.method)
    grid = {k: v for k, v in GRID.items() if k not in args.fix}
    start = {**START, **(args.start or {}), **args.fix}
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    with ProcessPoolExecutor(args.workers) if args.workers > 1 else _NoPool() as pool:
        found = fit(design, target, args.reps, args.rounds, pool if args.workers > 1 else None, start, grid, log)
        final = measure(design, found["knobs"], range(1_000, 1_000 + args.final_reps),
                        pool if args.workers > 1 else None)
    result = {"target_file": args.target, "method": args.method, "design": design, "knobs": found["knobs"],
              "search": {"reps": args.reps, "rounds": len(found["trace"]) - 1, "evaluations": found["evaluations"],
                         "loss": found["loss"], "trace": found["trace"], "fixed": args.fix},
              "final_reps": args.final_reps, "final_loss": loss(final, target),
              "components": side_by_side(final, target)}
    result["seconds"] = round(time.perf_counter() - start_time, 1)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(render(result))
    print(f"wrote {out} ({result['seconds']} s)", file=sys.stderr)
    return 0


class _NoPool:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    sys.exit(main())
