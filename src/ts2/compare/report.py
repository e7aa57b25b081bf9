"""The written report of a `ts2 compare` run: report.json, report.md, the console summary, figures.

report.json:
    methods  -> method -> split -> metric -> {"mean", "ci95", "prompts"}   (at the report temperature:
                the first verdict level, else the first temperature)
    vs_<baseline> -> method -> split -> metric -> {"diff", "ci95"}
    temperatures -> "T" -> {"methods", "vs_<baseline>"}                  (every temperature)
    frontier -> method -> split -> "T" -> metric -> {"mean", "ci95"}
    matched  -> method -> split -> "<baseline>@T<t>" -> {target_accuracy, metrics -> metric ->
                {diff, ci95, value, baseline, unreachable_share}, best_accuracy_gap, accuracy_at_matched_*}
    checks   -> name -> {value, threshold, passed, ...};  verdict -> {outcome, rule, failed_checks, numbers}
    timing, probe, settings (the whole configuration and versions), per_prompt -> "T" -> method -> id
Every interval is a hierarchical paired bootstrap over seeds, categories and prompts
(``ts2.compare.analysis``); the verdict follows from ``matched`` and ``checks`` by the stated rule.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..formats import write_json_atomic, write_text_atomic
from .analysis import Split, all_curves, frontier, matched, summarize
from .scores import ALL_METRICS, per_prompt, score_arrays
from .verdict import all_checks, verdict

TABLE_METRICS = ("accuracy", "lenient_accuracy", "coverage", "lenient_coverage", "valid_simpson", "share_off_list",
                 "pass@1", "lenient_pass@1", "distinct_1", "self_bleu", "entropy")
CONSOLE_METRICS = ("lenient_accuracy", "lenient_coverage", "valid_simpson", "accuracy", "pass@1", "lenient_pass@1")
FRONTIER_COLUMNS = ("lenient_accuracy", "accuracy", "lenient_coverage", "valid_simpson", "valid_distinct@4",
                    "share_off_list")


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


def report_temperature(cfg):
    return cfg.verdict["levels"][0] if cfg.verdict is not None else cfg.sampling["temperatures"][0]


def build_report(cfg, out: Path, prompts: list[dict]) -> dict:
    key = f"vs_{cfg.baseline}"
    temps = cfg.sampling["temperatures"]
    arrays = score_arrays(cfg, out, prompts)
    splits = {name: Split(cfg, prompts, name) for name in sorted({r["split"] for r in prompts})}
    curves = all_curves(arrays, splits)
    by_temperature = {}
    for t, temperature in enumerate(temps):
        methods, versus = summarize(cfg, arrays, curves, splits, t, ALL_METRICS)
        by_temperature[str(temperature)] = {"methods": methods, key: versus}
    first = by_temperature[str(report_temperature(cfg))]
    readings = matched(cfg, curves) if cfg.verdict is not None else {}
    checks = all_checks(cfg, arrays, curves, prompts, readings)
    probe = {}
    for method in cfg.all_methods():
        path = out / "probe" / f"{method}.json"
        if path.is_file():
            probe[method] = json.loads(path.read_text())
    counts = {s: {"open": sum(r["split"] == s and r["kind"] == "open" for r in prompts),
                  "closed": sum(r["split"] == s and r["kind"] == "closed" for r in prompts)} for s in splits}
    return _finite({
        "name": cfg.name, "protocol": "ts2-compare-v2", "temperature": report_temperature(cfg),
        "methods": first["methods"], key: first[key],
        "verdict": verdict(cfg, readings, checks), "checks": checks, "matched": readings,
        "frontier": frontier(cfg, curves), "temperatures": by_temperature,
        "timing": _timing(cfg, out), "probe": probe,
        "settings": {**cfg.to_dict(), "prompts": counts,
                     "train_examples": sum(1 for line in open(cfg.train_data) if line.strip()),
                     "versions": _versions()},
        "per_prompt": per_prompt(cfg, prompts, arrays),
    })


def _finite(obj):
    """NaN and infinities (no JSON for them) as None, everywhere in a report."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def cell(entry: dict | None, key: str = "mean", digits: int = 3) -> str:
    """"value [lo, hi]" of a report entry ("n/a" when missing; an open bound as -inf)."""
    if entry is None or entry.get(key) is None:
        return "n/a"
    lo, hi = (f"{b:.{digits}f}" if b is not None else "-inf" for b in entry["ci95"])
    return f"{entry[key]:.{digits}f} [{lo}, {hi}]"


