"""The public surface of ``ts2`` is a few names; the old top-level names still resolve, to the
same objects, with a FutureWarning naming their home."""

import warnings

import pytest

import ts2


def test_the_public_names():
    assert ts2.__all__ == ["SparsemaxPlusLoss", "TS2SFTTrainer", "TS2Trainer", "get_loss", "sparsemax",
                           "sparsemax_threshold", "train"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of them warns
        for name in ts2.__all__:
            assert getattr(ts2, name) is not None
    assert type(ts2.get_loss("ts2")) is ts2.SparsemaxPlusLoss


@pytest.mark.parametrize("name,home", [("sparsemax_plus_loss", "ops"), ("fused_linear_gem_loss", "ops"),
                                       ("token_diagnostics", "ops"), ("GEMLoss", "losses")])
def test_old_names_warn_and_are_the_same_object(name, home):
    with pytest.warns(FutureWarning, match=rf"ts2\.{name} is deprecated .* use ts2\.{home}\.{name}"):
        old = getattr(ts2, name)
    assert old is getattr(getattr(ts2, home), name)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        ts2.nonsense  # noqa: B018


def test_a_kernel_says_whether_it_may_overwrite_the_logits():
    from ts2.ops.functional import ce_rows_fn, gem_rows_fn, sparsemax_plus_rows_fn

    assert ce_rows_fn().overwrites_logits and sparsemax_plus_rows_fn(0.5).overwrites_logits
    assert not gem_rows_fn().overwrites_logits
