import pytest
import torch

import ts2

LOSS_PARAMS = {
    "ce": {},
    "sparsemax": {"temperature": 0.7},
    "ts2": {"alpha": 0.25},
    "ts2-adaptive": {"temperature": 1.5},
    "gem": {"beta": 0.7, "h": "logsigmoid"},
    "dft": {},
}


def _problem(n_batch=3, seq=11, dim=16, vocab=203, dtype=torch.float64, ignore_frac=0.3, seed=0):
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(n_batch, seq, dim, generator=g, dtype=dtype)
    weight = torch.randn(vocab, dim, generator=g, dtype=dtype) * 0.8
    bias = torch.randn(vocab, generator=g, dtype=dtype) * 0.1
    target = torch.randint(0, vocab, (n_batch, seq), generator=g)
    target[torch.rand(n_batch, seq, generator=g) < ignore_frac] = -100
    return hidden, weight, bias, target


def _grads(fn, tensors):
    leaves = [t.detach().clone().requires_grad_(True) for t in tensors]
    loss = fn(*leaves)
    grads = torch.autograd.grad(loss, leaves)
    return loss.detach(), grads


@pytest.mark.parametrize("use_bias", [False, True])
@pytest.mark.parametrize("chunk_size", [1, 7, 64, None])  # 7 leaves a partial last chunk
@pytest.mark.parametrize("name", LOSS_PARAMS)
def test_fused_equals_logits_then_loss(name, chunk_size, use_bias):
    hidden, weight, bias, target = _problem()
    module = ts2.get_loss(name, chunk_size=chunk_size, **LOSS_PARAMS[name])
    tensors = (hidden, weight, bias) if use_bias else (hidden, weight)

    def fused(h, w, b=None):
        return module.fused(h, w, target, bias=b)

    def unfused(h, w, b=None):
        logits = h @ w.t() + (b if b is not None else 0)
        return module(logits, target)

    loss, grads = _grads(fused, tensors)
    ref_loss, ref_grads = _grads(unfused, tensors)
    torch.testing.assert_close(loss, ref_loss, rtol=1e-10, atol=1e-12)
    for got, want in zip(grads, ref_grads):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["ce", "ts2", "gem", "dft"])
