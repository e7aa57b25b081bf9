"""Chunked fused linear + loss: the [N, V] logits never exist.

For hidden states h [N, d], output embedding W [V, d] and optional bias b [V], the loss of
logits = h W^T + b is computed chunk by chunk over the (non-ignored) rows:

    logits_c = h_c W^T + b               [C, V]   (C = chunk_size rows)
    loss_c, G_c = rows_fn(logits_c, y_c)  G_c = reduction_weight * d loss / d logits_c  (closed form)
    dh_c = G_c W,   dW += G_c^T h_c,   db += sum_rows G_c

all inside forward, so peak extra memory is O(C V) (one float32 [C, V] buffer, reused: the kernel
turns the logits into their gradient in place where it can, else a second buffer) plus the
gradients of h, W and b themselves.  Any per-row kernel of
``row_kernels`` plugs in; there is one chunking mechanism for every loss.  The softmax/sparsemax
arithmetic is float32 even for bf16/fp16 inputs; the matmuls run in the inputs' dtype.

Only scalar reductions ("mean", "sum", or sum / num_items_in_batch) are supported: per-row
losses would need their weights before dW can be accumulated.
"""

from __future__ import annotations

import torch

from .driver import compute_dtype, flatten_targets, reduction_weight, run_row_blocks
from .functional import RowsFn, ce_rows_fn, dft_rows_fn, gem_rows_fn, sparsemax_plus_rows_fn

Tensor = torch.Tensor

# Rows per chunk.  Every chunk re-reads and re-writes all of grad W ([V, d]) while its matmuls cost
# chunk * V * d, so the overhead ratio depends on the rows per chunk, not on V: on this 2-core CPU
# 130-row chunks at V=128256 took 1.4x the time of the unchunked CE path.  Peak extra memory is
# one [chunk, V] float32 buffer (two for GEM or bf16 inputs): 4 * chunk * V bytes, 0.5 GiB at
# V=128256, whatever N is.
DEFAULT_CHUNK_ROWS = 1024


class _FusedLinearLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, bias, target, rows_fn, ignore_index, reduction,
                num_items_in_batch, chunk_size, stats_out):
        if reduction == "none":
            raise ValueError("fused linear losses support reduction='mean' or 'sum', got "
                             "reduction='none' (compute logits and use the unfused loss instead)")
        if weight.dim() != 2 or hidden.shape[-1] != weight.shape[1]:
            raise ValueError(f"hidden shape {tuple(hidden.shape)} and weight shape "
                             f"{tuple(weight.shape)} do not match: expected hidden [..., d] and "
                             f"weight [V, d]")
        vocab, dim = weight.shape
        if bias is not None and tuple(bias.shape) != (vocab,):
            raise ValueError(f"bias shape {tuple(bias.shape)} does not match weight: expected ({vocab},)")
        if chunk_size is None:
            chunk_size = DEFAULT_CHUNK_ROWS
        if int(chunk_size) < 1:
            raise ValueError(f"chunk_size must be >= 1, got chunk_size={chunk_size!r}")
        h2 = hidden.reshape(-1, dim)
        flat, rows = flatten_targets(target, hidden.shape[:-1], vocab, ignore_index, what="hidden")
        count = flat.numel() if rows is None else rows.numel()
        scale = reduction_weight(reduction, count, num_items_in_batch, hidden.device)
        need_h, need_w, need_b = ctx.needs_input_grad[:3]
        need_grad = need_h or need_w or need_b
        grad_h = torch.zeros_like(h2) if need_h else None
        # grad W is written by the first chunk's matmul and accumulated into after; zeros only if
        # every row is ignored (no chunk at all).
        grad_w = (torch.empty_like(weight) if count else torch.zeros_like(weight)) if need_w else None
        compute = compute_dtype(h2.dtype)
        grad_b = torch.zeros(vocab, dtype=compute, device=hidden.device) if need_b else None
        total = torch.zeros((), dtype=compute, device=hidden.device)
        logits_buf = grad_buf = None
        overwrite = (rows_fn.overwrites_logits and stats_out is None
                     and h2.dtype == compute)
        for start in range(0, count, chunk_size):
            stop = min(start + chunk_size, count)
            idx = None if rows is None else rows[start:stop]
            h_c = h2[start:stop] if idx is None else h2.index_select(0, idx)
            y_c = flat[start:stop] if idx is None else flat.index_select(0, idx)
            if logits_buf is None:
                logits_buf = torch.empty(min(chunk_size, count), vocab, dtype=h2.dtype, device=h2.device)
                if need_grad and overwrite:
                    grad_buf = logits_buf  # the kernel turns the logits into their gradient in place
                elif need_grad:
                    grad_buf = torch.empty(logits_buf.shape, dtype=compute, device=h2.device)
            logits_c = logits_buf[: stop - start]
            if bias is None:
                torch.mm(h_c, weight.t(), out=logits_c)
            else:
                torch.addmm(bias, h_c, weight.t(), out=logits_c)
            grad_c = grad_buf[: stop - start] if need_grad else None
            losses, stats = run_row_blocks(rows_fn, logits_c, y_c, None, grad_c, scale,
                                           want_stats=stats_out is not None)
            total += losses.sum()
            if stats_out is not None:
                for key, val in stats.items():
                    stats_out.setdefault(key, []).append(val)
            if not need_grad:
                continue
            grad_mm = grad_c if grad_c.dtype == weight.dtype else grad_c.to(weight.dtype)
            if need_h:
                if idx is None:
                    torch.mm(grad_mm, weight, out=grad_h[start:stop])
                else:
                    grad_h.index_copy_(0, idx, grad_mm @ weight)
            if need_w:
                if start == 0:
                    torch.mm(grad_mm.t(), h_c.to(weight.dtype), out=grad_w)
                else:
                    grad_w.addmm_(grad_mm.t(), h_c.to(weight.dtype))
            if need_b:
                grad_b += grad_c.sum(0)
        if stats_out is not None:
            for key in list(stats_out):
                stats_out[key] = torch.cat(stats_out[key])
        ctx.hidden_shape = hidden.shape
        ctx.save_for_backward(grad_h, grad_w, None if grad_b is None else grad_b.to(bias.dtype))
        return total * scale

    @staticmethod
    def backward(ctx, grad_out):
        grads = list(ctx.saved_tensors)
        if not bool(grad_out == 1):
            grads = [None if g is None else g * grad_out.to(g.dtype) for g in grads]
        grad_h, grad_w, grad_b = grads
        if grad_h is not None:
            grad_h = grad_h.view(ctx.hidden_shape)
        return (grad_h, grad_w, grad_b) + (None,) * 7


