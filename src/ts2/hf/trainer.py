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
from transformers import Trainer

from ..losses import RowLoss, get_loss
from ..ops.functional import sparsemax_plus_rows_fn, token_diagnostics
from ..ops.fused_linear import fused_linear_loss
from .distributed import destroy_process_group_at_exit
from .fused_forward import check_fused_support, enable_fused_loss, shift_labels

__all__ = ["TS2Trainer", "causal_lm_loss_func", "loss_in_forward", "shift_labels"]

DIAGNOSTICS = ("support_size", "out_of_support_mass", "clamped", "entropy", "ce")


def causal_lm_loss_func(loss: RowLoss):
    """A ``compute_loss_func(outputs, labels, num_items_in_batch)`` for causal LMs (unfused)."""

    def compute_loss_func(outputs, labels, num_items_in_batch=None):
        return loss(outputs.logits, shift_labels(labels, loss.ignore_index), num_items_in_batch)

    return compute_loss_func


def loss_in_forward(trainer: Trainer, model, inputs: dict, num_items_in_batch=None):
    """(loss, outputs) of a model whose forward computes the fused loss from the labels
    (``enable_fused_loss``), scaled as ``Trainer.compute_loss`` scales a model's own loss:
    ``num_items_in_batch`` counts every process's tokens and the gradients are averaged."""
    inputs = dict(inputs)
    if num_items_in_batch is not None:
        inputs["num_items_in_batch"] = num_items_in_batch
    outputs = model(**inputs)
    loss = outputs.loss
    if trainer.args.average_tokens_across_devices and num_items_in_batch is not None:
        loss = loss * (trainer.accelerator.num_processes // trainer.get_tp_size() if trainer.args.n_gpu <= 1
                       else trainer.args.n_gpu)
    return loss, outputs


class TS2Trainer(Trainer):
    """``transformers.Trainer`` training with a ts2 loss (``loss`` = name or RowLoss module).

    fused_loss: compute the loss from the last hidden states chunk by chunk (no [tokens, vocab]
    logits); None = when the model supports it.  log_diagnostics: add the mean support size,
    out-of-support softmax mass, clamped fraction, softmax entropy and plain CE of the training
    tokens to every log line (computed on the steps that are logged, from this process's tokens),
    and the same of every evaluation token as ``eval_ts2/...`` next to ``eval_loss``.  Evaluation
    computes the same loss, on the fused path too when ``prediction_loss_only`` (ts2's default:
    no [tokens, vocab] logits are kept or gathered).
    """

    def __init__(self, *args, loss: str | RowLoss = "ts2", loss_kwargs: dict | None = None,
                 fused_loss: bool | None = None, log_diagnostics: bool = True, **kwargs):
        self.ts2_loss = loss if isinstance(loss, RowLoss) else get_loss(loss, **(loss_kwargs or {}))
        if kwargs.get("compute_loss_func") is not None:
            raise ValueError("TS2Trainer sets compute_loss_func itself; choose the loss with loss=...")
        kwargs["compute_loss_func"] = self._loss_from_outputs
        super().__init__(*args, **kwargs)
        destroy_process_group_at_exit()  # a gloo run could otherwise abort at exit (hf/distributed.py)
        unwrapped = self.accelerator.unwrap_model(self.model)
        # The loss runs inside the model's own forward (enable_fused_loss), where FSDP and ZeRO-3
        # have gathered the output embedding, so sharded training keeps the fused path.
        self.fused_loss = check_fused_support(unwrapped, requested=fused_loss)
        if self.fused_loss:
            enable_fused_loss(unwrapped, self.ts2_loss, on_fused=self._fused_diagnostics)
        self.log_diagnostics = log_diagnostics
        self._diagnostics_temperature = getattr(self.ts2_loss, "temperature", 1.0)
        self._diagnostics_rows_fn = sparsemax_plus_rows_fn(0.0, self._diagnostics_temperature)
        self._diag_sums: dict[bool, dict[str, float]] = {True: {}, False: {}}  # by model.training
        self._diag_tokens = {True: 0, False: 0}

    def _use_fused(self, model) -> bool:
        return bool(self.fused_loss) and (model.training or self.args.prediction_loss_only)

    def _collect_now(self) -> bool:
        if not self.log_diagnostics:
            return False
        if not self.model.training:
            return True  # every evaluation token
        step = self.state.global_step
        steps = self.args.logging_steps
        every = max(1, int(steps if steps >= 1 else steps * max(self.state.max_steps, 1)))
        return (step + 1) % every == 0 or (step == 0 and self.args.logging_first_step)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if not self._use_fused(model):
            return super().compute_loss(model, inputs, return_outputs=return_outputs,
                                        num_items_in_batch=num_items_in_batch)
        loss, outputs = loss_in_forward(self, model, inputs, num_items_in_batch)
        return (loss, outputs) if return_outputs else loss

    def _fused_diagnostics(self, hidden, weight, bias, target) -> None:
        if not self._collect_now():
            return
        with torch.no_grad():
            _, stats = fused_linear_loss(self._diagnostics_rows_fn, hidden.detach(), weight.detach(), target,
                                         None if bias is None else bias.detach(), self.ts2_loss.ignore_index,
                                         return_diagnostics=True)
        self._add_diagnostics(stats)

    def _loss_from_outputs(self, outputs, labels, num_items_in_batch=None):
        """The unfused path: the loss of the model's logits."""
        loss_fn = self.ts2_loss
        target = shift_labels(labels, loss_fn.ignore_index)
        collect = self._collect_now()
        loss = loss_fn(outputs.logits, target, num_items_in_batch)
        if collect:
            self._add_diagnostics(token_diagnostics(outputs.logits.detach(), target, self._diagnostics_temperature,
                                                    loss_fn.ignore_index))
        return loss

    def _add_diagnostics(self, stats: dict) -> None:
        if not stats:
            return
        mode = self.model.training
        sums = self._diag_sums[mode]
        for key in DIAGNOSTICS:
            sums[key] = sums.get(key, 0.0) + float(stats[key].double().sum())
        self._diag_tokens[mode] += int(stats["ce"].numel())

    def log(self, logs: dict, *args, **kwargs) -> None:
        for training, (marker, prefix) in ((True, ("loss", "ts2/")), (False, ("eval_loss", "eval_ts2/"))):
            if self._diag_tokens[training] and marker in logs:
                for key in DIAGNOSTICS:
                    logs[prefix + key] = round(self._diag_sums[training][key] / self._diag_tokens[training], 5)
                self._diag_sums[training], self._diag_tokens[training] = {}, 0
        super().log(logs, *args, **kwargs)