def test_fused_float32_within_tolerance(name):
    hidden, weight, bias, target = _problem(dtype=torch.float32, vocab=1001, dim=32)
    module = ts2.get_loss(name, chunk_size=10)
    loss, grads = _grads(lambda h, w, b: module.fused(h, w, target, bias=b), (hidden, weight, bias))
    ref_loss, ref_grads = _grads(lambda h, w, b: module((h @ w.t() + b).double(), target),
                                 (hidden.double(), weight.double(), bias.double()))
    torch.testing.assert_close(loss.double(), ref_loss, rtol=1e-5, atol=1e-5)
    for got, want in zip(grads, ref_grads):
        torch.testing.assert_close(got.double(), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_fused_half_precision_no_worse_than_unfused_same_dtype(dtype):
    """Measured against float64: fused in ``dtype`` vs logits computed in ``dtype`` + the loss."""
    hidden, weight, _, target = _problem(dtype=torch.float32, vocab=512, dim=32, seed=1)
    hidden, weight = hidden.to(dtype), weight.to(dtype)
    module = ts2.get_loss("ts2", chunk_size=16)
    loss, grads = _grads(lambda h, w: module.fused(h, w, target), (hidden, weight))
    naive_loss, naive_grads = _grads(lambda h, w: module(h @ w.t(), target), (hidden, weight))
    truth_loss, truth_grads = _grads(lambda h, w: module(h @ w.t(), target),
                                     (hidden.double(), weight.double()))
    assert loss.dtype == torch.float32 and all(g.dtype == dtype for g in grads)
    assert abs(loss.double() - truth_loss) <= 1.5 * abs(naive_loss.double() - truth_loss) + 1e-4
    for got, naive, truth in zip(grads, naive_grads, truth_grads):
        err = (got.double() - truth).norm()
        assert err <= 1.5 * (naive.double() - truth).norm() + 1e-4 * truth.norm()


@pytest.mark.parametrize("name", ["ce", "ts2"])
def test_fused_under_autocast_matches_the_unfused_loss_of_autocast_logits(name):
    """Under bf16 autocast (``--bf16`` on CPU) float32 hidden states and weights reach the fused
    loss; it must take the autocast dtype as nn.Linear would, and give float32 gradients to float32
    leaves (it raised a dtype error before).  The reference: logits from an autocast matmul, then
    the loss in float32."""
    hidden, weight, bias, target = _problem(dtype=torch.float32, vocab=512, dim=32, seed=2)
    module = ts2.get_loss(name, chunk_size=16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss, grads = _grads(lambda h, w, b: module.fused(h, w, target, bias=b), (hidden, weight, bias))
        ref_loss, ref_grads = _grads(lambda h, w, b: module(torch.nn.functional.linear(h, w, b).float(), target),
                                     (hidden, weight, bias))
    assert loss.dtype == torch.float32 and all(g.dtype == torch.float32 for g in grads)
    torch.testing.assert_close(loss, ref_loss, rtol=2e-2, atol=2e-2)
    for got, want in zip(grads, ref_grads):
        torch.testing.assert_close(got, want, rtol=5e-2, atol=5e-3 * want.abs().max().item())


@pytest.mark.parametrize("name", ["ce", "ts2", "gem"])
def test_fused_all_ignored_batch_is_zero_and_connected(name):
    hidden, weight, bias, target = _problem(dtype=torch.float32, ignore_frac=1.0)
    h = hidden.requires_grad_()
    w = weight.requires_grad_()
    b = bias.requires_grad_()
    loss = ts2.get_loss(name).fused(h, w, target, bias=b)
    assert loss.item() == 0.0 and loss.grad_fn is not None
    loss.backward()
    for t in (h, w, b):
        assert t.grad is not None and torch.count_nonzero(t.grad) == 0


def test_fused_num_items_over_micro_batches_equals_full_batch():
    hidden, weight, _, target = _problem(n_batch=4)
    num_items = int((target != -100).sum())
    module = ts2.get_loss("ts2", chunk_size=5)
    full, full_grads = _grads(lambda h, w: module.fused(h, w, target), (hidden, weight))

    def accumulated(h, w):
        return sum(module.fused(h[i : i + 2], w, target[i : i + 2], num_items_in_batch=num_items)
                   for i in (0, 2))

    total, grads = _grads(accumulated, (hidden, weight))
    torch.testing.assert_close(total, full)
    for got, want in zip(grads, full_grads):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("name", ["ce", "sparsemax", "ts2"])
def test_fused_gradcheck_float64(name):
    hidden, weight, bias, target = _problem(n_batch=2, seq=3, dim=4, vocab=9)
    module = ts2.get_loss(name, chunk_size=4)
    inputs = tuple(t.clone().requires_grad_() for t in (hidden, weight, bias))
    assert torch.autograd.gradcheck(lambda h, w, b: module.fused(h, w, target, bias=b), inputs)


def test_fused_diagnostics_match_unfused():
    hidden, weight, _, target = _problem(dtype=torch.float32)
    _, fused_stats = ts2.ops.fused_linear_sparsemax_plus_loss(hidden, weight, target, chunk_size=4,
                                                          return_diagnostics=True)
    with torch.no_grad():
        stats = ts2.ops.token_diagnostics(hidden @ weight.t(), target)
    for key in stats:
        torch.testing.assert_close(fused_stats[key], stats[key], rtol=1e-5, atol=1e-5)


def test_fused_backward_scales_by_incoming_gradient():
    hidden, weight, _, target = _problem()
    _, grads = _grads(lambda h, w: ts2.ops.fused_linear_gem_loss(h, w, target), (hidden, weight))
    _, scaled = _grads(lambda h, w: 2.5 * ts2.ops.fused_linear_gem_loss(h, w, target), (hidden, weight))
    for got, want in zip(scaled, grads):
        torch.testing.assert_close(got, 2.5 * want)


@pytest.mark.parametrize("case", ["noisy_1e4", "barely_inside_2e4"])
def test_fused_path_is_exact_at_large_logit_magnitudes(case):
    """Identity output embedding: the fused path sees exactly these float32 logits (|z| ~ 1e4)."""
    from cases import make_case
    from references import authors_sparsemax_plus, loss_and_grad

    z, y = make_case(case)
    vocab = min(512, z.shape[1])
    z, y = z.float()[:, :vocab], y % vocab
    eye = torch.eye(vocab)
    loss_fn = ts2.get_loss("ts2", chunk_size=5, reduction="sum")
    loss, grad_h = loss_and_grad(lambda h: loss_fn.fused(h, eye, y), z)
    ref_loss, ref_grad = loss_and_grad(lambda x: authors_sparsemax_plus(x, y, alpha=0.25, temperature=1.0,
                                                                        adaptive=False).sum(), z.double())
    torch.testing.assert_close(loss.double(), ref_loss, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(grad_h.double(), ref_grad, rtol=1e-5, atol=1e-5)
