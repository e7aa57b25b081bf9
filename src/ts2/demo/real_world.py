"""The real-model demo's tasks: open questions with many valid answers, closed questions with one.

Split once with a fixed seed, before any result was seen:
  * 16 open categories (``answer_lists.OPEN_CATEGORIES``): 8 appear in SFT ("sft_categories"),
    8 never do ("heldout_categories").
  * 8 phrasings: SFT uses phrasings 0-4 of the SFT categories; evaluation asks SFT categories in
    the unseen phrasings 5-7 and held-out categories in phrasings 0, 3, 5, 7.
  * 4 closed families of 8 questions: 2 families appear in SFT (questions 0-3), 2 never do;
    evaluation asks questions 4-7 of every family.
Evaluation rows of SFT categories carry ``sft_answers`` (what SFT taught), for the collapse check.
SFT responses are the bare answer: for open questions one of the category's first three listed
answers with probabilities 0.6 / 0.3 / 0.1, for closed questions the first accepted answer.
Every prompt ends with ``answer_lists.ANSWER_FORMAT`` ("Reply with just the answer.").
"""

from __future__ import annotations

import random
from pathlib import Path

from ..formats import write_jsonl_atomic
from .answer_lists import ANSWER_FORMAT, CLOSED_FAMILIES, OPEN_CATEGORIES, PHRASINGS, first_spelling

SPLIT_SEED = 0
SFT_SEED = 1
UNIFORM_SEED = 2
SFT_WEIGHTS = (0.6, 0.3, 0.1)
SFT_PHRASINGS = (0, 1, 2, 3, 4)
UNSEEN_PHRASINGS = (5, 6, 7)
HELDOUT_CATEGORY_PHRASINGS = (0, 3, 5, 7)
CLOSED_SFT_ITEMS = range(0, 4)
CLOSED_EVAL_ITEMS = range(4, 8)


def _halves(names, rng: random.Random) -> tuple[list[str], list[str]]:
    names = sorted(names)
    rng.shuffle(names)
    half = len(names) // 2
    return sorted(names[:half]), sorted(names[half:])


def splits() -> dict[str, list[str]]:
    """Which open categories and closed families SFT sees ("sft") and which it never sees."""
    rng = random.Random(SPLIT_SEED)
    sft_open, heldout_open = _halves(OPEN_CATEGORIES, rng)
    sft_closed, heldout_closed = _halves(CLOSED_FAMILIES, rng)
    return {"sft_open": sft_open, "heldout_open": heldout_open,
            "sft_closed": sft_closed, "heldout_closed": heldout_closed}


def open_question(category: str, phrasing: int) -> str:
    return PHRASINGS[phrasing].format(a_x=OPEN_CATEGORIES[category][0]) + ANSWER_FORMAT


def closed_question(family: str, item: int) -> str:
    return CLOSED_FAMILIES[family][item][0] + ANSWER_FORMAT


def sft_answers(category: str) -> list[str]:
    """The answers SFT data uses for an open category (its first three listed answers)."""
    return [first_spelling(a) for a in OPEN_CATEGORIES[category][1][: len(SFT_WEIGHTS)]]


def sft_records(uniform: bool = False) -> list[dict]:
    """One chat record per SFT prompt, with its single narrow response (fixed order).

    ``uniform``: the positive control's data: the same prompts, each open answer drawn uniformly
    from the category's whole list (first spellings), so that SFT teaches the format but no
    narrow preference.
    """
    rng, uniform_rng = random.Random(SFT_SEED), random.Random(UNIFORM_SEED)
    parts = splits()
    records = []
    for category in parts["sft_open"]:
        options = sft_answers(category)
        everything = [first_spelling(a) for a in OPEN_CATEGORIES[category][1]]
        for phrasing in SFT_PHRASINGS:
            answer = rng.choices(options, SFT_WEIGHTS)[0]  # drawn in both cases: the same order follows
            if uniform:
                answer = uniform_rng.choice(everything)
            records.append((open_question(category, phrasing), answer))
    for family in parts["sft_closed"]:
        for item in CLOSED_SFT_ITEMS:
            records.append((closed_question(family, item), CLOSED_FAMILIES[family][item][1][0]))
    rng.shuffle(records)
    return [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
            for q, a in records]


def eval_prompts() -> list[dict]:
    """Evaluation prompts in the ``ts2 compare`` format: id, prompt, valid, kind, split, category."""
    parts = splits()
    rows = []
    for split, categories, phrasings in (("sft_categories", parts["sft_open"], UNSEEN_PHRASINGS),
                                         ("heldout_categories", parts["heldout_open"], HELDOUT_CATEGORY_PHRASINGS)):
        for category in categories:
            for phrasing in phrasings:
                rows.append({"id": f"{category}/{phrasing}", "prompt": open_question(category, phrasing),
                             "valid": list(dict.fromkeys(OPEN_CATEGORIES[category][1])), "kind": "open",
                             "split": split, "category": category,
                             "sft_answers": sft_answers(category) if split == "sft_categories" else None})
    for split, families in (("sft_categories", parts["sft_closed"]), ("heldout_categories", parts["heldout_closed"])):
        for family in families:
            for item in CLOSED_EVAL_ITEMS:
                rows.append({"id": f"{family}/{item}", "prompt": closed_question(family, item),
                             "valid": list(CLOSED_FAMILIES[family][item][1]), "kind": "closed",
                             "split": split, "category": family})
    return rows


def write_files(directory: Path) -> tuple[Path, Path]:
    """sft.jsonl, eval.jsonl and sft_uniform.jsonl (the positive control's data) under ``directory``."""
    directory = Path(directory)
    write_jsonl_atomic(directory / "sft_uniform.jsonl", sft_records(uniform=True))
    return (write_jsonl_atomic(directory / "sft.jsonl", sft_records()),
            write_jsonl_atomic(directory / "eval.jsonl", eval_prompts()))
