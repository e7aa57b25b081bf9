"""`ts2 compare analyze`: the instrument on samples from anywhere.

A user who sampled with their own pipeline (vLLM on a cluster, say) lays the files out as a run's
``samples/`` stage, ``<method>-seed<s>-T<t>.jsonl`` in ``ts2 generate``'s format, and gets the same
report.json, report.md and figures as a full run, with no model loaded.  Every method of the config
and every seed must be there, at every configured temperature (more temperatures are read too: an
extended or adaptive grid); ``base-seed<s>-T<t>.jsonl`` is optional (without it the collapse checks
are not available).  Checks that need a model (answer-position entropy) are reported as not
available and listed; they do not by themselves make the verdict inconclusive.
"""

from __future__ import annotations

from pathlib import Path

from ..formats import DataError
from .config import CompareConfig, read_eval_prompts
from .layout import SAMPLE_FILE
from .report import report_of, write_report
from .scores import discover_temperatures


def analyze_samples(cfg: CompareConfig, samples, output, text_metrics: bool = True) -> dict:
    samples, out = Path(samples), Path(output)
    prompts = read_eval_prompts(cfg.eval_prompts)
    if not samples.is_dir():
        raise DataError(f"--samples {samples}: no such directory")
    names = {SAMPLE_FILE.match(p.name)["method"] for p in samples.iterdir() if SAMPLE_FILE.match(p.name)}
    unknown = sorted(names - set(cfg.all_methods()))
    if unknown:
        raise DataError(f"{samples}: sample files of method(s) {', '.join(unknown)} that the config does not name "
                        f"(methods: {', '.join(cfg.methods)}; 'base' for the base model)")
    methods = [m for m in cfg.all_methods() if m != "base" or "base" in names]
    required = {m: cfg.temperatures_of(m) for m in methods}
    temps = discover_temperatures(samples, methods, cfg.seeds, required)
    out.mkdir(parents=True, exist_ok=True)
    report = report_of(cfg, prompts, samples, out, temps, None, {"samples": str(samples.resolve())}, text_metrics)
    write_report(out, report)
    return report
