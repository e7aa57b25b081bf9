import entmax
import pytest
import torch
from cases import CASES, make_case
from references import finite

import ts2
from ts2.ops.sparsemax import partition_by_support, threshold_rows


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
    """Rows that need k=16, k=128, k=1024 and the dense Newton solver, in one block."""
    g = torch.Generator().manual_seed(0)
    vocab = 5000
    z = torch.randn(4, vocab, generator=g, dtype=torch.float64)
    z[0] *= 6.0  # LLM-like: support within the top 16
    z[1] = 0.05 * z[1]  # flat: a few hundred in the support
    z[1, :60] += 0.9  # support of ~60: needs k=128
    z[2] = torch.linspace(0, 1, vocab, dtype=torch.float64) * 0.002  # support of ~2200: dense
    z[3, :500] = 1.0 + 1e-4 * torch.randn(500, generator=g, dtype=torch.float64)
    z[3, 500:] = 0.0  # support of 500: needs k=1024
    groups = [(rows, th.top_idx is None, None if th.top_idx is None else th.top_idx.shape[1])
              for rows, th in partition_by_support(z)]
    kinds = {kind for _, dense, kind in groups if not dense} | {"dense" for _, d, _ in groups if d}
    assert kinds == {16, 128, 1024, "dense"}
    tau, size = threshold_rows(z)
    expected = entmax.sparsemax(z, dim=-1)
    assert torch.equal(size, (expected > 0).sum(-1))
    torch.testing.assert_close(torch.clamp(z - tau[:, None], min=0), expected, rtol=0, atol=1e-12)


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
