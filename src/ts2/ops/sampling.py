"""Next-token sampling whose randomness belongs to each sample, not to the batch.

Every sample (one row of a batch) carries a 64-bit key; the random number used for token j at
decoding step s of that row is a pure function of (key, s, j): a counter-based hash (splitmix64's
finaliser on int64 tensors, identical on every device).  Tokens are drawn with the Gumbel-max
trick,

    token = argmax_j  (score_j + G_j),   G_j = -log(-log U(key, s, j)),

over the candidates that survive temperature / top-k / top-p (or the sparsemax support), which is
an exact draw from the processed distribution.  So a row's tokens do not depend on which other
rows share its batch, on the batch order, or on how many rows were drawn before it, and a
resumed job redraws exactly what it would have drawn.  What can still differ between batch
compositions is the model's logits themselves at float-rounding level (other matmul shapes,
padding); the sampled token changes only if the two best perturbed scores tie within that
rounding.  (Inverse-CDF sampling, by contrast, flips between neighbouring tail tokens whenever
the cumulative sum over the whole vocabulary moves by one rounding step.)

Top-p follows Hugging Face / vLLM: candidates sorted by probability; a token is kept iff the
probability mass of the tokens ranked strictly before it is < top_p (the first is always kept);
with top-k as well, top-k is applied first and top-p works on the renormalised top-k mass.
The nucleus is found from a top-64 (then 512, 4096, V, for the rows that need more) instead of
sorting the vocabulary.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

import torch

from .sparsemax import sparsemax

_MASK64 = (1 << 64) - 1
NUCLEUS_STEPS = (64, 512, 4096)


def _signed(value: int) -> int:
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


_GOLDEN = _signed(0x9E3779B97F4A7C15)
_TOKEN = _signed(0xD1B54A32D192ED03)
_MIX1 = _signed(0xBF58476D1CE4E5B9)
_MIX2 = _signed(0x94D049BB133111EB)


def sample_key(seed: int, prompt_id: str, sample: int) -> int:
    """The 64-bit key (as a signed int64) of sample ``sample`` of prompt ``prompt_id``."""
    digest = hashlib.sha256(f"{seed}:{prompt_id}:{sample}".encode()).digest()
    return int.from_bytes(digest[:8], "little", signed=True)


def _shift_right(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Logical (unsigned) right shift of int64 values."""
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def _mix(x: torch.Tensor) -> torch.Tensor:
    """splitmix64 finaliser; int64 multiplication wraps around like uint64 arithmetic."""
    x = (x ^ _shift_right(x, 30)) * _MIX1
    x = (x ^ _shift_right(x, 27)) * _MIX2
    return x ^ _shift_right(x, 31)


def uniforms(keys: torch.Tensor, step: int, token_ids: torch.Tensor) -> torch.Tensor:
    """U(key, step, token) in (0, 1), float64: keys [B] int64, token_ids [B, K] int64 -> [B, K]."""
    row = _mix(keys + _signed((step + 1) * _GOLDEN))
    bits = _mix(row.unsqueeze(1) ^ (token_ids * _TOKEN))
    return (_shift_right(bits, 11).double() + 0.5) / float(1 << 53)


def gumbel(keys: torch.Tensor, step: int, token_ids: torch.Tensor) -> torch.Tensor:
    return -torch.log(-torch.log(uniforms(keys, step, token_ids)))


GUMBEL_CHUNK = 4096  # columns per block: small enough to stay in cache through the passes below
GROUP = 64  # columns whose largest score bounds what any of them can reach (the pruned draw)
PRUNE_WIDTH = 2 * GUMBEL_CHUNK  # rows at least this wide take the pruned draw


def _mix_(x: torch.Tensor, scratch: torch.Tensor) -> None:
    """``_mix`` in place (the same bits), with one scratch tensor instead of a new one per operation."""
    for bits, factor in ((30, _MIX1), (27, _MIX2), (31, None)):
        torch.bitwise_right_shift(x, bits, out=scratch)
        scratch.bitwise_and_((1 << (64 - bits)) - 1)
        x.bitwise_xor_(scratch)
        if factor is not None:
            x.mul_(factor)


def _uniform_bits(rows: torch.Tensor, token_ids: torch.Tensor) -> torch.Tensor:
    """The 53 bits b of U = (b + 0.5) / 2^53 (``uniforms``), [B, K] int64, computed in place; ``rows``
    [B, 1]: the mixed row counters.  A ``token_ids`` shared by every row (stride 0) is multiplied once."""
    shared = token_ids.dim() == 2 and token_ids.stride(0) == 0
    x = torch.bitwise_xor((token_ids[:1] if shared else token_ids) * _TOKEN, rows)
    _mix_(x, torch.empty_like(x))
    return x.bitwise_right_shift_(11).bitwise_and_((1 << 53) - 1)


