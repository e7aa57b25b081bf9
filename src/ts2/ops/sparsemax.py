"""Exact sparsemax threshold without a full sort over the vocabulary.

sparsemax(u) = argmin_{p in simplex} ||p - u||^2 = [u - tau(u)]_+, where tau is the unique value
with sum_j [u_j - tau]_+ = 1.  The support is S(u) = {j : u_j > tau}.

Because every p_j <= 1, tau >= max(u) - 1, so only the few entries near the maximum can be in the
support.  For a row of V entries we take the top-k values (k = ``TOPK_STEPS[0]`` = 64 first), run
the usual sorted-prefix rule on them, and accept the result when the prefix rule already stops
inside the top-k (then the true support is a strict subset of the top-k and tau is exact).  Rows
that fail are retried with k = 512 and 4096 (flat rows, e.g. a randomly initialised head, have thousands of
candidates but supports of ~15-25).  Rows whose support is larger still are solved exactly by
Newton's method on f(tau) = sum_j [u_j - tau]_+ - 1 from tau = max - 1, which is Michelot's
fixed-point iteration tau <- (sum_{u_j > tau} u_j - 1) / |{u_j > tau}|: tau grows monotonically,
the candidate set only shrinks, and it stops when the set no longer changes (a few passes).

Everything here works on 2-D float32 row blocks ``u`` of shape [n, V]; the public wrappers accept
any shape and dimension, and upcast bf16/fp16 to float32 (entmax's bf16 arithmetic gives wrong
thresholds: arange in bf16 is exact only up to 256).

The threshold is kept *relative to the row maximum*, tau_rel = tau - max(u) in [-1, 0), through
every computation: with logits around 1e4 float32 spacing is ~1e-3, so an absolute tau would
round away supports members whose probability is smaller than that; u - max(u) is exact for the
entries near the maximum (Sterbenz), and so is everything computed from it.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

# Top-k sizes tried in turn before the dense solver.  LLM rows need ~16 and flat rows ~30; topk
# costs about the same for k = 16 or 64, and rows that fail a step cost copies and a second topk
# (measured, flat logits: (16, 128, 1024) took 2.1x the time of (64, 512, 4096)).
TOPK_STEPS = (64, 512, 4096)
NEWTON_MAX_ITERS = 100


class Threshold(NamedTuple):
    """tau and support of each row of a [n, V] block.

    tau_rel, size, row_max: [n], with tau = row_max + tau_rel (tau_rel in [-1, 0)).
    top_vals / top_idx: [n, k], the k largest entries in descending order, or None for rows solved
    densely.  in_topk: [n] bool, True where the support lies inside the top-k; tau and size are
    exact there (and everywhere for dense solutions).
    """

    tau_rel: torch.Tensor
    size: torch.Tensor
    row_max: torch.Tensor
    top_vals: torch.Tensor
    top_idx: torch.Tensor
    in_topk: torch.Tensor


def _tau_from_sorted(vals: torch.Tensor, row_max: torch.Tensor):
    """Prefix rule on descending values [n, k]: size = #{r : 1 + r*v_(r) > sum_{i<=r} v_(i)}.

    Values are shifted by the row maximum first so that huge logits (1e4) keep float32 precision
    (the threshold is shift-equivariant).  Returns (tau_rel, size, complete) where complete is True
    when the rule stopped before the k-th value (so the support is inside these k values).
    """
    shifted = vals - row_max.unsqueeze(1)
    shifted = torch.nan_to_num(shifted, neginf=-1e30)  # rows with fewer than k finite entries
    cumsum = shifted.cumsum(1) - 1
    ranks = torch.arange(1, vals.shape[1] + 1, device=vals.device, dtype=vals.dtype)
    cond = ranks * shifted > cumsum
    size = cond.sum(1)
    tau = cumsum.gather(1, (size - 1).unsqueeze(1)).squeeze(1) / size.to(vals.dtype)
    complete = ~cond[:, -1]
    return tau, size, complete


def _tau_newton(u: torch.Tensor, row_max: torch.Tensor):
    """Exact tau_rel for dense rows [m, V] by Newton/Michelot iterations from tau_rel = -1."""
    shifted = u - row_max.unsqueeze(1)
    tau = torch.full_like(row_max, -1.0)
    count = torch.full_like(tau, float(u.shape[1] + 1))
    scratch = torch.empty_like(u)
    for _ in range(NEWTON_MAX_ITERS):
        torch.sub(shifted, tau.unsqueeze(1), out=scratch).clamp_min_(0)
        mass = scratch.sum(1)
        new_count = torch.count_nonzero(scratch, dim=1).to(u.dtype)
        # Newton step on the piecewise-linear f(tau) = mass - 1 with slope -count.
        tau = tau + (mass - 1) / new_count
        if torch.equal(new_count, count):
            break
        count = new_count
    # Recompute from the final set so tau is exactly (sum_S u - 1) / |S| for S = {u > tau}.
    torch.sub(shifted, tau.unsqueeze(1), out=scratch)
    support = scratch > 0
    size = support.sum(1)
    mass = torch.where(support, scratch, 0).sum(1)
    tau = tau + (mass - 1) / size.to(u.dtype)
    return tau, size


def topk_threshold(u: torch.Tensor, k: int) -> Threshold:
    """tau from the top-k of each row of ``u`` [n, V]; exact on the rows where ``in_topk``."""
    k = min(k, u.shape[1])
    top_vals, top_idx = u.topk(k, dim=1, sorted=True)
    row_max = top_vals[:, 0]
    tau, size, complete = _tau_from_sorted(top_vals, row_max)
    if k == u.shape[1]:
        complete = torch.ones_like(complete)
    return Threshold(tau, size, row_max, top_vals, top_idx, complete)


def _select(th: Threshold, sel: torch.Tensor) -> Threshold:
    return Threshold(*(t.index_select(0, sel) for t in th))


def partition_by_support(u: torch.Tensor, ks=TOPK_STEPS):
    """Split the rows of ``u`` [n, V] by how their exact threshold is found.

    Yields (rows, threshold) pairs covering every row once.  ``rows`` is None for "all rows of
    u" (the common case: no copies), else an index tensor into u.  A threshold with top_idx set
    holds each row's whole support in its top-k; one with top_idx None comes from the dense
    Newton solver (supports larger than the last k).
    """
    rows, sub = None, u
    for k in ks:
        th = topk_threshold(sub, k)
        if bool(th.in_topk.all()):
            yield rows, th
            return
        done = th.in_topk.nonzero().squeeze(1)
        if done.numel() == 0:  # no row solved yet: retry all of them, no copies
            continue
        rest = (~th.in_topk).nonzero().squeeze(1)
        yield (done if rows is None else rows[done]), _select(th, done)
        rows = rest if rows is None else rows[rest]
        sub = sub.index_select(0, rest)
    row_max = sub.amax(1)
    tau, size = _tau_newton(sub, row_max)
    yield rows, Threshold(tau, size, row_max, None, None, torch.zeros_like(size, dtype=torch.bool))


def threshold_rows(u: torch.Tensor):
    """Exact sparsemax threshold of each row of ``u`` [n, V], relative to the row maximum:
    (tau_rel, size, row_max) with tau = row_max + tau_rel."""
    tau = torch.empty(u.shape[0], dtype=u.dtype, device=u.device)
    size = torch.empty(u.shape[0], dtype=torch.int64, device=u.device)
    row_max = torch.empty(u.shape[0], dtype=u.dtype, device=u.device)
    for rows, th in partition_by_support(u):
        if rows is None:
            return th.tau_rel, th.size, th.row_max
        tau.index_copy_(0, rows, th.tau_rel)
        size.index_copy_(0, rows, th.size)
        row_max.index_copy_(0, rows, th.row_max)
    return tau, size, row_max


def _rows_last(x: torch.Tensor, dim: int):
    """``x`` with ``dim`` moved last, flattened to rows [n, V], upcast to float32 unless float64."""
    moved = x.movedim(dim, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    if rows.dtype != torch.float64:
        rows = rows.float()
    return moved.shape, rows


def sparsemax_threshold(logits: torch.Tensor, dim: int = -1):
    """Threshold tau and support size |S| of sparsemax along ``dim``.

    Args:
        logits: any shape [..., V, ...]; float32 arithmetic whatever its dtype.
    Returns:
        (tau, support_size): ``logits`` shape without ``dim``; tau float32, support_size int64.
        sparsemax(logits) = clamp(logits - tau.unsqueeze(dim), min=0).

    tau is computed exactly relative to the row maximum and returned as max + (tau - max), rounded
    once to float32: at logit magnitudes where float32 spacing exceeds the smallest sparsemax
    probability (|z| ~ 1e4) that rounding can move entries across tau, so ``sparsemax`` itself
    (and every loss here) uses the relative threshold and stays exact.
    """
    with torch.no_grad():
        shape, rows = _rows_last(logits, dim)
        tau, size, row_max = threshold_rows(rows)
        return (row_max + tau).reshape(shape[:-1]), size.reshape(shape[:-1])


class _SparsemaxFunction(torch.autograd.Function):
    """p = [u - tau]_+ ; Jacobian-vector product: on S, g_j - mean_{i in S} g_i; 0 elsewhere."""

    @staticmethod
    def forward(ctx, rows: torch.Tensor):
        tau, _, row_max = threshold_rows(rows)
        p = (rows - row_max.unsqueeze(1)).sub_(tau.unsqueeze(1)).clamp_min_(0)
        ctx.save_for_backward(p)
        return p

    @staticmethod
    def backward(ctx, grad_p: torch.Tensor):
        (p,) = ctx.saved_tensors
        support = p > 0
        grad_p = torch.where(support, grad_p, 0)
        mean = grad_p.sum(1, keepdim=True) / support.sum(1, keepdim=True).to(grad_p.dtype)
        return torch.where(support, grad_p - mean, 0)


def sparsemax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """sparsemax(z) = [z - tau(z)]_+ along ``dim`` (Martins & Astudillo, 2016).

    Same shape and dtype as ``logits``; computed in float32 (or float64 for float64 input),
    differentiable with a closed-form backward.
    """
    shape, rows = _rows_last(logits, dim)
    p = _SparsemaxFunction.apply(rows)
    return p.reshape(shape).movedim(-1, dim).to(logits.dtype)
