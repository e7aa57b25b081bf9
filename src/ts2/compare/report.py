"""The written report of a `ts2 compare` run: report.json, report.md, the console summary, figures.

``gather`` scores the samples and reads the run's files; ``build_report`` turns them into the report
(``analysis.analyze``, no I/O); everything below it formats and writes.  report.json (``"protocol": "ts2-compare-v3"``):
    methods  -> method -> split -> metric -> {"mean", "ci95", "se", "df", "prompts"}   (at the report
                temperature: the checks' temperature, else the verdict's first temperature level, else
                the grid's temperature nearest 1)
    vs_<baseline> -> method -> split -> metric -> {"diff", "ci95", ...}
    temperatures -> "T" -> {"methods", "vs_<baseline>"}                  (every temperature)
    frontier -> method -> split -> "T" -> metric -> {"mean", "ci95", ...}
    readings -> method -> split -> {"levels": name -> {target_accuracy, status, best_accuracy_gap,
                metrics -> metric -> {estimate, ci95, se, df, value, baseline}}, "band": {...} or null}
    peaks    -> method -> split -> {temperature, <metric>, <accuracy>}
    checks   -> name -> {value, threshold, passed, available, ...};  verdict -> {outcome, rule, ...}
    audit    -> {file, rule, judged, methods -> {distinct, samples, judged_valid, ...}, readings}
    timing, probe, settings (the whole configuration and versions), per_prompt -> "T" -> method -> id
Every interval is the crossed seeds x categories t interval of ``ts2.metrics.intervals``; the
verdict follows from ``readings`` and ``checks`` by the stated rule (``verdict.outcome_of``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..formats import write_json_atomic, write_text_atomic
from .analysis import analyze
from .audit import audit_rows, read_judgements, summary, with_judged, write_audit
from .layout import Layout, run_name
from .scores import ALL_METRICS, Scores, per_prompt, score_arrays
from .sections import nearest_one

TABLE_METRICS = ("accuracy", "lenient_accuracy", "coverage", "lenient_coverage", "valid_simpson", "share_off_list",
                 "pass@1", "lenient_pass@1", "distinct_1", "self_bleu", "entropy")
CONSOLE_METRICS = ("lenient_accuracy", "lenient_coverage", "valid_simpson", "accuracy", "pass@1", "lenient_pass@1")
FRONTIER_COLUMNS = ("lenient_accuracy", "accuracy", "lenient_coverage", "valid_simpson", "valid_distinct@4",
                    "share_off_list")
STATUS_TEXT = {"ok": "", "accuracy_cost": "accuracy cost", "grid_short": "grid too short (extend T)",
               "baseline_unreadable": "the baseline does not reach it"}


def _versions() -> dict:
    import sys

    import numpy
    import scipy

    from .. import __version__

    loaded = {name: sys.modules[name].__version__ for name in ("torch", "transformers") if name in sys.modules}
    return {"ts2": __version__, "numpy": numpy.__version__, "scipy": scipy.__version__, **loaded}


def report_temperature(cfg, temperatures) -> float:
    if cfg.checks is not None and cfg.checks.temperature is not None:
        return float(cfg.checks.temperature)
    if cfg.verdict is not None and "temperature" in cfg.verdict.levels:
        return float(cfg.verdict.levels["temperature"][0])
    return nearest_one(temperatures)


@dataclass
class ReportInputs:
    """What a report is made from, read and scored before it: the score arrays, the judged audit
    (its judgements and the arrays scored with them) where there is one, the audit file's name, the
    probe panels, each run's record and the library versions."""

    scores: Scores
    audit_file: str
    judged: dict | None = None
    judged_arrays: dict | None = None
    probe: dict = field(default_factory=dict)
    timing: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)