def fused_linear_loss(rows_fn: RowsFn, hidden: Tensor, weight: Tensor, target: Tensor, bias: Tensor | None = None,
                      ignore_index: int = -100, reduction: str = "mean", num_items_in_batch: int | Tensor | None = None,
                      chunk_size: int | None = None,
                      return_diagnostics: bool = False) -> Tensor | tuple[Tensor, dict[str, Tensor]]:
    """Loss of ``hidden @ weight.T + bias`` against ``target`` without materialising the logits.

    hidden [..., d], weight [V, d], bias [V] or None, target [...] (same leading shape).
    """
    stats = {} if return_diagnostics else None
    device = hidden.device.type
    if torch.is_autocast_enabled(device):
        # As nn.Linear under autocast: the matmuls take the autocast dtype.  The function itself runs
        # with autocast off, so that its own buffers and matmuls keep one dtype (the row arithmetic
        # stays float32, see compute_dtype); autograd casts the gradients back to each input's dtype.
        low = torch.get_autocast_dtype(device)
        hidden, weight = hidden.to(low), weight.to(low)
        bias = None if bias is None else bias.to(low)
        with torch.autocast(device, enabled=False):
            loss = _FusedLinearLoss.apply(hidden, weight, bias, target, rows_fn, ignore_index, reduction,
                                          num_items_in_batch, chunk_size, stats)
    else:
        loss = _FusedLinearLoss.apply(hidden, weight, bias, target, rows_fn, ignore_index, reduction,
                                      num_items_in_batch, chunk_size, stats)
    return (loss, stats) if return_diagnostics else loss


def fused_linear_cross_entropy_loss(hidden: Tensor, weight: Tensor, target: Tensor, bias: Tensor | None = None,
                                    ignore_index: int = -100, reduction: str = "mean",
                                    num_items_in_batch: int | Tensor | None = None,
                                    chunk_size: int | None = None) -> Tensor:
    return fused_linear_loss(ce_rows_fn(), hidden, weight, target, bias, ignore_index, reduction,
                             num_items_in_batch, chunk_size)


def fused_linear_sparsemax_loss(hidden: Tensor, weight: Tensor, target: Tensor, bias: Tensor | None = None,
                                temperature: float = 1.0, ignore_index: int = -100, reduction: str = "mean",
                                num_items_in_batch: int | Tensor | None = None,
                                chunk_size: int | None = None) -> Tensor:
    return fused_linear_loss(sparsemax_plus_rows_fn(0.0, temperature), hidden, weight, target, bias,
                             ignore_index, reduction, num_items_in_batch, chunk_size)


def fused_linear_sparsemax_plus_loss(hidden: Tensor, weight: Tensor, target: Tensor, bias: Tensor | None = None,
                                     alpha: float = 0.25, temperature: float = 1.0, adaptive: bool = False,
                                     ignore_index: int = -100, reduction: str = "mean",
                                     num_items_in_batch: int | Tensor | None = None, chunk_size: int | None = None,
                                     return_diagnostics: bool = False) -> Tensor | tuple[Tensor, dict[str, Tensor]]:
    return fused_linear_loss(sparsemax_plus_rows_fn(alpha, temperature, adaptive), hidden, weight,
                             target, bias, ignore_index, reduction, num_items_in_batch, chunk_size,
                             return_diagnostics)


def fused_linear_gem_loss(hidden: Tensor, weight: Tensor, target: Tensor, bias: Tensor | None = None,
                          beta: float = 0.7, h: str = "linear", ignore_index: int = -100, reduction: str = "mean",
                          num_items_in_batch: int | Tensor | None = None, chunk_size: int | None = None) -> Tensor:
    return fused_linear_loss(gem_rows_fn(beta, h), hidden, weight, target, bias, ignore_index,
                             reduction, num_items_in_batch, chunk_size)


def fused_linear_dft_loss(hidden: Tensor, weight: Tensor, target: Tensor, bias: Tensor | None = None,
                          ignore_index: int = -100, reduction: str = "mean",
                          num_items_in_batch: int | Tensor | None = None, chunk_size: int | None = None) -> Tensor:
    return fused_linear_loss(dft_rows_fn(), hidden, weight, target, bias, ignore_index, reduction,
                             num_items_in_batch, chunk_size)