def _present(columns, blocks) -> list[str]:
    """The columns that hold a value in at least one of ``blocks`` (metric -> entry dicts): a split
    of closed prompts only (an OpenLLM task) has no open-prompt metric to show."""
    return [c for c in columns if any((b or {}).get(c) is not None for b in blocks)]


def _table(header, rows) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|---" * len(header) + "|", *("| " + " | ".join(r) + " |" for r in rows)]


def verdict_lines(report: dict) -> list[str]:
    v = report.get("verdict")
    if v is None:
        return []
    label = {"reproduced": "REPRODUCED", "not_reproduced": "NOT REPRODUCED", "inconclusive": "INCONCLUSIVE"}
    lines = [f"**Verdict: {label[v['outcome']]}**" + (" (preliminary: fewer seeds than the rule asks for a "
                                                        "final answer)" if v.get("preliminary") else "") + ".", ""]
    if v["failed_checks"]:
        lines += [f"Failed checks: {', '.join(v['failed_checks'])} (the measured outcome before the checks was "
                  f"{v['outcome_before_checks']}).", ""]
    lines += [f"Rule (fixed before the run): {v['rule']}", ""]
    return lines


def markdown(report: dict) -> str:
    key = next(k for k in report if k.startswith("vs_"))
    baseline = key.removeprefix("vs_")
    s = report["settings"]
    lines = [f"# ts2 compare: {report['name']}", "",
             f"Base model `{s['base_model']}`; {s['train_examples']} SFT examples; methods "
             f"{', '.join(s['methods'])}; seeds {s['seeds']}; n = {s['sampling']['n']} samples per prompt at T "
             f"{s['sampling']['temperatures']}, top-p {s['sampling']['top_p']}, top-k {s['sampling']['top_k']}. "
             "Cells: mean [95% interval, hierarchical bootstrap over seeds, categories and prompts].", ""]
    lines += verdict_lines(report)
    if report["checks"]:
        lines += ["## Checks (baseline and base only)", ""]
        rows = []
        for name, c in report["checks"].items():
            value = c["value"] if not isinstance(c["value"], float) else f"{c['value']:.3f}"
            if isinstance(c["value"], dict):
                value = ", ".join(f"{k}: {x:.3f}" if x is not None else f"{k}: n/a" for k, x in c["value"].items())
            rows.append([name, str(value), str(c["threshold"]), "yes" if c["passed"] else "**no**", c["detail"]])
        lines += _table(["check", "value", "threshold", "passed", "what"], rows) + [""]
    if report["matched"]:
        lines += ["## At matched accuracy", ""]
    for method, by_split in report["matched"].items():
        for split, levels in by_split.items():
            rows = []
            for level, block in levels.items():
                m = block["metrics"]
                extra = [k for k in block if k.startswith("accuracy_at_matched_")][0]
                rows.append([method, split, level, f"{block['target_accuracy']:.3f}",
                             *(cell(m[x], "diff") for x in ("lenient_coverage", "valid_simpson")),
                             cell(block[extra], "diff"), cell(block["best_accuracy_gap"], "diff"),
                             f"{m['lenient_coverage']['unreachable_share']:.2f}"
                             if m["lenient_coverage"]["unreachable_share"] is not None else "n/a"])
            lines += _table(["method", "split", "level", "target accuracy", f"lenient coverage - {baseline}",
                             f"valid Gini-Simpson - {baseline}", "accuracy at matched coverage",
                             "best accuracy - target", "unreachable share"], rows) + [""]
    for split in sorted({sp for m in report["frontier"].values() for sp in m}):
        cells = [(method, t, metrics) for method, by_split in report["frontier"].items()
                 for t, metrics in by_split.get(split, {}).items()]
        columns = _present(FRONTIER_COLUMNS, [m for _, _, m in cells])
        if columns:
            lines += [f"## Frontier, {split}", ""]
            lines += _table(["method", "T", *columns], [[m, t, *(cell(x.get(c)) for c in columns)]
                                                        for m, t, x in cells]) + [""]
    temperature = str(report["temperature"])
    block = report["temperatures"][temperature]
    for split in sorted({sp for m in block["methods"].values() for sp in m}):
        columns = _present(TABLE_METRICS, [b.get(split) for b in block["methods"].values()])
        lines += [f"## T = {temperature}, {split}", ""]
        lines += _table(["method", *columns], [[m, *(cell(b.get(split, {}).get(x)) for x in columns)]
                                               for m, b in block["methods"].items()])
        lines += ["", f"Difference to {baseline}:", ""]
        lines += _table(["method", *columns], [[m, *(cell(b.get(split, {}).get(x), "diff") for x in columns)]
                                               for m, b in block[key].items()])
        lines.append("")
    lines += ["## Wall time (seconds)", ""]
    lines += _table(["method", "seed", "training", "sampling"],
                    [[m, seed, str(t.get("train_seconds", "-")), f"{sum(t.get('sample_seconds', {}).values()):.1f}"]
                     for m, seeds in report["timing"].items() for seed, t in seeds.items()]) + [""]
    if report["probe"]:
        lines += ["![probe](probe.png)", ""]
    lines += ["![frontier](frontier.png)", "", "![metrics](metrics.png)", ""]
    return "\n".join(lines)


