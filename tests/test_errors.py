"""Bad arguments raise ValueError naming the argument and the value."""

import pytest
import torch

import ts2

Z = torch.randn(2, 3, 10)
Y = torch.randint(0, 10, (2, 3))


@pytest.mark.parametrize("call,words", [
    (lambda: ts2.ops.sparsemax_plus_loss(Z, Y, temperature=0.0), ["temperature", "0.0"]),
    (lambda: ts2.ops.sparsemax_plus_loss(Z, Y, temperature=-1), ["temperature", "-1"]),
    (lambda: ts2.ops.sparsemax_loss(Z, Y, temperature=float("nan")), ["temperature", "nan"]),
    (lambda: ts2.ops.sparsemax_plus_loss(Z, Y, alpha=-0.1), ["alpha", "-0.1"]),
    (lambda: ts2.ops.gem_loss(Z, Y, beta=0), ["beta", "0"]),
    (lambda: ts2.ops.gem_loss(Z, Y, h="cubic"), ["h", "cubic"]),
    (lambda: ts2.ops.sparsemax_plus_loss(Z, Y, reduction="avg"), ["reduction", "avg"]),
    (lambda: ts2.ops.sparsemax_plus_loss(Z, Y, reduction="none", num_items_in_batch=4),
     ["num_items_in_batch", "none"]),
    (lambda: ts2.ops.sparsemax_plus_loss(Z, torch.full((2, 3), 10)), ["10", "[0, 10)"]),
    (lambda: ts2.ops.cross_entropy_loss(Z, torch.full((2, 3), -1)), ["-1", "ignore_index=-100"]),
    (lambda: ts2.ops.gem_loss(Z, torch.full((2, 3), -100), ignore_index=0), ["-100", "ignore_index=0"]),
    (lambda: ts2.ops.sparsemax_plus_loss(Z, Y[:, :2]), ["(2, 2)", "(2, 3)"]),
    (lambda: ts2.ops.sparsemax_plus_loss(Z, Y.float()), ["target", "float"]),
    (lambda: ts2.get_loss("focal"), ["focal", "ts2"]),
    (lambda: ts2.get_loss("ts2", beta=0.5), ["ts2", "beta"]),
    (lambda: ts2.SparsemaxPlusLoss(reduction="max"), ["reduction", "max"]),
    (lambda: ts2.ops.fused_linear_sparsemax_plus_loss(Z, torch.randn(10, 4), Y), ["(2, 3, 10)", "(10, 4)"]),
    (lambda: ts2.ops.fused_linear_sparsemax_plus_loss(Z, torch.randn(7, 10), Y, bias=torch.zeros(8)),
     ["bias", "(8,)"]),
    (lambda: ts2.ops.fused_linear_cross_entropy_loss(Z, torch.randn(7, 10), Y, chunk_size=0),
     ["chunk_size", "0"]),
    (lambda: ts2.ops.fused_linear_gem_loss(Z, torch.randn(7, 10), Y, reduction="none"),
     ["reduction", "none"]),
])
def test_bad_arguments_raise_value_error_naming_them(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_registry_builds_each_loss_with_its_settings():
    assert isinstance(ts2.get_loss("ce"), ts2.losses.CrossEntropyLoss)
    assert isinstance(ts2.get_loss("sparsemax"), ts2.losses.SparsemaxLoss)
    plus = ts2.get_loss("ts2", alpha=0.5, temperature=2.0)
    assert isinstance(plus, ts2.SparsemaxPlusLoss) and "alpha=0.5" in repr(plus)
    assert "adaptive=True" in repr(ts2.get_loss("ts2-adaptive"))
    assert "h='logsigmoid'" in repr(ts2.get_loss("gem", h="logsigmoid"))
    z, y = torch.randn(4, 20), torch.randint(0, 20, (4,))
    torch.testing.assert_close(ts2.get_loss("ce")(z, y), torch.nn.functional.cross_entropy(z, y))


def test_paper_recipe_defaults():
    import inspect

    sig = inspect.signature(ts2.ops.sparsemax_plus_loss)
    assert sig.parameters["alpha"].default == 0.25
    assert sig.parameters["temperature"].default == 1.0
    assert sig.parameters["ignore_index"].default == -100
    assert inspect.signature(ts2.ops.gem_loss).parameters["beta"].default == 0.7
