"""The engines that draw samples, behind one small interface.

An ``Engine`` takes groups of tokenized prompts and returns their samples; everything else of
``ts2 generate`` (rendering the prompts, the rows, their settings record, resume, sharding across
processes) is the engine-neutral ``Sampler`` loop's.  Two engines: ``native`` (ts2's batched
sampler, ``ts2.generate.native``) and ``vllm`` (``ts2.generate.vllm_engine``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Protocol

from .settings import Runtime, SamplingSettings

# engine name -> "module:class" of its loader, imported only when chosen (vLLM is an optional extra)
LOADERS = {"native": "ts2.generate.native.engine:NativeEngine", "vllm": "ts2.generate.vllm_engine:VllmEngine"}


@dataclass
class Sample:
    """One sampled response: its token ids and, when recorded, each token's probability as drawn
    (after temperature, top-k and top-p) and its 0-based rank among the logits."""

    tokens: list = field(default_factory=list)
    probs: list = field(default_factory=list)
    ranks: list = field(default_factory=list)


class Engine(Protocol):
    """A loaded model that samples groups of prompts.

    ``name``: its ``Runtime.engine`` name; ``tokenizer``: the model's (prompts are rendered and
    responses decoded with it); ``stop_ids``: the token ids that end a response; ``dtype_name``:
    the weights' dtype as rows record it; ``recorded``: what else rows record about the engine (a
    file sampled by one engine is never resumed by another); ``model``: the Transformers model in this process, or None.
    """

    name: str
    tokenizer: object
    stop_ids: frozenset
    dtype_name: str
    recorded: dict
    model: object | None

    def groups(self, lengths: list[int], settings: SamplingSettings, batch_tokens: int) -> list[range]:
        """Consecutive prompt ranges sampled together (rows are written after each)."""

    def sample_group(self, ids: list[str], rendered: list[list[int]], settings: SamplingSettings) -> list[list[Sample]]:
        """``settings.n`` samples of each rendered prompt, sample j of prompt ``ids[i]`` drawn from the
        stream of ``ts2.ops.sampling.sample_key(settings.seed, ids[i], j)``."""

    def close(self) -> None:
        """Release what the engine holds beyond this object (processes, memory)."""


def load_engine(resolved, runtime: Runtime) -> Engine:
    """The runtime's engine with the resolved model (``ts2.hf.hub.resolve_model``) loaded."""
    module, name = LOADERS[runtime.engine].split(":")
    return getattr(importlib.import_module(module), name).load(resolved, runtime)
