"""The native sampler's key/value cache: preallocated slabs, and a prompt's keys shared by its rows.

``SlabLayer``: a full-attention layer's keys and values in one preallocated slab
``[rows, kv_heads, capacity, head_dim]`` (capacity: the longest prompt plus max_new_tokens); the
attention gets views of the filled part.  Transformers' ``DynamicLayer`` concatenates the whole
cache at every step; a slab step writes its one new position.  Under a half-precision model the
slab is float32 (it holds the values exactly), so the attention computes in float32 as SDPA's
kernel does inside.

``SharedPrefixLayer``: after the prefill, the prompts' keys and values ``[P, kv_heads, Lp, D]``
once and each row's generated ones ``[rows, kv_heads, s, D]``, so that a decoding step reads a
prompt's part once per prompt, not once per sample (``attention.shared_attention``).

Both subclass Transformers' ``DynamicLayer`` (its ``lazy_initialization``, ``keys``/``values`` and
``is_initialized`` contract): ``loop`` checks for it once (``transformers_supported``) and samples
with Transformers' own cache when a Transformers version lacks it.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from transformers import DynamicCache

try:
    from transformers.cache_utils import DynamicLayer
except ImportError:  # a Transformers without layered caches: the classes below are defined but unused
    DynamicLayer = object

# Model types whose attention hands the cache's keys and values to the attention function untouched.
SHAREABLE = frozenset({"llama", "qwen2", "qwen3", "mistral"})
MIN_QUERY_ROWS = 8  # rows of a prompt's query matrix at least (MKL's float32 GEMM changes bits below 6)


def transformers_supported() -> bool:
    """Whether this Transformers' cache has the layer API the slabs build on."""
    needed = ("lazy_initialization", "update", "batch_select_indices", "is_initialized")
    return DynamicLayer is not object and all(hasattr(DynamicLayer, name) or name in vars(DynamicLayer())
                                              for name in needed) and hasattr(DynamicCache(), "layers")


def select_rows(slab: torch.Tensor, rows: torch.Tensor, length: int) -> torch.Tensor:
    """A new slab [len(rows), ...] of the ``rows`` of ``slab`` [R, heads, capacity, D], with only the
    filled ``length`` positions copied (zeros after them: a masked position's probability 0 times
    its value must be 0, never NaN)."""
    kept = slab.new_zeros(len(rows), *slab.shape[1:])
    kept[:, :, :length] = slab[:, :, :length].index_select(0, rows)
    return kept


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
            self.slab_keys = select_rows(self.slab_keys, indices, self.length)
            self.slab_values = select_rows(self.slab_values, indices, self.length)
            self._views()


def slab_cache(config, capacity: int, dtype: torch.dtype | None = None) -> DynamicCache:
    """A ``DynamicCache`` for ``config`` whose full-attention layers are ``SlabLayer(capacity, dtype)``
    (sliding-window layers stay Transformers' own).  A ``dtype`` other than the model's needs
    ``attention.decode_attention``."""
    cache = DynamicCache(config=config)
    cache.layers = [SlabLayer(capacity, dtype) if type(layer) is DynamicLayer else layer for layer in cache.layers]
    return cache


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
        self.own_keys = select_rows(self.own_keys, indices, self.length)
        self.own_values = select_rows(self.own_values, indices, self.length)
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
    if not all(type(layer) is SlabLayer and layer.length for layer in cache.layers):
        return False
    cache.layers = [SharedPrefixLayer(layer.keys, layer.values, prompt_of, capacity, heads_per_kv)
                    for layer in cache.layers]
    return True
