"""``ts2 generate``: n samples per prompt from a model directory, batched and exactly reproducible
(``sampler``); under torchrun each process samples its share of the prompts (``sharding``)."""

from .sampler import (
    DEFAULT_BATCH_TOKENS,
    GenerationResult,
    Runtime,
    Sampler,
    SamplingSettings,
    batches,
    completed_ids,
    generate,
    render_prompt,
    response_text,
    sample_file,
)

__all__ = ["DEFAULT_BATCH_TOKENS", "GenerationResult", "Runtime", "Sampler", "SamplingSettings", "batches",
           "completed_ids", "generate", "render_prompt", "response_text", "sample_file"]
