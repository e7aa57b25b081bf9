"""The shared-prefix cache and attention of the decoding steps against the one-slab attention on the
same keys and values, written out per row (``decode_attention``)."""

import pytest
import torch
import transformers as tf
from reference_sampler import reference_samples
from test_native_attention import _Module
from tiny import make_model_dir

from ts2.generate.native import Decoding, sample_prompts
from ts2.generate.native.attention import decode_attention
from ts2.generate.native.kv_cache import SharedKV, SharedPrefixLayer, SlabLayer, share_prefix, slab_cache


def _prefilled(prompts: int, kv_heads: int, width: int, dim: int, gen) -> tuple:
    keys = torch.randn(prompts, kv_heads, width, dim, generator=gen) * 3
    values = torch.randn(prompts, kv_heads, width, dim, generator=gen)
    return keys, values


@pytest.mark.parametrize("heads,kv_heads", [(9, 3), (4, 4), (8, 1)])
def test_shared_attention_equals_the_attention_on_each_rows_whole_cache(heads, kv_heads):
    """Prompts with 3, 1 and 4 rows (left padding in the prompt part), two decoding steps, then rows
    retired (all of one prompt's): the same output as the one-slab attention on every row's whole
    keys and values, to float32 rounding."""
    gen = torch.Generator().manual_seed(heads + kv_heads)
    dim, width = 16, 7
    prompt_keys, prompt_values = _prefilled(3, kv_heads, width, dim, gen)
    prompt_of = torch.tensor([0, 0, 0, 1, 2, 2, 2, 2])
    layer = SharedPrefixLayer(prompt_keys, prompt_values, prompt_of, capacity=5, heads_per_kv=heads // kv_heads)
    lengths = torch.tensor([7, 2, 5])  # real prompt tokens, the rest is left padding
    module = _Module(heads // kv_heads)
    for step in range(4):
        rows = len(layer.prompt_of)
        new_k = torch.randn(rows, kv_heads, 1, dim, generator=gen)
        new_v = torch.randn(rows, kv_heads, 1, dim, generator=gen)
        key, value = layer.update(new_k, new_v)
        assert isinstance(key, SharedKV) and layer.get_seq_length() == width + step + 1
        mask = torch.ones(rows, 1, 1, width + step + 1, dtype=torch.bool)
        for row, prompt in enumerate(layer.prompt_of.tolist()):
            mask[row, ..., : width - int(lengths[prompt])] = False
        query = torch.randn(rows, heads, 1, dim, generator=gen)
        got, _ = decode_attention(module, query, key, value, mask, scaling=0.25)
        want, _ = decode_attention(module, query, key.whole(), value.whole(), mask, scaling=0.25)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
        if step == 1:
            layer.batch_select_indices(torch.tensor([0, 2, 4, 7]))  # prompt 1's only row leaves
            assert layer.prompt_of.tolist() == [0, 0, 1, 1] and layer.slot.tolist() == [0, 1, 0, 1]
            assert torch.equal(layer.prompt_keys, prompt_keys[[0, 2]])  # prompt 1's keys are dropped
            lengths = lengths[[0, 2]]


def test_a_prompt_step_falls_back_to_sdpa_on_the_whole_cache():
    """Several query positions (not a decoding step): SDPA on each row's whole keys and values."""
    gen = torch.Generator().manual_seed(0)
    prompt_keys, prompt_values = _prefilled(2, 2, 5, 8, gen)
    layer = SharedPrefixLayer(prompt_keys, prompt_values, torch.tensor([0, 1, 1]), capacity=4, heads_per_kv=2)
    key, value = layer.update(torch.randn(3, 2, 2, 8, generator=gen), torch.randn(3, 2, 2, 8, generator=gen))
    query = torch.randn(3, 4, 2, 8, generator=gen)
    got, _ = decode_attention(_Module(2), query, key, value, None, scaling=0.3)
    want, _ = decode_attention(_Module(2), query, key.whole(), value.whole(), None, scaling=0.3)
    torch.testing.assert_close(got, want)


def test_share_prefix_needs_every_layer_a_filled_slab(tmp_path):
    config = tf.AutoConfig.from_pretrained(make_model_dir(tmp_path / "m", "llama", seed=0))
    cache = slab_cache(config, 16)
    assert not share_prefix(cache, torch.tensor([0, 0]), 4, 2)  # nothing prefilled yet
    assert all(type(layer) is SlabLayer for layer in cache.layers)


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_sampling_with_shared_prompts_equals_the_plain_reference_sampler(tmp_path, arch, monkeypatch):
    """Prompts of different lengths with n 1, 4 and 2 samples, rows retiring at stop ids: every
    sample's tokens are the reference sampler's (float32), and each prompt's alone."""
    import ts2.generate.native.loop as decoding_module

    shared = []
    monkeypatch.setattr(decoding_module, "share_prefix", lambda *a: shared.append(share_prefix(*a)) or shared[-1])
    model = tf.AutoModelForCausalLM.from_pretrained(make_model_dir(tmp_path / "m", arch, seed=5),
                                                    attn_implementation="sdpa")
    prompts = [[4, 7, 9, 11, 30, 31, 32], [5, 40], [6, 8, 10, 12]]
    keys = [[900], [901, 902, 903, 904], [905, 906]]
    decoding = Decoding(temperature=1.2, top_k=0, top_p=0.97, max_new_tokens=10, stop_ids=frozenset({3, 17, 29}))
    got = [[s.tokens for s in samples] for samples in sample_prompts(model, prompts, keys, decoding, pad_id=0)]
    alone = [[s.tokens for s in sample_prompts(model, [p], [k], decoding, pad_id=0)[0]] for p, k in zip(prompts, keys)]
    want = [reference_samples(model, p, k, decoding) for p, k in zip(prompts, keys)]
    assert got == alone == want and shared and all(shared)  # the shared-prefix cache was used
    assert len({len(t) for samples in want for t in samples}) > 2  # rows left at different steps


@pytest.mark.parametrize("config_class", ["Qwen3Config", "MistralConfig"])
def test_the_other_shareable_architectures_sample_as_the_reference(config_class, monkeypatch):
    """Qwen3 (query/key norms before the cache) and Mistral (no sliding window) through the shared
    prompt keys: the reference sampler's tokens, float32."""
    torch.manual_seed(3)
    config = getattr(tf, config_class)(vocab_size=48, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                       num_attention_heads=4, num_key_value_heads=2, head_dim=8,
                                       sliding_window=None, max_position_embeddings=64)
    model = tf.AutoModelForCausalLM.from_config(config, attn_implementation="sdpa").eval()
    assert model.config.model_type in {"qwen3", "mistral"}
    import ts2.generate.native.loop as decoding_module

    shared = []
    monkeypatch.setattr(decoding_module, "share_prefix", lambda *a: shared.append(share_prefix(*a)) or shared[-1])
    prompts, keys = [[4, 7, 9, 11], [5, 40]], [[1, 2, 3], [4, 5]]
    decoding = Decoding(temperature=1.5, top_k=0, top_p=1.0, max_new_tokens=8, stop_ids=frozenset({3, 17}))
    got = [[s.tokens for s in samples] for samples in sample_prompts(model, prompts, keys, decoding, pad_id=0)]
    assert got == [reference_samples(model, p, k, decoding) for p, k in zip(prompts, keys)] and shared == [True]
