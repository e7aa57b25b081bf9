"""The fused loss inside a Transformers CausalLM's own forward, and when that is valid.

``enable_fused_loss(model, loss)`` wraps the forward of the module that owns the output embedding
(the CausalLM; under PEFT its base model): given ``labels``, it runs the original forward with
``output_hidden_states=True, logits_to_keep=1`` (only the last position's logits are computed)
and applies the loss to ``hidden_states[-1]`` (the final, normalised hidden states) against
``lm_head.weight`` — all within that module's forward.  Sharding wrappers (FSDP 1 and 2, DeepSpeed
ZeRO-3) gather a module's parameters around its forward, so the loss sees the full output
embedding there and its gradient is reduced like any other: the fused path needs no exception for
sharded training.  No Transformers model code is copied.

That equals "logits, then loss" only when the model's logits are exactly
``lm_head(hidden_states[-1])``: models that softcap or scale their logits, or whose head is not a
plain Linear layer (e.g. a LoRA-adapted lm_head), are refused.
"""

from __future__ import annotations

import functools
import inspect

import torch
import torch.nn.functional as F
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


def check_fused_support(model, requested: bool | None, hidden=None, logits=None) -> bool:
    """Whether to use the fused path: ``requested`` True (raise if unsupported), False, or None (auto).

    With ``hidden`` [B, T, d] and
    ``logits`` [B, 1, V] from a ``logits_to_keep=1`` forward, also checks numerically that the last
    position's logits equal head(hidden).
    """
    if requested is False:
        return False
    reasons = _unsupported_reasons(model)
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


def shift_labels(labels: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """labels[..., 1:] padded with ignore_index, aligned with logits[..., :-1] without copying logits."""
    return F.pad(labels, (0, 1), value=ignore_index)[..., 1:]


def enable_fused_loss(model, loss="ts2", on_fused=None, **loss_kwargs):
    """Make ``model(input_ids=..., attention_mask=..., labels=..., num_items_in_batch=N)`` return
    outputs whose ``.loss`` is the fused ts2 ``loss`` (a name, with ``loss_kwargs``, or a RowLoss):
    sum over the shifted labels / N when N is given, else the loss's own reduction; labels shifted
    as HF does.  ``.logits`` then holds the last position only ([B, 1, V]); no [tokens, vocab]
    logits exist.  Without ``labels`` the model computes its full logits (e.g. for generate).

    ``on_fused(hidden, weight, bias, target)``: called after each fused loss (ts2's trainer
    computes its per-step diagnostics there).  Changes ``model`` in place and returns it; calling
    it again replaces the loss.  Raises ValueError for models whose logits are not
    ``lm_head(hidden_states[-1])``.
    """
    from ..losses import RowLoss, get_loss

    loss_fn = loss if isinstance(loss, RowLoss) else get_loss(loss, **loss_kwargs)
    check_fused_support(model, requested=True)
    owner = _base_model(model)
    if getattr(owner, "_ts2_fused", None) is not None:
        owner._ts2_fused.update(loss=loss_fn, on_fused=on_fused)
        return model
    owner._ts2_fused = {"loss": loss_fn, "on_fused": on_fused, "checked": False}
    original = owner.forward

    @functools.wraps(original)
    def forward(*args, labels=None, num_items_in_batch=None, **kwargs):
        state = owner._ts2_fused
        if labels is None:
            if num_items_in_batch is not None:
                kwargs["num_items_in_batch"] = num_items_in_batch
            return original(*args, **kwargs)
        outputs = original(*args, **{**kwargs, **hidden_for_fused_loss()})
        hidden = outputs.hidden_states[-1]
        weight, bias = fused_head(owner)
        if not state["checked"]:  # logits_to_keep=1 left the last position's logits: they must agree
            check_fused_support(owner, requested=True, hidden=hidden, logits=outputs.logits)
            state["checked"] = True
        fn = state["loss"]
        target = shift_labels(labels.to(hidden.device), fn.ignore_index)
        outputs.loss = fn.fused(hidden, weight, target, bias=bias, num_items_in_batch=num_items_in_batch)
        if state["on_fused"] is not None:
            state["on_fused"](hidden, weight, bias, target)
        return outputs

    owner.forward = forward
    return model
