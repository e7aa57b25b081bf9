"""Losses on logits: torch-style functional API over the per-row kernels of ``row_kernels``.

All losses take logits [..., V] (any float dtype; arithmetic in float32) and integer targets [...],
skip positions equal to ``ignore_index`` and reduce with
    "mean": sum / (number of non-ignored positions)   (0 when every position is ignored)
    "sum":  sum
    "none": per-position losses in the target's shape, 0 at ignored positions
or, when ``num_items_in_batch`` is given (the HF Trainer's token count over the whole
gradient-accumulation window), sum / num_items_in_batch.  The result is float32.

The gradient is computed in the forward pass into one buffer the size of the logits (closed form,
no autograd graph over [N, V] intermediates); backward only rescales it when the incoming gradient
is not 1.
"""

from __future__ import annotations

import functools
from typing import Literal, overload

import torch

from . import row_kernels
from .driver import (
    RowsFn,
    check_choice,
    check_non_negative,
    check_positive,
    flatten_targets,
    reduction_weight,
    run_row_blocks,
)

GEM_WEIGHTINGS = ("linear", "logsigmoid")
Diagnostics = dict[str, torch.Tensor]


def ce_rows_fn() -> RowsFn:
    return RowsFn(row_kernels.ce_rows, overwrites_logits=True)


def dft_rows_fn() -> RowsFn:
    return RowsFn(row_kernels.dft_rows, overwrites_logits=True)


def sparsemax_plus_rows_fn(alpha: float = 0.25, temperature: float = 1.0, adaptive: bool = False) -> RowsFn:
    """Per-row Sparsemax+ kernel with validated hyper-parameters (alpha=0: the sparsemax loss)."""
    check_non_negative("alpha", alpha)
    check_positive("temperature", temperature)
    return RowsFn(functools.partial(row_kernels.sparsemax_plus_rows, alpha=float(alpha),
                                    temperature=float(temperature), adaptive=bool(adaptive)), overwrites_logits=True)


def gem_rows_fn(beta: float = 0.7, h: str = "linear") -> RowsFn:
    check_positive("beta", beta)
    check_choice("h", h, GEM_WEIGHTINGS)
    return RowsFn(functools.partial(row_kernels.gem_rows, beta=float(beta), h=h))


class _LogitsLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, target, rows_fn, ignore_index, reduction, num_items_in_batch, stats_out):
        if logits.dim() < 1 or logits.shape[-1] == 0:
            raise ValueError(f"logits must have a non-empty last (vocabulary) dimension, got shape "
                             f"{tuple(logits.shape)}")
        vocab = logits.shape[-1]
        scores = logits.reshape(-1, vocab)
        flat, rows = flatten_targets(target, logits.shape[:-1], vocab, ignore_index)
        num_valid = flat.numel() if rows is None else rows.numel()
        weight = reduction_weight(reduction, num_valid, num_items_in_batch, logits.device)
        grad = None
        if ctx.needs_input_grad[0]:
            grad = torch.empty_like(scores) if rows is None else torch.zeros_like(scores)
        grad_scale = weight if reduction != "none" else torch.ones((), device=logits.device)
        losses, stats = run_row_blocks(rows_fn, scores, flat, rows, grad, grad_scale,
                                       want_stats=stats_out is not None)
        if stats_out is not None:
            stats_out.update(stats)
        if reduction == "none":
            out = losses if rows is None else losses.new_zeros(flat.numel()).index_copy_(0, rows, losses)
            out = out.reshape(target.shape)
        else:
            out = losses.sum() * weight
        ctx.reduction = reduction
        ctx.logits_shape = logits.shape
        ctx.save_for_backward(grad)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        (grad,) = ctx.saved_tensors
        if grad is None:
            return (None,) * 7
        if ctx.reduction == "none":
            grad = grad * grad_out.reshape(-1, 1).to(grad.dtype)
        elif not bool(grad_out == 1):
            grad = grad * grad_out.to(grad.dtype)
        return grad.view(ctx.logits_shape), None, None, None, None, None, None


@overload
def logits_loss(rows_fn: RowsFn, logits: torch.Tensor, target: torch.Tensor, ignore_index: int = -100,
                reduction: str = "mean", num_items_in_batch: int | torch.Tensor | None = None,
                return_diagnostics: Literal[False] = False) -> torch.Tensor: ...


@overload
def logits_loss(rows_fn: RowsFn, logits: torch.Tensor, target: torch.Tensor, ignore_index: int = -100,
                reduction: str = "mean", num_items_in_batch: int | torch.Tensor | None = None, *,
                return_diagnostics: Literal[True]) -> tuple[torch.Tensor, Diagnostics]: ...


def logits_loss(rows_fn, logits, target, ignore_index=-100, reduction="mean", num_items_in_batch=None,
                return_diagnostics=False):
    """Run a per-row kernel over ``logits``; see the module docstring for the reductions.
    ``return_diagnostics=True`` returns ``(loss, stats)`` (``sparsemax_plus_loss``)."""
    stats = {} if return_diagnostics else None
    loss = _LogitsLoss.apply(logits, target, rows_fn, ignore_index, reduction, num_items_in_batch,
                             stats)
    return (loss, stats) if return_diagnostics else loss


