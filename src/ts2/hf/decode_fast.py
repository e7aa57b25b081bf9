"""The two pieces that make ``sample_prompts``' decoding steps cheap on a Transformers model.

``slab_cache``: a ``DynamicCache`` whose full-attention layers keep their keys and values in one
preallocated slab ``[rows, kv_heads, capacity, head_dim]`` (capacity: the longest prompt plus
max_new_tokens) and hand the attention views of the filled part.  Under a half-precision model the
slab is float32 (the values are stored exactly), so the attention's scores and weighted sum are
computed in float32, as the SDPA kernel does inside.  ``DynamicCache`` concatenates
every layer's keys and values at every step (a copy of the whole cache per step); here a step
writes its one new position.  Retiring rows copies the filled part of the kept rows, as before.

``packed_linears``: every ``nn.Linear`` of a float32 / bfloat16 model on the CPU computed by oneDNN
from a weight reordered once into its blocked layout (``torch.ops.mkldnn._reorder_linear_weight``),
instead of MKL's GEMM on the plain weight each call.  At 128 rows and SmolLM2's shapes it took
0.41 against 0.56 ms (576 x 576), 1.21 against 1.65 ms (576 x 1536) and 37 against 80 ms (the LM
head), float32.  Every row's result is also independent of how many rows share the call (checked
for 1 to 2,000 rows in both dtypes), where MKL's float32 GEMM differs between 1-3 rows and more.

``decode_attention``: attention for one query position under grouped-query attention,
    scores = q_g k^T x scaling (+ mask),  p = softmax(scores) in float32,  out = p v
with the query heads of a key/value head ``[B, G, D]`` against its keys ``[B, L, D]`` as one batched
matmul.  Transformers' SDPA path repeats every key/value head G times first (a copy of the cache
per layer and step) and the CPU flash kernel is slow for one query.  Prefill (several query
positions), dropout, and any attention argument it does not know (soft-capping, sliding windows,
sinks) go to SDPA unchanged.  It is used only while ``sample_prompts`` runs, and only for models
that run SDPA on the CPU (``decoding_attention``).
"""

from __future__ import annotations

import contextlib
import functools
import logging

import torch
from transformers import AttentionInterface, DynamicCache
from transformers.cache_utils import DynamicLayer
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

from .shared_prefix import SharedKV, shared_attention

logger = logging.getLogger("ts2.sampler")

NAME = "ts2_decode"
# Arguments the attention may receive that do not change what it computes.
_HARMLESS = frozenset({"position_ids", "cache_position", "use_cache", "past_key_values", "is_causal",
                       "output_attentions", "position_embeddings", "sliding_window"})


class SlabLayer(DynamicLayer):
    """A full-attention layer's keys and values in a preallocated slab; ``keys`` and ``values`` are
    views ``[rows, kv_heads, length, head_dim]`` of its filled part."""

    def __init__(self, capacity: int, dtype: torch.dtype | None = None):
        super().__init__()
        self.capacity, self.length, self.slab_dtype = capacity, 0, dtype

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        super().lazy_initialization(key_states, value_states)
        rows, heads = key_states.shape[:2]
        dtype = self.slab_dtype or key_states.dtype
        # zeros, not empty: a masked position's probability 0 times its value must be 0, never NaN
        self.slab_keys = key_states.new_zeros(rows, heads, self.capacity, key_states.shape[-1], dtype=dtype)
        self.slab_values = value_states.new_zeros(rows, heads, self.capacity, value_states.shape[-1], dtype=dtype)

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        end = self.length + key_states.shape[-2]
        if end > self.capacity:
            raise RuntimeError(f"the KV slab holds {self.capacity} positions, {end} were asked for")
        self.slab_keys[:, :, self.length:end] = key_states
        self.slab_values[:, :, self.length:end] = value_states
        self.length = end
        self._views()
        return self.keys, self.values

    def _views(self) -> None:
        self.keys = self.slab_keys[:, :, : self.length]
        self.values = self.slab_values[:, :, : self.length]

    def get_seq_length(self) -> int:
        return self.length

    def batch_repeat_interleave(self, repeats: int) -> None:
        if self.length:
            self.slab_keys = self.slab_keys.repeat_interleave(repeats, dim=0)
            self.slab_values = self.slab_values.repeat_interleave(repeats, dim=0)
            self._views()

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self.length:
            self.slab_keys = _rows_of(self.slab_keys, indices, self.length)
            self.slab_values = _rows_of(self.slab_values, indices, self.length)
            self._views()


def _rows_of(slab: torch.Tensor, rows: torch.Tensor, length: int) -> torch.Tensor:
    """A new slab of ``rows`` with only the filled ``length`` positions copied."""
    kept = slab.new_zeros(len(rows), *slab.shape[1:])
    kept[:, :, :length] = slab[:, :, :length].index_select(0, rows)
    return kept


def slab_cache(config, capacity: int, dtype: torch.dtype | None = None) -> DynamicCache:
    """A ``DynamicCache`` for ``config`` whose full-attention layers are ``SlabLayer(capacity, dtype)``
    (sliding-window layers stay Transformers' own).  A ``dtype`` other than the model's needs
    ``decode_attention``."""
    cache = DynamicCache(config=config)
    cache.layers = [SlabLayer(capacity, dtype) if type(layer) is DynamicLayer else layer for layer in cache.layers]
    return cache


