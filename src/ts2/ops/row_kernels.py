"""Per-row losses with closed-form gradients, on float32 row blocks.

Every function here has the signature

    rows_fn(z, y, grad, grad_scale, want_stats) -> (loss, stats)

    z:          [n, V] float32 logits of n non-ignored positions (read only)
    y:          [n] int64 targets, all valid (0 <= y < V)
    grad:       [n, V] float32 output buffer for grad_scale[i] * d loss_i / d z_i, or None
                when no gradient is needed (then nothing is written)
    grad_scale: 0-dim float32 tensor folded into the gradient (the reduction weight)
    want_stats: also return per-row diagnostics (dict of [n] tensors), else None

    loss:       [n] float32 per-row loss

They allocate nothing of size [n, V] except where noted, so that a caller looping over small row
blocks keeps the temporaries in cache; the only full-size buffer is the caller's ``grad``.
ce_rows and sparsemax_plus_rows read ``z`` only before they write ``grad``, so without stats
``grad`` may be ``z`` itself (the fused path then needs one [chunk, V] buffer, not two); their
factories mark this with ``RowsFn.overwrites_logits``.
Entries equal to -inf (masked vocabulary) are handled: they get zero probability and gradient.
"""

from __future__ import annotations

import math

import torch

from .sparsemax import partition_by_support

LOG_100 = math.log(100.0)  # -log(1 - 0.99): the suppression term's clamp


def _row_dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """sum_j a_ij * b_ij without an [n, V] temporary (bmm: ~1e-5 relative error in float32,
    enough for diagnostics, not for losses)."""
    return torch.bmm(a.unsqueeze(1), b.unsqueeze(2)).view(-1)


def _exp_shifted(z: torch.Tensor, shift: torch.Tensor, out: torch.Tensor | None, scale: float = 1.0):
    """out = exp(scale * (z - shift)), and its row sums. ``out`` may be None (then allocated)."""
    out = torch.sub(z, shift.unsqueeze(1), out=out) if out is not None else z - shift.unsqueeze(1)
    if scale != 1.0:
        out.mul_(scale)
    out.exp_()
    return out, out.sum(1)


def _softmax(z: torch.Tensor, argmax: torch.Tensor, out: torch.Tensor | None):
    """out = softmax(z) (one fused kernel; ``out`` may be ``z`` itself or None) and the row sums
    s = sum_j exp(z_j - max z), recovered as 1 / softmax(z)[argmax] (there exp(0) = 1).
    ``argmax`` must be computed before the call when ``out`` is ``z``."""
    out = torch.softmax(z, 1, out=out) if out is not None else torch.softmax(z, 1)
    return out, 1.0 / out.gather(1, argmax.unsqueeze(1)).squeeze(1)


def _sub_at_target(grad: torch.Tensor, y: torch.Tensor, value: torch.Tensor) -> None:
    grad.scatter_add_(1, y.unsqueeze(1), -value.expand(y.shape).unsqueeze(1))


def ce_rows(z, y, grad, grad_scale, want_stats=False):
    """Cross-entropy  L = logsumexp(z) - z_y ;  dL/dz = softmax(z) - e_y."""
    z_max, argmax = z.max(1)
    z_y = z.gather(1, y.unsqueeze(1)).squeeze(1)
    _, sum_exp = _softmax(z, argmax, grad)
    loss = sum_exp.log() + (z_max - z_y)  # z_max - z_y first: exact for huge logits
    if grad is not None:
        grad.mul_(grad_scale)
        _sub_at_target(grad, y, grad_scale)
    return loss, None


def dft_rows(z, y, grad, grad_scale, want_stats=False):
    """Dynamic Fine-Tuning (Wu et al. 2025; TRL ``loss_type="dft"``): cross-entropy weighted by the
    detached target probability,  L = sg(p_y) (logsumexp(z) - z_y);  dL/dz = p_y (softmax(z) - e_y)."""
    z_max, argmax = z.max(1)
    z_y = z.gather(1, y.unsqueeze(1)).squeeze(1)
    probs, sum_exp = _softmax(z, argmax, grad)
    p_y = (z_y - z_max).exp() / sum_exp
    loss = p_y * (sum_exp.log() + (z_max - z_y))
    if grad is not None:
        weight = grad_scale * p_y
        probs.mul_(weight.unsqueeze(1))
        _sub_at_target(probs, y, weight)
    return loss, None


