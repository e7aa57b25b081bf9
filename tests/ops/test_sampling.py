"""Per-sample random streams: exact draws from the processed distribution, HF/vLLM top-k/top-p
semantics, and independence from the rest of the batch."""

import pytest
import torch
from transformers.generation.logits_process import TopKLogitsWarper, TopPLogitsWarper

from ts2.ops import sparsemax
from ts2.ops.sampling import _nucleus, draw_tokens, sample_key, uniforms


def _keys(count, seed=0):
    return torch.tensor([sample_key(seed, "prompt", j) for j in range(count)], dtype=torch.long)


def test_uniforms_are_uniform_and_keyed():
    keys = _keys(4000)
    u = uniforms(keys, 0, torch.arange(8).expand(4000, 8))
    assert float(u.min()) > 0 and float(u.max()) < 1
    assert float(u.mean()) == pytest.approx(0.5, abs=0.01)
    hist = torch.histc(u.float(), bins=10, min=0, max=1) / u.numel()
    assert torch.allclose(hist, torch.full((10,), 0.1), atol=0.01)
    # Different steps and tokens give unrelated numbers.
    assert torch.corrcoef(torch.stack([u[:, 0], u[:, 1]]))[0, 1].abs() < 0.05
    assert torch.corrcoef(torch.stack([u[:, 0], uniforms(keys, 1, torch.zeros(4000, 1, dtype=torch.long))[:, 0]]
                                      ))[0, 1].abs() < 0.05


def _hf_kept(logits, temperature, top_k, top_p):
    scores = logits / temperature
    if top_k:
        scores = TopKLogitsWarper(top_k)(None, scores)
    if top_p < 1:
        scores = TopPLogitsWarper(top_p)(None, scores)
    return torch.isfinite(scores)


@pytest.mark.parametrize("top_k,top_p", [(0, 0.9), (0, 0.5), (50, 0.9), (5, 1.0), (0, 0.999), (3000, 0.95)])
@pytest.mark.parametrize("scale", [0.3, 3.0])
def test_nucleus_matches_hugging_face_warpers(top_k, top_p, scale):
    torch.manual_seed(0)
    logits = scale * torch.randn(16, 5000)
    vals, idx, keep = _nucleus(logits / 0.8, top_k, top_p)
    mine = torch.zeros_like(logits, dtype=torch.bool)
    rows = torch.arange(logits.shape[0]).unsqueeze(1).expand_as(idx)
    mine[rows[keep], idx[keep]] = True  # ids where keep is False are padding
    # HF sums float32 probabilities in ascending order: the two may differ only for a token whose
    # preceding mass is within rounding of top_p (3 tokens of 80000 in these cases).
    scores = (logits / 0.8).double()
    if top_k:
        scores = torch.where(_hf_kept(logits, 0.8, top_k, 1.0), scores, float("-inf"))
    probs = torch.softmax(scores, 1)
    sorted_probs, order = probs.sort(1, descending=True)
    before = torch.empty_like(probs).scatter_(1, order, sorted_probs.cumsum(1) - sorted_probs)
    exact = (before < top_p) & (probs > 0)
    exact |= probs == probs.max(1, keepdim=True).values
    differ = mine != _hf_kept(logits, 0.8, top_k, top_p)
    assert torch.all((before[differ] - top_p).abs() < 1e-5)
    # Against the rule evaluated in float64: only float32 rounding of the logits remains.
    assert torch.all((before[mine != exact] - top_p).abs() < 1e-6)
    assert int((mine != exact).sum()) <= int(differ.sum())


@pytest.mark.parametrize("settings", [dict(temperature=1.0), dict(temperature=0.7, top_p=0.8),
                                      dict(temperature=1.3, top_k=3), dict(temperature=1.0, decode="sparsemax")])
def test_draws_follow_the_processed_distribution(settings):
    logits = torch.tensor([2.0, 1.5, 1.0, 0.2, -1.0, -3.0])
    rows = 40000
    draw = draw_tokens(logits.expand(rows, 6), _keys(rows), step=3, **settings)
    freq = torch.bincount(draw.tokens, minlength=6).double() / rows
    t = settings["temperature"]
    if settings.get("decode") == "sparsemax":
        expected = sparsemax(logits / t).double()
    else:
        kept = _hf_kept(logits.unsqueeze(0), t, settings.get("top_k", 0), settings.get("top_p", 1.0))[0]
        expected = torch.softmax(torch.where(kept, logits / t, float("-inf")), 0).double()
    assert torch.allclose(freq, expected, atol=0.01)
    assert torch.all(expected[draw.tokens] > 0)  # never outside the kept set
    assert torch.allclose(draw.probs.double(), expected[draw.tokens], atol=1e-6)


def test_a_row_draws_the_same_token_whatever_its_batch():
    torch.manual_seed(1)
    logits = 2 * torch.randn(32, 300)
    keys = _keys(32, seed=5)
    full = draw_tokens(logits, keys, step=2, temperature=0.9, top_p=0.95, want_ranks=True)
    perm = torch.randperm(32)
    shuffled = draw_tokens(logits[perm], keys[perm], step=2, temperature=0.9, top_p=0.95, want_ranks=True)
    assert torch.equal(shuffled.tokens, full.tokens[perm]) and torch.equal(shuffled.ranks, full.ranks[perm])
    for i in (0, 7, 31):
        alone = draw_tokens(logits[i:i + 1], keys[i:i + 1], step=2, temperature=0.9, top_p=0.95)
        assert int(alone.tokens) == int(full.tokens[i])
    other_step = draw_tokens(logits, keys, step=3, temperature=0.9, top_p=0.95)
    assert not torch.equal(other_step.tokens, full.tokens)


