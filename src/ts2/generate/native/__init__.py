"""ts2's native sampler: n samples per prompt from a Transformers causal LM, batched and exactly
reproducible (each sample from its own random stream).

- ``loop``: ``sample_prompts``, the prefill and decoding steps, rows leaving as they finish;
- ``kv_cache``: the keys and values in preallocated slabs, a prompt's shared by its rows;
- ``attention``: one-position grouped-query attention over those caches;
- ``onednn``: the linears from oneDNN-reordered weights (the only user of torch's private ops).

Every fast piece falls back, with one warning, to what Transformers and torch do by themselves.
"""

from .loop import Decoding, Sample, pad_batch, sample_prompts

__all__ = ["Decoding", "Sample", "pad_batch", "sample_prompts"]
