"""Scores, intervals, verdict and the written report of a `ts2 compare` run.

Per prompt and temperature, each method's scores (``ts2.metrics.answer_sets.prompt_scores`` of its
n samples, plus the answer-position statistics) are averaged over seeds; then, per split of the
evaluation prompts, every metric gets its mean over prompts with a 95% bootstrap interval, and
every method its paired-bootstrap difference to the baseline on the same prompts.

report.json:
    methods  -> method -> split -> metric -> {"mean", "ci95", "prompts"}     (first temperature)
    vs_<baseline> -> method -> split -> metric -> {"diff", "ci95", "prompts"}
    verdict  -> {"reproduced", "rule", ...the numbers it used}
    temperatures -> "T" -> {"methods", "vs_<baseline>"}                     (every temperature)
    timing   -> method -> seed -> {train_seconds, sample_seconds, ...}
    probe    -> method -> probe result;   settings -> the whole configuration and versions
"""

from __future__ import annotations

import json
from pathlib import Path
from statistics import fmean

from ..formats import read_generations, write_json_atomic
from ..metrics.answer_sets import prompt_scores
from ..metrics.bootstrap import mean_ci, paired_diff_ci

METRICS = ("accuracy", "coverage", "pass@1", "distinct_1", "distinct_2", "self_bleu", "invalid_mass", "entropy")
TABLE_METRICS = ("accuracy", "coverage", "pass@1", "distinct_1", "self_bleu", "invalid_mass", "entropy")


def _read_samples(path: Path) -> dict[str, list[str]]:
    return {str(row["id"]): row["responses"] for row in read_generations(path)}


def per_prompt_scores(cfg, out: Path, prompts: list[dict], temperature) -> dict[str, dict[str, dict]]:
    """method -> prompt id -> metric -> value averaged over seeds (None where undefined)."""
    scores = {}
    for method in cfg.all_methods():
        by_seed = []
        for seed in cfg.seeds:
            name = f"{method}-seed{seed}"
            samples = _read_samples(out / "samples" / f"{name}-T{temperature}.jsonl")
            positions = json.loads((out / "positions" / f"{name}.json").read_text())
            seed_scores = {}
            for row in prompts:
                s = prompt_scores(samples[row["id"]], row["valid"], row["kind"])
                s.update({k: v for k, v in positions.get(row["id"], {}).items()})
                seed_scores[row["id"]] = s
            by_seed.append(seed_scores)
        scores[method] = {}
        for row in prompts:
            merged = {}
            for metric in METRICS:
                values = [s[row["id"]].get(metric) for s in by_seed]
                values = [v for v in values if v is not None]
                merged[metric] = fmean(values) if values else None
            scores[method][row["id"]] = merged
    return scores


def summarize(cfg, prompts: list[dict], scores: dict) -> tuple[dict, dict]:
    """(methods -> split -> metric -> mean/ci, method -> split -> metric -> diff/ci vs the baseline)."""
    resamples, seed = cfg.bootstrap["resamples"], cfg.bootstrap["seed"]
    splits = sorted({r["split"] for r in prompts})
    methods, versus = {}, {}
    for method in cfg.all_methods():
        for split in splits:
            ids = [r["id"] for r in prompts if r["split"] == split]
            for metric in METRICS:
                values = [scores[method][i][metric] for i in ids]
                ci = mean_ci(values, resamples, seed)
                if ci is not None:
                    methods.setdefault(method, {}).setdefault(split, {})[metric] = ci
                if method == cfg.baseline:
                    continue
                base = [scores[cfg.baseline][i][metric] for i in ids]
                diff = paired_diff_ci(values, base, resamples, seed)
                if diff is not None:
                    versus.setdefault(method, {}).setdefault(split, {})[metric] = diff
    return methods, versus


def verdict(cfg, versus: dict) -> dict | None:
    """The pre-registered rule: coverage above the baseline's with the interval above 0, and accuracy
    at most ``accuracy_tolerance`` below it (point estimate), on the verdict's split."""
    if cfg.verdict is None:
        return None
    v = cfg.verdict
    rule = (f"reproduced iff on {v['split']}: coverage({v['method']}) - coverage({cfg.baseline}) has its 95% "
            f"paired-bootstrap interval above 0, and accuracy({v['method']}) - accuracy({cfg.baseline}) >= "
            f"-{v['accuracy_tolerance']}")
    split = versus.get(v["method"], {}).get(v["split"], {})
    coverage, accuracy = split.get("coverage"), split.get("accuracy")
    if coverage is None or accuracy is None:
        return {"reproduced": False, "rule": rule, "reason": f"no open prompts in split {v['split']!r}"}
    coverage_ok = coverage["ci95"][0] > 0
    accuracy_ok = accuracy["diff"] >= -v["accuracy_tolerance"]
    return {"reproduced": bool(coverage_ok and accuracy_ok), "rule": rule, "coverage_vs_baseline": coverage,
            "accuracy_vs_baseline": accuracy, "coverage_condition": coverage_ok, "accuracy_condition": accuracy_ok}


def _timing(cfg, out: Path) -> dict:
    timing = {}
    for method in cfg.all_methods():
        for seed in cfg.seeds:
            path = out / "runs" / f"{method}-seed{seed}.json"
            if path.is_file():
                timing.setdefault(method, {})[str(seed)] = json.loads(path.read_text())
    return timing


def _versions() -> dict:
    import torch
    import transformers

    from .. import __version__

    return {"ts2": __version__, "torch": torch.__version__, "transformers": transformers.__version__}


