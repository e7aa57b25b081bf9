"""The TS² authors' evaluation formulas, reproduced exactly (``--protocol paper``).

Checked against xzy-bit/TS-2-ICLR-2026 (evaluation/*.py, calculate_winrate.py).  ts2's own
definitions (``ts2.metrics.diversity``, ``answers``, ``reward``) differ on purpose where the
authors' code has a quirk; each function here says which.

Diversity, per prompt p with responses r_1..r_n (the same n for every prompt), averaged over prompts:
- averaged n-gram diversity: 100 x mean over p and n in {1, 2, 3} of
  |unique n-grams| / |n-grams| over p's responses (word tokens, case kept; 0 when there is no
  n-gram, and such prompts are counted).
- self-BLEU: mean over i of ``sacrebleu.corpus_bleu([r_i], [others])``.  sacrebleu reads
  ``[others]`` as ONE reference stream aligned with the one hypothesis, so r_i is scored against
  the first other response only (r_1 against r_2, every other r_i against r_1): corpus BLEU,
  one reference, no effective order.  BLEU diversity = 100 - self-BLEU.
- sentence-BERT diversity: 100 x (1 - mean cosine similarity over pairs i < j).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction
from statistics import fmean

import sacrebleu

Tokenize = Callable[[str], list]


def _distinct(responses: list[str], n: int, tokenize: Tokenize) -> float:
    grams = [tuple(t[i : i + n]) for r in responses for t in [tokenize(r)] for i in range(len(t) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def averaged_ngram_diversity(groups: list[list[str]], tokenize: Tokenize, n_max: int = 3) -> float:
    """100 x mean over prompts and n = 1..n_max of distinct-n (0 for prompts without n-grams)."""
    return 100 * fmean(_distinct(g, n, tokenize) for g in groups for n in range(1, n_max + 1))


def one_reference_self_bleu(responses: list[str]) -> float:
    """Mean corpus BLEU of each response against the first *other* response (the authors' call)."""
    scores = []
    for i, hyp in enumerate(responses):
        others = responses[:i] + responses[i + 1 :]
        if others:
            scores.append(sacrebleu.corpus_bleu([hyp], [[others[0]]]).score)
    return sum(scores) / len(scores) if scores else 0.0


def paper_diversity_report(groups: list[list[str]], tokenize: Tokenize, embeddings=None) -> dict:
    """The authors' three diversity numbers (0-100, higher = more diverse) and self-BLEU itself."""
    sizes = {len(g) for g in groups}
    if len(sizes) != 1:
        raise ValueError(f"the paper's protocol needs the same number of responses per prompt, got {sorted(sizes)}")
    self_bleu = fmean(one_reference_self_bleu(g) for g in groups)
    report = {"averaged_ngram_diversity": averaged_ngram_diversity(groups, tokenize),
              "self_bleu": self_bleu, "bleu_diversity": 100 - self_bleu}
    if embeddings is not None:
        from .diversity import embedding_diversity

        report["sentbert_diversity"] = 100 * fmean(embedding_diversity(e) for e in embeddings)
    report["prompts"] = len(groups)
    report["responses"] = sum(len(g) for g in groups)
    return report


_NUMBER = re.compile(r"[\-+]?\d*[\.,/]?\d+")


def extract_rounded_answer(text: str) -> int | None:
    """The authors' GSM8K answer: the first number after the last "The answer is" (or "the answer
    is"), fractions evaluated, rounded to an integer; None when there is none."""
    parts = text.replace("the answer is", "The answer is").split("The answer is")
    if len(parts) < 2:
        return None
    match = _NUMBER.search(parts[-1].strip())
    if not match:
        return None
    token = match.group()
    if "/" in token:
        numerator, denominator = token.split("/")
        if numerator in ("", "+", "-"):
            return None
        if denominator == "0":
            return round(float(numerator.replace(",", "")))
        value = Fraction(token.replace(",", ""))
        return round(float(value.numerator / value.denominator))
    value = float(token.replace(",", ""))
    return None if math.isinf(value) else round(value)


def gsm8k_reference(answer: str) -> int | None:
    """A GSM8K reference ("... #### 42") read the authors' way: "####" becomes "The answer is:"."""
    return extract_rounded_answer(answer.replace("####", "The answer is:"))
