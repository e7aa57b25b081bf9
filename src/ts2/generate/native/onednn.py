"""Linears computed by oneDNN from weights reordered once: the only module that names torch's
private oneDNN operators.

``packed_linears(model)``: while sampling, every plain ``nn.Linear`` of a float32 / bfloat16 model on
the CPU computes ``x W^T + b`` with ``torch.ops.mkldnn._linear_pointwise`` from a weight reordered
once into oneDNN's blocked layout (``torch.ops.mkldnn._reorder_linear_weight``), instead of MKL's
GEMM on the plain weight each call.  At 128 rows and SmolLM2's shapes it took 0.41 against
0.56 ms (576 x 576), 1.21 against 1.65 ms (576 x 1536) and 37 against 80 ms (the LM head),
float32.  Every row's result is also independent of how many rows share the call (checked for 1
to 2,000 rows in both dtypes), where MKL's float32 GEMM differs between 1-3 rows and more.

These operators are private to torch, so nothing here may stop sampling:
- ``works(dtype)`` checks once per dtype that both exist and agree with ``F.linear`` on a small
  product (oneDNN's bfloat16 path needs AVX512 or AVX-NE-CONVERT and raises without them);
- a failure while reordering a model's weights, or in a forward, switches back to ``F.linear``
  with one warning;
- the forwards are patched inside ``try`` and restored on any exit;
- ``TS2_ONEDNN=0`` in the environment (or ``Runtime(onednn=False)``) turns it off.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os

import torch
import torch.nn.functional as F

logger = logging.getLogger("ts2.sampler")

ENV = "TS2_ONEDNN"
_ROWS_HINT = 128  # the rows the layout is tuned for; any number of rows gives the same result
_PACKED = "_ts2_packed_linears"


def _reorder(weight: torch.Tensor) -> torch.Tensor:
    return torch.ops.mkldnn._reorder_linear_weight(weight, _ROWS_HINT)


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


def wanted(requested: bool = True) -> bool:
    """Whether the caller and the environment allow the oneDNN linears (``TS2_ONEDNN`` 0/false/off
    turns them off)."""
    return requested and os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "off", "no")


@functools.cache
def works(dtype: torch.dtype) -> bool:
    """Whether oneDNN reorders and multiplies a ``dtype`` weight on this CPU and agrees with
    ``F.linear`` (one warning when not)."""
    gen = torch.Generator().manual_seed(0)
    weight, x = torch.randn(24, 16, generator=gen).to(dtype), torch.randn(3, 16, generator=gen).to(dtype)
    try:
        if not torch.backends.mkldnn.is_available():
            raise RuntimeError("torch was built without oneDNN")
        out = _linear(x, _reorder(weight), None)
        tol = 1e-4 if dtype == torch.float32 else 5e-2
        if out.shape != (3, 24) or not torch.allclose(out.float(), F.linear(x, weight).float(), rtol=tol, atol=tol):
            raise RuntimeError("its result differs from F.linear's")
    except Exception as exc:  # a private operator: anything it raises means "not here"
        _warn_fallback(dtype, exc)
        return False
    return True


def _warn_fallback(dtype: torch.dtype, exc: BaseException) -> None:
    logger.warning("oneDNN's %s linears are not usable here (%s); sampling uses F.linear",
                   str(dtype).removeprefix("torch."), str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


@contextlib.contextmanager
def packed_linears(model, enabled: bool = True):
    """While the block runs, every plain ``nn.Linear`` of ``model`` computes ``x W^T + b`` from its
    oneDNN-reordered weight, when ``enabled``, the environment allows it, the model is float32 or
    bfloat16 on the CPU and oneDNN works there; yields whether it does.  The reordered weights are
    kept on the model (as much memory again as its linear weights) and made again only for a
    weight that changed since."""
    usable = (wanted(enabled) and model.device.type == "cpu" and model.dtype in (torch.float32, torch.bfloat16)
              and works(model.dtype))
    # a module whose forward is already replaced on the instance (an accelerate hook) keeps it
    modules = [m for m in model.modules() if type(m) is torch.nn.Linear and m.weight.dtype == model.dtype
               and "forward" not in m.__dict__] if usable else []
    switched = usable and _pack(model, modules)
    try:
        if switched:
            failed = []  # shared by every forward: the first failure switches them all back
            packed = model.__dict__[_PACKED]
            for module in modules:
                module.forward = _packed_forward(module, packed[module][1], failed)
        yield switched
    finally:
        if switched:
            for module in modules:
                module.__dict__.pop("forward", None)


def _pack(model, modules) -> bool:
    """Reorder every weight of ``modules`` that changed since it was last reordered (every one
    before any forward is switched); False, with one warning, when oneDNN refuses one."""
    packed = model.__dict__.setdefault(_PACKED, {})
    try:
        for module in modules:
            weight = module.weight
            # a weight edited in place keeps its pointer but bumps its version counter
            stamp = (weight.data_ptr(), getattr(weight, "_version", None), tuple(weight.shape))
            if stamp[1] is None or packed.get(module, (None,))[0] != stamp:
                packed[module] = (stamp, _reorder(weight.detach()))
    except Exception as exc:  # a private operator: anything it raises means "not for this model"
        _warn_fallback(model.dtype, exc)
        model.__dict__.pop(_PACKED, None)
        return False
    return True


def _packed_forward(module: torch.nn.Linear, weight: torch.Tensor, failed: list):
    bias = None if module.bias is None else module.bias.detach()

    def forward(x: torch.Tensor) -> torch.Tensor:
        if not failed:
            try:
                return _linear(x, weight, bias)
            except Exception as exc:  # a private operator: fall back for the rest of the block
                failed.append(exc)
                _warn_fallback(weight.dtype, exc)
        return F.linear(x, module.weight, module.bias)

    return forward
