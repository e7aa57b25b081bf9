"""Reward-model summaries (the TS² authors' definitions, evaluation_reward.py / calculate_winrate.py).

Per prompt, the rewards of its samples in order, r_1..r_m; for n = 1, 2, 4, ...:
- best_of@n = max(r_1..r_n), mean_of@n = mean(r_1..r_n), averaged over prompts;
- excellent_rate@n = share of prompts with best_of@n > 0;
- win_rate@n (against a baseline) = mean over prompts of the Bradley-Terry probability
  exp(b) / (exp(b) + exp(b_ref)) = sigmoid(b - b_ref), with b = best_of@n of the model and b_ref
  the baseline's best_of@n, or its only reward when it has one response per prompt (a reference
  answer such as GPT-4's).
Fractions in [0, 1] (the authors print rates x 100).
"""

from __future__ import annotations

import math
from statistics import fmean


def default_ns(rewards: list[list[float]]) -> list[int]:
    smallest = min(len(r) for r in rewards)
    return [2**i for i in range(smallest.bit_length()) if 2**i <= smallest]


def _check(rewards: list[list[float]], ns: list[int]) -> None:
    if not rewards or min(len(r) for r in rewards) == 0:
        raise ValueError("need at least one reward for every prompt")
    smallest = min(len(r) for r in rewards)
    for n in ns:
        if n > smallest:
            raise ValueError(f"n={n} is larger than the number of samples of some prompt ({smallest})")


def reward_report(rewards: list[list[float]], ns: list[int] | None = None) -> dict:
    """best_of@n, mean_of@n and excellent_rate@n, averaged over prompts."""
    ns = ns or default_ns(rewards)
    _check(rewards, ns)
    report = {}
    for n in ns:
        report[f"best_of@{n}"] = fmean(max(r[:n]) for r in rewards)
        report[f"mean_of@{n}"] = fmean(fmean(r[:n]) for r in rewards)
        report[f"excellent_rate@{n}"] = fmean(max(r[:n]) > 0 for r in rewards)
    report["prompts"] = len(rewards)
    return report


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def win_rate(rewards: list[list[float]], baseline: list[list[float]], n: int) -> float:
    """Mean over prompts of sigmoid(best of the first n rewards - the baseline's best of its first n;
    a one-response baseline contributes its only reward)."""
    if len(rewards) != len(baseline) or not rewards:
        raise ValueError(f"need the same, non-zero number of prompts, got {len(rewards)} and {len(baseline)}")
    _check(rewards, [n])
    _check(baseline, [1])
    return fmean(sigmoid(max(r[:n]) - max(b[:n])) for r, b in zip(rewards, baseline))
