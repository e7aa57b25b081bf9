"""Transformers / TRL glue (needs the ``hf`` extra).

The names below are imported on first use, so that the light modules of this package
(``ts2.hf.deepspeed``, ``ts2.hf.gguf``) can be imported without loading transformers.
"""

import importlib

_EXPORTS = {"TS2Trainer": "trainer", "causal_lm_loss_func": "trainer", "shift_labels": "trainer",
            "check_fused_support": "fused_forward", "enable_fused_loss": "fused_forward"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ts2.hf' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