def gather(cfg, prompts: list[dict], samples: Path, out: Path, temps_of: dict, positions: Path | None = None,
           text_metrics: bool = True) -> ReportInputs:
    """Score the sample files in ``samples`` of every method in ``temps_of`` (method -> its
    temperatures), write the off-list audit file into ``out``, and read the probe panels and run
    records there."""
    layout = Layout(out)
    methods = [m for m in cfg.all_methods() if m in temps_of]
    labelled = [cfg.baseline, *([cfg.checks.replicate] if cfg.checks and cfg.checks.replicate else [])]
    scores = score_arrays(methods, cfg.seeds, temps_of, samples, prompts, labelled, positions, text_metrics)
    compared = [m for m in methods if m != "base"]
    audit_file = write_audit(out, audit_rows(scores.off_list, prompts, compared, cfg.bootstrap.seed))
    judged, judged_arrays = None, None
    if cfg.audit.judged is not None:
        judged = read_judgements(cfg.audit.judged)
        judged_arrays = {"arrays": score_arrays(methods, cfg.seeds, temps_of, samples, with_judged(prompts, judged),
                                                cfg.baseline, positions, text_metrics=False).arrays}
    probe = {m: json.loads(layout.probe(m).read_text()) for m in cfg.all_methods() if layout.probe(m).is_file()}
    timing = {}
    for method in cfg.all_methods():
        for seed in cfg.seeds:
            path = layout.run_record(run_name(method, seed))
            if path.is_file():
                timing.setdefault(method, {})[str(seed)] = json.loads(path.read_text())
    return ReportInputs(scores, audit_file.name, judged, judged_arrays, probe, timing, _versions())


def report_of(cfg, prompts: list[dict], samples: Path, out: Path, temps_of: dict, positions: Path | None = None,
              extra_settings: dict | None = None, text_metrics: bool = True) -> dict:
    """``build_report`` of what ``gather`` reads and scores."""
    inputs = gather(cfg, prompts, samples, out, temps_of, positions, text_metrics)
    return build_report(cfg, prompts, inputs, temps_of, extra_settings)


