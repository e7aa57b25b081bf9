import entmax
import pytest
import torch
from cases import CASES, make_case
from references import finite

import ts2
from ts2.ops.sparsemax import TOPK_STEPS, partition_by_support, threshold_rows


@pytest.mark.parametrize("case", CASES)
def test_sparsemax_matches_entmax_float64(case):
    z, _ = make_case(case)
    expected = entmax.sparsemax(finite(z), dim=-1)
    torch.testing.assert_close(ts2.sparsemax(z), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_sparsemax_float32_close_to_float64_truth(case):
    z, _ = make_case(case)
    truth = entmax.sparsemax(finite(z.float().double()), dim=-1)
    ours = ts2.sparsemax(z.float())
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours.double(), truth, rtol=0, atol=2e-5)


@pytest.mark.parametrize("case", ["llm", "flat", "integer_ties"])
def test_threshold_and_support_size(case):
    z, _ = make_case(case)
    tau, size = ts2.sparsemax_threshold(z)
    p = entmax.sparsemax(z, dim=-1)
    assert torch.equal(size, (p > 0).sum(-1))
    torch.testing.assert_close(torch.clamp(z - tau[:, None], min=0), p, rtol=0, atol=1e-12)


def test_every_solver_stage_is_exact():
    """One block with rows solved at each top-k step and by the dense Newton solver."""
    g = torch.Generator().manual_seed(0)
    k0, k1, k2 = TOPK_STEPS
    vocab = 2 * k2 + 1
    z = torch.zeros(4, vocab, dtype=torch.float64)
    z[0] = 6.0 * torch.randn(vocab, generator=g, dtype=torch.float64)  # LLM-like: tiny support
    for row, size in ((1, 2 * k0), (2, 2 * k1)):  # supports between the first and second step, ...
        z[row, :size] = 1.0 + 1e-4 * torch.randn(size, generator=g, dtype=torch.float64)
    z[3] = 1e-7 * torch.randn(vocab, generator=g, dtype=torch.float64)  # support ~ V: dense
    groups = list(partition_by_support(z))
    steps = {"dense" if th.top_idx is None else th.top_idx.shape[1] for _, th in groups}
    assert steps == {k0, k1, k2, "dense"}
    tau_rel, size, row_max = threshold_rows(z)
    expected = entmax.sparsemax(z, dim=-1)
    assert torch.equal(size, (expected > 0).sum(-1))
    assert size[1] == 2 * k0 and size[2] == 2 * k1 and size[3] > k2
    assert torch.equal(row_max, z.amax(1)) and torch.all((tau_rel >= -1) & (tau_rel < 0))
    p = torch.clamp(z - row_max[:, None] - tau_rel[:, None], min=0)
    torch.testing.assert_close(p, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", ["noisy_1e4", "barely_inside_2e4"])
def test_large_magnitudes_keep_every_support_member(case):
    """Entries whose sparsemax probability is below float32 spacing at |z| ~ 2e4 stay in the support."""
    z, _ = make_case(case)
    z32 = z.float()
    truth = entmax.sparsemax(z32.double(), dim=-1)
    ours = ts2.sparsemax(z32)
    assert torch.equal(ours > 0, truth > 0)
    if case == "barely_inside_2e4":  # members far below float32 spacing at 2e4 (2**-9)
        smallest = torch.where(truth > 0, truth, torch.inf).amin(1)
        assert float(smallest.min()) < 2.0**-9 / 4
    torch.testing.assert_close(ours.double(), truth, rtol=0, atol=2e-6)
    tau, size = ts2.sparsemax_threshold(z32)
    assert torch.equal(size, (truth > 0).sum(-1))


def test_sparsemax_any_dim_and_dtype():
    z = torch.randn(3, 7, 5, dtype=torch.float64)
    torch.testing.assert_close(ts2.sparsemax(z, dim=1), entmax.sparsemax(z, dim=1))
    out = ts2.sparsemax(z.to(torch.bfloat16), dim=1)
    assert out.dtype == torch.bfloat16 and out.shape == z.shape
    torch.testing.assert_close(out.double(), entmax.sparsemax(z.to(torch.bfloat16).double(), dim=1),
                               rtol=0, atol=1e-2)


def test_sparsemax_gradcheck():
    z = (2 * torch.randn(6, 40, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(ts2.sparsemax, (z,))


def test_sparsemax_backward_matches_entmax():
    z = 3 * torch.randn(8, 200, dtype=torch.float64)
    upstream = torch.randn(8, 200, dtype=torch.float64)
    a = z.clone().requires_grad_()
    b = z.clone().requires_grad_()
    (ts2.sparsemax(a) * upstream).sum().backward()
    (entmax.sparsemax(b, dim=-1) * upstream).sum().backward()
    torch.testing.assert_close(a.grad, b.grad)
