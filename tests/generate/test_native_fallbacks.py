"""The native sampler never dies of what it borrows: with torch's private oneDNN operators failing
(at the check, while reordering, or in a forward), opted out, or with a Transformers whose cache
lacks the layer API, it samples on the plain path with one warning, and float32 tokens are the
plain reference sampler's."""

import json
import logging
import subprocess
import sys

import pytest
import torch
import transformers as tf
from reference_sampler import reference_samples
from tiny import make_model_dir

import ts2.generate.native.loop as loop
from ts2.generate import Runtime, SamplingSettings, generate
from ts2.generate.native import Decoding, onednn, sample_prompts

PROMPTS = [[4, 7, 9, 11, 30], [5, 40], [6, 8, 10, 12, 14]]
KEYS = [[10 * p + j for j in range(3)] for p in range(3)]
DECODING = Decoding(temperature=1.3, top_k=0, top_p=0.95, max_new_tokens=10, stop_ids=frozenset({2, 13, 21}))


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = make_model_dir(tmp_path_factory.mktemp("fallback") / "m", "llama", seed=6)
    return tf.AutoModelForCausalLM.from_pretrained(path, attn_implementation="sdpa").eval()


@pytest.fixture(scope="module")
def reference(model):
    return [reference_samples(model, p, k, DECODING) for p, k in zip(PROMPTS, KEYS)]


def _tokens(model, **kw):
    return [[s.tokens for s in samples] for samples in sample_prompts(model, PROMPTS, KEYS, DECODING, 0, **kw)]


def _raise(*args, **kwargs):
    raise RuntimeError("mkldnn op missing in this torch")


def _no_forward_patched(model):
    return not any("forward" in m.__dict__ for m in model.modules() if isinstance(m, torch.nn.Linear))


@pytest.fixture
def fresh_check():
    onednn.works.cache_clear()
    yield
    onednn.works.cache_clear()


def test_with_the_private_ops_failing_at_the_check(model, reference, monkeypatch, caplog, fresh_check):
    monkeypatch.setattr(onednn, "_reorder", _raise)
    monkeypatch.setattr(onednn, "_linear", _raise)
    with caplog.at_level(logging.WARNING, "ts2.sampler"):
        assert _tokens(model) == reference
        assert _tokens(model) == reference
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "not usable here (mkldnn op missing" in caplog.records[0].message and _no_forward_patched(model)


def test_with_the_reorder_failing_on_the_models_weights(model, reference, monkeypatch, caplog):
    monkeypatch.setattr(onednn, "works", lambda dtype: True)
    monkeypatch.setattr(onednn, "_reorder", _raise)
    model.__dict__.pop(onednn._PACKED, None)
    with caplog.at_level(logging.WARNING, "ts2.sampler"):
        with onednn.packed_linears(model) as switched:
            assert not switched and _no_forward_patched(model)
        assert _tokens(model) == reference
    assert any("F.linear" in r.message for r in caplog.records)


def test_with_the_linear_failing_in_a_forward(model, reference, monkeypatch, caplog):
    """Packed, then the operator fails at its first use: that forward and every later one of the
    block compute F.linear, and the forwards are restored after it."""
    calls = []

    def fail_once_seen(*args):
        calls.append(1)
        raise RuntimeError("oneDNN primitive creation failed")

    monkeypatch.setattr(onednn, "works", lambda dtype: True)
    monkeypatch.setattr(onednn, "_linear", fail_once_seen)
    model.__dict__.pop(onednn._PACKED, None)
    with caplog.at_level(logging.WARNING, "ts2.sampler"):
        assert _tokens(model) == reference
    assert len(calls) == 1 and _no_forward_patched(model)
    assert sum("F.linear" in r.message for r in caplog.records) == 1


def test_an_exception_inside_the_block_restores_the_forwards(model):
    with pytest.raises(KeyError):
        with onednn.packed_linears(model) as switched:
            assert switched == onednn.works(model.dtype)
            raise KeyError("the caller failed")
    assert _no_forward_patched(model)


def test_the_opt_out(model, reference, monkeypatch):
    monkeypatch.setattr(onednn, "_linear", _raise)  # would be noticed if called
    monkeypatch.setenv(onednn.ENV, "0")
    with onednn.packed_linears(model) as switched:
        assert not switched
    assert _tokens(model) == reference
    monkeypatch.delenv(onednn.ENV)
    with onednn.packed_linears(model, enabled=False) as switched:
        assert not switched
    assert _tokens(model, onednn=False) == reference
    with pytest.raises(ValueError, match="onednn=False is a setting of the native sampler"):
        Runtime(engine="vllm", onednn=False).check()


def test_a_transformers_without_cache_layers_samples_on_its_dynamic_cache(model, reference, monkeypatch, caplog):
    monkeypatch.setattr(loop, "transformers_supported", lambda: False)
    loop._slabs_supported.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, "ts2.sampler"):
            assert _tokens(model) == reference
            assert _tokens(model) == reference
        assert sum("lacks the cache layers" in r.message for r in caplog.records) == 1
        assert model.config._attn_implementation == "sdpa"
    finally:
        loop._slabs_supported.cache_clear()


def test_generate_writes_every_row_with_the_ops_failing(tmp_path, monkeypatch, fresh_check):
    """``ts2 generate``'s path: every row written, the same bytes as a run that opted out."""
    model_dir = make_model_dir(tmp_path / "m", "llama", seed=2)
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"add {i} and {i + 1}"}) + "\n" for i in range(5)))
    settings = SamplingSettings(n=3, max_new_tokens=6, top_k=0, top_p=1.0, seed=3)
    plain = generate(str(model_dir), str(prompts), str(tmp_path / "plain.jsonl"), settings, progress=False,
                     runtime=Runtime(onednn=False))
    monkeypatch.setattr(onednn, "_reorder", _raise)
    monkeypatch.setattr(onednn, "_linear", _raise)
    failing = generate(str(model_dir), str(prompts), str(tmp_path / "failing.jsonl"), settings, progress=False)
    assert failing.sampled == plain.sampled == 5
    assert failing.path.read_bytes() == plain.path.read_bytes()


def test_the_attention_is_registered_when_sampling_starts_not_at_import():
    code = ("import transformers, ts2.generate.native as n, ts2.generate.native.attention as a\n"
            "print(a.NAME in transformers.AttentionInterface().valid_keys())\n"
            "m = transformers.LlamaForCausalLM(transformers.LlamaConfig(vocab_size=32, hidden_size=16, "
            "intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1), )\n"
            "m.config._attn_implementation = 'sdpa'\n"
            "with a.decoding_attention(m) as on: print(on, a.NAME in transformers.AttentionInterface().valid_keys())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True", "True"]
