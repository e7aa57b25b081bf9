"""Diversity of the responses sampled for one prompt, averaged over prompts.

distinct-n: unique n-grams / all n-grams over a prompt's responses (tokens from sacrebleu's
    offline "13a" tokenizer, lower-cased); fraction in [0, 1].
self-BLEU:  each response scored by sacrebleu sentence BLEU against the other responses of the
    same prompt as references, averaged; 0-100 (higher = less diverse).
embedding diversity: 1 - mean pairwise cosine similarity of sentence embeddings, in [0, 2]
    (≈ 0 for identical responses).
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from statistics import fmean

import sacrebleu
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

_TOKENIZE = Tokenizer13a()


def tokenize(text: str) -> list[str]:
    return _TOKENIZE(text.lower()).split()


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(responses: list[str], n: int) -> float | None:
    """Unique / total n-grams over ``responses``; None when they have no n-gram at all."""
    grams = [g for r in responses for g in ngrams(tokenize(r), n)]
    return len(set(grams)) / len(grams) if grams else None


def self_bleu(responses: list[str]) -> float | None:
    """Mean sentence BLEU of each response against the others (None for fewer than 2)."""
    if len(responses) < 2:
        return None
    bleu = sacrebleu.BLEU(effective_order=True)
    # A response's score depends on its text and on the multiset of the others (sentence BLEU takes
    # the max n-gram counts and the closest length over the references, whatever their order), so
    # repeated responses are scored once: a collapsed prompt's 16 samples may hold 3 distinct texts.
    counts = Counter(responses)
    total = 0.0
    for hyp, count in counts.items():
        i = responses.index(hyp)
        total += count * bleu.sentence_score(hyp, responses[:i] + responses[i + 1 :]).score
    return total / len(responses)


def embedding_diversity(embeddings) -> float | None:
    """1 - mean pairwise cosine similarity of the rows of ``embeddings`` [n, d] (None for n < 2)."""
    import torch

    emb = torch.as_tensor(embeddings, dtype=torch.float64)
    if emb.shape[0] < 2:
        return None
    emb = torch.nn.functional.normalize(emb, dim=1)
    sims = [float(emb[i] @ emb[j]) for i, j in combinations(range(emb.shape[0]), 2)]
    return 1.0 - fmean(sims)


def _mean(values):
    values = [v for v in values if v is not None]
    return fmean(values) if values else None


def diversity_report(groups: list[list[str]], embeddings: list | None = None) -> dict:
    """Diversity metrics of each prompt's responses (``groups``), averaged over prompts.

    ``embeddings``: per prompt, an [n, d] array of its responses' embeddings (optional).
    """
    report = {f"distinct_{n}": _mean(distinct_n(g, n) for g in groups) for n in (1, 2, 3, 4)}
    report["self_bleu"] = _mean(self_bleu(g) for g in groups)
    report["100_minus_self_bleu"] = None if report["self_bleu"] is None else 100 - report["self_bleu"]
    if embeddings is not None:
        report["embedding_diversity"] = _mean(embedding_diversity(e) for e in embeddings)
    report["mean_response_tokens"] = _mean(fmean(len(tokenize(r)) for r in g) for g in groups if g)
    report["prompts"] = len(groups)
    report["responses"] = sum(len(g) for g in groups)
    return report
