"""The native sampler's loop: n samples per prompt, many prompts per batch, on a Transformers
causal LM.

``sample_prompts`` prefills a batch of prompts once (left padded), gives each prompt n rows, and
decodes all rows together, drawing each row's tokens from its own random stream
(``ts2.ops.sampling``).  Rows that finish (a stop token, a stop string, or max_new_tokens) leave
the batch at once, so the cost follows the tokens actually generated, not the longest row.  On
the CPU the keys and values sit in preallocated slabs, a prompt's n rows share its prompt's keys
and values (``kv_cache``; elsewhere each row gets a copy), one-position steps use a
grouped-query attention (``attention``) and the linears oneDNN (``onednn``); all of it changes the
arithmetic's rounding at most.  Where this Transformers lacks what the slabs build on, or oneDNN's
private operators fail, the same loop runs on Transformers' own cache, SDPA and ``F.linear``, with
one warning.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
from dataclasses import dataclass

import torch
from transformers import DynamicCache

from ...ops.sampling import draw_tokens
from ..engine import Sample
from .attention import decoding_attention
from .kv_cache import SHAREABLE, share_prefix, slab_cache, transformers_supported
from .onednn import packed_linears

logger = logging.getLogger("ts2.sampler")


@dataclass
class Decoding:
    """How to draw: temperature, top_k (0: off), top_p, decode ("softmax" | "sparsemax"),
    max_new_tokens, stop_ids (token ids that end a response and are kept as its last token),
    stop_strings (a response ends as soon as its text contains one), record (token probs/ranks)."""

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    decode: str = "softmax"
    max_new_tokens: int = 512
    stop_ids: frozenset = frozenset()
    stop_strings: tuple = ()
    record: bool = False


def pad_batch(sequences: list[list[int]], pad_id: int, device, side: str = "left"):
    """(ids, attention_mask) [B, longest] of token-id lists padded with ``pad_id`` on ``side``."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, seq in enumerate(sequences):
        span = slice(width - len(seq), width) if side == "left" else slice(0, len(seq))
        ids[i, span] = torch.tensor(seq, dtype=torch.long)
        mask[i, span] = 1
    return ids.to(device), mask.to(device)


def sample_prompts(model, prompts: list[list[int]], keys: list[list[int]], decoding: Decoding,
                   pad_id: int, decode_text=None, onednn: bool = True) -> list[list[Sample]]:
    """Sample ``len(keys[i])`` continuations of each tokenized prompt ``prompts[i]``.

    keys[i][j]: the random key of sample j of prompt i.  ``decode_text(token_ids) -> str`` is
    needed only with stop strings.  ``onednn``: False keeps ``F.linear`` (as ``TS2_ONEDNN=0`` does).
    Returns, per prompt, its samples in key order.
    """
    slabs = _slabs_supported()
    attention = decoding_attention(model) if slabs else contextlib.nullcontext(False)
    with torch.no_grad(), attention as switched, packed_linears(model, onednn):
        return _sample_prompts(model, prompts, keys, decoding, pad_id, decode_text, slabs, switched)


@functools.cache
def _slabs_supported() -> bool:
    if transformers_supported():
        return True
    logger.warning("this Transformers lacks the cache layers the native sampler's KV slabs build on; "
                   "sampling uses its DynamicCache (slower, same distribution)")
    return False


def _cache_argument(model) -> str:
    """The forward's name for the cache: ``cache`` where Transformers renamed ``past_key_values``
    (which it still takes there, with a deprecation warning)."""
    return "cache" if "cache" in inspect.signature(type(model).forward).parameters else "past_key_values"


def _slab_dtype(model, switched: bool) -> torch.dtype | None:
    """float32 under a half-precision model whose attention is ``decode_attention``; else the model's."""
    return torch.float32 if switched and model.dtype in (torch.float16, torch.bfloat16) else None


def _sample_prompts(model, prompts, keys, decoding, pad_id, decode_text, slabs: bool, switched: bool):
    device = model.device
    n = [len(k) for k in keys]
    ids, mask = pad_batch(prompts, pad_id, device)
    positions = (mask.cumsum(1) - 1).clamp_min(0)
    capacity = ids.shape[1] + decoding.max_new_tokens
    cache = slab_cache(model.config, capacity, _slab_dtype(model, switched)) if slabs else DynamicCache()
    cache_arg = _cache_argument(model)
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, **{cache_arg: cache},
                use_cache=True, logits_to_keep=1)
    repeats = torch.tensor(n, device=device)
    prompt_of = torch.arange(len(n), device=device).repeat_interleave(repeats)
    config = model.config
    if not (switched and config.model_type in SHAREABLE and share_prefix(
            cache, prompt_of, decoding.max_new_tokens, config.num_attention_heads // config.num_key_value_heads)):
        cache.batch_select_indices(prompt_of)  # every row its own copy of its prompt's keys and values
    logits = out.logits[:, -1].repeat_interleave(repeats, dim=0)
    mask = mask.repeat_interleave(repeats, dim=0)
    next_pos = positions[:, -1].repeat_interleave(repeats) + 1
    row_keys = torch.tensor([k for ks in keys for k in ks], dtype=torch.long, device=device)
    samples = [Sample() for _ in range(len(row_keys))]
    active = list(range(len(samples)))  # sample index of each row still in the batch
    for step in range(decoding.max_new_tokens):
        draw = draw_tokens(logits, row_keys, step, decoding.temperature, decoding.top_k, decoding.top_p,
                           decoding.decode, want_ranks=decoding.record, want_probs=decoding.record)
        tokens = draw.tokens.tolist()
        probs = draw.probs.tolist() if decoding.record else None
        ranks = draw.ranks.tolist() if decoding.record else None
        keep = []
        for row, (index, token) in enumerate(zip(active, tokens)):
            sample = samples[index]
            sample.tokens.append(token)
            if decoding.record:
                sample.probs.append(probs[row])
                sample.ranks.append(ranks[row])
            done = token in decoding.stop_ids or (
                decoding.stop_strings and any(s in decode_text(sample.tokens) for s in decoding.stop_strings))
            if not done:
                keep.append(row)
        if not keep or step + 1 == decoding.max_new_tokens:
            break
        if len(keep) < len(active):
            index = torch.tensor(keep, device=device)
            cache.batch_select_indices(index)
            mask, next_pos, row_keys = mask[index], next_pos[index], row_keys[index]
            draw_next = draw.tokens[index]
            active = [active[r] for r in keep]
        else:
            draw_next = draw.tokens
        mask = torch.cat([mask, mask.new_ones(len(active), 1)], dim=1)
        logits = model(input_ids=draw_next.unsqueeze(1), attention_mask=mask, position_ids=next_pos.unsqueeze(1),
                       **{cache_arg: cache}, use_cache=True).logits[:, -1]
        next_pos = next_pos + 1
    grouped, start = [], 0
    for count in n:
        grouped.append(samples[start:start + count])
        start += count
    return grouped
