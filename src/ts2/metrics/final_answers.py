"""Final-answer extraction and accuracy of sampled answers (first sample, majority vote, best-of-n)."""

from __future__ import annotations

import re
from collections import Counter
from statistics import fmean

PATTERNS = {
    # GSM8K style: "The answer is 42" / "The answer is: $1,200" / "#### 42"; the last such number wins.
    "gsm8k": r"(?:answer is|####)\s*:?\s*\$?\s*(-?[\d,]*\.?\d+)",
    # Multiple choice: "The answer is (B)" / "The answer is: B" / "Answer: B" / a lone letter.
    "choice": r"(?:answer is|answer:)\s*:?\s*\(?([A-Ea-e])\)?(?![A-Za-z])|^\s*\(?([A-Ea-e])\)?\s*$",
    # The last number anywhere.
    "last_number": r"(-?[\d,]*\.?\d+)",
}


def extract_answer(text: str, pattern: str = "gsm8k") -> str | None:
    """The last match of ``pattern`` (a name in PATTERNS or a regex with a group), normalised."""
    regex = re.compile(PATTERNS.get(pattern, pattern), re.IGNORECASE | re.MULTILINE)
    matches = regex.findall(text)
    if not matches:
        return None
    last = matches[-1]
    if isinstance(last, tuple):
        last = next((g for g in last if g), "")
    value = last.strip().replace(",", "").rstrip(".")
    if pattern == "choice":
        value = value.upper()
    return value or None


def reference_answer(reference: str, pattern: str = "gsm8k") -> str:
    """A reference as written ("42") or in GSM8K's solution form ("... #### 42" -> "42")."""
    if "####" in reference:
        extracted = extract_answer(reference, "gsm8k")
        if extracted is not None:
            return extracted
    return reference.strip()


def _same(a: str | None, b: str) -> bool:
    if a is None:
        return False
    try:
        return float(a) == float(b)
    except ValueError:
        return a.strip().lower() == b.strip().lower()


def accuracy_report(answers: list[list[str | None]], references: list[str], ns: list[int] | None = None) -> dict:
    """Per prompt: extracted answers of its samples and the reference answer.

    first_sample_accuracy, and for n in ``ns`` (default 1, 2, 4, ... up to the sample count):
    majority_vote@n (most common non-empty answer among the first n, ties to the earliest) and
    best_of@n (any of the first n correct).  Fractions in [0, 1].
    """
    if len(answers) != len(references):
        raise ValueError(f"{len(answers)} prompts with answers but {len(references)} references")
    smallest = min(len(a) for a in answers)
    ns = ns or [2**i for i in range(smallest.bit_length()) if 2**i <= smallest]
    for n in ns:
        if n > smallest:
            raise ValueError(f"n={n} is larger than the number of samples of some prompt ({smallest})")
    report = {"first_sample_accuracy": fmean(_same(a[0], r) for a, r in zip(answers, references))}
    for n in ns:
        votes = []
        for a, r in zip(answers, references):
            counts = Counter(x for x in a[:n] if x is not None)
            top = max(counts.values(), default=0)
            winner = next((x for x in a[:n] if x is not None and counts[x] == top), None)
            votes.append(_same(winner, r))
        report[f"majority_vote@{n}"] = fmean(votes)
        report[f"best_of@{n}"] = fmean(any(_same(x, r) for x in a[:n]) for a, r in zip(answers, references))
    report["prompts"] = len(answers)
    return report
