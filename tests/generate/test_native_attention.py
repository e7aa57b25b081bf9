"""The native sampler's KV slab and grouped-query attention against Transformers' own: DynamicLayer and
SDPA attention (with its repeated key/value heads), and a plain per-sample reference sampler."""

import re

import pytest
import torch
import transformers as tf
from reference_sampler import reference_samples
from tiny import make_model_dir
from transformers.cache_utils import DynamicLayer
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from ts2.generate.native import Decoding, sample_prompts
from ts2.generate.native.attention import NAME, decode_attention, decoding_attention
from ts2.generate.native.kv_cache import SlabLayer, slab_cache


class _Module:
    """What Transformers' SDPA attention reads off an attention module."""

    is_causal = True
    training = False

    def __init__(self, groups: int = 2):
        self.num_key_value_groups = groups


def _padding_mask(lengths, width):
    """The bool [B, 1, 1, width] mask of left-padded rows (True: attend)."""
    mask = torch.zeros(len(lengths), 1, 1, width, dtype=torch.bool)
    for row, length in enumerate(lengths):
        mask[row, ..., width - length:] = True
    return mask


def _float64_attention(query, key, value, mask, scaling):
    """Grouped-query attention in float64 with the key/value heads repeated: [B, 1, H, D]."""
    groups = query.shape[1] // key.shape[1]
    key, value = (t.double().repeat_interleave(groups, dim=1) for t in (key, value))
    scores = query.double() @ key.transpose(-1, -2) * scaling
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return (torch.softmax(scores, dim=-1) @ value).transpose(1, 2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("heads,kv_heads", [(9, 3), (4, 4), (8, 1)])
def test_one_query_attention_equals_sdpa_and_float64(dtype, heads, kv_heads):
    """float32: SDPA's result to 1e-5.  bfloat16 (the slab float32, as sampling keeps it): within
    the output's own rounding of float64 attention, as SDPA is."""
    gen = torch.Generator().manual_seed(heads * 10 + kv_heads)
    batch, width, dim = 5, 13, 16
    query = torch.randn(batch, heads, 1, dim, generator=gen).to(dtype)
    key = (torch.randn(batch, kv_heads, width, dim, generator=gen) * 4).to(dtype)  # large scores too
    value = torch.randn(batch, kv_heads, width, dim, generator=gen).to(dtype)
    module = _Module(heads // kv_heads)
    for mask in (None, _padding_mask([13, 1, 7, 12, 4], width)):
        want, _ = sdpa_attention_forward(module, query, key, value, mask, scaling=0.3)
        exact = _float64_attention(query, key, value, mask, 0.3)
        slab = torch.float32 if dtype == torch.bfloat16 else dtype
        got, weights = decode_attention(module, query, key.to(slab), value.to(slab), mask, scaling=0.3)
        assert weights is None and got.shape == want.shape == (batch, 1, heads, dim) and got.dtype == dtype
        if dtype == torch.float32:
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
        for result in (got, want):
            torch.testing.assert_close(result.double(), exact, rtol=2 ** -8, atol=1e-6 if dtype == slab else 2e-3)


def test_a_longer_mask_is_cut_to_the_keys_and_additive_masks_work():
    gen = torch.Generator().manual_seed(0)
    query, key, value = (torch.randn(3, 4, 1, 8, generator=gen), torch.randn(3, 2, 6, 8, generator=gen),
                         torch.randn(3, 2, 6, 8, generator=gen))
    mask = _padding_mask([6, 2, 4], 10)[..., 4:]  # width 6 after the cut of a width-10 mask below
    long_mask = torch.cat([mask, torch.ones(3, 1, 1, 4, dtype=torch.bool)], dim=-1)
    want, _ = sdpa_attention_forward(_Module(), query, key, value, mask)
    torch.testing.assert_close(decode_attention(_Module(), query, key, value, long_mask)[0], want)
    additive = torch.zeros(mask.shape).masked_fill(~mask, float("-inf"))
    torch.testing.assert_close(decode_attention(_Module(), query, key, value, additive)[0], want)


def test_what_it_does_not_handle_goes_to_sdpa_unchanged():
    gen = torch.Generator().manual_seed(1)
    key, value = torch.randn(2, 2, 5, 8, generator=gen), torch.randn(2, 2, 5, 8, generator=gen)
    prefill = torch.randn(2, 4, 5, 8, generator=gen)
    want, _ = sdpa_attention_forward(_Module(), prefill, key, value, None)
    assert torch.equal(decode_attention(_Module(), prefill, key, value, None)[0], want)
    one = torch.randn(2, 4, 1, 8, generator=gen)
    for extra in ({"softcap": 30.0}, {"sliding_window": 4}, {"s_aux": torch.zeros(4)}):
        try:
            sdpa = sdpa_attention_forward(_Module(), one, key, value, None, **extra)[0]
        except ValueError as exc:  # newer Transformers refuse softcap in SDPA: the same refusal
            with pytest.raises(ValueError, match=re.escape(str(exc))):
                decode_attention(_Module(), one, key, value, None, **extra)
            continue
        assert torch.equal(decode_attention(_Module(), one, key, value, None, **extra)[0], sdpa), extra
    torch.manual_seed(0)
    want = sdpa_attention_forward(_Module(), one, key, value, None, dropout=0.5)[0]
    torch.manual_seed(0)
    assert torch.equal(decode_attention(_Module(), one, key, value, None, dropout=0.5)[0], want)


def test_the_slab_holds_what_a_dynamic_layer_holds():
    gen = torch.Generator().manual_seed(2)
    slab, dynamic = SlabLayer(capacity=9), DynamicLayer()
    steps = [torch.randn(3, 2, width, 4, generator=gen) for width in (5, 1, 1)]
    for k in steps:
        for layer in (slab, dynamic):
            keys, values = layer.update(k, -k)
        assert torch.equal(slab.keys, dynamic.keys) and torch.equal(slab.values, dynamic.values)
        assert slab.get_seq_length() == dynamic.get_seq_length()
    for layer in (slab, dynamic):
        layer.batch_repeat_interleave(2)
    assert torch.equal(slab.keys, dynamic.keys)
    rows = torch.tensor([5, 0, 3])
    for layer in (slab, dynamic):
        layer.batch_select_indices(rows)
        layer.update(torch.ones(3, 2, 1, 4), torch.ones(3, 2, 1, 4))
    assert torch.equal(slab.keys, dynamic.keys) and torch.equal(slab.values, dynamic.values)
    assert slab.slab_keys.shape == (3, 2, 9, 4) and torch.equal(slab.slab_keys[:, :, 8], torch.zeros(3, 2, 4))
    with pytest.raises(RuntimeError, match="holds 9 positions, 10"):
        slab.update(torch.ones(3, 2, 2, 4), torch.ones(3, 2, 2, 4))


def test_sliding_window_layers_stay_dynamic(tmp_path):
    config = tf.MistralConfig(vocab_size=32, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                              num_attention_heads=4, num_key_value_heads=2, sliding_window=4)
    kinds = {type(layer).__name__ for layer in slab_cache(config, 16).layers}
    assert "SlabLayer" not in kinds
    assert {type(layer) for layer in slab_cache(tf.LlamaConfig(num_hidden_layers=2), 16).layers} == {SlabLayer}


def test_the_attention_is_switched_for_sampling_only(tmp_path):
    model = tf.AutoModelForCausalLM.from_pretrained(make_model_dir(tmp_path / "m", "llama", seed=0),
                                                    attn_implementation="sdpa")
    with decoding_attention(model):
        assert model.config._attn_implementation == NAME
    assert model.config._attn_implementation == "sdpa"
    eager = tf.AutoModelForCausalLM.from_pretrained(tmp_path / "m", attn_implementation="eager")
    with decoding_attention(eager):
        assert eager.config._attn_implementation == "eager"


def test_batched_slab_sampling_equals_the_plain_reference_sampler(tmp_path):
    """Prompts of different lengths (left padding), n 3, rows retiring at a stop id, GQA: every
    sample's tokens are the reference sampler's (float32)."""
    model = tf.AutoModelForCausalLM.from_pretrained(make_model_dir(tmp_path / "m", "llama", seed=4),
                                                    attn_implementation="sdpa")
    prompts = [[4, 7, 9, 11, 30], [5, 40], [6, 8, 10, 12, 14, 16, 18, 20, 22]]
    keys = [[100 * p + j for j in range(3)] for p in range(3)]
    decoding = Decoding(temperature=1.3, top_k=0, top_p=0.95, max_new_tokens=12,
                        stop_ids=frozenset({2, 13, 21, 33}))
    got = sample_prompts(model, prompts, keys, decoding, pad_id=0)
    lengths = set()
    for prompt, prompt_keys, samples in zip(prompts, keys, got):
        want = reference_samples(model, prompt, prompt_keys, decoding)
        assert [s.tokens for s in samples] == want
        lengths |= {len(t) for t in want}
    assert len(lengths) > 2  # rows left the batch at different steps


@pytest.mark.parametrize("arch,dtype", [("llama", torch.float32), ("llama", torch.bfloat16), ("qwen2", torch.float32)])
def test_packed_linears_compute_the_linears_and_are_switched_for_sampling_only(tmp_path, arch, dtype):
    """Inside ``packed_linears`` every nn.Linear (with a bias: qwen2's q_proj) gives F.linear's result to
    the dtype's rounding,
    independently of how many rows share the call; outside, the plain forward is back; a weight
    changed in place is packed again."""
    from ts2.generate.native.onednn import packed_linears, works

    model = tf.AutoModelForCausalLM.from_pretrained(make_model_dir(tmp_path / "m", arch, seed=1), dtype=dtype)
    linear = model.model.layers[0].self_attn.q_proj
    assert (linear.bias is not None) == (arch == "qwen2")
    x = torch.randn(37, 1, linear.in_features).to(dtype)
    with torch.no_grad():
        plain = linear(x)
        if not works(dtype):  # oneDNN's bfloat16 path needs AVX512 or AVX-NE-CONVERT: F.linear stays
            with packed_linears(model) as switched:
                assert not switched and "forward" not in linear.__dict__ and torch.equal(linear(x), plain)
            return
        with packed_linears(model) as switched:
            assert switched and "forward" in linear.__dict__
            packed = linear(x)
            assert torch.equal(linear(x[:1]), packed[:1]) and torch.equal(linear(x[5:8]), packed[5:8])
        assert "forward" not in linear.__dict__
        tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == torch.float32 else {"rtol": 2 ** -7, "atol": 1e-2}
        torch.testing.assert_close(packed, plain, **tol)
        linear.weight.mul_(2)
        with packed_linears(model):
            torch.testing.assert_close(linear(x), 2 * plain, **tol)
        model.half()
        with packed_linears(model) as switched:
            assert not switched and "forward" not in linear.__dict__
