"""ts2: fine-tuning language models with Sparsemax+ ("Training with Sparsemax+, Testing with Softmax").

The public surface:

- ``get_loss(name, **settings)``: a loss module by name ("ce", "sparsemax", "ts2", "ts2-adaptive",
  "gem", "dft"); ``loss(logits, labels)`` or, without materialising the logits,
  ``loss.fused(hidden, lm_head_weight, labels)``;
- ``SparsemaxPlusLoss``: the TS² loss as a torch module (``get_loss("ts2")``);
- ``sparsemax`` and ``sparsemax_threshold``;
- ``TS2Trainer`` (Transformers' Trainer) and ``TS2SFTTrainer`` (TRL's), and ``train`` (``ts2 train``
  from Python); these need the ``hf`` extra and are imported on first use.

The functional kernels (``sparsemax_plus_loss``, ``fused_linear_*_loss``, ``token_diagnostics``,
...) live in ``ts2.ops`` and the other loss modules in ``ts2.losses``; their old top-level names
still work for one release, with a FutureWarning.
"""

import importlib
import warnings

from .losses import SparsemaxPlusLoss, get_loss
from .ops import sparsemax, sparsemax_threshold

__version__ = "0.1.0"

_LAZY = {"TS2Trainer": "ts2.hf.trainer", "TS2SFTTrainer": "ts2.hf.trl"}
# Old top-level names -> the module that keeps them (deprecated here; removed in the next release)
_DEPRECATED = {name: "ts2.losses" for name in ("CrossEntropyLoss", "DFTLoss", "GEMLoss", "SparsemaxLoss")} | {
    name: "ts2.ops" for name in (
        "cross_entropy_loss", "dft_loss", "gem_loss", "sparsemax_loss", "sparsemax_plus_loss", "token_diagnostics",
        "fused_linear_cross_entropy_loss", "fused_linear_dft_loss", "fused_linear_gem_loss",
        "fused_linear_sparsemax_loss", "fused_linear_sparsemax_plus_loss")}


def train(*args, **settings):
    """Fine-tune a causal LM with a ts2 loss; see ``ts2.training.train`` (needs the ``hf`` extra)."""
    from .training import train as _train

    return _train(*args, **settings)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _DEPRECATED:
        home = _DEPRECATED[name]
        warnings.warn(f"ts2.{name} is deprecated and will be removed in the next release; use {home}.{name} "
                      f"(or ts2.get_loss(name) for a loss module)", FutureWarning, stacklevel=2)
        return getattr(importlib.import_module(home), name)
    raise AttributeError(f"module 'ts2' has no attribute {name!r}")


__all__ = ["SparsemaxPlusLoss", "TS2SFTTrainer", "TS2Trainer", "get_loss", "sparsemax", "sparsemax_threshold", "train"]