def _perturbed(bits: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """scores + G in float64, G = -log(-log U), U from ``_uniform_bits``: the numbers of ``gumbel``."""
    return bits.double().add_(0.5).div_(float(1 << 53)).log_().neg_().log_().neg_().add_(scores.double())


def gumbel_argmax(scores: torch.Tensor, keys: torch.Tensor, step: int, token_ids: torch.Tensor) -> torch.Tensor:
    """argmax_j (scores[:, j] + G(key, step, token_ids[:, j])) per row, [B] int64 column indices:
    the same numbers as ``(scores.double() + gumbel(...)).argmax(1)`` (first index on a tie).

    Over a whole vocabulary (top-p 1) the random bits of every column are needed, but the two
    logarithms only where a column can still win (``_pruned_argmax``)."""
    rows = _mix(keys + _signed((step + 1) * _GOLDEN)).unsqueeze(1)
    if scores.shape[1] >= PRUNE_WIDTH:
        found = _pruned_argmax(scores, rows, token_ids)
        if found is not None:
            return found
    return _blocked_argmax(scores, rows, token_ids)


def _blocked_argmax(scores: torch.Tensor, rows: torch.Tensor, token_ids: torch.Tensor) -> torch.Tensor:
    """Every column's perturbed score, in column blocks of ``GUMBEL_CHUNK`` with a running max."""
    count, width = scores.shape
    best = torch.full((count,), float("-inf"), dtype=torch.float64, device=scores.device)
    best_index = torch.zeros(count, dtype=torch.long, device=scores.device)
    for start in range(0, width, GUMBEL_CHUNK):
        block = slice(start, start + GUMBEL_CHUNK)
        value, index = _perturbed(_uniform_bits(rows, token_ids[:, block]), scores[:, block]).max(1)
        better = value > best  # strictly: an earlier block keeps a tie, as argmax's first index does
        best = torch.where(better, value, best)
        best_index = torch.where(better, index + start, best_index)
    return best_index


def _pruned_argmax(scores: torch.Tensor, rows: torch.Tensor, token_ids: torch.Tensor) -> torch.Tensor | None:
    """The blocked argmax's answer, with the logarithms taken only where they can matter.

    First a lower bound t of each row's maximum: the exact perturbed scores of the group of GROUP
    columns that holds the row's largest score.  A column j in a group whose largest score is m can
    reach t only if G_j >= g = t - m, i.e. E_j = -log U_j <= exp(-g); since 1 - U <= -log U, it is
    necessary that 1 - U_j <= exp(-g), a bound on U's integer bits.  Only the columns that pass
    (with g lowered by a margin far above float64 rounding) are computed exactly, and the first
    column of the largest value among them is the answer.  None (use the blocked argmax) when a
    row's bound is not finite (NaN or infinite scores)."""
    count, width = scores.shape
    pad = (-width) % GROUP
    padded = torch.nn.functional.pad(scores, (0, pad), value=float("-inf")) if pad else scores
    group_max = padded.view(count, -1, GROUP).amax(2).double()  # [B, groups]
    first = group_max.argmax(1, keepdim=True) * GROUP + torch.arange(GROUP, device=scores.device)
    first = first.clamp_max(width - 1)
    bound = _perturbed(_uniform_bits(rows, token_ids.gather(1, first)), scores.gather(1, first)).amax(1, keepdim=True)
    if not bool(torch.isfinite(bound).all()):
        return None
    gap = (bound - group_max) * (1 - 1e-6) - 1e-6 * (1 + bound.abs())  # g, lowered by a margin
    limit = torch.floor(float(1 << 53) * (1 - torch.exp(-gap))) - 1  # bits below it cannot win
    limit = limit.clamp(-1, float(1 << 53)).long()
    found_rows, found_cols, found_values = [], [], []
    for start in range(0, width, GUMBEL_CHUNK):
        end = min(start + GUMBEL_CHUNK, width)
        bits = _uniform_bits(rows, token_ids[:, start:end])
        if (end - start) % GROUP == 0:
            passes = (bits.view(count, -1, GROUP) >= limit[:, start // GROUP:end // GROUP, None]).view(count, -1)
        else:
            passes = bits >= limit[:, start // GROUP:].repeat_interleave(GROUP, dim=1)[:, : end - start]
        r, c = passes.nonzero(as_tuple=True)
        found_rows.append(r)
        found_cols.append(c + start)
        found_values.append(_perturbed(bits[r, c], scores[r, c + start]))
    r, c, values = torch.cat(found_rows), torch.cat(found_cols), torch.cat(found_values)
    best = torch.full((count,), float("-inf"), dtype=torch.float64, device=scores.device)
    best = best.scatter_reduce(0, r, values, "amax")
    first_best = torch.where(values == best[r], c, width)
    return torch.full((count,), width, dtype=torch.long, device=scores.device).scatter_reduce(0, r, first_best, "amin")


class Draw(NamedTuple):
    """tokens [B] int64; probs [B]: each token's probability under the distribution it was drawn
    from (after temperature / top-k / top-p, or sparsemax); ranks [B]: how many tokens had a
    strictly larger raw logit (0 = the most likely token); each None when not requested."""

    tokens: torch.Tensor
    probs: torch.Tensor | None
    ranks: torch.Tensor | None


def _nucleus(scores: torch.Tensor, top_k: int, top_p: float):
    """Candidates [B, K] (scores and ids, descending) and a keep mask, per HF/vLLM semantics.

    Without top-k, each row's nucleus is looked for in its top 64, then 512, 4096 and V candidates,
    and only the rows whose nucleus is not complete yet go on to the next size: at a high
    temperature a few rows with a nucleus of thousands of tokens no longer make every row sort
    the whole vocabulary.  The result is cut to the widest nucleus (columns past it are never
    kept), padded with -inf scores and keep False."""
    vocab = scores.shape[1]
    if top_k > 0:
        vals, idx = scores.topk(min(top_k, vocab), dim=1)
        return vals, idx, _keep(vals, vals.logsumexp(1, keepdim=True), top_p)
    log_norm = scores.logsumexp(1, keepdim=True)
    sizes = tuple(k for k in NUCLEUS_STEPS if k < vocab) + (vocab,)
    rows, found = None, []  # the rows still looking (None: every row), and (rows, vals, idx, keep) found
    for k in sizes:
        part, norm = (scores, log_norm) if rows is None else (scores[rows], log_norm[rows])
        vals, idx = part.topk(k, dim=1)
        keep = _keep(vals, norm, top_p)
        done = ~keep[:, -1] if k != sizes[-1] else torch.ones_like(keep[:, -1])
        if rows is None and bool(done.all()):  # every nucleus inside the first block: no reassembly
            width = int(keep.sum(1).max())
            return vals[:, :width], idx[:, :width], keep[:, :width]
        if rows is None:
            rows = torch.arange(scores.shape[0], device=scores.device)
        found.append((rows[done], vals[done], idx[done], keep[done]))
        rows = rows[~done]
        if rows.numel() == 0:
            break
    width = max(int(keep.sum(1).max()) for _, _, _, keep in found if keep.numel())
    vals = scores.new_full((scores.shape[0], width), float("-inf"))
    idx = torch.zeros((scores.shape[0], width), dtype=torch.long, device=scores.device)
    keep = torch.zeros((scores.shape[0], width), dtype=torch.bool, device=scores.device)
    for at, v, i, m in found:
        w = min(width, v.shape[1])
        vals[at, :w], idx[at, :w], keep[at, :w] = v[:, :w], i[:, :w], m[:, :w]
    return vals, idx, keep


def _keep(vals: torch.Tensor, log_norm: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep mask of descending candidates: the mass ranked strictly before each one is < top_p."""
    probs = (vals.double() - log_norm.double()).exp()
    before = probs.cumsum(1) - probs  # float64: exact to rounding of the logits, not of a long float32 sum
    keep = before < top_p
    keep[:, 0] = True
    return keep


def draw_tokens(logits: torch.Tensor, keys: torch.Tensor, step: int, temperature: float = 1.0,
                top_k: int = 0, top_p: float = 1.0, decode: str = "softmax",
                want_ranks: bool = False, want_probs: bool = True) -> Draw:
    """One token per row of ``logits`` [B, V] (raw model logits, any float dtype).

    decode "softmax": softmax(logits / temperature) restricted by top_k (0: off) and top_p;
    decode "sparsemax": sparsemax(logits / temperature) (top_k / top_p do not apply).
    ``keys`` [B] int64 (see ``sample_key``), ``step``: the decoding step (0 for the first token).
    ``probs`` (None unless ``want_probs``) and ``ranks`` (None unless ``want_ranks``) cost a pass
    over the vocabulary each.
    """
    scores = logits.float()
    if temperature != 1.0:  # x / 1.0 is x: the pass over [B, V] is skipped, nothing changes
        scores = scores / temperature
    keys = keys.to(scores.device)
    if decode == "sparsemax":
        p = sparsemax(scores, dim=-1)
        size = int((p > 0).sum(1).max())
        vals, idx = p.topk(size, dim=1)
        keep = vals > 0
        cand = torch.where(keep, vals.log(), float("-inf"))
    elif decode == "softmax":
        if top_k == 0 and top_p >= 1.0:  # every token is a candidate: no sort at all
            idx = torch.arange(scores.shape[1], device=scores.device).expand_as(scores)
            cand, keep = scores, torch.ones_like(scores, dtype=torch.bool)
        else:
            vals, idx, keep = _nucleus(scores, top_k, top_p)
            cand = torch.where(keep, vals, float("-inf"))
    else:
        raise ValueError(f"decode must be softmax or sparsemax, got decode={decode!r}")
    choice = gumbel_argmax(cand, keys, step, idx).unsqueeze(1)
    tokens = idx.gather(1, choice).squeeze(1)
    probs = None
    if want_probs and decode == "sparsemax":
        probs = vals.gather(1, choice).squeeze(1)
    elif want_probs:
        probs = (cand.gather(1, choice) - cand.logsumexp(1, keepdim=True)).exp().squeeze(1)
    ranks = None
    if want_ranks:
        raw = logits.float()
        ranks = (raw > raw.gather(1, tokens.unsqueeze(1))).sum(1)
    return Draw(tokens, probs, ranks)
