"""Verifying short answers against a list of valid answers, and the per-prompt scores built on it.

An answer is *valid* when, after normalisation, it equals a listed answer: surrounding whitespace
removed, inner whitespace collapsed, trailing punctuation (. ! ? , ; :) removed, case ignored.
Anything else (an article, a sentence, quotes, two answers) is invalid: "valid" here means valid
and well-formed.
"""

from __future__ import annotations

from statistics import fmean

from .diversity import distinct_n, self_bleu

TRAILING_PUNCTUATION = ".!?,;:"


def normalize(text: str) -> str:
    return " ".join(text.split()).rstrip(TRAILING_PUNCTUATION).strip().casefold()


def is_valid(response: str, valid) -> bool:
    """Whether ``response`` is one of ``valid`` (strings) up to normalisation."""
    return normalize(response) in {normalize(v) for v in valid}


def prompt_scores(responses: list[str], valid, kind: str) -> dict:
    """Scores of one prompt's n sampled responses.

    open prompts (many valid answers):
        accuracy   share of responses that are valid
        coverage   distinct valid answers / min(n, number of valid answers)
        distinct_1, distinct_2, self_bleu   of the responses (``ts2.metrics.diversity``)
    closed prompts (one right answer, possibly several spellings):
        pass@1     share of responses that are right (the unbiased pass@1 estimate c / n)
    """
    if not responses:
        raise ValueError("no responses to score")
    accepted = {normalize(v) for v in valid}
    if not accepted:
        raise ValueError("no valid answers to score against")
    answers = [normalize(r) for r in responses]
    ok = [a in accepted for a in answers]
    if kind == "closed":
        return {"pass@1": fmean(ok)}
    if kind != "open":
        raise ValueError(f"kind must be open or closed, got kind={kind!r}")
    distinct_valid = {a for a, good in zip(answers, ok) if good}
    texts = [r.strip() for r in responses]
    return {"accuracy": fmean(ok), "coverage": len(distinct_valid) / min(len(responses), len(accepted)),
            "distinct_1": distinct_n(texts, 1), "distinct_2": distinct_n(texts, 2), "self_bleu": self_bleu(texts)}
