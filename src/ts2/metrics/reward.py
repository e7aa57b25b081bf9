"""Reward-model summaries: best-of-n / mean-of-n reward and Bradley-Terry win rate."""

from __future__ import annotations

import math
from statistics import fmean


def reward_report(rewards: list[list[float]], ns: list[int] | None = None) -> dict:
    """Per prompt, the rewards of its samples in order: best_of@n (max of the first n) and
    mean_of@n (mean of the first n), averaged over prompts, for n = 1, 2, 4, ..."""
    smallest = min(len(r) for r in rewards)
    ns = ns or [2**i for i in range(smallest.bit_length()) if 2**i <= smallest]
    report = {}
    for n in ns:
        if n > smallest:
            raise ValueError(f"n={n} is larger than the number of samples of some prompt ({smallest})")
        report[f"best_of@{n}"] = fmean(max(r[:n]) for r in rewards)
        report[f"mean_of@{n}"] = fmean(fmean(r[:n]) for r in rewards)
    report["prompts"] = len(rewards)
    return report


def win_rate(rewards: list[float], baseline: list[float]) -> float:
    """Mean Bradley-Terry probability exp(r) / (exp(r) + exp(r_ref)) = sigmoid(r - r_ref)."""
    if len(rewards) != len(baseline) or not rewards:
        raise ValueError(f"need equal, non-empty lists, got {len(rewards)} and {len(baseline)}")
    return fmean(1.0 / (1.0 + math.exp(-(r - b))) for r, b in zip(rewards, baseline))
