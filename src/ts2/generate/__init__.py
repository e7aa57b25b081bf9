"""``ts2 generate``: n samples per prompt from a model directory or Hub id, exactly reproducible.

``Sampler`` (``sampler``) is the loop: prompts rendered, rows written and resumed; an ``Engine``
(``engine``) draws the samples: ts2's batched sampler (``native``) or vLLM (``vllm_engine``).
Under torchrun each process samples its share of the prompts (``sharding``).
"""

from .engine import Engine, Sample
from .sampler import Sampler, completed_ids, generate, render_prompt, response_text, sample_file
from .settings import DEFAULT_BATCH_TOKENS, GenerationResult, Runtime, SamplingSettings, batches

__all__ = ["DEFAULT_BATCH_TOKENS", "Engine", "GenerationResult", "Runtime", "Sample", "Sampler", "SamplingSettings",
           "batches", "completed_ids", "generate", "render_prompt", "response_text", "sample_file"]