def build_report(cfg, out: Path, prompts: list[dict]) -> dict:
    key = f"vs_{cfg.baseline}"
    by_temperature = {}
    for temperature in cfg.sampling["temperatures"]:
        scores = per_prompt_scores(cfg, out, prompts, temperature)
        methods, versus = summarize(cfg, prompts, scores)
        by_temperature[str(temperature)] = {"methods": methods, key: versus, "per_prompt": scores}
    first = by_temperature[str(cfg.sampling["temperatures"][0])]
    probe = {}
    for method in cfg.all_methods():
        path = out / "probe" / f"{method}.json"
        if path.is_file():
            probe[method] = json.loads(path.read_text())
    splits = {s: {"open": sum(r["split"] == s and r["kind"] == "open" for r in prompts),
                  "closed": sum(r["split"] == s and r["kind"] == "closed" for r in prompts)}
              for s in sorted({r["split"] for r in prompts})}
    return {
        "name": cfg.name,
        "temperature": cfg.sampling["temperatures"][0],
        "methods": first["methods"],
        key: first[key],
        "verdict": verdict(cfg, first[key]),
        "temperatures": {t: {k: v for k, v in d.items() if k != "per_prompt"} for t, d in by_temperature.items()},
        "timing": _timing(cfg, out),
        "probe": probe,
        "settings": {**cfg.to_dict(), "prompts": splits,
                     "train_examples": sum(1 for line in open(cfg.train_data) if line.strip()),
                     "versions": _versions()},
        "per_prompt": {t: d["per_prompt"] for t, d in by_temperature.items()},
    }


def _cell(entry: dict | None, key: str = "mean") -> str:
    if entry is None:
        return "n/a"
    lo, hi = entry["ci95"]
    return f"{entry[key]:.3f} [{lo:.3f}, {hi:.3f}]"


def markdown(report: dict) -> str:
    key = next(k for k in report if k.startswith("vs_"))
    baseline = key.removeprefix("vs_")
    s = report["settings"]
    lines = [f"# ts2 compare: {report['name']}", "",
             f"Base model `{s['base_model']}`; {s['train_examples']} SFT examples; methods "
             f"{', '.join(s['methods'])}; seeds {s['seeds']}; n = {s['sampling']['n']} samples per prompt, "
             f"top-p {s['sampling']['top_p']}, top-k {s['sampling']['top_k']}. Cells: mean over prompts "
             "[95% bootstrap interval]; differences: paired bootstrap over prompts.", ""]
    v = report.get("verdict")
    if v is not None:
        lines += [f"**Verdict: the claim is {'REPRODUCED' if v['reproduced'] else 'NOT reproduced'} here.** "
                  f"Rule (fixed before the run): {v['rule']}.", ""]
        if "coverage_vs_baseline" in v:
            lines += [f"Coverage difference {_cell(v['coverage_vs_baseline'], 'diff')}, accuracy difference "
                      f"{_cell(v['accuracy_vs_baseline'], 'diff')}.", ""]
    for temperature, block in report["temperatures"].items():
        for split in sorted({sp for m in block["methods"].values() for sp in m}):
            lines += [f"## T = {temperature}, {split}", "",
                      "| method | " + " | ".join(TABLE_METRICS) + " |", "|---" * (len(TABLE_METRICS) + 1) + "|"]
            for method, by_split in block["methods"].items():
                cells = [_cell(by_split.get(split, {}).get(m)) for m in TABLE_METRICS]
                lines.append(f"| {method} | " + " | ".join(cells) + " |")
            lines += ["", f"Difference to {baseline}:", "",
                      "| method | " + " | ".join(TABLE_METRICS) + " |", "|---" * (len(TABLE_METRICS) + 1) + "|"]
            for method, by_split in block[key].items():
                cells = [_cell(by_split.get(split, {}).get(m), "diff") for m in TABLE_METRICS]
                lines.append(f"| {method} | " + " | ".join(cells) + " |")
            lines.append("")
    lines += ["## Wall time (seconds)", "", "| method | seed | training | sampling |", "|---|---|---|---|"]
    for method, seeds in report["timing"].items():
        for seed, t in seeds.items():
            sampling = sum(t.get("sample_seconds", {}).values())
            lines.append(f"| {method} | {seed} | {t.get('train_seconds', '-')} | {sampling:.1f} |")
    lines.append("")
    if report["probe"]:
        lines += ["![probe](probe.png)", ""]
    lines += ["![metrics](metrics.png)", ""]
    return "\n".join(lines)


def plot_metrics(report: dict, path: Path) -> None:
    """Accuracy and coverage per method and split with their intervals (first temperature)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = sorted({sp for m in report["methods"].values() for sp in m})
    fig, axes = plt.subplots(1, 2 * len(splits), figsize=(4 * 2 * len(splits), 3.2), squeeze=False)
    methods = list(report["methods"])
    for col, (split, metric) in enumerate((s, m) for s in splits for m in ("accuracy", "coverage")):
        ax = axes[0][col]
        entries = [report["methods"][m].get(split, {}).get(metric) for m in methods]
        means = [e["mean"] if e else 0 for e in entries]
        errs = [[e["mean"] - e["ci95"][0] if e else 0 for e in entries], [e["ci95"][1] - e["mean"] if e else 0
                                                                         for e in entries]]
        ax.bar(range(len(methods)), means, yerr=errs, capsize=3, color="#4C72B0")
        ax.set_xticks(range(len(methods)), methods, rotation=45, fontsize=8)
        ax.set_title(f"{metric}, {split}", fontsize=9)
        ax.set_ylim(0, 1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(out: Path, report: dict) -> None:
    from ..probe import plot_probe

    write_json_atomic(out / "report.json", report)
    if report["probe"]:
        plot_probe(list(report["probe"].values()), out / "probe.png", list(report["probe"]))
    plot_metrics(report, out / "metrics.png")
    tmp = out / "report.md.tmp"
    tmp.write_text(markdown(report))
    tmp.replace(out / "report.md")
