"""Hugging Face Trainer integration: ts2 losses through the Trainer's ``compute_loss_func`` hook.

Two ways to use it:

* ``TS2Trainer(model=..., args=..., loss="ts2", loss_kwargs={"alpha": 0.25}, fused_loss=True)``:
  a ``transformers.Trainer`` with the loss, the fused path and per-step diagnostics in the logs.
* ``compute_loss_func=causal_lm_loss_func(get_loss("ts2"))`` for any Trainer subclass that calls
  ``Trainer.compute_loss`` (e.g. TRL's SFTTrainer): the unfused path, logits from the model.

Labels are shifted like HF's ForCausalLMLoss (pad with -100, then drop the first column), so the
logits are never copied, and the loss is ``sum / num_items_in_batch`` when the Trainer passes
that count (the number of shifted labels over the gradient-accumulation window and, with
``average_tokens_across_devices``, over all processes), exactly as for HF's cross-entropy.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers import Trainer

from ..losses import RowLoss, get_loss
from ..ops.fused_linear import fused_linear_loss
from ..ops.losses import sparsemax_plus_rows_fn, token_diagnostics
from .fused_forward import check_fused_support, fused_head, hidden_for_fused_loss

DIAGNOSTICS = ("support_size", "out_of_support_mass", "clamped", "entropy", "ce")


def shift_labels(labels: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """labels[..., 1:] padded with ignore_index, aligned with logits[..., :-1] without copying logits."""
    return F.pad(labels, (0, 1), value=ignore_index)[..., 1:]


def causal_lm_loss_func(loss: RowLoss):
    """A ``compute_loss_func(outputs, labels, num_items_in_batch)`` for causal LMs (unfused)."""

    def compute_loss_func(outputs, labels, num_items_in_batch=None):
        return loss(outputs.logits, shift_labels(labels, loss.ignore_index), num_items_in_batch)

    return compute_loss_func


def _shards_parameters(trainer: Trainer) -> bool:
    if getattr(trainer, "is_fsdp_enabled", False):
        return True
    if getattr(trainer, "is_deepspeed_enabled", False):
        from transformers.integrations.deepspeed import is_deepspeed_zero3_enabled

        return is_deepspeed_zero3_enabled()
    return False


class TS2Trainer(Trainer):
    """``transformers.Trainer`` training with a ts2 loss (``loss`` = name or RowLoss module).

    fused_loss: compute the loss from the last hidden states chunk by chunk (no [tokens, vocab]
    logits); None = when the model supports it.  log_diagnostics: add the mean support size,
    out-of-support softmax mass, clamped fraction, softmax entropy and plain CE of the training
    tokens to every log line (computed on the steps that are logged, from this process's tokens).
    """

    def __init__(self, *args, loss: str | RowLoss = "ts2", loss_kwargs: dict | None = None,
                 fused_loss: bool | None = None, log_diagnostics: bool = True, **kwargs):
        self.ts2_loss = loss if isinstance(loss, RowLoss) else get_loss(loss, **(loss_kwargs or {}))
        if kwargs.get("compute_loss_func") is not None:
            raise ValueError("TS2Trainer sets compute_loss_func itself; choose the loss with loss=...")
        kwargs["compute_loss_func"] = self._loss_from_outputs
        super().__init__(*args, **kwargs)
        unwrapped = self.accelerator.unwrap_model(self.model)
        self.fused_loss = check_fused_support(unwrapped, requested=fused_loss,
                                              sharded_parameters=_shards_parameters(self))
        self.log_diagnostics = log_diagnostics
        temperature = getattr(self.ts2_loss.rows_fn, "keywords", {}).get("temperature", 1.0)
        self._diagnostics_rows_fn = sparsemax_plus_rows_fn(0.0, temperature)
        self._diag_sums: dict[str, float] = {}
        self._diag_tokens = 0
        self._fused_checked = False

    def _collect_now(self) -> bool:
        if not self.log_diagnostics or not self.model.training:
            return False
        step = self.state.global_step
        steps = self.args.logging_steps
        every = max(1, int(steps if steps >= 1 else steps * max(self.state.max_steps, 1)))
        return (step + 1) % every == 0 or (step == 0 and self.args.logging_first_step)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if self.fused_loss and model.training:
            inputs = {**inputs, **hidden_for_fused_loss()}
        return super().compute_loss(model, inputs, return_outputs=return_outputs,
                                    num_items_in_batch=num_items_in_batch)

    def _loss_from_outputs(self, outputs, labels, num_items_in_batch=None):
        loss_fn = self.ts2_loss
        target = shift_labels(labels, loss_fn.ignore_index)
        collect = self._collect_now()
        if self.fused_loss and self.model.training:
            model = self.accelerator.unwrap_model(self.model)
            weight, bias = fused_head(model)
            hidden = outputs.hidden_states[-1]
            if not self._fused_checked:  # logits_to_keep=1 left the last position's logits
                check_fused_support(model, requested=True, hidden=hidden, logits=outputs.logits)
                self._fused_checked = True
            loss = fused_linear_loss(loss_fn.rows_fn, hidden, weight, target, bias, loss_fn.ignore_index,
                                     loss_fn.reduction, num_items_in_batch, loss_fn.chunk_size)
            if collect:
                with torch.no_grad():
                    _, stats = fused_linear_loss(self._diagnostics_rows_fn, hidden.detach(), weight.detach(),
                                                 target, None if bias is None else bias.detach(),
                                                 loss_fn.ignore_index, return_diagnostics=True)
                self._add_diagnostics(stats)
            return loss
        loss = loss_fn(outputs.logits, target, num_items_in_batch)
        if collect:
            temperature = self._diagnostics_rows_fn.keywords["temperature"]
            self._add_diagnostics(token_diagnostics(outputs.logits.detach(), target, temperature,
                                                    loss_fn.ignore_index))
        return loss

    def _add_diagnostics(self, stats: dict) -> None:
        if not stats:
            return
        for key in DIAGNOSTICS:
            self._diag_sums[key] = self._diag_sums.get(key, 0.0) + float(stats[key].double().sum())
        self._diag_tokens += int(stats["ce"].numel())

    def log(self, logs: dict, *args, **kwargs) -> None:
        if self._diag_tokens and "loss" in logs:
            for key in DIAGNOSTICS:
                logs[f"ts2/{key}"] = round(self._diag_sums[key] / self._diag_tokens, 5)
            self._diag_sums, self._diag_tokens = {}, 0
        super().log(logs, *args, **kwargs)