def console_summary(report: dict) -> list:
    """Rich renderables for the terminal: the verdict, the checks and the matched readings."""
    from rich.table import Table

    out = []
    temperature = str(report["temperature"])
    block = report["temperatures"][temperature]
    for split in sorted({sp for m in block["methods"].values() for sp in m}):
        columns = _present(CONSOLE_METRICS, [b.get(split) for b in block["methods"].values()])
        table = Table(title=f"{report['name']}: T = {temperature}, {split} (mean [95% interval])")
        for header in ("method", *columns):
            table.add_column(header.replace("_", " "))
        for method, by_split in block["methods"].items():
            table.add_row(method, *(cell(by_split.get(split, {}).get(c)) for c in columns))
        out.append(table)
    if report["checks"]:
        table = Table(title="checks (baseline and base only)")
        for header in ("check", "passed", "what"):
            table.add_column(header)
        for name, c in report["checks"].items():
            table.add_row(name, "yes" if c["passed"] else "NO", c["detail"])
        out.append(table)
    for method, by_split in report["matched"].items():
        table = Table(title=f"{method} at matched accuracy (difference to {report['settings']['baseline']})")
        for header in ("split", "level", "target accuracy", "lenient coverage", "valid Gini-Simpson"):
            table.add_column(header)
        for split, levels in by_split.items():
            for level, block in levels.items():
                table.add_row(split, level, f"{block['target_accuracy']:.3f}",
                              *(cell(block["metrics"][x], "diff") for x in ("lenient_coverage", "valid_simpson")))
        out.append(table)
    v = report.get("verdict")
    if v is not None:
        out.append(f"verdict: {v['outcome'].upper()}" + (" (preliminary)" if v.get("preliminary") else "")
                   + (f"; failed checks: {', '.join(v['failed_checks'])}" if v["failed_checks"] else ""))
    return out


def write_report(out: Path, report: dict) -> None:
    from ..probe import plot_probe
    from .figures import plot_frontier, plot_metrics

    write_json_atomic(out / "report.json", report)
    if report["probe"]:
        plot_probe(list(report["probe"].values()), out / "probe.png", list(report["probe"]))
    plot_metrics(report, out / "metrics.png")
    plot_frontier(report, out / "frontier.png")
    write_text_atomic(out / "report.md", markdown(report))
