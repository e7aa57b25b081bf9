"""The real-model demo's answer lists and questions, shipped as JSON in ``lists/`` and checked when
loaded.

- ``open_v2.json``: protocol v2's sixteen open categories, name -> {"noun": the category's noun
  phrase with its article, "answers": every valid answer};
- ``open_v3_added.json``: the sixteen categories protocol v3 added (v3 and v4 use all 32);
- ``questions.json``: the phrasings of an open question ({a_x}: the noun phrase), the answer format
  every prompt ends with, and the closed question families (question, accepted answers).

An answer is "Spelling|Other spelling" when several spellings are one answer (counted once when
diversity is measured); its first spelling is the one SFT uses.  The first three answers of each
category are the only ones the SFT data uses (weights 0.6 / 0.3 / 0.1); every answer is valid at
evaluation.  How the lists were made and reviewed: ``docs/answer_lists/``.
"""

from __future__ import annotations

import json
from importlib import resources

from ..formats import DataError

Categories = dict[str, tuple[str, tuple[str, ...]]]  # name -> (noun phrase, answers)


def _read(name: str):
    path = resources.files(__package__) / "lists" / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: the shipped answer list cannot be read ({exc})") from exc


def check_categories(categories: dict, origin: str) -> Categories:
    """name -> (noun, answers) of a list file's mapping; a DataError naming the file and category for
    a missing noun phrase, fewer than three answers (SFT uses three), an empty spelling, or one
    spelling (case-insensitive) in two answers of a category."""
    if not isinstance(categories, dict) or not categories:
        raise DataError(f"{origin}: expected a mapping of category -> {{noun, answers}}")
    checked = {}
    for name, entry in categories.items():
        noun = entry.get("noun") if isinstance(entry, dict) else None
        answers = entry.get("answers") if isinstance(entry, dict) else None
        if not isinstance(noun, str) or not noun.strip():
            raise DataError(f"{origin}: category {name!r} needs a 'noun' phrase")
        if not isinstance(answers, list) or len(answers) < 3 or not all(isinstance(a, str) for a in answers):
            raise DataError(f"{origin}: category {name!r} needs a list of at least 3 answers (strings)")
        seen: dict[str, str] = {}
        for answer in answers:
            for spelling in answer.split("|"):
                key = spelling.strip().casefold()
                if not key:
                    raise DataError(f"{origin}: category {name!r}: answer {answer!r} has an empty spelling")
                if key in seen:
                    raise DataError(f"{origin}: category {name!r}: spelling {spelling!r} is in both {seen[key]!r} "
                                    f"and {answer!r}")
                seen[key] = answer
        checked[name] = (noun, tuple(answers))
    return checked


def _questions() -> tuple[tuple[str, ...], str, dict]:
    raw = _read("questions.json")
    origin = "ts2/demo/lists/questions.json"
    phrasings, answer_format, closed = raw.get("phrasings"), raw.get("answer_format"), raw.get("closed")
    if not (isinstance(phrasings, list) and phrasings and all(isinstance(p, str) and "{a_x}" in p for p in phrasings)):
        raise DataError(f"{origin}: 'phrasings' must be texts that each hold {{a_x}}")
    if not isinstance(answer_format, str) or not isinstance(closed, dict):
        raise DataError(f"{origin}: needs 'answer_format' (a text) and 'closed' (family -> questions)")
    families = {}
    for family, items in closed.items():
        if not (isinstance(items, list) and items and all(isinstance(i, dict) and isinstance(i.get("question"), str)
                                                         and isinstance(i.get("answers"), list) and i["answers"]
                                                         for i in items)):
            raise DataError(f"{origin}: closed family {family!r} must list {{question, answers}} items")
        families[family] = tuple((i["question"], tuple(i["answers"])) for i in items)
    return tuple(phrasings), answer_format, families


def first_spelling(entry: str) -> str:
    return entry.split("|")[0]


OPEN_CATEGORIES: Categories = check_categories(_read("open_v2.json"), "ts2/demo/lists/open_v2.json")
V3_ADDED: Categories = check_categories(_read("open_v3_added.json"), "ts2/demo/lists/open_v3_added.json")
if set(OPEN_CATEGORIES) & set(V3_ADDED):
    raise DataError(f"ts2/demo/lists: v3 adds categories v2 has: {sorted(set(OPEN_CATEGORIES) & set(V3_ADDED))}")
OPEN_CATEGORIES_V3: Categories = {**OPEN_CATEGORIES, **V3_ADDED}
V3_CATEGORIES = tuple(V3_ADDED)
PHRASINGS, ANSWER_FORMAT, CLOSED_FAMILIES = _questions()
