"""Sharded training-step benchmark: 2 CPU processes (gloo), a Llama (hidden 256, 4 layers,
V = 32000) sharded with FSDP2 (``fully_shard`` per decoder layer and at the root) or DeepSpeed
ZeRO-3 (CPU accelerator), loss + backward + AdamW, fused vs unfused ts2.

Methods:
    fsdp_unfused, zero3_unfused  logits from the model, then ts2.ops.sparsemax_plus_loss
    fsdp_fused, zero3_fused      ts2.hf.enable_fused_loss: the loss inside the model's forward, no logits

``python fsdp_bench.py METHOD VOCAB TOKENS`` starts torchrun itself (TOKENS per process) and
prints rank 0's JSON line: the best step time and the largest peak extra RSS over the two
processes (over the RSS after a first step).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

HIDDEN, LAYERS, SEQ, PROCESSES = 256, 4, 512, 2


def worker(method: str, vocab: int, tokens: int, reps: int) -> dict | None:
    import torch
    import torch.distributed as dist
    import transformers as tf
    from loss_bench import time_steps
    from torch.distributed.fsdp import fully_shard

    from ts2 import get_loss
    from ts2.hf import enable_fused_loss, shift_labels

    zero3, fused = method.startswith("zero3"), method.endswith("_fused")
    if zero3:
        from ts2.hf.deepspeed import prepare_deepspeed

        prepare_deepspeed()
    torch.set_num_threads(1)  # two processes on two cores
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    tf.set_seed(0)
    config = tf.LlamaConfig(vocab_size=vocab, hidden_size=HIDDEN, intermediate_size=4 * HIDDEN,
                            num_hidden_layers=LAYERS, num_attention_heads=4, num_key_value_heads=4,
                            max_position_embeddings=SEQ, tie_word_embeddings=False)
    model = tf.LlamaForCausalLM(config).train()
    loss_fn = get_loss("ts2")
    if fused:
        enable_fused_loss(model, loss_fn)
    if zero3:
        import deepspeed

        config = {"train_micro_batch_size_per_gpu": tokens // SEQ, "gradient_accumulation_steps": 1,
                  "zero_optimization": {"stage": 3}, "zero_allow_untested_optimizer": True}
        model, *_ = deepspeed.initialize(model=model, optimizer=torch.optim.AdamW(model.parameters(), lr=1e-4),
                                         config=config, dist_init_required=False)
        optimizer = None
    else:
        for layer in model.model.layers:
            fully_shard(layer)
        fully_shard(model)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    gen = torch.Generator().manual_seed(rank)
    ids = torch.randint(0, vocab, (tokens // SEQ, SEQ), generator=gen)
    mask = torch.ones_like(ids)
    num_items = world * int(ids[:, 1:].numel())

    def step():
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
        if fused:
            loss = model(input_ids=ids, attention_mask=mask, labels=ids, num_items_in_batch=num_items).loss
        else:
            logits = model(input_ids=ids, attention_mask=mask).logits
            loss = loss_fn(logits, shift_labels(ids), num_items)
        if zero3:  # the engine averages gradients over ranks and steps (and zeroes them) itself
            model.backward(loss * world)
            model.step()
        else:
            (loss * world).backward()
            optimizer.step()

    times, peak = time_steps(step, reps, sync=dist.barrier)
    peaks = torch.tensor([float(peak)])
    dist.all_reduce(peaks, op=dist.ReduceOp.MAX)
    dist.destroy_process_group()
    if rank:
        return None
    return {"method": method, "vocab": vocab, "tokens": tokens, "processes": world, "hidden": HIDDEN,
            "layers": LAYERS, "seq": SEQ, "time_s": min(times), "times_s": times,
            "peak_extra_bytes": int(peaks.item()), "logits_bytes": tokens * vocab * 4}


def launch(method: str, vocab: int, tokens: int) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "", "DS_ACCELERATOR": "cpu"}
    out = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(PROCESSES),
                          "--master_port", "29561", __file__, method, str(vocab), str(tokens)],
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"torchrun failed:\n{out.stderr[-3000:]}")
    return out.stdout.strip().splitlines()[-1]


if __name__ == "__main__":
    method, vocab, tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if "RANK" not in os.environ:
        print(launch(method, vocab, tokens))
    else:
        row = worker(method, vocab, tokens, int(os.environ.get("TS2_BENCH_REPS", "2")))
        if row is not None:
            print(json.dumps(row))
