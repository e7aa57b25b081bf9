"""Answers of the OpenLLM tasks (multiple choice and GSM8K): extraction under the two protocols,
majority vote and best-of-n at several depths, and their means over questions with intervals.

``paper`` reproduces the TS² authors' ``openllm_evaluation.py`` definitions, quirks included:

  letter   the *last* match of "The answer is[:-] X" or of a bare letter A-E standing alone and
           followed by whitespace, ".", ")", ":", "," or "$" -- case-insensitive, so the article
           "a" in "a cat" reads as choice A; with no match, the first choice whose text appears
           in the response (case-insensitive), else nothing;
  number   the first number ``[-+]?\\d*[.,/]?\\d+`` after the last "The answer is" (or "the answer
           is"), commas removed: "1,234,567" reads as 1234, "$18.00" as "18.00"; compared with the
           reference as text;
  gold     GSM8K: ``####\\s*([0-9.\\-]+)`` of the solution ("1,000" reads as "1").

``ts2`` reads only what the template asks for:

  letter   the last "The answer is" (any case, optional ":" / "-", "(" or "**") followed by a
           capital letter among the question's own choices and not by another letter (a small
           letter is not read: "the answer is a cat" names no choice);
  number   the number right after the last "The answer is", allowing "$", thousands commas and a
           trailing period; numbers are compared by value ("18.00" == "18").

Voting is the same under both: among the first d samples, answers that could not be extracted are
left out; majority vote is right when the most common answer (ties: the one seen first) is the
gold one, best-of-d when any is.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal, InvalidOperation

import numpy as np

from .bootstrap import hierarchical_counts, interval, weighted_means

LETTERS = "ABCDE"
PROTOCOLS = ("ts2", "paper")

# The authors' LETTER_RE, spelled out: an explicit "The answer is X", or a lone letter.
_PAPER_LETTER = re.compile(r"""
    (?:The\s+answer\s+is\s*[:\-]?\s*([A-E]))\b     # "The answer is: B"
  | (?:\b([A-E])\b(?=[\s.):,$]))                   # a lone letter before a space . ) : , or "$"
""", re.IGNORECASE | re.VERBOSE)
_PAPER_NUMBER = re.compile(r"[-+]?\d*[.,/]?\d+")
_PAPER_GOLD = re.compile(r"####\s*([0-9.\-]+)")

_ANSWER_IS = r"(?i:the\s+answer\s+is)\s*(?::|-(?=\s))?\s*"  # a "-" right before a number is its sign
_STRICT_LETTER = re.compile(_ANSWER_IS + r"(?:\(|\*\*)?\s*([A-Z])(?![A-Za-z])")
_STRICT_NUMBER = re.compile(_ANSWER_IS + r"\**\s*\$?\s*([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(?![\d/]|,\d)")
_GOLD = re.compile(r"####\s*\$?\s*([-+]?[\d,]*\.?\d+)")


def paper_letter(text: str, choices: list[str]) -> str | None:
    found = None
    for match in _PAPER_LETTER.finditer(text):
        letter = match.group(1) or match.group(2)
        if letter:
            found = letter.upper()
    if found:
        return found
    lowered = text.lower()
    for i, choice in enumerate(choices):
        if choice.lower() in lowered:
            return LETTERS[i]
    return None


def paper_number(text: str) -> str | None:
    parts = text.replace("the answer is", "The answer is").split("The answer is")
    if len(parts) < 2:
        return None
    match = _PAPER_NUMBER.search(parts[-1].strip())
    return match.group(0).replace(",", "") if match else None


def paper_gold_number(solution: str) -> str | None:
    match = _PAPER_GOLD.search(solution)
    return match.group(1).strip() if match else None


def canonical_number(text: str | None) -> str | None:
    """A number's value as text: commas, "$", a "+" and trailing zeros dropped ("1,000.50" -> "1000.5")."""
    if text is None:
        return None
    try:
        value = Decimal(text.replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    if value == 0:
        return "0"
    value = value.normalize()
    return format(value.quantize(Decimal(1)) if value == value.to_integral_value() else value, "f")


def strict_letter(text: str, n_choices: int) -> str | None:
    matches = _STRICT_LETTER.findall(text)
    if not matches or matches[-1] not in LETTERS[:n_choices]:
        return None
    return matches[-1]


def strict_number(text: str) -> str | None:
    matches = _STRICT_NUMBER.findall(text)
    return canonical_number(matches[-1]) if matches else None


def gold_number(solution: str, protocol: str) -> str | None:
    """The reference of a GSM8K solution ("... #### 72"), or of a bare number ("72")."""
    if protocol == "paper":
        return paper_gold_number(solution) if "####" in solution else solution.strip()
    match = _GOLD.search(solution)
    return canonical_number(match.group(1) if match else solution)


def extract(text: str, choices: list[str] | None, protocol: str) -> str | None:
    """The answer a response gives: a letter when ``choices`` is given, else a number."""
    if choices is None:
        return paper_number(text) if protocol == "paper" else strict_number(text)
    return paper_letter(text, choices) if protocol == "paper" else strict_letter(text, len(choices))


def votes(answers: list[str | None], gold: str, depths) -> tuple[list[int], list[int]]:
    """(majority vote right, best-of right) at each depth d: the first d answers, None left out."""
    if max(depths) > len(answers):
        raise ValueError(f"depth {max(depths)} is larger than the number of samples ({len(answers)})")
    majority, best = [], []
    for d in depths:
        window = [a for a in answers[:d] if a is not None]
        top = Counter(window).most_common(1)  # ties: the answer seen first
        majority.append(int(bool(top) and top[0][0] == gold))
        best.append(int(gold in window))
    return majority, best


def task_report(answers: list[list[str | None]], golds: list[str], depths, resamples: int = 2000,
                seed: int = 0) -> dict:
    """Means over questions of majority_vote@d and best_of@d, with 95% bootstrap intervals over
    questions (percentile), and the share of samples whose answer could not be extracted.

    answers [questions][samples]: extracted answers (None: none); golds [questions]."""
    if not answers or len(answers) != len(golds):
        raise ValueError(f"{len(answers)} questions with answers but {len(golds)} gold answers")
    depths = list(depths)
    table = np.array([sum(votes(a, g, depths), []) for a, g in zip(answers, golds)], dtype=np.float64)
    seed_counts, unit_counts = hierarchical_counts(1, range(len(golds)), resamples, seed)
    point, replicates = weighted_means(table[None], seed_counts, unit_counts)
    names = [f"majority_vote@{d}" for d in depths] + [f"best_of@{d}" for d in depths]
    report = {name: float(point[i]) for i, name in enumerate(names)}
    report["ci95"] = {name: interval(replicates[:, i]) for i, name in enumerate(names)}
    # the authors' summary layout, so their printing scripts read it
    report.update(depths=depths, majority_vote_accuracy=[report[n] for n in names[:len(depths)]],
                  best_of_n_accuracy=[report[n] for n in names[len(depths):]])
    samples = [a for row in answers for a in row]
    report["extraction_failure_rate"] = sum(a is None for a in samples) / len(samples)
    report["questions"] = len(golds)
    report["samples_per_question"] = min(len(a) for a in answers)
    return report
