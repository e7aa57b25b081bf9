import entmax
import pytest
import torch
import torch.nn.functional as F
from cases import CASES, make_case
from references import authors_sparsemax_plus, finite, llm_like, loss_and_grad, naive_dft, naive_gem, reference_loss

import ts2

CONFIGS = [  # (alpha, temperature, adaptive); temperatures are exact in binary so ties stay ties
    (0.25, 1.0, False),
    (0.25, 0.5, False),
    (1.0, 2.0, False),
    (0.0, 1.0, False),
    (0.25, 1.0, True),
]


def _compare_with_authors(z, y, alpha, temperature, adaptive, dtype, loss_tol, grad_tol):
    ours_in = z.to(dtype)
    ref_in = ours_in.double()  # the reference sees exactly the values we see, in float64
    loss, grad = loss_and_grad(ts2.ops.sparsemax_plus_loss, ours_in, y, alpha=alpha,
                               temperature=temperature, adaptive=adaptive, reduction="none")
    ref_loss, ref_grad = loss_and_grad(authors_sparsemax_plus, ref_in, y, alpha=alpha,
                                       temperature=temperature, adaptive=adaptive)
    torch.testing.assert_close(loss.double(), ref_loss, rtol=loss_tol, atol=loss_tol)
    torch.testing.assert_close(grad.double(), ref_grad, rtol=grad_tol, atol=grad_tol)


def _config_id(config):
    alpha, temperature, adaptive = config
    return f"a{alpha}-T{temperature}-{'adaptive' if adaptive else 'fixed'}"


