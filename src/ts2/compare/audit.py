"""The blind audit of off-list answers.

An off-list sample is a short noun phrase that is not on the prompt's list: a miss, or a real
answer the list lacks.  The second kind penalises a diverse method twice (the sample is invalid and
adds nothing to coverage), so every distinct off-list answer of the compared methods is written to
one file, pooled over methods and seeds, shuffled, with no method names:

    offlist_audit.jsonl   {"item", "prompt_id", "category", "prompt", "answer", "valid": null}

Someone judges each line by the stated rule (``audit.rule``), sets "valid" to true or false,
commits the judged file and names it as ``audit.judged``, all before the verdict is computed.
The report then shows per method how many off-list answers there were and how many were judged
valid, and the readings again with the judged-valid answers added to the lists (a sensitivity row,
not the verdict).
"""

from __future__ import annotations

import random
from pathlib import Path

from ..formats import DataError, iter_jsonl, write_jsonl_atomic
from .layout import AUDIT_FILE


def audit_rows(off_list: dict, prompts: list[dict], methods, seed: int = 0) -> list[dict]:
    """One row per distinct (prompt, answer) said off-list by any of ``methods``, shuffled."""
    by_id = {r["id"]: r for r in prompts}
    pairs = sorted({(pid, answer) for m in methods for pid, answers in off_list.get(m, {}).items()
                    for answer in answers})
    random.Random(seed).shuffle(pairs)
    return [{"item": i, "prompt_id": pid, "category": by_id[pid].get("category"),
             "prompt": by_id[pid].get("prompt") or by_id[pid].get("messages"), "answer": answer, "valid": None}
            for i, (pid, answer) in enumerate(pairs)]


def write_audit(out: Path, rows: list[dict]) -> Path:
    """Write the audit file, unless one with the same items is there (it may hold judgements)."""
    path = Path(out) / AUDIT_FILE
    if path.is_file():
        try:
            old = {(r["prompt_id"], r["answer"]) for _, r in iter_jsonl(path)}
        except (DataError, KeyError, TypeError):
            old = None
        if old == {(r["prompt_id"], r["answer"]) for r in rows}:
            return path
    return write_jsonl_atomic(path, rows)


def read_judgements(path) -> dict[str, set[str]]:
    """prompt id -> the answers judged valid; a line without a true/false "valid" is a DataError."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"audit.judged: no such file {path}")
    judged: dict[str, set[str]] = {}
    for origin, row in iter_jsonl(path):
        if not isinstance(row, dict) or not {"prompt_id", "answer", "valid"} <= set(row):
            raise DataError(f"{origin}: expected an object with 'prompt_id', 'answer' and 'valid'")
        if not isinstance(row["valid"], bool):
            raise DataError(f"{origin}: 'valid' must be true or false (judged), got {row['valid']!r}")
        if row["valid"]:
            judged.setdefault(str(row["prompt_id"]), set()).add(row["answer"])
    return judged


def with_judged(prompts: list[dict], judged: dict[str, set[str]]) -> list[dict]:
    """The prompts with the judged-valid answers added to their lists."""
    return [{**r, "valid": [*r["valid"], *sorted(judged.get(r["id"], ()))]} if r["kind"] == "open" else r
            for r in prompts]


def summary(off_list: dict, judged: dict[str, set[str]] | None, methods) -> dict:
    """method -> {distinct, samples, judged_valid, judged_valid_samples} of its off-list answers."""
    result = {}
    for method in methods:
        answers = off_list.get(method, {})
        entry = {"distinct": sum(len(a) for a in answers.values()),
                 "samples": sum(sum(a.values()) for a in answers.values())}
        if judged is not None:
            hits = {(pid, a): n for pid, by in answers.items() for a, n in by.items() if a in judged.get(pid, ())}
            entry.update(judged_valid=len(hits), judged_valid_samples=sum(hits.values()))
        result[method] = entry
    return result
