"""Hidden states -> fused loss for Transformers CausalLM models, and when that is valid.

The fused path calls the model with ``output_hidden_states=True, logits_to_keep=1`` (so only the
last position's logits are computed) and applies the loss to ``hidden_states[-1]`` (the final,
normalised hidden states) against the output embedding.  That equals "logits, then loss" only when
the model's logits are exactly ``lm_head(hidden_states[-1])``: models that softcap or scale their
logits, or whose head is not a plain Linear layer (e.g. a LoRA-adapted lm_head), are refused, and
so are sharded parameters (FSDP, ZeRO-3), whose full output embedding the loss cannot read.
"""

from __future__ import annotations

import inspect

import torch
from torch import nn


def hidden_for_fused_loss() -> dict:
    return {"output_hidden_states": True, "logits_to_keep": 1}


def _base_model(model):
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def fused_head(model) -> tuple[torch.Tensor, torch.Tensor | None]:
    head = _base_model(model).get_output_embeddings()
    return head.weight, head.bias


def _unsupported_reasons(model) -> list[str]:
    base = _base_model(model)
    reasons = []
    head = base.get_output_embeddings() if hasattr(base, "get_output_embeddings") else None
    if type(head) is not nn.Linear:
        reasons.append(f"its output head is {type(head).__name__}, not a plain nn.Linear")
    config = base.config.get_text_config() if hasattr(base.config, "get_text_config") else base.config
    if getattr(config, "final_logit_softcapping", None) is not None:
        reasons.append("it softcaps its logits (final_logit_softcapping)")
    if getattr(config, "logit_scale", None) not in (None, 1, 1.0):
        reasons.append("it scales its logits (logit_scale)")
    if "logits_to_keep" not in inspect.signature(base.forward).parameters:
        reasons.append("its forward() has no logits_to_keep argument")
    return reasons


def check_fused_support(model, requested: bool | None, hidden=None, logits=None,
                        sharded_parameters: bool = False) -> bool:
    """Whether to use the fused path: ``requested`` True (raise if unsupported), False, or None (auto).

    ``sharded_parameters``: FSDP or DeepSpeed ZeRO-3, where the output embedding is only gathered
    inside the head's own forward, so the loss cannot read it.  With ``hidden`` [B, T, d] and
    ``logits`` [B, 1, V] from a ``logits_to_keep=1`` forward, also checks numerically that the last
    position's logits equal head(hidden).
    """
    if requested is False:
        return False
    reasons = _unsupported_reasons(model)
    if sharded_parameters:
        reasons.append("its parameters are sharded (FSDP or DeepSpeed ZeRO-3)")
    if hidden is not None and logits is not None and not reasons:
        weight, bias = fused_head(model)
        with torch.no_grad():
            recomputed = nn.functional.linear(hidden[:, -1:], weight, bias).float()
            if not torch.allclose(recomputed, logits.float(), rtol=1e-2, atol=1e-2):
                reasons.append("its logits differ from lm_head(hidden_states[-1])")
    if reasons and requested:
        raise ValueError(f"fused_loss=True is not supported for {type(_base_model(model)).__name__}: "
                         f"{'; '.join(reasons)}. Use --fused_loss false.")
    return not reasons
