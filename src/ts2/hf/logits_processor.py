"""Sparsemax sampling for ``model.generate`` users: a Transformers ``LogitsProcessor``."""

from __future__ import annotations

import torch
from transformers import LogitsProcessor

from ..ops.sparsemax import sparsemax


class SparsemaxLogitsProcessor(LogitsProcessor):
    """scores -> log sparsemax(scores / temperature): sampling from these scores (with no further
    temperature, top-k or top-p) draws from sparsemax(z / T), never outside its support."""

    def __init__(self, temperature: float = 1.0):
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got temperature={temperature!r}")
        self.temperature = temperature

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        probs = sparsemax(scores.float() / self.temperature, dim=-1)
        return torch.log(probs).to(scores.dtype)  # log 0 = -inf outside the support
