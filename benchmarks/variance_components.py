"""Variance components of a `ts2 compare` run's scores per (seed, category) cell: what a simulated world
must reproduce to stand in for it (``benchmarks/fit_world.py``).

Per method, metric and temperature, the prompts of one split (open prompts only) are averaged into
cells, seed s x category c, and the cell table is split by the two-way ANOVA of
``ts2.metrics.intervals`` (method of moments, crossed random effects):

    mean          the grand mean of the cells;
    sd_seed       sqrt((MS_S - MS_E) / G), the run-to-run sd of a seed's mean (0 when negative);
    sd_category   sqrt((MS_C - MS_E) / S), the sd of a category's mean over seeds;
    sd_interaction sqrt(MS_E), seed x category at cell level, sampling noise and the prompts' own
                  run-to-run variation included;
    sd_within     sqrt(mean over cells of var(prompt values in the cell) / k), k prompts per cell: the
                  part of a cell's noise that prompt-to-prompt variation within it would give alone.

``var_*`` are the same components unclipped (negative when the mean squares say so), so that
replicates of a simulated world can be averaged before the square root.

    python benchmarks/variance_components.py CONFIG.yaml [--samples DIR] [--methods ce,...]
        [--split sft_categories] [--output FILE.json]
reads a run's configuration (its eval prompts, seeds and methods) and its sample files (by default
``<config dir>/out/samples``, else ``<config dir>/samples``) and prints / writes the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

METRICS = ("lenient_coverage", "lenient_accuracy")


def cell_groups(prompts: list[dict], split: str = "sft_categories", kind: str = "open") -> tuple[list[str], list]:
    """(categories, per category the prompt indices) of ``split``'s prompts of ``kind``."""
    index = [i for i, r in enumerate(prompts) if r["split"] == split and r.get("kind", "open") == kind]
    if not index:
        raise ValueError(f"no {kind} prompts in split {split!r}")
    categories = sorted({prompts[i].get("category", prompts[i]["id"]) for i in index}, key=str)
    groups = [[i for i in index if prompts[i].get("category", prompts[i]["id"]) == c] for c in categories]
    return categories, groups


def anova(x: list) -> dict:
    """Components of one metric at one temperature, ``x``: per category, its prompts' values [S, k_c]
    (NaN where undefined): see the module docstring."""
    cell = np.stack([np.nanmean(g, 1) for g in x], 1)  # [S, G]
    spread = [np.nanvar(g, 1, ddof=1).mean() / g.shape[1] for g in x if g.shape[1] > 1]
    within = float(np.mean(spread)) if spread else np.nan  # one prompt per cell: nothing within
    s, g = cell.shape
    grand = cell.mean()
    seed_means, cat_means = cell.mean(1), cell.mean(0)
    ms_c = s * ((cat_means - grand) ** 2).sum() / max(g - 1, 1)
    if s > 1:
        ms_s = g * ((seed_means - grand) ** 2).sum() / (s - 1)
        resid = cell - seed_means[:, None] - cat_means[None, :] + grand
        ms_e = (resid ** 2).sum() / max((s - 1) * (g - 1), 1)
        var_seed, var_cat = (ms_s - ms_e) / g, (ms_c - ms_e) / s
    else:  # one seed: the interaction cannot be told from the category effect
        ms_e, var_seed, var_cat = np.nan, np.nan, ms_c
    root = lambda v: float(np.sqrt(max(v, 0.0))) if np.isfinite(v) else None  # noqa: E731
    return {"mean": float(grand), "sd_seed": root(var_seed), "sd_category": root(var_cat),
            "sd_interaction": root(ms_e), "sd_within": root(within),
            "var_seed": float(var_seed), "var_category": float(var_cat), "var_interaction": float(ms_e),
            "var_within": float(within), "seeds": s, "categories": g,
            "prompts_per_category": sorted({int(a.shape[1]) for a in x})}


def components(arrays: dict, prompts: list[dict], temperatures, split: str = "sft_categories",
               metrics=METRICS) -> dict:
    """metric -> "T" -> {mean, sd_seed, sd_category, sd_interaction, sd_within, var_*, ...} of one
    method's score arrays (metric -> [S, P, T]); a temperature whose cells are not all defined is left out."""
    _, groups = cell_groups(prompts, split)
    result = {}
    for metric in metrics:
        values = np.asarray(arrays[metric], dtype=np.float64)
        block = {}
        for t, temperature in enumerate(temperatures):
            per_cat = [values[:, g, t] for g in groups]
            if any(np.isnan(a).all(1).any() for a in per_cat):  # a (seed, category) cell without a value
                continue
            block[str(float(temperature))] = anova(per_cat)
        result[metric] = block
    return result


def run_components(config: Path, samples: Path | None = None, methods: list[str] | None = None,
                   split: str = "sft_categories", metrics=METRICS) -> dict:
    """{"config", "samples", "split", "seeds", "methods": method -> components} of a `ts2 compare` run."""
    from ts2.compare.config import load_config, read_eval_prompts
    from ts2.compare.scores import discover_temperatures, score_arrays

    cfg = load_config(config, analysis=True)
    if samples is None:
        samples = next((d for d in (config.parent / "out" / "samples", config.parent / "samples") if d.is_dir()),
                       config.parent / "out" / "samples")
    prompts = read_eval_prompts(cfg.eval_prompts)
    methods = methods or list(cfg.methods)
    temps = discover_temperatures(samples, methods, cfg.seeds, {m: cfg.temperatures_of(m) for m in methods})
    scores = score_arrays(methods, cfg.seeds, temps, samples, prompts, cfg.baseline, text_metrics=False)
    return {"config": str(config), "samples": str(samples), "split": split, "seeds": list(cfg.seeds),
            "n": cfg.sampling.n, "temperatures": scores.temperatures,
            "methods": {m: components(scores.arrays[m], prompts, scores.temperatures, split, metrics)
                        for m in methods}}


def render(result: dict) -> str:
    lines = ["| method | metric | T | mean | sd seed | sd category | sd interaction | sd within |",
             "|---|---|---|---|---|---|---|---|"]
    fmt = lambda v: "-" if v is None else f"{v:.4f}"  # noqa: E731
    for method, by_metric in result["methods"].items():
        for metric, by_t in by_metric.items():
            for t, c in by_t.items():
                lines.append(f"| {method} | {metric} | {t} | {c['mean']:.3f} | " + " | ".join(
                    fmt(c[k]) for k in ("sd_seed", "sd_category", "sd_interaction", "sd_within")) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("config", help="the run's compare.yaml")
    p.add_argument("--samples", help="its sample files (default <config dir>/out/samples or <config dir>/samples)")
    p.add_argument("--methods", type=lambda t: t.split(","), help="comma-separated (default: every method)")
    p.add_argument("--split", default="sft_categories")
    p.add_argument("--metrics", default=",".join(METRICS), type=lambda t: tuple(t.split(",")))
    p.add_argument("--output", help="write the JSON here")
    args = p.parse_args(argv)
    result = run_components(Path(args.config), Path(args.samples) if args.samples else None, args.methods,
                            args.split, args.metrics)
    print(render(result))
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
