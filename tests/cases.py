"""Named logits/target cases covering the regimes the loss must get right (float64 originals)."""

from __future__ import annotations

import torch
from references import llm_like

from ts2.ops.sparsemax import TOPK_STEPS


def _targets(n, vocab, seed):
    return torch.randint(0, vocab, (n,), generator=torch.Generator().manual_seed(seed + 1))


def make_case(name: str):
    """Return (logits [n, V] float64, target [n] int64) for a named regime."""
    g = torch.Generator().manual_seed(7)
    if name == "llm":
        z = llm_like(24, 1000)
        return z, _targets(24, 1000, 0)
    if name == "peaked":
        z = llm_like(12, 517, scale=1.0)
        z[torch.arange(12), torch.randint(0, 517, (12,), generator=g)] += 20.0
        return z, _targets(12, 517, 1)
    if name == "flat":
        z = llm_like(12, 997, scale=0.3)
        return z, _targets(12, 997, 2)
    if name == "integer_ties":
        z = torch.randint(-3, 4, (20, 50), generator=g).double()
        return z, _targets(20, 50, 3)
    if name == "half_integer_ties":
        z = torch.randint(-6, 7, (20, 50), generator=g).double() / 2
        return z, _targets(20, 50, 4)
    if name == "tied_maxima":
        z = llm_like(10, 300, scale=0.5)
        top = z.amax(1, keepdim=True) + 0.25
        z[:, :3] = top
        return z, _targets(10, 300, 5)
    if name == "label_is_argmax":
        z = llm_like(16, 400)
        return z, z.argmax(1)
    if name == "label_outside_support":
        z = llm_like(16, 400)
        return z, z.argmin(1)
    if name == "clamp_active":
        z = 0.01 * llm_like(8, 1000, scale=1.0)
        z[:, 0] = 1.5  # support {0}; the 999 entries just below carry > 99% of the softmax mass
        target = torch.zeros(8, dtype=torch.long)
        target[4:] = 3
        return z, target
    if name == "huge":
        z = llm_like(8, 301, scale=3.0) + 1e4
        z[:4] *= 1.0 + 1e-3 * torch.randn(4, 301, generator=g, dtype=torch.float64)
        return z, _targets(8, 301, 6)
    if name == "masked_vocabulary":
        z = llm_like(12, 500)
        target = _targets(12, 500, 7)
        mask = torch.rand(12, 500, generator=g) < 0.4
        mask[torch.arange(12), target] = False
        z[mask] = -torch.inf
        return z, target
    if name == "mixed_supports":  # one block, rows solved at every top-k step and densely
        k0, k1, k2 = TOPK_STEPS
        vocab = 2 * k2 + 1
        z = 1e-7 * torch.randn(4, vocab, generator=g, dtype=torch.float64)
        z[0] += 6.0 * torch.randn(vocab, generator=g, dtype=torch.float64)
        for row, size in ((1, 2 * k0), (2, 2 * k1)):
            z[row, :size] += 1.0 + 1e-4 * torch.randn(size, generator=g, dtype=torch.float64)
        target = torch.tensor([0, 1, 2 * k1 + 5, 7])  # row 2: label outside the support
        return z, target
    if name.startswith("noisy_1e"):  # ~1/3 of the entries within a few units of the maximum
        scale = float(name.removeprefix("noisy_"))
        z = scale * torch.randint(0, 3, (12, 5000), generator=g).double()
        z += torch.randn(12, 5000, generator=g, dtype=torch.float64)
        return z, _targets(12, 5000, 8)
    if name == "barely_inside_2e4":
        # Values 2e4 + k/512 are exact in float32; supports of tens of entries whose smallest
        # probability is a small multiple of 1/(512 |S|), far below float32 spacing at 2e4 (2e-3).
        z = 2e4 + torch.randint(-700, 1, (16, 400), generator=g).double() / 512
        return z, _targets(16, 400, 9)
    raise KeyError(name)


CASES = [
    "llm", "peaked", "flat", "integer_ties", "half_integer_ties", "tied_maxima", "label_is_argmax",
    "label_outside_support", "clamp_active", "huge", "masked_vocabulary", "mixed_supports",
    "noisy_1e2", "noisy_1e3", "noisy_1e4", "barely_inside_2e4",
]
