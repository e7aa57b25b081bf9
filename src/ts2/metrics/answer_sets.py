"""Verifying short answers against a list of valid answers, and the per-prompt scores built on it.

A list entry is one answer, possibly with several spellings separated by "|" ("USA|United States"):
every spelling is accepted and all count as the same answer.  A response is classified as

  valid     after normalisation it equals a listed spelling: surrounding whitespace removed, inner
            whitespace collapsed, trailing punctuation (. ! ? , ; :) removed, case ignored;
  format    it becomes valid after removing surrounding quotes or markdown emphasis, a short
            preamble ("Sure!", "My answer is", "Answer:", ...), a leading article (a, an, the),
            or everything after its first line or first sentence ("Dog. Dogs are loyal.");
  off_list  not on the list, but a single short noun phrase (at most 3 words of letters, no
            pronoun or verb of a sentence): a knowledge miss, or an answer the list lacks;
  other     anything else (a sentence, several answers, an empty response).

Strict accuracy counts ``valid``; lenient accuracy counts ``valid`` + ``format``.
"""

from __future__ import annotations

import re
from collections import Counter
from math import comb
from statistics import fmean

from .diversity import distinct_n, self_bleu

TRAILING_PUNCTUATION = ".!?,;:"
CLASSES = ("valid", "format", "off_list", "other")
RAREFY_M = 4
OPEN_METRICS = ("accuracy", "lenient_accuracy", "share_format", "share_off_list", "share_other", "coverage",
                "lenient_coverage", "valid_simpson", f"valid_distinct@{RAREFY_M}", "sft_share", "distinct_1",
                "distinct_2", "self_bleu")
CLOSED_METRICS = ("pass@1", "lenient_pass@1")
QUOTES = "\"'`*_“”‘’«»"
PREAMBLES = re.compile(
    r"^(?:sure|okay|ok|of course|certainly|absolutely|alright|yes|great|here you go|"
    r"(?:my|the|final) answer(?: is)?|answer|i(?:'d| would)? (?:say|choose|pick|go with)|let'?s go with|"
    r"how about|here(?:'s| is) (?:one|an? \w+|my answer)|one (?:example )?is|an example is|example)"
    r"\s*[:!,.\-–]*\s+|^[^\W\d_]+(?: [^\W\d_]+)?:\s+", re.IGNORECASE)  # or a label: "A: ", "Animal: "
