"""Trains a tiny Llama for a few SGD steps with the fused ts2 loss inside its forward
(``ts2.hf.enable_fused_loss``), either on one process or sharded with FSDP2 (``fully_shard``)
across the processes torchrun starts; writes the final full weights (and, with --watch, the
largest tensor any op produced) from rank 0.

    python fsdp2_worker.py OUT.pt                      # one process, the whole batch
    torchrun --nproc_per_node 2 fsdp2_worker.py OUT.pt  # FSDP2, each rank half of the batch
"""

import contextlib
import os
import sys

import torch
import torch.distributed as dist
import transformers as tf
from torch.utils._python_dispatch import TorchDispatchMode

from ts2.hf import enable_fused_loss

VOCAB, STEPS, EXAMPLES, CHUNK = 512, 3, 4, 4


class LargestOutput(TorchDispatchMode):
    """Records the largest number of elements of any tensor an op returns, and the most rows of
    any tensor whose last dimension is the vocabulary (logits-shaped)."""

    def __init__(self):
        super().__init__()
        self.largest = 0
        self.vocab_rows = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(t, torch.Tensor):
                self.largest = max(self.largest, t.numel())
                if t.dim() and t.shape[-1] == VOCAB:
                    self.vocab_rows = max(self.vocab_rows, t.numel() // VOCAB)
        return out


def batch():
    gen = torch.Generator().manual_seed(1)
    lengths = [40, 50, 30, 45]  # different lengths: only a global token count makes the runs agree
    width = max(lengths)
    ids = torch.randint(3, VOCAB, (EXAMPLES, width), generator=gen)
    mask = torch.zeros(EXAMPLES, width, dtype=torch.long)
    labels = torch.full((EXAMPLES, width), -100)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
        labels[i, 2:n] = ids[i, 2:n]
    return ids, mask, labels


def tiny_llama():
    # hidden 32 << vocab 512 and ~100 tokens a rank: [tokens, vocab] logits would be the largest tensor
    config = tf.LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                            pad_token_id=0, tie_word_embeddings=False)
    return tf.LlamaForCausalLM(config)


def train_steps(forward, backward, step, rank: int, world: int, watch: bool) -> dict:
    """STEPS steps of this rank's share of the batch, the loss normalised by the global token count:
    ``forward(**batch).loss``, ``backward(loss * world)`` (data parallelism averages gradients over
    ranks), ``step()``.  Returns what the watch saw and the tokens of the share."""
    ids, mask, labels = batch()
    n_global = int((labels[:, 1:] != -100).sum())
    share = slice(rank * EXAMPLES // world, (rank + 1) * EXAMPLES // world)
    seen = {"largest": 0, "vocab_rows": 0, "tokens": ids[share].numel()}  # padded rows a rank's logits would have
    for _ in range(STEPS):
        mode = LargestOutput() if watch else None
        with mode if mode else contextlib.nullcontext():
            loss = forward(input_ids=ids[share], attention_mask=mask[share], labels=labels[share],
                           num_items_in_batch=n_global).loss
            backward(loss * world)
        if mode:
            seen["largest"] = max(seen["largest"], mode.largest)
            seen["vocab_rows"] = max(seen["vocab_rows"], mode.vocab_rows)
        step()
    return seen


def main(out_path: str, watch: bool) -> None:
    distributed = "WORLD_SIZE" in os.environ
    if distributed:
        dist.init_process_group("gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    torch.manual_seed(0)
    model = tiny_llama()
    enable_fused_loss(model, "ts2", chunk_size=CHUNK)
    if distributed:
        from torch.distributed.fsdp import fully_shard

        for layer in model.model.layers:
            fully_shard(layer)
        fully_shard(model)  # the root group owns embed_tokens, norm and lm_head
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)

    def step():
        optimizer.step()
        optimizer.zero_grad()

    seen = train_steps(model, torch.Tensor.backward, step, rank, world, watch)
    state = {k: (v.full_tensor() if hasattr(v, "full_tensor") else v).detach().clone()
             for k, v in model.state_dict().items()}
    if rank == 0:
        torch.save({"state": state, **seen, "vocab": VOCAB}, out_path)
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], "--watch" in sys.argv)
