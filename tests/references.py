"""Independent reference implementations (autograd, entmax, float64) the tests compare against."""

from __future__ import annotations

import entmax
import torch
import torch.nn.functional as F


def finite(z: torch.Tensor) -> torch.Tensor:
    """Replace -inf (masked vocabulary) by a value far below every finite entry of its row.

    The authors' formulation multiplies p* by the logits (0 * -inf = nan); with the replacement it
    is defined and, in float64, identical in value and gradient to masking.
    """
    lowest = torch.where(torch.isinf(z), torch.inf, z).amin(-1, keepdim=True)
    return torch.where(torch.isinf(z), lowest - 1e4, z)


def authors_sparsemax_plus(logits, target, alpha=0.25, temperature=1.0, adaptive=False):
    """The authors' formulation (DESIGN §2) per row: entmax sparsemax + sparsemax_loss, softmax,
    mask ``sparsemax(z*T) == 0 & j != y``, out-of-support mass clamped at 0.99.

    logits [n, V] (autograd flows through it), target [n] valid labels.  Returns [n] losses.
    """
    z = finite(logits)
    u = z * temperature
    p_star = entmax.sparsemax(u, dim=-1)
    l_sm = entmax.sparsemax_loss(u, target)
    p = torch.softmax(z, dim=-1)
    cols = torch.arange(z.shape[-1], device=z.device)
    mask = (p_star == 0) & (cols[None, :] != target[:, None])
    m = (p * mask).sum(-1).clamp(max=0.99)
    l_sup = -torch.log(1 - m)
    weight = alpha * (1 - p_star.gather(1, target[:, None]).squeeze(1)).detach() if adaptive else alpha
    return l_sm + weight * l_sup


def naive_gem(logits, target, beta=0.7, h="linear"):
    """GEM as written in the paper: -sum_v q_v w_v (log p_y - log p_v), q and w detached."""
    log_p = F.log_softmax(logits, dim=-1)
    with torch.no_grad():
        q = torch.softmax(logits / beta, dim=-1)
        z_y = logits.gather(1, target[:, None])
        w = torch.ones_like(logits) if h == "linear" else torch.sigmoid(0.01 * (logits - z_y))
    log_p_y = log_p.gather(1, target[:, None])
    return -(q * w * (log_p_y - log_p)).sum(-1)


def naive_dft(logits, target):
    """DFT as TRL writes it: cross-entropy per token times p(target), the weight detached."""
    ce = F.cross_entropy(logits, target, reduction="none")
    return ce * torch.exp(-ce).detach()


def reduce_rows(per_row, target, ignore_index=-100, reduction="mean", num_items=None):
    """Apply the package's reduction rules to per-row losses computed for the valid rows only."""
    if reduction == "none":
        out = torch.zeros(target.numel(), dtype=per_row.dtype)
        out[(target.reshape(-1) != ignore_index)] = per_row
        return out.reshape(target.shape)
    total = per_row.sum()
    if num_items is not None:
        return total / num_items
    if reduction == "mean":
        return total / max(per_row.numel(), 1)
    return total


def reference_loss(name, logits, target, ignore_index=-100, reduction="mean", num_items=None, **params):
    """Reference for any registered loss on logits [..., V], with ignored positions skipped."""
    vocab = logits.shape[-1]
    flat_z = logits.reshape(-1, vocab)
    flat_y = target.reshape(-1)
    keep = flat_y != ignore_index
    z, y = flat_z[keep], flat_y[keep]
    if name == "ce":
        per_row = F.cross_entropy(z, y, reduction="none") if len(y) else z.sum(-1)
    elif name == "gem":
        per_row = naive_gem(z, y, **params)
    elif name == "dft":
        per_row = naive_dft(z, y) if len(y) else z.sum(-1)
    elif name == "sparsemax":
        per_row = authors_sparsemax_plus(z, y, alpha=0.0, **params)
    elif name == "ts2-adaptive":
        per_row = authors_sparsemax_plus(z, y, adaptive=True, **params)
    else:
        per_row = authors_sparsemax_plus(z, y, **params)
    return reduce_rows(per_row, target, ignore_index, reduction, num_items)


def loss_and_grad(fn, logits, *args, **kwargs):
    """(loss, d loss / d logits) of ``fn(logits, ...)`` summed to a scalar."""
    x = logits.detach().clone().requires_grad_(True)
    out = fn(x, *args, **kwargs)
    (grad,) = torch.autograd.grad(out.sum(), x, allow_unused=True)
    return out.detach(), (torch.zeros_like(x) if grad is None else grad)


def llm_like(n, vocab, scale=3.0, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, vocab, generator=g, dtype=dtype)