def decode_attention(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None, **kwargs):
    """query [B, H, 1, D], key/value [B, Hkv, L, D] (the query's dtype, or a float32 slab's), mask
    [B, 1, 1, >=L] (bool: attend; or additive) -> ([B, 1, H, D] in the query's dtype, None).
    Anything else: Transformers' SDPA attention."""
    unknown = any(v is not None for k, v in kwargs.items() if k not in _HARMLESS)
    if isinstance(key, SharedKV):
        if query.shape[2] == 1 and not dropout and not unknown and kwargs.get("sliding_window") is None:
            scale = query.shape[-1] ** -0.5 if scaling is None else scaling
            return shared_attention(query, key, value, attention_mask, scale), None
        key, value = key.whole(), value.whole()
    if query.shape[2] != 1 or dropout or unknown or kwargs.get("sliding_window") is not None:
        # a float32 slab holds half-precision values exactly: the cast back loses nothing
        return sdpa_attention_forward(module, query, key.to(query.dtype), value.to(query.dtype), attention_mask,
                                      dropout=dropout, scaling=scaling, **kwargs)
    batch, heads, _, dim = query.shape
    kv_heads = key.shape[1]
    # head h reads key/value head h // G
    grouped = query.reshape(batch, kv_heads, heads // kv_heads, dim).to(key.dtype)
    scores = torch.matmul(grouped, key.transpose(-1, -2)) * (dim**-0.5 if scaling is None else scaling)
    if attention_mask is not None:
        mask = attention_mask[..., : key.shape[-2]]
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(value.dtype)
    return torch.matmul(probs, value).reshape(batch, 1, heads, dim).to(query.dtype), None


AttentionInterface.register(NAME, decode_attention)
AttentionMaskInterface.register(NAME, sdpa_mask)


@contextlib.contextmanager
def decoding_attention(model):
    """While the block runs, ``decode_attention`` for the decoding steps of ``model`` when the model
    runs Transformers' SDPA attention on the CPU; yields whether it does (otherwise nothing
    changes).  Measured only on the CPU; on GPUs SDPA's own kernels stay, with a slab in the
    model's dtype (a float32 one would double the KV memory there)."""
    config = model.config
    previous = getattr(config, "_attn_implementation", None)
    if previous != "sdpa" or model.device.type != "cpu":
        yield False
        return
    config._attn_implementation = NAME
    try:
        yield True
    finally:
        config._attn_implementation = previous


_PACKED = "_ts2_packed_linears"


@contextlib.contextmanager
def packed_linears(model):
    """While the block runs, every plain ``nn.Linear`` of ``model`` computes
    ``x W^T + b`` from its oneDNN-reordered weight, when the model is float32 or bfloat16 on the CPU and
    torch has oneDNN; yields whether it does.  The reordered weights are kept on the model (as much
    memory again as its linear weights) and made again only for a weight that changed since."""
    usable = (model.device.type == "cpu" and model.dtype in (torch.float32, torch.bfloat16)
              and torch.backends.mkldnn.is_available() and _packing_works(model.dtype))
    if not usable:
        yield False
        return
    packed = model.__dict__.setdefault(_PACKED, {})
    modules = [m for m in model.modules() if type(m) is torch.nn.Linear and m.weight.dtype == model.dtype]
    for module in modules:  # every weight reordered before any forward is switched
        weight = module.weight
        stamp = (weight.data_ptr(), weight._version, tuple(weight.shape))
        if packed.get(module, (None,))[0] != stamp:
            packed[module] = (stamp, torch.ops.mkldnn._reorder_linear_weight(weight.detach(), _ROWS_HINT))
    try:
        for module in modules:
            module.forward = _packed_forward(packed[module][1], module.bias)
        yield True
    finally:
        for module in modules:
            module.__dict__.pop("forward", None)


@functools.cache
def _packing_works(dtype: torch.dtype) -> bool:
    """Whether oneDNN reorders and multiplies a ``dtype`` weight on this CPU: its bfloat16 path needs
    AVX512 (BW, VL, DQ) or AVX-NE-CONVERT and raises without them (seen on an AMD EPYC without AVX512);
    there the plain ``F.linear`` stays."""
    try:
        weight = torch.ops.mkldnn._reorder_linear_weight(torch.ones(8, 8, dtype=dtype), _ROWS_HINT)
        out = torch.ops.mkldnn._linear_pointwise(torch.ones(2, 8, dtype=dtype), weight, None, "none", [], "")
    except RuntimeError as exc:
        logger.warning("oneDNN's %s linears are not available on this CPU (%s); sampling uses F.linear",
                       str(dtype).removeprefix("torch."), str(exc).splitlines()[0])
        return False
    return bool((out == 8).all())


_ROWS_HINT = 128  # the rows the layout is tuned for; any number of rows gives the same result


def _packed_forward(weight: torch.Tensor, bias: torch.Tensor | None):
    bias = None if bias is None else bias.detach()

    def forward(x: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")

    return forward


def slab_dtype(model, switched: bool) -> torch.dtype | None:
    """The slab's dtype: float32 under a half-precision model whose attention is ``decode_attention``."""
    half = model.dtype in (torch.float16, torch.bfloat16)
    return torch.float32 if switched and half else None