def sparsemax_plus_rows(z, y, grad, grad_scale, want_stats=False, *, alpha=0.25, temperature=1.0,
                        adaptive=False):
    """Sparsemax+ per row:  L = L_sm(T z, y) + w * L_sup(z, y).

    With u = T z, tau = tau(u), p* = [u - tau]_+, S = {j : u_j > tau}:
        L_sm  = 1/2 + 1/2 sum_{j in S} (u_j^2 - tau^2) - u_y
        L_sup = logsumexp(z) - logsumexp(z over S ∪ {y}),  replaced by log(100) where that exceeds
                log(100) (the authors' clamp of the out-of-support mass m at 0.99)
        w     = alpha, or alpha * (1 - p*_y) (detached) when adaptive
    Gradient: T (p* - e_y) + w (softmax(z) - q), q = softmax restricted to S ∪ {y}; the second
    term is zero on clamped rows.  Rows whose support fits in a top-k use a sparse update (one
    dense pass for the softmax); the others use dense formulas on the block.

    Stats: support_size, out_of_support_mass (m, unclamped), clamped, entropy (of softmax(z)),
    ce (logsumexp(z) - z_y).
    """
    # Shifting by the row max before scaling keeps u exact to float32 rounding of T (z - max)
    # for huge logits; sparsemax, its loss and its support are shift-invariant.
    u = z if temperature == 1.0 else (z - z.amax(1, keepdim=True)) * temperature
    params = (alpha, temperature, adaptive)
    loss = stats = None
    for rows, th in partition_by_support(u):
        kernel = _sparsemax_plus_dense if th.top_idx is None else _sparsemax_plus_sparse
        if rows is None:  # one kind of row in the whole block: no copies
            return kernel(z, u, y, th, grad, grad_scale, want_stats, *params)
        # Mixed blocks: solve each group of rows on its own copy and scatter the results back.
        z_r, y_r = z.index_select(0, rows), y.index_select(0, rows)
        u_r = z_r if temperature == 1.0 else u.index_select(0, rows)
        g_r = torch.empty_like(z_r) if grad is not None else None
        l_r, s_r = kernel(z_r, u_r, y_r, th, g_r, grad_scale, want_stats, *params)
        loss = l_r.new_empty(y.shape) if loss is None else loss
        loss.index_copy_(0, rows, l_r)
        if grad is not None:
            grad.index_copy_(0, rows, g_r)
        if want_stats:
            stats = stats or {k: v.new_empty(y.shape) for k, v in s_r.items()}
            for key, val in s_r.items():
                stats[key].index_copy_(0, rows, val)
    return loss, stats


def _suppression(log_sum_exp_all, log_in_mass, alpha, adaptive, p_y):
    """Clamped L_sup, its loss weight and its gradient weight (0 where the clamp is active)."""
    l_sup = log_sum_exp_all - log_in_mass
    clamped = l_sup > LOG_100
    l_sup = torch.where(clamped, LOG_100, l_sup)
    weight = alpha * (1 - p_y) if adaptive else torch.full_like(l_sup, alpha)
    return l_sup, weight, torch.where(clamped, 0.0, weight), clamped


def _stats(size, sum_exp, in_mass, clamped, probs, z, z_max, z_y):
    log_sum = sum_exp.log()
    # H = log s - sum_j p_j (z_j - max); shifted so huge logits cancel exactly, and -inf entries
    # (p_j = 0) set to 0 to keep 0 * -inf out.
    shifted = torch.nan_to_num(z - z_max.unsqueeze(1), neginf=0.0)
    entropy = log_sum - _row_dot(probs, shifted)
    return {
        "support_size": size.to(torch.float32),
        "out_of_support_mass": (1 - in_mass / sum_exp).clamp_min(0),
        "clamped": clamped.to(torch.float32),
        "entropy": entropy,
        "ce": log_sum + (z_max - z_y),
    }


def _sparsemax_plus_sparse(z, u, y, th, grad, grad_scale, want_stats, alpha, temperature, adaptive):
    tau_s, row_max, idx = th.tau_rel, th.row_max, th.top_idx
    shifted = th.top_vals - row_max.unsqueeze(1)
    p_top = (shifted - tau_s.unsqueeze(1)).clamp_min(0)
    in_s = p_top > 0
    u_y = u.gather(1, y.unsqueeze(1)).squeeze(1)
    # sum_S (v^2 - tau'^2) = sum_S p (v + tau') with v = u - max, tau' = tau - max
    l_sm = 0.5 + 0.5 * torch.where(in_s, p_top * (shifted + tau_s.unsqueeze(1)), 0).sum(1) - (u_y - row_max)
    p_y = ((u_y - row_max) - tau_s).clamp_min(0)
    y_in_s = p_y > 0
    need_softmax = alpha > 0 or want_stats
    if not need_softmax:
        if grad is not None:
            grad.zero_()
    else:
        # With T != 1, u = T (z - max z): its top-1 index is also z's argmax, so no second pass.
        z_max = row_max if temperature == 1.0 else z.gather(1, idx[:, :1]).squeeze(1)
        z_y = z.gather(1, y.unsqueeze(1)).squeeze(1)
        exp_top = torch.where(in_s, (z.gather(1, idx) - z_max.unsqueeze(1)).exp(), 0)
        exp_y = (z_y - z_max).exp()
        in_mass = exp_top.sum(1) + torch.where(y_in_s, 0, exp_y)
        probs, sum_exp = _softmax(z, idx[:, 0], grad)  # idx[:, 0]: the row's largest entry
        l_sup, w_loss, w_grad, clamped = _suppression(sum_exp.log(), in_mass.log(), alpha, adaptive, p_y)
        stats = _stats(th.size, sum_exp, in_mass, clamped, probs, z, z_max, z_y) if want_stats else None
    loss = l_sm + w_loss * l_sup if alpha > 0 else l_sm
    if grad is not None:
        if alpha > 0:
            grad.mul_((grad_scale * w_grad).unsqueeze(1))
            q_coef = grad_scale * w_grad / in_mass
            top_update = grad_scale * temperature * p_top - q_coef.unsqueeze(1) * exp_top
            y_update = grad_scale * temperature + torch.where(y_in_s, 0, q_coef * exp_y)
        else:
            if need_softmax:
                grad.zero_()
            top_update = grad_scale * temperature * p_top
            y_update = grad_scale * temperature
        grad.scatter_add_(1, idx, top_update)
        _sub_at_target(grad, y, y_update)
    return loss, (stats if want_stats else None)


