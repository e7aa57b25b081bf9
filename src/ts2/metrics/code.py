"""pass@k with the unbiased estimator of Chen et al. (2021)."""

from __future__ import annotations

from statistics import fmean


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn without replacement from n samples, c of
    them correct, is correct: 1 - C(n - c, k) / C(n, k), computed as a stable product."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"k must be in [1, n], got k={k}, n={n}")
    if n - c < k:
        return 1.0
    prob_all_wrong = 1.0
    for i in range(n - c + 1, n + 1):
        prob_all_wrong *= 1.0 - k / i
    return 1.0 - prob_all_wrong


def pass_at_k_report(counts: dict[str, tuple[int, int]], ks: list[int]) -> dict:
    """Mean pass@k over tasks from per-task (samples, correct) counts; keys "pass@k"."""
    if not counts:
        raise ValueError("no tasks to score")
    smallest = min(n for n, _ in counts.values())
    for k in ks:
        if k > smallest:
            raise ValueError(f"k={k} is larger than the number of samples of some task ({smallest})")
    return {f"pass@{k}": fmean(pass_at_k(n, c, k) for n, c in counts.values()) for k in ks}