@pytest.mark.parametrize("config", CONFIGS, ids=_config_id)
@pytest.mark.parametrize("case", CASES)
def test_sparsemax_plus_matches_authors_float32(case, config):
    z, y = make_case(case)
    _compare_with_authors(z, y, *config, dtype=torch.float32, loss_tol=1e-5, grad_tol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_sparsemax_plus_matches_authors_float64(case):
    z, y = make_case(case)
    _compare_with_authors(z, y, 0.25, 0.5, False, dtype=torch.float64, loss_tol=1e-10, grad_tol=1e-10)


def test_clamp_case_is_clamped_and_has_no_suppression_gradient():
    z, y = make_case("clamp_active")
    stats = ts2.ops.token_diagnostics(z.float(), y)
    assert torch.all(stats["clamped"] == 1)
    assert torch.all(stats["out_of_support_mass"] > 0.99)
    loss_plus, grad_plus = loss_and_grad(ts2.ops.sparsemax_plus_loss, z.float(), y, reduction="none")
    loss_sm, grad_sm = loss_and_grad(ts2.ops.sparsemax_loss, z.float(), y, reduction="none")
    torch.testing.assert_close(loss_plus, loss_sm + 0.25 * torch.log(torch.tensor(100.0)))
    torch.testing.assert_close(grad_plus, grad_sm)


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_sparsemax_loss_matches_entmax(temperature):
    z, y = make_case("llm")
    loss, grad = loss_and_grad(ts2.ops.sparsemax_loss, z, y, temperature=temperature, reduction="none")
    ref_loss, ref_grad = loss_and_grad(lambda x: entmax.sparsemax_loss(x * temperature, y), z)
    torch.testing.assert_close(loss, ref_loss)
    torch.testing.assert_close(grad, ref_grad)


@pytest.mark.parametrize("case", ["llm", "flat", "huge", "masked_vocabulary", "integer_ties"])
def test_cross_entropy_matches_torch(case):
    z, y = make_case(case)
    for dtype, tol in [(torch.float32, 1e-5), (torch.float64, 1e-12)]:
        loss, grad = loss_and_grad(ts2.ops.cross_entropy_loss, z.to(dtype), y, reduction="none")
        ref_loss, ref_grad = loss_and_grad(F.cross_entropy, z.to(dtype).double(), y, reduction="none")
        torch.testing.assert_close(loss.double(), ref_loss, rtol=tol, atol=tol)
        torch.testing.assert_close(grad.double(), ref_grad, rtol=tol, atol=tol)


@pytest.mark.parametrize("h", ["linear", "logsigmoid"])
@pytest.mark.parametrize("beta", [0.7, 1.3])
@pytest.mark.parametrize("case", ["llm", "flat", "masked_vocabulary", "peaked"])
def test_gem_matches_naive(case, beta, h):
    z, y = make_case(case)
    loss, grad = loss_and_grad(ts2.ops.gem_loss, z.float(), y, beta=beta, h=h, reduction="none")
    ref_loss, ref_grad = loss_and_grad(naive_gem, finite(z.float().double()), y, beta=beta, h=h)
    torch.testing.assert_close(loss.double(), ref_loss, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grad.double(), ref_grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["llm", "flat", "huge", "masked_vocabulary", "integer_ties", "peaked"])
def test_dft_matches_trl_formula(case):
    # TRL (loss_type="dft"): per-token -log p(y) * p(y).detach()
    z, y = make_case(case)
    for dtype, tol in [(torch.float32, 1e-5), (torch.float64, 1e-12)]:
        loss, grad = loss_and_grad(ts2.ops.dft_loss, z.to(dtype), y, reduction="none")
        ref_loss, ref_grad = loss_and_grad(naive_dft, z.to(dtype).double(), y)
        torch.testing.assert_close(loss.double(), ref_loss, rtol=tol, atol=tol)
        torch.testing.assert_close(grad.double(), ref_grad, rtol=tol, atol=tol)


GRADCHECK_LOSSES = {
    "ce": lambda z, y: ts2.ops.cross_entropy_loss(z, y),
    "sparsemax": lambda z, y: ts2.ops.sparsemax_loss(z, y, temperature=0.7),
    "ts2": lambda z, y: ts2.ops.sparsemax_plus_loss(z, y, alpha=0.5, temperature=0.7),
    "ts2-none": lambda z, y: ts2.ops.sparsemax_plus_loss(z, y, reduction="none"),
}


@pytest.mark.parametrize("name", GRADCHECK_LOSSES)
def test_gradcheck_float64(name):
    # GEM and the adaptive weight detach part of the function on purpose (q, 1 - p*_y), so their
    # closed-form gradients are checked against autograd of the references above instead.
    z = llm_like(6, 30, scale=2.0).requires_grad_()
    y = torch.tensor([0, 5, -100, 29, 3, 3])
    assert torch.autograd.gradcheck(lambda x: GRADCHECK_LOSSES[name](x, y), (z,))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("name,params", [("ts2", {}), ("sparsemax", {}), ("ce", {}), ("gem", {}), ("dft", {})])
def test_half_precision_no_worse_than_naive_float32(dtype, name, params):
    z, y = make_case("llm")
    z_low = z.to(dtype)
    truth_loss, truth_grad = loss_and_grad(
        lambda x: reference_loss(name, x, y, reduction="none", **params), z_low.double())
    naive_loss, _ = loss_and_grad(
        lambda x: reference_loss(name, x, y, reduction="none", **params), z_low.float())
    module = ts2.get_loss(name, reduction="none", **params)
    loss, grad = loss_and_grad(module, z_low, y)
    assert loss.dtype == torch.float32 and grad.dtype == dtype
    ours_err = (loss.double() - truth_loss).abs().max()
    naive_err = (naive_loss.double() - truth_loss).abs().max()
    assert ours_err <= naive_err * 1.5 + 1e-6
    # The gradient is the float64-accurate value rounded once to the input dtype.
    eps = torch.finfo(dtype).eps
    assert torch.all((grad.double() - truth_grad).abs() <= eps * truth_grad.abs() + 1e-6)


@pytest.mark.parametrize("name", ["ce", "sparsemax", "ts2", "ts2-adaptive", "gem", "dft"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ignored_positions_and_reductions(name, reduction):
    g = torch.Generator().manual_seed(3)
    z = llm_like(3 * 7, 64).reshape(3, 7, 64)
    y = torch.randint(0, 64, (3, 7), generator=g)
    y[torch.rand(3, 7, generator=g) < 0.4] = -100
    loss, grad = loss_and_grad(ts2.get_loss(name, reduction=reduction), z, y)
    ref_loss, ref_grad = loss_and_grad(lambda x: reference_loss(name, x, y, reduction=reduction), z)
    assert loss.shape == ref_loss.shape
    torch.testing.assert_close(loss, ref_loss)
    torch.testing.assert_close(grad, ref_grad)
    assert torch.all(grad[y == -100] == 0)


@pytest.mark.parametrize("name", ["ce", "ts2", "gem", "dft"])
def test_all_ignored_batch(name):
    z = torch.randn(2, 5, 40, requires_grad=True)
    y = torch.full((2, 5), -100)
    loss = ts2.get_loss(name)(z, y)
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert torch.equal(z.grad, torch.zeros_like(z))
    none = ts2.get_loss(name, reduction="none")(z, y)
    assert torch.equal(none, torch.zeros(2, 5))


@pytest.mark.parametrize("name", ["ce", "ts2", "gem", "dft"])
def test_num_items_in_batch_over_micro_batches_equals_full_batch(name):
    g = torch.Generator().manual_seed(4)
    z = torch.randn(4, 9, 50, generator=g)
    y = torch.randint(0, 50, (4, 9), generator=g)
    y[torch.rand(4, 9, generator=g) < 0.3] = -100
    num_items = int((y != -100).sum())
    loss_fn = ts2.get_loss(name)
    full, full_grad = loss_and_grad(loss_fn, z, y)
    x = z.clone().requires_grad_()
    total = sum(loss_fn(x[i : i + 2], y[i : i + 2], num_items_in_batch=torch.tensor(num_items))
                for i in (0, 2))
    total.backward()
    torch.testing.assert_close(total.detach(), full)
    torch.testing.assert_close(x.grad, full_grad)


def test_backward_scales_by_incoming_gradient():
    z, y = make_case("llm")
    x = z.float().requires_grad_()
    (3.0 * ts2.ops.sparsemax_plus_loss(x, y)).backward()
    _, grad = loss_and_grad(ts2.ops.sparsemax_plus_loss, z.float(), y)
    torch.testing.assert_close(x.grad, 3 * grad)
    x.grad = None
    losses = ts2.ops.sparsemax_plus_loss(x, y, reduction="none")
    weights = torch.rand(len(y))
    (losses * weights).sum().backward()
    ref = loss_and_grad(lambda a: authors_sparsemax_plus(a, y) * weights.double(), z.float().double())[1]
    torch.testing.assert_close(x.grad.double(), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["llm", "mixed_supports", "clamp_active"])
def test_diagnostics_match_direct_computation(case):
    z, y = make_case(case)
    z = z.float()
    stats = ts2.ops.token_diagnostics(z, y, temperature=0.5)
    p_star = entmax.sparsemax(z.double() * 0.5, dim=-1)
    p = torch.softmax(z.double(), -1)
    outside = (p_star == 0) & (torch.arange(z.shape[1])[None] != y[:, None])
    torch.testing.assert_close(stats["support_size"].double(), (p_star > 0).sum(-1).double())
    torch.testing.assert_close(stats["out_of_support_mass"].double(), (p * outside).sum(-1),
                               rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(stats["entropy"].double(), -(p * p.log()).sum(-1), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(stats["ce"].double(), F.cross_entropy(z.double(), y, reduction="none"),
                               rtol=1e-6, atol=1e-5)
    assert torch.equal(stats["clamped"], ((p * outside).sum(-1) > 0.99).float())
    _, same = ts2.ops.sparsemax_plus_loss(z, y, temperature=0.5, return_diagnostics=True)
    for key in stats:
        torch.testing.assert_close(same[key], stats[key])


def test_no_gradient_needed_under_no_grad():
    z, y = make_case("llm")
    with torch.no_grad():
        loss = ts2.ops.sparsemax_plus_loss(z.float(), y)
    torch.testing.assert_close(loss.double(), authors_sparsemax_plus(z.float().double(), y).mean(),
                               rtol=1e-5, atol=1e-5)


def test_every_loss_takes_the_settings_the_registry_lists():
    from ts2.losses import LOSS_SETTINGS, LOSSES, get_loss
    from ts2.training import TS2Arguments

    assert set(LOSS_SETTINGS) == set(LOSSES)
    for name in LOSSES:
        kwargs = TS2Arguments(loss=name, temperature=0.5).loss_kwargs()
        assert set(kwargs) == {*LOSS_SETTINGS[name], "chunk_size"}
        loss = get_loss(name, **kwargs)
        assert loss.temperature == (0.5 if "temperature" in LOSS_SETTINGS[name] else 1.0)
        assert all(f"{k}=" in repr(loss) for k in LOSS_SETTINGS[name])
