"""Training-step benchmark: one HF Trainer loss + backward + AdamW step on a small Llama whose
vocabulary makes the logits dominate, in a fresh process per measurement.

Methods:
    hf_ce        transformers.Trainer with the model's own cross-entropy (labels passed to the model)
    ts2_unfused  TS2Trainer(loss="ts2", fused_loss=False): logits, then ts2.ops.sparsemax_plus_loss
    ts2_fused    TS2Trainer(loss="ts2", fused_loss=True): hidden states, chunked fused loss

Run as a worker: ``python train_bench.py METHOD VOCAB TOKENS``; prints one JSON line with the best
step time and the peak extra RSS of the first step (over the RSS after the model, optimizer state
and batch exist).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

import torch
from loss_bench import THREADS, time_steps

HIDDEN, LAYERS, SEQ = 256, 4, 512


def build(method: str, vocab: int, tokens: int):
    import transformers as tf

    from ts2.hf import TS2Trainer

    tf.set_seed(0)
    config = tf.LlamaConfig(vocab_size=vocab, hidden_size=HIDDEN, intermediate_size=4 * HIDDEN,
                            num_hidden_layers=LAYERS, num_attention_heads=4, num_key_value_heads=4,
                            max_position_embeddings=SEQ, tie_word_embeddings=False)
    model = tf.LlamaForCausalLM(config).train()
    args = tf.TrainingArguments(output_dir=tempfile.mkdtemp(), report_to="none", use_cpu=True,
                                per_device_train_batch_size=tokens // SEQ)
    if method == "hf_ce":
        trainer = tf.Trainer(model=model, args=args)
    else:
        trainer = TS2Trainer(model=model, args=args, loss="ts2", fused_loss=method == "ts2_fused",
                             log_diagnostics=False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ids = torch.randint(0, vocab, (tokens // SEQ, SEQ))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()}
    num_items = int(ids[:, 1:].numel())

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = trainer.compute_loss(model, dict(batch), num_items_in_batch=num_items)
        loss.backward()
        optimizer.step()

    return step, model


def worker(method: str, vocab: int, tokens: int, reps: int = 2) -> dict:
    torch.set_num_threads(THREADS)
    step, model = build(method, vocab, tokens)
    times, peak = time_steps(step, reps)
    return {"method": method, "vocab": vocab, "tokens": tokens, "logits": "train", "hidden": HIDDEN,
            "layers": LAYERS, "seq": SEQ, "time_s": min(times), "times_s": times,
            "peak_extra_bytes": peak, "logits_bytes": tokens * vocab * 4,
            "params": sum(p.numel() for p in model.parameters())}


if __name__ == "__main__":
    method, vocab, tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(worker(method, vocab, tokens, int(os.environ.get("TS2_BENCH_REPS", "2")))))
