"""Per-sample scores of a `ts2 compare` run as arrays: method -> metric -> [seeds, prompts, temperatures].

The samples are files ``<method>-seed<s>-T<t>.jsonl`` in ``ts2 generate``'s format (rows with
``id`` and ``responses``), written by a run's sampling stage or by anyone's sampler
(``ts2 compare analyze``).  Each is scored prompt by prompt with
``ts2.metrics.answer_sets.prompt_scores``; a score undefined for a prompt (a closed-prompt metric on
an open prompt, valid-answer diversity with fewer than 2 valid samples, ...) is NaN, and so is every
score at a temperature a method was not sampled at.  The temperature axis is the union of every
method's temperatures (methods may have their own: an extended or adaptive grid).  The
answer-position statistics (``positions/``: entropy, invalid mass) need the model; without them
they are NaN.  Alongside the arrays: the baseline's per-sample answer labels (for the spike-in
control) and every off-list answer (for the blind audit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..formats import DataError, iter_jsonl
from ..metrics.answer_sets import CLOSED_METRICS, OPEN_METRICS, answer_key, noun_phrase, open_scores, prompt_scores
from .layout import SAMPLE_FILE, run_name, sample_name

POSITION_METRICS = ("invalid_mass", "entropy")
ALL_METRICS = (*OPEN_METRICS, *CLOSED_METRICS, *POSITION_METRICS)


@dataclass
class Scores:
    temperatures: list[float]
    arrays: dict  # method -> metric -> [S, P, T]
    labels: dict = field(default_factory=dict)  # method -> (seed index, T index) -> prompt index -> [(class, answer)]
    off_list: dict = field(default_factory=dict)  # method -> prompt id -> {noun phrase: count}
    positions: set = field(default_factory=set)  # methods with answer-position statistics


def discover_temperatures(samples: Path, methods: list[str], seeds: list[int], required: dict) -> dict:
    """method -> the sorted temperatures its files hold in ``samples`` (the same for every seed).

    ``required``: method -> temperatures that must be there (the configured grid).  A method or seed
    without files, a required temperature missing, or seeds with different temperatures is a
    DataError naming what is missing."""
    found: dict[tuple[str, int], set[float]] = {}
    if not samples.is_dir():
        raise DataError(f"{samples}: no such samples directory")
    for path in samples.iterdir():
        match = SAMPLE_FILE.match(path.name)
        if match:
            found.setdefault((match["method"], int(match["seed"])), set()).add(float(match["t"]))
    result = {}
    for method in methods:
        grids = {}
        for seed in seeds:
            temps = found.get((method, seed))
            if not temps:
                raise DataError(f"{samples}: no samples of method {method!r}, seed {seed} (expected files "
                                f"{sample_name(method, seed, '<t>')})")
            missing = sorted(set(map(float, required.get(method, []))) - temps)
            if missing:
                raise DataError(f"{samples}: missing {', '.join(sample_name(method, seed, t) for t in missing)}")
            grids[seed] = temps
        if len({tuple(sorted(t)) for t in grids.values()}) > 1:
            detail = "; ".join(f"seed {s}: {sorted(t)}" for s, t in grids.items())
            raise DataError(f"{samples}: method {method!r} has different temperatures per seed ({detail})")
        result[method] = sorted(next(iter(grids.values())))
    return result


def find_sample_file(samples: Path, method: str, seed: int, temperature: float) -> Path:
    """The file of (method, seed, T), written ``T1.0`` or ``T1`` (either spelling of the number)."""
    for path in samples.glob(f"{run_name(method, seed)}-T*.jsonl"):
        match = SAMPLE_FILE.match(path.name)
        if match and match["method"] == method and float(match["t"]) == float(temperature):
            return path
    raise DataError(f"{samples}: missing {sample_name(method, seed, temperature)}")


def read_samples(path: Path, ids: set[str]) -> dict[str, list[str]]:
    """prompt id -> responses; a row without an id or responses, an unknown id, a repeated id, or a
    prompt missing from the file is a DataError naming the file (and line)."""
    rows = {}
    for origin, row in iter_jsonl(path):
        if not isinstance(row, dict) or "id" not in row:
            raise DataError(f"{origin}: expected an object with 'id' and 'responses'")
        key = str(row["id"])
        responses = row.get("responses")
        if not isinstance(responses, list) or not responses or not all(isinstance(r, str) for r in responses):
            raise DataError(f"{origin}: 'responses' must be a non-empty list of strings (id {key!r})")
        if key not in ids:
            raise DataError(f"{origin}: id {key!r} is not among the evaluation prompts")
        if key in rows:
            raise DataError(f"{origin}: id {key!r} appears more than once")
        rows[key] = responses
    missing = [i for i in ids if i not in rows]
    if missing:
        raise DataError(f"{path}: no samples for {len(missing)} prompt(s), e.g. {sorted(missing)[:3]}")
    return rows


def score_arrays(methods: list[str], seeds: list[int], temps_of: dict, samples: Path, prompts: list[dict],
                 labelled, positions: Path | None = None, text_metrics: bool = True) -> Scores:
    """Scores of every (method, seed, temperature) file in ``samples``; ``temps_of``: method ->
    its temperatures.  ``labelled``: the method(s) whose per-sample answer labels are kept (the
    baseline, and the spike-in control's source).  ``positions``: a directory of
    ``<method>-seed<s>.json`` answer-position statistics (a run's own), or None.
    ``text_metrics=False``: no distinct-n / self-BLEU."""
    labelled = {labelled} if isinstance(labelled, str) else set(labelled)
    grid = sorted({float(t) for temps in temps_of.values() for t in temps})
    shape = (len(seeds), len(prompts), len(grid))
    ids = {row["id"] for row in prompts}
    keys = [answer_key(row["valid"]) for row in prompts]
    scores = Scores(grid, {})
    for method in methods:
        table = {metric: np.full(shape, np.nan) for metric in ALL_METRICS}
        heard = scores.off_list.setdefault(method, {})
        for s, seed in enumerate(seeds):
            position_file = positions / f"{run_name(method, seed)}.json" if positions is not None else None
            position_stats = {}
            if position_file is not None and position_file.is_file():
                position_stats = json.loads(position_file.read_text())
                scores.positions.add(method)
            for temperature in temps_of[method]:
                t = grid.index(float(temperature))
                responses = read_samples(find_sample_file(samples, method, seed, temperature), ids)
                for p, row in enumerate(prompts):
                    if row["kind"] == "open" and row.get("extract") is None:
                        values, tagged = open_scores(responses[row["id"]], keys[p], row.get("sft_answers"),
                                                     text_metrics)
                        if method in labelled:
                            scores.labels.setdefault(method, {}).setdefault((s, t), {})[p] = tagged
                        for response, (kind, _) in zip(responses[row["id"]], tagged):
                            if kind == "off_list":
                                phrase = noun_phrase(response)
                                counts = heard.setdefault(row["id"], {})
                                counts[phrase] = counts.get(phrase, 0) + 1
                    else:
                        values = prompt_scores(responses[row["id"]], row["valid"], row["kind"],
                                               row.get("sft_answers"), row.get("extract"), row.get("choices"))
                    values.update(position_stats.get(row["id"], {}))
                    for metric, value in values.items():
                        if metric in table and value is not None:
                            table[metric][s, p, t] = value
        scores.arrays[method] = table
    return scores


def per_prompt(temps: list[float], prompts: list[dict], arrays: dict) -> dict:
    """temperature -> method -> prompt id -> metric -> mean over seeds (left out where undefined)."""
    result = {}
    for t, temperature in enumerate(temps):
        block = result.setdefault(str(temperature), {})
        for method, table in arrays.items():
            rows = {}
            for p, row in enumerate(prompts):
                cell = {}
                for metric, values in table.items():
                    column = values[:, p, t]
                    column = column[~np.isnan(column)]
                    if column.size:
                        cell[metric] = float(column.mean())
                if cell:
                    rows[row["id"]] = cell
            if rows:
                block[method] = rows
    return result
