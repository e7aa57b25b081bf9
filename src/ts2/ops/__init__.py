"""Torch-only kernels: sparsemax, closed-form losses, chunked fused linear losses."""

from .functional import (
    cross_entropy_loss,
    dft_loss,
    gem_loss,
    logits_loss,
    sparsemax_loss,
    sparsemax_plus_loss,
    token_diagnostics,
)
from .fused_linear import (
    fused_linear_cross_entropy_loss,
    fused_linear_dft_loss,
    fused_linear_gem_loss,
    fused_linear_loss,
    fused_linear_sparsemax_loss,
    fused_linear_sparsemax_plus_loss,
)
from .sparsemax import sparsemax, sparsemax_threshold

__all__ = [
    "cross_entropy_loss",
    "dft_loss",
    "fused_linear_cross_entropy_loss",
    "fused_linear_dft_loss",
    "fused_linear_gem_loss",
    "fused_linear_loss",
    "fused_linear_sparsemax_loss",
    "fused_linear_sparsemax_plus_loss",
    "gem_loss",
    "logits_loss",
    "sparsemax",
    "sparsemax_loss",
    "sparsemax_plus_loss",
    "sparsemax_threshold",
    "token_diagnostics",
]