ARTICLE = re.compile(r"^(?:a|an|the)\s+", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\s[-–—]\s|\s\(")
FIRST_SENTENCE = re.compile(r"[.!?](?:\s|$)|\s\(")
NOT_A_NOUN_PHRASE = frozenset(
    "i you he she it we they me my your is are was were be am do does did can will would should could "
    "this that there here what which who why how sure okay ok yes no not answer please sorry and or".split())


def normalize(text: str) -> str:
    return " ".join(text.split()).rstrip(TRAILING_PUNCTUATION).strip().casefold()


def answer_key(valid) -> dict[str, str]:
    """normalised spelling -> the answer it spells (the entry's first spelling, normalised)."""
    key = {}
    for entry in valid:
        spellings = [normalize(s) for s in entry.split("|") if normalize(s)]
        for spelling in spellings:
            key.setdefault(spelling, spellings[0])
    return key


def is_valid(response: str, valid) -> bool:
    """Whether ``response`` is one of ``valid`` (strings, "a|b" for spellings) up to normalisation."""
    return normalize(response) in answer_key(valid)


def _reductions(text: str) -> list[str]:
    """Candidate answers hidden in a response: its first line, then repeatedly without quotes,
    a preamble, an article, or what follows the first sentence (in that order of preference)."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return []
    seen, frontier = [], [lines[0].strip()]
    while frontier:
        current = frontier.pop(0)
        if current in seen or not current:
            continue
        seen.append(current)
        stripped = current.strip(QUOTES + " ")
        frontier += [stripped, PREAMBLES.sub("", current, count=1), ARTICLE.sub("", current, count=1),
                     SENTENCE_END.split(current, maxsplit=1)[0]]
        frontier = [f.strip() for f in frontier]
    return seen


def _reduce(text: str) -> str:
    """The one reading of a response used to call it a noun phrase: first line, without quotes,
    preambles and an article, cut after its first sentence (or before a parenthesis)."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    current = lines[0].strip() if lines else ""
    while True:
        step = ARTICLE.sub("", PREAMBLES.sub("", current.strip(QUOTES + " "), count=1).strip(), count=1).strip()
        step = FIRST_SENTENCE.split(step, maxsplit=1)[0].strip().strip(QUOTES + " ")
        if step == current:
            return current
        current = step


def noun_phrase(response: str) -> str:
    """The normalised short answer a response gives (``_reduce``): what an off-list audit judges."""
    return normalize(_reduce(response))


def classify(response: str, key: dict[str, str]) -> tuple[str, str | None]:
    """(class, answer): the class of ``response`` (see the module docstring) and, for valid and
    format responses, the answer it gives (first spelling, normalised)."""
    direct = normalize(response)
    if direct in key:
        return "valid", key[direct]
    candidates = _reductions(response)
    for candidate in candidates:
        if normalize(candidate) in key:
            return "format", key[normalize(candidate)]
    reduced = noun_phrase(response)
    words = reduced.split()
    if 1 <= len(words) <= 3 and re.fullmatch(r"[^\W\d_]+(?:[ '\-][^\W\d_]+)*", reduced) \
            and not NOT_A_NOUN_PHRASE & set(words):
        return "off_list", None
    return "other", None


def gini_simpson(answers) -> float | None:
    """Unbiased Gini-Simpson index of a sample of answers: the probability that two answers drawn
    without replacement differ, 1 - sum_a c_a (c_a - 1) / (k (k - 1)).  None for k < 2."""
    k = len(answers)
    if k < 2:
        return None
    return 1.0 - sum(c * (c - 1) for c in Counter(answers).values()) / (k * (k - 1))


def rarefied_distinct(answers, m: int = RAREFY_M) -> float | None:
    """Expected number of distinct answers among m drawn without replacement from the k answers:
    sum_a [1 - C(k - c_a, m) / C(k, m)].  None for k < m."""
    k = len(answers)
    if k < m:
        return None
    return sum(1.0 - comb(k - c, m) / comb(k, m) for c in Counter(answers).values())


def extracted_scores(responses: list[str], gold: str, extract: str, choices=None) -> dict:
    """Closed prompts whose answer is read out of a longer response (the OpenLLM tasks): pass@1 is
    the share whose answer, read by ts2's rule, is ``gold``; lenient_pass@1 reads it by the TS²
    authors' looser rule (``ts2.metrics.openllm``), numbers compared by value."""
    from .openllm import canonical_number
    from .openllm import extract as read

    if extract not in ("choice", "number"):
        raise ValueError(f"extract must be choice or number, got extract={extract!r}")
    choices = list(choices) if extract == "choice" else None

    def lenient(text):
        answer = read(text, choices, "paper")
        return answer if choices is not None else canonical_number(answer)

    return {"pass@1": fmean(read(r, choices, "ts2") == gold for r in responses),
            "lenient_pass@1": fmean(lenient(r) == gold for r in responses)}


def prompt_scores(responses: list[str], valid, kind: str, sft_answers=None, extract=None, choices=None) -> dict:
    """Scores of one prompt's n sampled responses.

    open prompts (many valid answers), with A the number of distinct listed answers:
        accuracy, lenient_accuracy   share valid; share valid or format
        share_format, share_off_list, share_other    the other classes' shares
        coverage, lenient_coverage   distinct (strict / lenient) valid answers / min(n, A)
        valid_simpson                Gini-Simpson index of the lenient-valid answers (k >= 2)
        valid_distinct@4             rarefied distinct count among 4 lenient-valid answers (k >= 4)
        sft_share                    share of lenient-valid answers among ``sft_answers`` (if given)
        distinct_1, distinct_2, self_bleu   of the responses (``ts2.metrics.diversity``)
    closed prompts (one right answer, possibly several spellings):
        pass@1, lenient_pass@1       share right (strict; valid or format); with ``extract``
                                     ("choice" / "number") the answer is read out of the response
                                     instead (``extracted_scores``)
    Undefined scores are None.
    """
    if not responses:
        raise ValueError("no responses to score")
    if extract is not None:
        if kind != "closed":
            raise ValueError(f"extract is for closed prompts, got kind={kind!r}")
        return extracted_scores(responses, valid[0], extract, choices)
    key = answer_key(valid)
    if not key:
        raise ValueError("no valid answers to score against")
    if kind == "closed":
        classes = [classify(r, key)[0] for r in responses]
        return {"pass@1": fmean(c == "valid" for c in classes),
                "lenient_pass@1": fmean(c in ("valid", "format") for c in classes)}
    if kind != "open":
        raise ValueError(f"kind must be open or closed, got kind={kind!r}")
    return open_scores(responses, key, sft_answers)[0]


def open_scores(responses: list[str], key: dict[str, str], sft_answers=None, text: bool = True) -> tuple[dict, list]:
    """(scores, labels) of an open prompt: ``prompt_scores``' open scores and each response's
    (class, answer) label (``classify``), for callers that rescore edited labels.  ``text=False``
    leaves out the text-diversity scores (distinct-n, self-BLEU: most of the time on many samples)."""
    labelled = [classify(r, key) for r in responses]
    scores = answer_scores(labelled, len(set(key.values())), sft_targets(key, sft_answers))
    if text:
        texts = [r.strip() for r in responses]
        scores.update(distinct_1=distinct_n(texts, 1), distinct_2=distinct_n(texts, 2), self_bleu=self_bleu(texts))
    return scores, labelled


def sft_targets(key: dict[str, str], sft_answers) -> set[str] | None:
    """The answers (normalised first spellings) that SFT taught, or None when not given."""
    if sft_answers is None:
        return None
    return {key.get(normalize(a), normalize(a)) for a in sft_answers}


def answer_scores(labelled: list[tuple[str, str | None]], listed: int, sft: set[str] | None = None) -> dict:
    """The answer-level scores of an open prompt from its responses' (class, answer) labels
    (``classify``) and the number of distinct listed answers (see ``prompt_scores``)."""
    n = len(labelled)
    classes = [c for c, _ in labelled]
    lenient = [a for c, a in labelled if a is not None]
    strict = {a for c, a in labelled if c == "valid"}
    denominator = min(n, listed)
    scores = {"accuracy": fmean(c == "valid" for c in classes), "lenient_accuracy": len(lenient) / n,
              **{f"share_{c}": fmean(x == c for x in classes) for c in CLASSES[1:]},
              "coverage": len(strict) / denominator, "lenient_coverage": len(set(lenient)) / denominator,
              "valid_simpson": gini_simpson(lenient), f"valid_distinct@{RAREFY_M}": rarefied_distinct(lenient)}
    if sft is not None:
        scores["sft_share"] = fmean(a in sft for a in lenient) if lenient else None
    return scores
