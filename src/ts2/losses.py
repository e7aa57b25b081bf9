"""Loss modules and the name -> loss registry ("ce", "sparsemax", "ts2", "ts2-adaptive", "gem", "dft").

Every module computes the same loss two ways:
    module(logits, target)                 logits [..., V], target [...]
    module.fused(hidden, weight, target)   logits = hidden @ weight.T (+ bias), never materialised
with ``ignore_index`` / ``reduction`` / ``num_items_in_batch`` as in ``ts2.ops.functional``.
"""

from __future__ import annotations

import torch
from torch import nn

from .ops.driver import REDUCTIONS, check_choice
from .ops.functional import ce_rows_fn, dft_rows_fn, gem_rows_fn, logits_loss, sparsemax_plus_rows_fn
from .ops.fused_linear import fused_linear_loss


class RowLoss(nn.Module):
    """Base of the loss modules: a validated per-row kernel plus the two entry points."""

    def __init__(self, rows_fn, ignore_index: int = -100, reduction: str = "mean",
                 chunk_size: int | None = None, params: dict | None = None):
        super().__init__()
        check_choice("reduction", reduction, REDUCTIONS)
        self.rows_fn = rows_fn
        self.params = dict(params or {})  # the loss's own settings (alpha, temperature, beta, ...)
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.chunk_size = chunk_size

    def forward(self, logits: torch.Tensor, target: torch.Tensor, num_items_in_batch=None,
                return_diagnostics: bool = False):
        return logits_loss(self.rows_fn, logits, target, self.ignore_index, self.reduction,
                           num_items_in_batch, return_diagnostics)

    def fused(self, hidden: torch.Tensor, weight: torch.Tensor, target: torch.Tensor, bias=None,
              num_items_in_batch=None, return_diagnostics: bool = False):
        return fused_linear_loss(self.rows_fn, hidden, weight, target, bias, self.ignore_index,
                                 self.reduction, num_items_in_batch, self.chunk_size,
                                 return_diagnostics)

    @property
    def temperature(self) -> float:
        """The temperature the loss scales logits by (1.0 for losses without one)."""
        return self.params.get("temperature", 1.0)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in {**self.params, "reduction": self.reduction}.items())


class CrossEntropyLoss(RowLoss):
    """Cross-entropy (same values as torch's), with the fused path and low memory of this package."""

    def __init__(self, **kwargs):
        super().__init__(ce_rows_fn(), **kwargs)


class DFTLoss(RowLoss):
    """Dynamic Fine-Tuning (Wu et al. 2025): cross-entropy weighted by the detached p(target)."""

    def __init__(self, **kwargs):
        super().__init__(dft_rows_fn(), **kwargs)


class SparsemaxLoss(RowLoss):
    """Sparsemax loss of temperature * logits (Sparsemax+ with alpha = 0)."""

    def __init__(self, temperature: float = 1.0, **kwargs):
        super().__init__(sparsemax_plus_rows_fn(0.0, temperature), params={"temperature": temperature}, **kwargs)


class SparsemaxPlusLoss(RowLoss):
    """Sparsemax+ (TS²): sparsemax loss + alpha * suppression of off-support softmax mass."""

    def __init__(self, alpha: float = 0.25, temperature: float = 1.0, adaptive: bool = False, **kwargs):
        super().__init__(sparsemax_plus_rows_fn(alpha, temperature, adaptive), **kwargs,
                         params={"alpha": alpha, "temperature": temperature, "adaptive": adaptive})


class GEMLoss(RowLoss):
    """GEM (Li et al., ICLR 2025) with q = softmax(z / beta) and weighting ``h``."""

    def __init__(self, beta: float = 0.7, h: str = "linear", **kwargs):
        super().__init__(gem_rows_fn(beta, h), params={"beta": beta, "h": h}, **kwargs)


LOSSES = {
    "ce": CrossEntropyLoss,
    "sparsemax": SparsemaxLoss,
    "ts2": SparsemaxPlusLoss,
    "ts2-adaptive": lambda **kw: SparsemaxPlusLoss(adaptive=True, **kw),
    "gem": GEMLoss,
    "dft": DFTLoss,
}
# The settings each loss takes besides ignore_index / reduction / chunk_size (`ts2 train` flags).
LOSS_SETTINGS = {"ce": (), "sparsemax": ("temperature",), "ts2": ("alpha", "temperature"),
                 "ts2-adaptive": ("alpha", "temperature"), "gem": ("beta", "h"), "dft": ()}


def get_loss(name: str, **kwargs) -> RowLoss:
    """Loss module by name: "ce", "sparsemax", "ts2", "ts2-adaptive", "gem" or "dft".

    Keyword arguments go to the module (e.g. alpha, temperature, beta, h, ignore_index, reduction,
    chunk_size); an argument the loss does not take is a ValueError naming it.
    """
    check_choice("loss name", name, LOSSES)
    try:
        return LOSSES[name](**kwargs)
    except TypeError as exc:
        raise ValueError(f"bad argument for loss {name!r}: {exc}") from exc
