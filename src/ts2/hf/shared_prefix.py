"""The n samples of a prompt share its prompt's keys and values in the decoding steps.

After the prefill, ``sample_prompts`` used to copy each prompt's keys and values n times, so every
decoding step read the prompt part of the cache once per sample.  ``share_prefix`` turns a slab
cache into ``SharedPrefixLayer``s instead: the prompts' keys and values ``[P, kv_heads, Lp, D]``
once, and each row's generated ones ``[rows, kv_heads, s, D]``.  The attention of a decoding step
(``shared_attention``) computes

    scores = [q k_prompt^T, q k_own^T] x scaling (+ mask),  p = softmax(scores) in float32,
    out = p_prompt v_prompt + p_own v_own,

with the queries of a prompt's rows (padded to the same number of rows, at least
``MIN_QUERY_ROWS`` query heads' worth, so that the GEMM's rounding does not depend on how many
siblings are left) against the prompt's keys as one batched matmul: the prompt part is read once
per prompt, not once per sample.  The sums are those of the one-slab attention, split in two.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from transformers.cache_utils import DynamicLayer

# Model types whose attention hands the cache's keys and values to the attention function untouched.
SHAREABLE = frozenset({"llama", "qwen2", "qwen3", "mistral"})
MIN_QUERY_ROWS = 8  # rows of a prompt's query matrix at least (MKL's float32 GEMM changes bits below 6)


class SharedKV(NamedTuple):
    """What a ``SharedPrefixLayer`` hands the attention for keys (or values): ``prompt``
    [P, kv_heads, Lp, D], ``own`` [rows, kv_heads, s, D], ``prompt_of`` [rows] (each row's prompt),
    ``slot`` [rows] (its place among its prompt's rows) and ``slots`` (the padded rows per prompt)."""

    prompt: torch.Tensor
    own: torch.Tensor
    prompt_of: torch.Tensor
    slot: torch.Tensor
    slots: int

    def whole(self) -> torch.Tensor:
        """[rows, kv_heads, Lp + s, D]: each row's keys (values) in one tensor."""
        return torch.cat([self.prompt.index_select(0, self.prompt_of), self.own], dim=2)


class SharedPrefixLayer(DynamicLayer):
    """A full-attention layer after the prefill: the prompts' keys and values once, each row's own
    in a preallocated slab of ``capacity`` positions."""

    def __init__(self, prompt_keys, prompt_values, prompt_of: torch.Tensor, capacity: int, heads_per_kv: int):
        super().__init__()
        self.prompt_keys, self.prompt_values = prompt_keys.contiguous(), prompt_values.contiguous()
        shape = (len(prompt_of), prompt_keys.shape[1], capacity, prompt_keys.shape[-1])
        self.own_keys = prompt_keys.new_zeros(shape)
        self.own_values = prompt_values.new_zeros(shape)
        self.length, self.heads_per_kv = 0, heads_per_kv
        self.keys, self.values = self.own_keys[:, :, :0], self.own_values[:, :, :0]
        self.is_initialized = True
        self._rows(prompt_of)

    def _rows(self, prompt_of: torch.Tensor) -> None:
        self.prompt_of = prompt_of
        counts = torch.bincount(prompt_of, minlength=self.prompt_keys.shape[0])
        starts = torch.cumsum(counts, 0) - counts  # rows are grouped by prompt, in prompt order
        self.slot = torch.arange(len(prompt_of), device=prompt_of.device) - starts[prompt_of]
        least = -(-MIN_QUERY_ROWS // self.heads_per_kv)
        self.slots = max(int(counts.max()) if len(prompt_of) else 0, least)

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        end = self.length + key_states.shape[-2]
        if end > self.own_keys.shape[2]:
            raise RuntimeError(f"the KV slab holds {self.own_keys.shape[2]} new positions, {end} were asked for")
        self.own_keys[:, :, self.length:end] = key_states
        self.own_values[:, :, self.length:end] = value_states
        self.length = end
        self.keys, self.values = self.own_keys[:, :, :end], self.own_values[:, :, :end]
        shared = (self.prompt_of, self.slot, self.slots)
        return SharedKV(self.prompt_keys, self.keys, *shared), SharedKV(self.prompt_values, self.values, *shared)

    def get_seq_length(self) -> int:
        return self.prompt_keys.shape[2] + self.length

    def batch_repeat_interleave(self, repeats: int) -> None:
        raise NotImplementedError("rows of a shared-prefix cache are chosen by batch_select_indices")

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        for name in ("own_keys", "own_values"):
            slab = getattr(self, name)
            kept = slab.new_zeros(len(indices), *slab.shape[1:])
            kept[:, :, : self.length] = slab[:, :, : self.length].index_select(0, indices)
            setattr(self, name, kept)
        self.keys, self.values = self.own_keys[:, :, : self.length], self.own_values[:, :, : self.length]
        prompt_of = self.prompt_of[indices]
        kept = torch.unique(prompt_of)  # sorted; a prompt whose rows all ended is read no more
        if len(kept) < self.prompt_keys.shape[0]:
            self.prompt_keys = self.prompt_keys.index_select(0, kept)
            self.prompt_values = self.prompt_values.index_select(0, kept)
            prompt_of = torch.searchsorted(kept, prompt_of)
        self._rows(prompt_of)


def share_prefix(cache, prompt_of: torch.Tensor, capacity: int, heads_per_kv: int) -> bool:
    """Replace the prefilled ``SlabLayer``s of ``cache`` (one row per prompt) by ``SharedPrefixLayer``s
    whose rows belong to the prompts ``prompt_of`` [rows] (non-decreasing); False, and nothing
    changed, when a layer is not a slab (sliding windows keep Transformers' cache)."""
    from .decode_fast import SlabLayer

    if not all(type(layer) is SlabLayer and layer.length for layer in cache.layers):
        return False
    cache.layers = [SharedPrefixLayer(layer.keys, layer.values, prompt_of, capacity, heads_per_kv)
                    for layer in cache.layers]
    return True


def _by_prompt(rows: torch.Tensor, kv: SharedKV) -> torch.Tensor:
    """[rows, kv_heads, G, X] -> [P, kv_heads, slots * G, X], zero rows where a prompt has fewer."""
    _, heads, groups, width = rows.shape
    padded = rows.new_zeros(kv.prompt.shape[0], kv.slots, heads, groups, width)
    padded[kv.prompt_of, kv.slot] = rows
    return padded.transpose(1, 2).reshape(kv.prompt.shape[0], heads, kv.slots * groups, width)


def _by_row(padded: torch.Tensor, kv: SharedKV, groups: int) -> torch.Tensor:
    """The inverse of ``_by_prompt``: [P, kv_heads, slots * G, X] -> [rows, kv_heads, G, X]."""
    prompts, heads, _, width = padded.shape
    return padded.view(prompts, heads, kv.slots, groups, width).transpose(1, 2)[kv.prompt_of, kv.slot]


def shared_attention(query: torch.Tensor, key: SharedKV, value: SharedKV, attention_mask, scaling: float):
    """One query position: query [rows, H, 1, D], mask [rows, 1, 1, >= Lp + s] -> [rows, 1, H, D]."""
    rows, heads, _, dim = query.shape
    kv_heads = key.prompt.shape[1]
    groups = heads // kv_heads
    grouped = query.reshape(rows, kv_heads, groups, dim).to(key.prompt.dtype)
    prompt_scores = _by_row(torch.matmul(_by_prompt(grouped, key), key.prompt.transpose(-1, -2)), key, groups)
    scores = torch.cat([prompt_scores, torch.matmul(grouped, key.own.transpose(-1, -2))], dim=-1) * scaling
    if attention_mask is not None:
        mask = attention_mask[..., : scores.shape[-1]]
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(value.prompt.dtype)
    prompt_len = key.prompt.shape[2]
    out = _by_row(torch.matmul(_by_prompt(probs[..., :prompt_len], value), value.prompt), value, groups)
    out = out + torch.matmul(probs[..., prompt_len:], value.own)
    return out.reshape(rows, 1, heads, dim).to(query.dtype)