def build_report(cfg, prompts: list[dict], inputs: ReportInputs, temps_of: dict,
                 extra_settings: dict | None = None) -> dict:
    """The report (see the module's docstring) of the scored ``inputs``: analysis, verdict and
    settings; no file is read or written."""
    scores = inputs.scores
    methods = [m for m in cfg.all_methods() if m in temps_of]
    compared = [m for m in methods if m != "base"]
    numbers = analyze(cfg, prompts, scores, ALL_METRICS, inputs.judged_arrays)
    key = f"vs_{cfg.baseline}"
    by_temperature = {t: {"methods": b["methods"], key: b["vs"]} for t, b in numbers["temperatures"].items()}
    temperature = report_temperature(cfg, scores.temperatures)
    first = by_temperature.get(str(temperature)) or next(iter(by_temperature.values()))
    counts = {s: {"open": sum(r["split"] == s and r["kind"] == "open" for r in prompts),
                  "closed": sum(r["split"] == s and r["kind"] == "closed" for r in prompts)}
              for s in sorted({r["split"] for r in prompts})}
    skipped = [f"{name}: {c['detail']}" for name, c in numbers["checks"].items() if not c.get("available", True)]
    return _finite({
        "name": cfg.name, "temperature": temperature,
        "protocol": "ts2-compare-v4" if cfg.verdict is not None and cfg.verdict.ceiling_margin is not None
        else "ts2-compare-v3",
        "methods": first["methods"], key: first[key],
        "verdict": numbers["verdict"], "checks": numbers["checks"], "readings": numbers["readings"],
        "outcomes": numbers.get("outcomes", {}),
        "peaks": numbers["peaks"], "frontier": numbers["frontier"], "temperatures": by_temperature,
        "audit": {"file": inputs.audit_file, "rule": cfg.audit.rule, "judged": cfg.audit.judged,
                  "methods": summary(scores.off_list, inputs.judged, compared),
                  "readings": numbers.get("audit_readings")},
        "skipped": skipped, "timing": inputs.timing, "probe": inputs.probe,
        "settings": {**cfg.to_dict(), "prompts": counts, "sampled_temperatures": temps_of,
                     "versions": inputs.versions, **(extra_settings or {})},
        "per_prompt": per_prompt(scores.temperatures, prompts, scores.arrays),
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
    if v.get("skipped_checks"):
        lines += [f"Checks not available from what was given: {', '.join(v['skipped_checks'])}.", ""]
    if v.get("endpoints"):
        lines += ["Endpoints: " + "; ".join(f"{k}: {o.replace('_', ' ')}" for k, o in v["endpoints"].items()) + ".", ""]
    lines += [f"Rule (the configuration's): {v['rule']}", ""]
    return lines


def _check_value(c: dict) -> str:
    value = c["value"]
    if value is None:
        return "n/a"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {x:.3f}" if x is not None else f"{k}: n/a" for k, x in value.items())
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _passed(c: dict) -> str:
    return "n/a" if not c.get("available", True) else "yes" if c["passed"] else "**no**"


def reading_rows(report: dict, metrics=("lenient_coverage", "valid_simpson")) -> list[list[str]]:
    """[method, split, endpoint, target, status, *metric differences, best accuracy - target] rows."""
    rows = []
    for method, by_split in report["readings"].items():
        for split, reading in by_split.items():
            blocks = dict(reading["levels"])
            if reading.get("band"):
                blocks["band " + "-".join(f"{a:g}" for a in reading["band"]["band"])] = reading["band"]
            for name, block in blocks.items():
                target = f"{block['target_accuracy']:.3f}" if "target_accuracy" in block else "band"
                rows.append([method, split, name, target, STATUS_TEXT.get(block["status"], str(block["status"])),
                             *(cell(block["metrics"].get(m), "estimate") for m in metrics),
                             cell(block["best_accuracy_gap"], "estimate")])
    return rows


def ceiling_lines(report: dict, baseline: str) -> list[str]:
    """Every method against the baseline by the verdict's rule (before the checks): its coverage
    endpoint, its ceiling (best accuracy over T) and the difference of ceilings."""
    v = report["settings"]["verdict"]
    split, rows = v["split"], []
    for method, entry in report["outcomes"].items():
        ceiling = (report["readings"].get(method, {}).get(split) or {}).get("ceiling") or {}
        parts = entry["endpoints"]
        coverage = "; ".join(f"{k}: {o.replace('_', ' ')}" for k, o in parts.items() if k != "ceiling")
        rows.append([method, coverage, cell(ceiling.get("method"), "estimate"),
                     cell(ceiling.get("baseline"), "estimate"), cell(ceiling.get("difference"), "estimate"),
                     parts.get("ceiling", "-").replace("_", " "), entry["outcome"].replace("_", " ")])
    margin = v.get("ceiling_margin")
    note = (f"ceiling: non inferior if the difference's lower bound > -{margin:g}, inferior if its upper bound < "
            f"-{margin:g}" if margin is not None else "no ceiling endpoint (protocol v3: accuracy costs read by "
            "point estimate)")
    return ([f"## Every method against {baseline} ({split}; the rule before the checks; {note})", ""]
            + _table(["method", "coverage", f"best {v['accuracy']}", f"{baseline}'s best", "difference",
                      "ceiling", "outcome"], rows) + [""])


def markdown(report: dict) -> str:
    key = next(k for k in report if k.startswith("vs_"))
    baseline = key.removeprefix("vs_")
    s = report["settings"]
    data = f"{s['train_examples']} SFT examples; " if s.get("train_examples") is not None else ""
    lines = [f"# ts2 compare: {report['name']}", "",
             f"Base model `{s['base_model'] or 'n/a (samples analysed)'}`; {data}methods "
             f"{', '.join(s['methods'])}; seeds {s['seeds']}; n = {s['sampling']['n']} samples per prompt at T "
             f"{s['sampling']['temperatures']}, top-p {s['sampling']['top_p']}, top-k {s['sampling']['top_k']}. "
             "Cells: estimate [95% t interval over seeds crossed with categories, Satterthwaite df]. "
             f"Protocol {report['protocol']}.", ""]
    lines += verdict_lines(report)
    if report["checks"]:
        lines += ["## Checks", ""]
        rows = [[name, _check_value(c), str(c["threshold"]), _passed(c), c["detail"]]
                for name, c in report["checks"].items()]
        lines += _table(["check", "value", "threshold", "passed", "what"], rows) + [""]
    if report["readings"]:
        lines += ["## At matched accuracy (difference to " + baseline + ")", ""]
        lines += _table(["method", "split", "endpoint", "target accuracy", "status", "lenient coverage",
                         "valid Gini-Simpson", "best accuracy - target"], reading_rows(report)) + [""]
    if report.get("outcomes"):
        lines += ceiling_lines(report, baseline)
    if report.get("peaks"):
        metric = (s.get("verdict") or {}).get("metric", "lenient_coverage")
        accuracy = (s.get("verdict") or {}).get("accuracy", "lenient_accuracy")
        lines += [f"## Peak {metric} over T", ""]
        lines += _table(["method", "split", "T", metric, accuracy],
                        [[m, sp, f"{p['temperature']:g}", cell(p[metric], "estimate"), cell(p[accuracy], "estimate")]
                         for m, by in report["peaks"].items() for sp, p in by.items()]) + [""]
    audit = report.get("audit") or {}
    if audit.get("methods"):
        lines += ["## Off-list answers (blind audit)", "",
                  f"Every distinct off-list answer is in `{audit['file']}` (pooled, shuffled, no method names), to "
                  f"be judged by the rule: {audit['rule']}. "
                  + ("Judged file: `" + str(audit["judged"]) + "`." if audit["judged"] else "Not judged yet."), ""]
        lines += _table(["method", "distinct off-list answers", "off-list samples", "judged valid (distinct)",
                         "judged valid samples"],
                        [[m, str(e["distinct"]), str(e["samples"]), str(e.get("judged_valid", "-")),
                          str(e.get("judged_valid_samples", "-"))] for m, e in audit["methods"].items()]) + [""]
        if audit.get("readings"):
            lines += ["Sensitivity (not the verdict): the readings with judged-valid answers added to the lists.", ""]
            lines += _table(["method", "split", "endpoint", "target accuracy", "status", "lenient coverage",
                             "valid Gini-Simpson", "best accuracy - target"],
                            reading_rows({"readings": audit["readings"]})) + [""]
    if report.get("skipped"):
        lines += ["Not computed from what was given: " + "; ".join(report["skipped"]) + ".", ""]
    for split in sorted({sp for m in report["frontier"].values() for sp in m}):
        cells = [(method, t, metrics) for method, by_split in report["frontier"].items()
                 for t, metrics in by_split.get(split, {}).items()]
        columns = _present(FRONTIER_COLUMNS, [m for _, _, m in cells])
        if columns:
            lines += [f"## Frontier, {split}", ""]
            lines += _table(["method", "T", *columns], [[m, t, *(cell(x.get(c)) for c in columns)]
                                                        for m, t, x in cells]) + [""]
    temperature = str(report["temperature"])
    block = report["temperatures"].get(temperature, {"methods": {}, key: {}})
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
    from .figures import missing_figures

    missing = missing_figures(report)
    for name in ("frontier.png", "metrics.png"):
        lines += [f"No {name}: {missing[name]}." if name in missing else f"![{name[:-4]}]({name})", ""]
    return "\n".join(lines)


def console_summary(report: dict) -> list:
    """Rich renderables for the terminal: the verdict, the checks and the matched readings."""
    from rich.table import Table

    out = []
    temperature = str(report["temperature"])
    block = report["temperatures"].get(temperature, {"methods": {}})
    for split in sorted({sp for m in block["methods"].values() for sp in m}):
        columns = _present(CONSOLE_METRICS, [b.get(split) for b in block["methods"].values()])
        table = Table(title=f"{report['name']}: T = {temperature}, {split} (mean [95% interval])")
        for header in ("method", *columns):
            table.add_column(header.replace("_", " "))
        for method, by_split in block["methods"].items():
            table.add_row(method, *(cell(by_split.get(split, {}).get(c)) for c in columns))
        out.append(table)
    if report["checks"]:
        table = Table(title="checks")
        for header in ("check", "passed", "what"):
            table.add_column(header)
        for name, c in report["checks"].items():
            table.add_row(name, _passed(c).replace("**", ""), c["detail"])
        out.append(table)
    if report["readings"]:
        table = Table(title=f"at matched accuracy (difference to {report['settings']['baseline']})")
        for header in ("method", "split", "endpoint", "target", "status", "lenient coverage", "valid Gini-Simpson",
                       "best accuracy - target"):
            table.add_column(header)
        for row in reading_rows(report):
            table.add_row(*row)
        out.append(table)
    v = report.get("verdict")
    if v is not None:
        out.append(f"verdict: {v['outcome'].upper()}" + (" (preliminary)" if v.get("preliminary") else "")
                   + (f"; failed checks: {', '.join(v['failed_checks'])}" if v["failed_checks"] else ""))
    return out


def write_report(out: Path, report: dict) -> None:
    from ..eval.probe import plot_probe
    from .figures import missing_figures, plot_frontier, plot_metrics

    layout = Layout(out)
    write_json_atomic(layout.file("report.json"), report)
    if report["probe"]:
        plot_probe(list(report["probe"].values()), layout.file("probe.png"), list(report["probe"]))
    missing = missing_figures(report)
    for name, plot in (("metrics.png", plot_metrics), ("frontier.png", plot_frontier)):
        if name in missing:
            layout.file(name).unlink(missing_ok=True)  # a figure of an earlier report would mislead
        else:
            plot(report, layout.file(name))
    write_text_atomic(layout.file("report.md"), markdown(report))