def test_rows_whose_nuclei_differ_in_size_draw_what_a_whole_vocabulary_sort_draws():
    """A batch mixing peaked rows (nucleus inside the top 64) and flat rows (nucleus past 4096):
    each row's token equals the one drawn from a full sort of its own vocabulary, alone."""
    from ts2.ops.sampling import gumbel

    torch.manual_seed(3)
    vocab = 9000
    logits = torch.randn(12, vocab) * torch.tensor([8.0, 0.05, 3.0, 0.2] * 3).unsqueeze(1)
    keys = _keys(12, seed=9)
    batch = draw_tokens(logits, keys, step=1, temperature=1.2, top_p=0.9)
    for i in range(12):
        scores = (logits[i:i + 1] / 1.2).double()
        probs = torch.softmax(scores, 1)
        sorted_probs, order = probs.sort(1, descending=True)
        kept_sorted = (sorted_probs.cumsum(1) - sorted_probs) < 0.9
        kept_sorted[:, 0] = True
        kept = torch.zeros_like(kept_sorted).scatter_(1, order, kept_sorted)
        ids = torch.arange(vocab).unsqueeze(0)
        want = torch.where(kept, scores + gumbel(keys[i:i + 1], 1, ids), float("-inf")).argmax(1)
        assert int(batch.tokens[i]) == int(want)
        assert int(draw_tokens(logits[i:i + 1], keys[i:i + 1], step=1, temperature=1.2, top_p=0.9).tokens) == int(want)


def test_ranks_count_larger_raw_logits():
    logits = torch.tensor([[0.0, 3.0, 1.0, 2.0]])
    for key in range(20):
        draw = draw_tokens(logits, torch.tensor([key]), 0, want_ranks=True)
        assert int(draw.ranks) == int((logits[0] > logits[0, draw.tokens]).sum())


def test_bad_decode_is_an_error():
    with pytest.raises(ValueError, match="decode='greedy'"):
        draw_tokens(torch.zeros(1, 3), torch.zeros(1, dtype=torch.long), 0, decode="greedy")


@pytest.mark.parametrize("rows,vocab", [(6, 5000), (3, 4096), (2, 4097), (4, 10)])
def test_blocked_gumbel_argmax_is_the_unblocked_one(rows, vocab):
    """The in-place, column-blocked draw gives the very index of (scores + G).argmax over the whole
    row: the same bits (no sample changes), first index on ties, -inf candidates never drawn."""
    from ts2.ops.sampling import gumbel, gumbel_argmax

    keys = _keys(rows, seed=3)
    ids = torch.arange(vocab).expand(rows, vocab)
    for step in (0, 7):
        for scores in (torch.randn(rows, vocab) * 3, torch.zeros(rows, vocab)):
            scores[:, 1::3] = float("-inf")
            want = (scores.double() + gumbel(keys, step, ids)).argmax(1)
            got = gumbel_argmax(scores, keys, step, ids)
            assert torch.equal(got, want) and bool(torch.isfinite(scores.gather(1, got[:, None])).all())
    shuffled = torch.randperm(vocab).expand(rows, vocab)  # candidate ids in any order (a nucleus)
    scores = torch.randn(rows, vocab)
    want = (scores.double() + gumbel(keys, 2, shuffled)).argmax(1)
    assert torch.equal(gumbel_argmax(scores, keys, 2, shuffled), want)


@pytest.mark.parametrize("vocab", [8192, 12345, 49152])
def test_pruned_gumbel_argmax_is_the_unblocked_one(vocab):
    """Rows of at least PRUNE_WIDTH columns take the logarithms only where a column can still win:
    the same index as the whole row's (scores + G).argmax, from flat rows (almost every column in
    play) to peaked ones and a tiny temperature, with -inf candidates, a single finite candidate,
    ties (a repeated token id under an equal score: the first column wins), candidates in any order,
    and rows with NaN or infinite scores (which take the blocked draw)."""
    from ts2.ops.sampling import _GOLDEN, PRUNE_WIDTH, _blocked_argmax, _mix, _signed, gumbel, gumbel_argmax

    assert vocab >= PRUNE_WIDTH
    rows = 6
    keys = _keys(rows, seed=11)
    torch.manual_seed(vocab)
    arange = torch.arange(vocab).expand(rows, vocab)
    shuffled = torch.stack([torch.randperm(vocab) for _ in range(rows)])
    tied = arange.clone()
    tied[:, vocab // 2:] = tied[:, : vocab - vocab // 2]  # every id twice
    for scale in (0.0, 0.01, 1.0, 3.0, 30.0, 1e4):
        for ids in (arange, shuffled, tied):
            scores = torch.randn(rows, vocab) * scale
            if ids is tied:
                scores[:, vocab // 2:] = scores[:, : vocab - vocab // 2]
            scores[0, ::2] = float("-inf")
            scores[1, :] = float("-inf")
            scores[1, vocab - 1] = 0.0  # the only candidate: the last column
            for step in (0, 5):
                want = (scores.double() + gumbel(keys, step, ids)).argmax(1)
                assert torch.equal(gumbel_argmax(scores, keys, step, ids), want), (scale, step)
    scores = torch.randn(rows, vocab)
    scores[2, 7] = float("inf")
    want = (scores.double() + gumbel(keys, 1, arange)).argmax(1)
    assert torch.equal(gumbel_argmax(scores, keys, 1, arange), want)
    scores[2, 7] = float("nan")  # what the blocked draw made of it before (no argmax semantics to match)
    rows_mixed = _mix(keys + _signed(2 * _GOLDEN)).unsqueeze(1)
    assert torch.equal(gumbel_argmax(scores, keys, 1, arange), _blocked_argmax(scores, rows_mixed, arange))
