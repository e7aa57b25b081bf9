"""Figures of a `ts2 compare` report: the accuracy-diversity frontier and the per-method bars."""

from __future__ import annotations

from pathlib import Path

FRONTIER_PANELS = (("lenient_coverage", "lenient coverage"), ("valid_simpson", "valid-answer Gini-Simpson"))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def missing_figures(report: dict) -> dict[str, str]:
    """figure file -> why it is not drawn: both figures show open-prompt metrics (accuracy against
    coverage and diversity), which an evaluation set of closed prompts only (an OpenLLM task) lacks."""
    accuracy = (report["settings"].get("verdict") or {}).get("accuracy", "lenient_accuracy")
    has_frontier = any(accuracy in m and any(k in m for k, _ in FRONTIER_PANELS)
                       for by_split in report["frontier"].values() for by_t in by_split.values() for m in by_t.values())
    has_bars = any("lenient_coverage" in by_metric for by_split in report["methods"].values()
                   for by_metric in by_split.values())
    reason = "no open prompts (accuracy, coverage and diversity are defined on open prompts only)"
    return {name: reason for name, drawn in (("frontier.png", has_frontier), ("metrics.png", has_bars)) if not drawn}


def plot_frontier(report: dict, path: Path) -> None:
    """Per split: lenient accuracy (x) against coverage and valid-answer diversity (y), one curve
    per method through its temperatures, 95% intervals as error bars on both axes; the verdict's
    accuracy levels as dotted lines and its band shaded (temperature levels: marked on the
    baseline's curve)."""
    plt = _pyplot()
    accuracy = (report["settings"].get("verdict") or {}).get("accuracy", "lenient_accuracy")
    splits = sorted({sp for m in report["frontier"].values() for sp in m})
    fig, axes = plt.subplots(len(splits), len(FRONTIER_PANELS), figsize=(5.2 * len(FRONTIER_PANELS),
                                                                         4.0 * len(splits)), squeeze=False)
    verdict = report["settings"].get("verdict") or {}
    levels = (verdict.get("levels") or {}).get("temperature") or []
    level_accuracies = (verdict.get("levels") or {}).get("accuracy") or []
    band = verdict.get("band")
    baseline = report["settings"]["baseline"]
    for row, split in enumerate(splits):
        for col, (metric, label) in enumerate(FRONTIER_PANELS):
            ax = axes[row][col]
            for method, by_split in report["frontier"].items():
                points = [(t, m[accuracy], m[metric]) for t, m in by_split.get(split, {}).items()
                          if accuracy in m and metric in m]
                if not points:
                    continue
                xs = [p[1]["mean"] for p in points]
                ys = [p[2]["mean"] for p in points]
                xerr = [[x - (p[1]["ci95"][0] if p[1]["ci95"][0] is not None else x) for x, p in zip(xs, points)],
                        [(p[1]["ci95"][1] if p[1]["ci95"][1] is not None else x) - x for x, p in zip(xs, points)]]
                yerr = [[y - (p[2]["ci95"][0] if p[2]["ci95"][0] is not None else y) for y, p in zip(ys, points)],
                        [(p[2]["ci95"][1] if p[2]["ci95"][1] is not None else y) - y for y, p in zip(ys, points)]]
                style = {"lw": 2.2} if method in (baseline, (report.get("verdict") or {}).get("method")) else {"lw": 1}
                line = ax.errorbar(xs, ys, xerr=xerr, yerr=yerr, marker="o", ms=3, capsize=1.5, label=method,
                                   elinewidth=0.6, **style)
                for bars in line[2]:  # intervals drawn light, so that the curves stay readable
                    bars.set_alpha(0.35)
                if method == baseline:
                    for t, x, y in zip((p[0] for p in points), xs, ys):
                        if float(t) in levels:
                            ax.annotate(f"T {t}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7,
                                        color=line[0].get_color())
            if band:
                ax.axvspan(*band, color="0.85", alpha=0.5, lw=0, label=None)
            for a in level_accuracies:
                ax.axvline(a, color="0.5", lw=0.8, ls=":")
            ax.set_xlabel(accuracy.replace("_", " "))
            ax.set_ylabel(label)
            ax.set_title(f"{split}: {label}", fontsize=9)
            ax.grid(alpha=0.3)
            if row == 0 and col == 0 and ax.get_legend_handles_labels()[0]:  # none for closed prompts only
                ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_metrics(report: dict, path: Path) -> None:
    """Lenient accuracy and lenient coverage per method and split with their intervals (report temperature)."""
    plt = _pyplot()
    splits = sorted({sp for m in report["methods"].values() for sp in m})
    fig, axes = plt.subplots(1, 2 * len(splits), figsize=(4 * 2 * len(splits), 3.2), squeeze=False)
    methods = list(report["methods"])
    for col, (split, metric) in enumerate((s, m) for s in splits for m in ("lenient_accuracy", "lenient_coverage")):
        ax = axes[0][col]
        entries = [report["methods"][m].get(split, {}).get(metric) for m in methods]
        means = [e["mean"] if e else 0 for e in entries]
        errs = [[e["mean"] - e["ci95"][0] if e and e["ci95"][0] is not None else 0 for e in entries],
                [e["ci95"][1] - e["mean"] if e and e["ci95"][1] is not None else 0 for e in entries]]
        ax.bar(range(len(methods)), means, yerr=errs, capsize=3, color="#4C72B0")
        ax.set_xticks(range(len(methods)), methods, rotation=45, fontsize=8)
        ax.set_title(f"{metric.replace('_', ' ')}, {split}, T {report['temperature']}", fontsize=9)
        ax.set_ylim(0, 1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
