"""The native sampler's attention for one query position (a decoding step).

``decode_attention``: grouped-query attention of one position against a row's whole cache,

    scores = q_g k^T x scaling (+ mask),  p = softmax(scores) in float32,  out = p v,

with the query heads of a key/value head ``[B, G, D]`` against its keys ``[B, L, D]`` as one batched
matmul.  Transformers' SDPA path repeats every key/value head G times first (a copy of the cache
per layer and step) and the CPU flash kernel is slow for one query.

``shared_attention``: the same sums split in two for a ``SharedPrefixLayer``, the prompt's part
with all of a prompt's rows as one matmul,

    scores = [q k_prompt^T, q k_own^T] x scaling (+ mask),  out = p_prompt v_prompt + p_own v_own,

the queries padded to at least ``MIN_QUERY_ROWS`` rows so that the GEMM's rounding does not depend
on how many siblings are left.

Prefill (several query positions), dropout, and any attention argument these do not know
(soft-capping, sliding windows, sinks) go to Transformers' SDPA unchanged.  They are registered
with Transformers when sampling first starts and used only inside ``decoding_attention``.
"""

from __future__ import annotations

import contextlib
import functools
import logging

import torch

from .kv_cache import SharedKV

logger = logging.getLogger("ts2.sampler")

NAME = "ts2_decode"
# Arguments the attention may receive that do not change what it computes.
_HARMLESS = frozenset({"position_ids", "cache_position", "use_cache", "past_key_values", "is_causal",
                       "output_attentions", "position_embeddings", "sliding_window"})


def _masked_softmax(scores: torch.Tensor, attention_mask, dtype: torch.dtype) -> torch.Tensor:
    """softmax(scores + mask) over the last dim in float32, cast to ``dtype``; the mask is cut to the
    scores' width and is bool (True: attend) or additive."""
    if attention_mask is not None:
        mask = attention_mask[..., : scores.shape[-1]]
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    return torch.softmax(scores, dim=-1, dtype=torch.float32).to(dtype)


def _handled(query, dropout, kwargs) -> bool:
    unknown = any(v is not None for k, v in kwargs.items() if k not in _HARMLESS)
    return query.shape[2] == 1 and not dropout and not unknown and kwargs.get("sliding_window") is None


def decode_attention(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None, **kwargs):
    """query [B, H, 1, D], key/value [B, Hkv, L, D] (the query's dtype, or a float32 slab's) or
    ``SharedKV``, mask [B, 1, 1, >=L] (bool: attend; or additive) -> ([B, 1, H, D] in the query's
    dtype, None).  Anything else: Transformers' SDPA attention."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    scale = query.shape[-1] ** -0.5 if scaling is None else scaling
    handled = _handled(query, dropout, kwargs)
    if isinstance(key, SharedKV):
        if handled:
            return shared_attention(query, key, value, attention_mask, scale), None
        key, value = key.whole(), value.whole()
    if not handled:
        # a float32 slab holds half-precision values exactly: the cast back loses nothing
        return sdpa_attention_forward(module, query, key.to(query.dtype), value.to(query.dtype), attention_mask,
                                      dropout=dropout, scaling=scaling, **kwargs)
    batch, heads, _, dim = query.shape
    kv_heads = key.shape[1]
    # head h reads key/value head h // G
    grouped = query.reshape(batch, kv_heads, heads // kv_heads, dim).to(key.dtype)
    probs = _masked_softmax(torch.matmul(grouped, key.transpose(-1, -2)) * scale, attention_mask, value.dtype)
    return torch.matmul(probs, value).reshape(batch, 1, heads, dim).to(query.dtype), None


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
    probs = _masked_softmax(scores, attention_mask, value.prompt.dtype)
    prompt_len = key.prompt.shape[2]
    out = _by_row(torch.matmul(_by_prompt(probs[..., :prompt_len], value), value.prompt), value, groups)
    out = out + torch.matmul(probs[..., prompt_len:], value.own)
    return out.reshape(rows, 1, heads, dim).to(query.dtype)


@functools.cache
def _registered() -> bool:
    """Register ``decode_attention`` under ``NAME`` with Transformers, once; False (with one
    warning) when this Transformers has no attention registry to register with."""
    try:
        from transformers import AttentionInterface
        from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

        AttentionInterface.register(NAME, decode_attention)
        AttentionMaskInterface.register(NAME, sdpa_mask)
    except (ImportError, AttributeError) as exc:
        logger.warning("this Transformers cannot take a custom attention (%s); sampling uses SDPA", exc)
        return False
    return True


@contextlib.contextmanager
def decoding_attention(model):
    """While the block runs, ``decode_attention`` for the decoding steps of ``model`` when the model
    runs Transformers' SDPA attention on the CPU; yields whether it does (otherwise nothing
    changes).  Measured only on the CPU; on GPUs SDPA's own kernels stay, with a slab in the
    model's dtype (a float32 one would double the KV memory there)."""
    config = model.config
    previous = getattr(config, "_attn_implementation", None)
    if previous != "sdpa" or model.device.type != "cpu" or not _registered():
        yield False
        return
    config._attn_implementation = NAME
    try:
        yield True
    finally:
        config._attn_implementation = previous