def _sparsemax_plus_dense(z, u, y, th, grad, grad_scale, want_stats, alpha, temperature, adaptive):
    tau_s, row_max = th.tau_rel, th.row_max
    # p = (u - max) - tau_rel: exact near the maximum however large the logits are.
    p = (u - row_max.unsqueeze(1)).sub_(tau_s.unsqueeze(1)).clamp_min_(0)  # block-sized temporary
    in_s = p > 0
    size = in_s.sum(1)
    u_y = u.gather(1, y.unsqueeze(1)).squeeze(1)
    # sum_S (v^2 - tau'^2) = sum_S p (v + tau') with v = u - max = p + tau' on S.
    shifted_sum = torch.where(in_s, p * (p + 2 * tau_s.unsqueeze(1)), 0).sum(1)
    l_sm = 0.5 + 0.5 * shifted_sum - (u_y - row_max)
    p_y = p.gather(1, y.unsqueeze(1)).squeeze(1)
    in_s.scatter_(1, y.unsqueeze(1), True)  # now S ∪ {y}
    z_max, argmax = z.max(1)  # one pass for both (before the softmax may overwrite z)
    z_y = z.gather(1, y.unsqueeze(1)).squeeze(1)
    probs, sum_exp = _softmax(z, argmax, grad)
    in_mass = torch.where(in_s, probs, 0).sum(1) * sum_exp  # unnormalised, like sum_exp
    l_sup, w_loss, w_grad, clamped = _suppression(sum_exp.log(), in_mass.log(), alpha, adaptive, p_y)
    stats = _stats(size, sum_exp, in_mass, clamped, probs, z, z_max, z_y) if want_stats else None
    loss = l_sm + w_loss * l_sup if alpha > 0 else l_sm
    if grad is not None:
        gs = grad_scale
        coef_out = gs * w_grad.unsqueeze(1)
        coef_in = coef_out * (1 - (sum_exp / in_mass).unsqueeze(1))
        grad.mul_(torch.where(in_s, coef_in, coef_out)).add_(p.mul_(gs * temperature))
        _sub_at_target(grad, y, grad_scale * temperature)
    return loss, stats


def gem_rows(z, y, grad, grad_scale, want_stats=False, *, beta=0.7, h="linear"):
    """GEM (Li et al., 2025):  L = -sum_v q_v w_v (log p_y - log p_v) = sum_v q_v w_v (z_v - z_y).

    q = softmax(z / beta) and w are detached; w_v = 1 ("linear") or sigmoid(0.01 (z_v - z_y))
    ("logsigmoid").  Gradient: q w - e_y sum_v q_v w_v.
    """
    z_max = z.amax(1)
    z_y = z.gather(1, y.unsqueeze(1)).squeeze(1)
    qw, sum_exp = _exp_shifted(z, z_max, grad, scale=1.0 / beta)
    qw.div_(sum_exp.unsqueeze(1))
    if h == "logsigmoid":
        qw.mul_(torch.sigmoid(0.01 * (z - z_y.unsqueeze(1))))
    total = qw.sum(1)
    # q_v = 0 where z_v = -inf: keep 0 * -inf out.  (A bmm dot product here was 10x less accurate
    # than this pairwise sum in float32.)
    loss = torch.where(qw > 0, qw * (z - z_y.unsqueeze(1)), 0).sum(1)
    if grad is not None:
        grad.mul_(grad_scale)
        _sub_at_target(grad, y, grad_scale * total)
    return loss, None
