"""Transformers / TRL glue (needs the ``hf`` extra)."""

from .fused_forward import check_fused_support, enable_fused_loss
from .trainer import TS2Trainer, causal_lm_loss_func, shift_labels

__all__ = ["TS2Trainer", "causal_lm_loss_func", "check_fused_support", "enable_fused_loss", "shift_labels"]
