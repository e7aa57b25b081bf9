"""Argument checks, reductions and the row-block loop shared by the logits and fused-linear paths.

A per-row loss (see ``row_kernels``) is run over small blocks of rows so that its temporaries stay
in cache; the gradient is computed in the forward pass straight into one [N, V] buffer (the only
full-size allocation), already multiplied by the reduction weight, so backward is a no-op for the
usual scalar loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

REDUCTIONS = ("mean", "sum", "none")
# Rows per block: about this many elements (16 MiB in float32).  Larger blocks amortise the
# per-op overhead (measured: 4x fewer elements was 1.2-1.6x slower at V=128256).
BLOCK_ELEMENTS = 1 << 22


def check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {name}={value!r}")


def check_non_negative(name: str, value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {name}={value!r}")


def check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {name}={value!r}")


def flatten_targets(target: torch.Tensor, lead_shape: torch.Size, vocab: int, ignore_index: int,
                    what: str = "logits"):
    """Check ``target`` against the leading shape of the scores; return it flat with valid rows.

    Returns (target [N] int64, valid_rows [M] int64 or None when every row is valid).
    """
    if target.dtype.is_floating_point or target.dtype == torch.bool:
        raise ValueError(f"target must be an integer tensor, got target.dtype={target.dtype}")
    if tuple(target.shape) != tuple(lead_shape):
        raise ValueError(f"target shape {tuple(target.shape)} does not match {what} shape "
                         f"{tuple(lead_shape)} without its last (vocabulary) dimension")
    flat = target.reshape(-1).long()
    ignored = flat == ignore_index
    bad = ~ignored & ((flat < 0) | (flat >= vocab))
    if bool(bad.any()):
        pos = int(bad.nonzero()[0, 0])
        raise ValueError(f"target has value {int(flat[pos])} at flat position {pos}; targets must "
                         f"be in [0, {vocab}) or equal ignore_index={ignore_index}")
    if bool(ignored.any()):
        return flat, (~ignored).nonzero().squeeze(1)
    return flat, None


def reduction_weight(reduction: str, num_valid: int, num_items_in_batch, device) -> torch.Tensor:
    """Scalar w with loss = w * sum of per-row losses (mean: 1/num_valid; sum: 1)."""
    check_choice("reduction", reduction, REDUCTIONS)
    if num_items_in_batch is not None:
        if reduction == "none":
            raise ValueError("num_items_in_batch only makes sense with reduction='mean' or 'sum', "
                             "got reduction='none'")
        count = torch.as_tensor(num_items_in_batch, dtype=torch.float32, device=device)
        return 1.0 / count
    if reduction == "mean":
        return torch.tensor(1.0 / max(num_valid, 1), device=device)
    return torch.tensor(1.0, device=device)


@dataclass(frozen=True)
class RowsFn:
    """A per-row kernel of ``row_kernels`` with its settings bound:
    ``kernel(z, y, grad, grad_scale, want_stats) -> (loss, stats)``.  ``overwrites_logits``: the
    kernel may write the gradient into the buffer that holds ``z`` (the fused path then keeps one
    chunk buffer instead of two)."""

    kernel: Callable[..., tuple]
    overwrites_logits: bool = False

    def __call__(self, *args, **kwargs) -> tuple:
        return self.kernel(*args, **kwargs)


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32 arithmetic for every input dtype except float64 (kept for gradcheck and references)."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def run_row_blocks(rows_fn: RowsFn, scores: torch.Tensor, target: torch.Tensor,
                   rows: torch.Tensor | None, grad: torch.Tensor | None, grad_scale,
                   want_stats: bool = False, block_rows: int | None = None):
    """Apply ``rows_fn`` to the rows ``rows`` (all rows when None) of ``scores`` [N, V].

    The gradient of row r, times the scalar tensor ``grad_scale``, goes to ``grad[r]`` (any
    dtype; computed in float32, or float64 for float64 scores).
    Returns per-row losses [M] and stats (dict of [M] tensors, empty unless ``want_stats``).
    """
    vocab = scores.shape[1]
    count = scores.shape[0] if rows is None else rows.numel()
    block = block_rows or max(1, BLOCK_ELEMENTS // vocab)
    device = scores.device
    compute = compute_dtype(scores.dtype)
    grad_scale = grad_scale.to(compute)
    losses = torch.empty(count, dtype=compute, device=device)
    stats: dict[str, torch.Tensor] = {}
    direct = grad is not None and grad.dtype == compute and rows is None
    scratch = None
    for start in range(0, count, block):
        stop = min(start + block, count)
        if rows is None:
            z, y = scores[start:stop], target[start:stop]
            idx = None
        else:
            idx = rows[start:stop]
            z, y = scores.index_select(0, idx), target.index_select(0, idx)
        z = z.to(compute)
        if grad is None:
            g = None
        elif direct:
            g = grad[start:stop]
        else:
            if scratch is None or scratch.shape[0] < stop - start:
                scratch = torch.empty(block, vocab, dtype=compute, device=device)
            g = scratch[: stop - start]
        loss, row_stats = rows_fn(z, y, g, grad_scale, want_stats)
        losses[start:stop] = loss
        if g is not None and not direct:
            if idx is None:
                grad[start:stop] = g
            else:
                grad.index_copy_(0, idx, g.to(grad.dtype))
        if want_stats:
            for key, val in row_stats.items():
                stats.setdefault(key, torch.empty(count, dtype=val.dtype, device=device))[start:stop] = val
    return losses, stats
