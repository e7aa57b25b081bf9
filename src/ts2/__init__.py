"""ts2: fine-tuning language models with Sparsemax+ ("Training with Sparsemax+, Testing with Softmax")."""

from .losses import (
    CrossEntropyLoss,
    DFTLoss,
    GEMLoss,
    SparsemaxLoss,
    SparsemaxPlusLoss,
    get_loss,
)
from .ops import (
    cross_entropy_loss,
    dft_loss,
    fused_linear_cross_entropy_loss,
    fused_linear_dft_loss,
    fused_linear_gem_loss,
    fused_linear_sparsemax_loss,
    fused_linear_sparsemax_plus_loss,
    gem_loss,
    sparsemax,
    sparsemax_loss,
    sparsemax_plus_loss,
    sparsemax_threshold,
    token_diagnostics,
)

__version__ = "0.1.0"


def train(*args, **settings):
    """Fine-tune a causal LM with a ts2 loss; see ``ts2.training.train`` (needs the ``hf`` extra)."""
    from .training import train as _train

    return _train(*args, **settings)


__all__ = [
    "CrossEntropyLoss",
    "DFTLoss",
    "GEMLoss",
    "SparsemaxLoss",
    "SparsemaxPlusLoss",
    "cross_entropy_loss",
    "dft_loss",
    "fused_linear_cross_entropy_loss",
    "fused_linear_dft_loss",
    "fused_linear_gem_loss",
    "fused_linear_sparsemax_loss",
    "fused_linear_sparsemax_plus_loss",
    "gem_loss",
    "get_loss",
    "sparsemax",
    "sparsemax_loss",
    "sparsemax_plus_loss",
    "sparsemax_threshold",
    "token_diagnostics",
    "train",
]
