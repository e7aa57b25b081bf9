"""Per-sample scores of a `ts2 compare` run as arrays: method -> metric -> [seeds, prompts, temperatures].

Each (method, seed, temperature) samples file is scored prompt by prompt with
``ts2.metrics.answer_sets.prompt_scores``; a score that is undefined for a prompt (a closed-prompt
metric on an open prompt, valid-answer diversity with fewer than 2 valid samples, ...) is NaN.
The answer-position statistics (``positions/``: entropy, invalid mass) do not depend on the
sampling temperature and are repeated along that axis.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..formats import read_generations
from ..metrics.answer_sets import CLOSED_METRICS, OPEN_METRICS, prompt_scores

POSITION_METRICS = ("invalid_mass", "entropy")
ALL_METRICS = (*OPEN_METRICS, *CLOSED_METRICS, *POSITION_METRICS)


def _samples(path: Path) -> dict[str, list[str]]:
    return {str(row["id"]): row["responses"] for row in read_generations(path)}


def score_arrays(cfg, out: Path, prompts: list[dict]) -> dict[str, dict[str, np.ndarray]]:
    """method -> metric -> float array [len(cfg.seeds), len(prompts), len(temperatures)]."""
    temps = cfg.sampling["temperatures"]
    shape = (len(cfg.seeds), len(prompts), len(temps))
    arrays = {}
    for method in cfg.all_methods():
        table = {metric: np.full(shape, np.nan) for metric in ALL_METRICS}
        for s, seed in enumerate(cfg.seeds):
            name = f"{method}-seed{seed}"
            positions = json.loads((out / "positions" / f"{name}.json").read_text())
            for t, temperature in enumerate(temps):
                if temperature not in cfg.temperatures_of(method):
                    continue  # not sampled there (the base's base_temperatures): NaN
                samples = _samples(out / "samples" / f"{name}-T{temperature}.jsonl")
                for p, row in enumerate(prompts):
                    scores = prompt_scores(samples[row["id"]], row["valid"], row["kind"], row.get("sft_answers"),
                                           row.get("extract"), row.get("choices"))
                    scores.update(positions.get(row["id"], {}))
                    for metric, value in scores.items():
                        if metric in table and value is not None:
                            table[metric][s, p, t] = value
        arrays[method] = table
    return arrays


def per_prompt(cfg, prompts: list[dict], arrays: dict) -> dict:
    """temperature -> method -> prompt id -> metric -> mean over seeds (None where undefined)."""
    result = {}
    for t, temperature in enumerate(cfg.sampling["temperatures"]):
        block = result.setdefault(str(temperature), {})
        for method, table in arrays.items():
            rows = block.setdefault(method, {})
            for p, row in enumerate(prompts):
                cell = {}
                for metric, values in table.items():
                    column = values[:, p, t]
                    column = column[~np.isnan(column)]
                    if column.size:
                        cell[metric] = float(column.mean())
                rows[row["id"]] = cell
    return result