def cross_entropy_loss(logits: torch.Tensor, target: torch.Tensor, ignore_index: int = -100,
                       reduction: str = "mean", num_items_in_batch: int | torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy with the same interface (and memory profile) as the other losses here; equals
    ``F.cross_entropy(logits.float().flatten(0, -2), target.flatten(), ignore_index=ignore_index,
    reduction=reduction)`` (tested), and ``.sum() / num_items_in_batch`` when that is given."""
    return logits_loss(ce_rows_fn(), logits, target, ignore_index, reduction, num_items_in_batch)


def sparsemax_loss(logits: torch.Tensor, target: torch.Tensor, temperature: float = 1.0, ignore_index: int = -100,
                   reduction: str = "mean", num_items_in_batch: int | torch.Tensor | None = None) -> torch.Tensor:
    """Sparsemax loss (Martins & Astudillo 2016) of u = temperature * logits:
    L = 1/2 + 1/2 sum_{j in S} (u_j^2 - tau^2) - u_y,  dL/dlogits = T (sparsemax(u) - e_y);
    equals ``entmax.sparsemax_loss(temperature * logits, target)`` per position (tested)."""
    return logits_loss(sparsemax_plus_rows_fn(0.0, temperature), logits, target, ignore_index,
                       reduction, num_items_in_batch)


@overload
def sparsemax_plus_loss(logits: torch.Tensor, target: torch.Tensor, alpha: float = 0.25, temperature: float = 1.0,
                        adaptive: bool = False, ignore_index: int = -100, reduction: str = "mean",
                        num_items_in_batch: int | torch.Tensor | None = None,
                        return_diagnostics: Literal[False] = False) -> torch.Tensor: ...


@overload
def sparsemax_plus_loss(logits: torch.Tensor, target: torch.Tensor, alpha: float = 0.25, temperature: float = 1.0,
                        adaptive: bool = False, ignore_index: int = -100, reduction: str = "mean",
                        num_items_in_batch: int | torch.Tensor | None = None, *,
                        return_diagnostics: Literal[True]) -> tuple[torch.Tensor, Diagnostics]: ...


def sparsemax_plus_loss(logits, target, alpha=0.25, temperature=1.0, adaptive=False, ignore_index=-100,
                        reduction="mean", num_items_in_batch=None, return_diagnostics=False):
    """Sparsemax+ (TS²):  L = L_sm(T z, y) + alpha * L_sup(z, y)  per position.

    L_sup = -log(1 - min(m, 0.99)), m = softmax(z) mass outside supp(sparsemax(T z)) ∪ {y}.
    ``adaptive`` weights L_sup by alpha * (1 - sparsemax(T z)_y) (detached).
    With ``alpha=0`` it equals ``sparsemax_loss(logits, target, temperature)``.
    With ``return_diagnostics`` also returns a dict of [M] float32 tensors over the M
    non-ignored positions: support_size, out_of_support_mass, clamped, entropy, ce.
    """
    return logits_loss(sparsemax_plus_rows_fn(alpha, temperature, adaptive), logits, target,
                       ignore_index, reduction, num_items_in_batch, return_diagnostics)


def dft_loss(logits: torch.Tensor, target: torch.Tensor, ignore_index: int = -100, reduction: str = "mean",
             num_items_in_batch: int | torch.Tensor | None = None) -> torch.Tensor:
    """Dynamic Fine-Tuning: -sg(p_y) log p_y per token (cross-entropy weighted by the detached
    probability of the target; TRL's ``loss_type="dft"``)."""
    return logits_loss(dft_rows_fn(), logits, target, ignore_index, reduction, num_items_in_batch)


def gem_loss(logits: torch.Tensor, target: torch.Tensor, beta: float = 0.7, h: str = "linear",
             ignore_index: int = -100, reduction: str = "mean",
             num_items_in_batch: int | torch.Tensor | None = None) -> torch.Tensor:
    """GEM (Li et al., ICLR 2025): -sum_v q_v w_v (log p_y - log p_v), q = softmax(z/beta) detached,
    w_v = 1 (``h="linear"``) or sigmoid(0.01 (z_v - z_y)) (``h="logsigmoid"``)."""
    return logits_loss(gem_rows_fn(beta, h), logits, target, ignore_index, reduction,
                       num_items_in_batch)


def token_diagnostics(logits: torch.Tensor, target: torch.Tensor, temperature: float = 1.0,
                      ignore_index: int = -100) -> Diagnostics:
    """Per-token diagnostics of the non-ignored positions, without gradients or [N, V] tensors.

    Returns a dict of [M] float32 tensors: support_size (|supp sparsemax(T z)|),
    out_of_support_mass (softmax mass m outside support ∪ {y}, unclamped), clamped (m > 0.99),
    entropy (of softmax(z)), ce (cross-entropy of softmax(z)).
    """
    with torch.no_grad():
        _, stats = sparsemax_plus_loss(logits, target, alpha=0.0, temperature=temperature,
                                       ignore_index=ignore_index, return_diagnostics=True)
    return stats
