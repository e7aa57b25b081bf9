"""The real-model demo's tasks: open questions with many valid answers, closed questions with one.

A ``Design`` fixes, before any result is seen, which categories SFT sees, in which phrasings, and
what evaluation asks.  Two designs exist:

``V2`` (protocol v2, kept as it ran)
  * 16 open categories (``answer_lists.OPEN_CATEGORIES``): 8 appear in SFT ("sft_categories"),
    8 never do ("heldout_categories"); split once with seed 0.
  * SFT uses phrasings 0-4 of the SFT categories; evaluation asks SFT categories in the unseen
    phrasings 5-7 and held-out categories in phrasings 0, 3, 5, 7.
  * 4 closed families of 8 questions: 2 families appear in SFT (questions 0-3), 2 never do;
    evaluation asks questions 4-7 of every family.
``V3`` (protocol v3, issue 26)
  * 32 open categories (``answer_lists.OPEN_CATEGORIES_V3``: v2's 16 and 16 more), split once
    with seed 3: 24 in SFT, 8 held out.
  * SFT uses phrasings 0-2 of the SFT categories; evaluation asks SFT categories in the unseen
    phrasings 5-7 and held-out categories in phrasings 0, 5, 7: three prompts per category.
  * No closed questions: they never enter the verdict, and sampling them would cost a fifth of
    the demo's time.
``V4`` (protocol v4, issue 38): v3's categories, split and SFT data, so v3's dose carries over
  * The confirmatory prompts (``ts2 demo --full``) are fresh: the 24 SFT categories in the new
    phrasings 8-10, which no earlier run sampled.  ``V4_DEMO`` (``make demo``) asks them in
    phrasings 3 and 4, never sampled for them either, so the demo samples nothing of --full's.
    No held-out categories: they never enter the verdict, and the budget goes to its prompts.
  * ``V4_PILOT``: the pilots of CE and the positive control ask v3's prompts of the SFT
    categories (phrasings 5-7), so the confirmatory prompts stay unsampled until the run.
  * The positive control is CE on a mixture (``sft_records(mixture=q)``): each SFT answer is
    replaced, with probability q, by one drawn uniformly from the category's whole list.  v3's
    control (q = 1) could not reach the band (best accuracy 0.78); a mixture keeps the narrow
    answers as the modes and adds valid ones to the tail.

Evaluation rows of SFT categories carry ``sft_answers`` (what SFT taught), for the collapse check.
SFT responses are the bare answer: for open questions one of the category's first three listed
answers with probabilities 0.6 / 0.3 / 0.1, for closed questions the first accepted answer.
Every prompt ends with ``answer_lists.ANSWER_FORMAT`` ("Reply with just the answer.").
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from ..formats import write_jsonl_atomic
from . import answer_lists
from .answer_lists import ANSWER_FORMAT, CLOSED_FAMILIES, PHRASINGS, first_spelling

SFT_SEED = 1
UNIFORM_SEED = 2
MIXTURE_SEED = 4
SFT_WEIGHTS = (0.6, 0.3, 0.1)
CLOSED_SFT_ITEMS = range(0, 4)
CLOSED_EVAL_ITEMS = range(4, 8)


@dataclass(frozen=True)
class Design:
    """Which categories and phrasings SFT and evaluation use (fixed before any result)."""

    categories: dict  # name -> (noun phrase with its article, answers)
    split_seed: int
    sft_categories: int
    sft_phrasings: tuple
    unseen_phrasings: tuple
    heldout_phrasings: tuple
    closed: bool


V2 = Design(answer_lists.OPEN_CATEGORIES, split_seed=0, sft_categories=8, sft_phrasings=(0, 1, 2, 3, 4),
            unseen_phrasings=(5, 6, 7), heldout_phrasings=(0, 3, 5, 7), closed=True)
V3 = Design(answer_lists.OPEN_CATEGORIES_V3, split_seed=3, sft_categories=24, sft_phrasings=(0, 1, 2),
            unseen_phrasings=(5, 6, 7), heldout_phrasings=(0, 5, 7), closed=False)
V4 = Design(answer_lists.OPEN_CATEGORIES_V3, split_seed=3, sft_categories=24, sft_phrasings=(0, 1, 2),
            unseen_phrasings=(8, 9, 10), heldout_phrasings=(), closed=False)
V4_DEMO = Design(answer_lists.OPEN_CATEGORIES_V3, split_seed=3, sft_categories=24, sft_phrasings=(0, 1, 2),
                 unseen_phrasings=(3, 4), heldout_phrasings=(), closed=False)
V4_PILOT = Design(answer_lists.OPEN_CATEGORIES_V3, split_seed=3, sft_categories=24, sft_phrasings=(0, 1, 2),
                  unseen_phrasings=(5, 6, 7), heldout_phrasings=(), closed=False)
DESIGNS = {"v2": V2, "v3": V3, "v4": V4, "v4-demo": V4_DEMO, "v4-pilot": V4_PILOT}
MIXTURES = (0.25, 0.5)  # the positive control's candidates, piloted beside CE


def splits(design: Design = V2) -> dict[str, list[str]]:
    """Which open categories and closed families SFT sees ("sft") and which it never sees."""
    rng = random.Random(design.split_seed)
    names = sorted(design.categories)
    rng.shuffle(names)
    sft_open, heldout_open = sorted(names[:design.sft_categories]), sorted(names[design.sft_categories:])
    parts = {"sft_open": sft_open, "heldout_open": heldout_open, "sft_closed": [], "heldout_closed": []}
    if design.closed:
        families = sorted(CLOSED_FAMILIES)
        rng.shuffle(families)
        half = len(families) // 2
        parts["sft_closed"], parts["heldout_closed"] = sorted(families[:half]), sorted(families[half:])
    return parts


def open_question(category: str, phrasing: int, design: Design = V2) -> str:
    return PHRASINGS[phrasing].format(a_x=design.categories[category][0]) + ANSWER_FORMAT


def closed_question(family: str, item: int) -> str:
    return CLOSED_FAMILIES[family][item][0] + ANSWER_FORMAT


def sft_answers(category: str, design: Design = V2) -> list[str]:
    """The answers SFT data uses for an open category (its first three listed answers)."""
    return [first_spelling(a) for a in design.categories[category][1][: len(SFT_WEIGHTS)]]


def sft_records(uniform: bool = False, design: Design = V2, mixture: float | None = None) -> list[dict]:
    """One chat record per SFT prompt, with its single narrow response (fixed order).

    ``uniform``: v3's positive control's data: the same prompts, each open answer drawn uniformly
    from the category's whole list (first spellings), so that SFT teaches the format but no
    narrow preference.  ``mixture=q``: v4's control: each open answer is such a uniform draw with
    probability q and the narrow answer otherwise (the prompts and their order are unchanged).
    """
    if mixture is not None:
        if uniform or not 0.0 < mixture < 1.0:
            raise ValueError(f"mixture must lie in (0, 1) without uniform, got mixture={mixture!r}")
    rng, uniform_rng, mix_rng = random.Random(SFT_SEED), random.Random(UNIFORM_SEED), random.Random(MIXTURE_SEED)
    parts = splits(design)
    records = []
    for category in parts["sft_open"]:
        options = sft_answers(category, design)
        everything = [first_spelling(a) for a in design.categories[category][1]]
        for phrasing in design.sft_phrasings:
            answer = rng.choices(options, SFT_WEIGHTS)[0]  # drawn in both cases: the same order follows
            if uniform:
                answer = uniform_rng.choice(everything)
            elif mixture is not None and mix_rng.random() < mixture:
                answer = mix_rng.choice(everything)
            records.append((open_question(category, phrasing, design), answer))
    for family in parts["sft_closed"]:
        for item in CLOSED_SFT_ITEMS:
            records.append((closed_question(family, item), CLOSED_FAMILIES[family][item][1][0]))
    rng.shuffle(records)
    return [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
            for q, a in records]


def eval_prompts(design: Design = V2) -> list[dict]:
    """Evaluation prompts in the ``ts2 compare`` format: id, prompt, valid, kind, split, category."""
    parts = splits(design)
    rows = []
    for split, categories, phrasings in (("sft_categories", parts["sft_open"], design.unseen_phrasings),
                                         ("heldout_categories", parts["heldout_open"], design.heldout_phrasings)):
        for category in categories:
            for phrasing in phrasings:
                rows.append({"id": f"{category}/{phrasing}", "prompt": open_question(category, phrasing, design),
                             "valid": list(dict.fromkeys(design.categories[category][1])), "kind": "open",
                             "split": split, "category": category,
                             "sft_answers": sft_answers(category, design) if split == "sft_categories" else None})
    for split, families in (("sft_categories", parts["sft_closed"]), ("heldout_categories", parts["heldout_closed"])):
        for family in families:
            for item in CLOSED_EVAL_ITEMS:
                rows.append({"id": f"{family}/{item}", "prompt": closed_question(family, item),
                             "valid": list(CLOSED_FAMILIES[family][item][1]), "kind": "closed",
                             "split": split, "category": family})
    return rows


def mixture_name(q: float) -> str:
    return f"sft_mix{round(q * 100):02d}.jsonl"


def write_files(directory: Path, design: Design = V2) -> tuple[Path, Path]:
    """sft.jsonl, eval.jsonl and the positive controls' data under ``directory``: sft_uniform.jsonl
    (v3's) and, for v4's designs, one sft_mix<q>.jsonl per candidate mixture."""
    directory = Path(directory)
    write_jsonl_atomic(directory / "sft_uniform.jsonl", sft_records(uniform=True, design=design))
    if design in (V4, V4_DEMO, V4_PILOT):
        for q in MIXTURES:
            write_jsonl_atomic(directory / mixture_name(q), sft_records(design=design, mixture=q))
    return (write_jsonl_atomic(directory / "sft.jsonl", sft_records(design=design)),
            write_jsonl_atomic(directory / "eval.jsonl", eval_prompts(design)))
