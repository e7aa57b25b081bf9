"""The Trainer integration: fused == unfused on real architectures, labels, TRL, refusals."""

import pytest
import torch
import transformers as tf
from datasets import Dataset
from tiny import addition_records, make_tokenizer, model_config

from ts2.hf import TS2Trainer, causal_lm_loss_func, check_fused_support
from ts2.losses import get_loss
from ts2.training.data import IGNORE_INDEX, Record, check_record, tokenize_records


def _batch(tok, n=4):
    records = [check_record(obj, f"mem:{i}") for i, obj in enumerate(addition_records(n))]
    examples, _ = tokenize_records(records, tok, 64)
    return tf.DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100)(examples)


def _loss_and_grads(model, trainer, batch):
    model.zero_grad()
    labels = batch["labels"]
    num_items = int((labels[:, 1:] != -100).sum())
    loss = trainer.compute_loss(model, dict(batch), num_items_in_batch=num_items)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("loss_name", ["ts2", "ce", "gem"])
@pytest.mark.parametrize("arch", ["llama", "qwen2", "mistral", "gpt2"])
def test_fused_and_unfused_paths_agree(tmp_path, arch, loss_name):
    tok = make_tokenizer()
    tf.set_seed(0)
    model = tf.AutoModelForCausalLM.from_config(model_config(arch, len(tok))).train()
    args = tf.TrainingArguments(output_dir=str(tmp_path), report_to="none", per_device_train_batch_size=4)
    batch = _batch(tok)
    results = []
    for fused in (True, False):
        trainer = TS2Trainer(model=model, args=args, loss=loss_name, loss_kwargs={"chunk_size": 7}, fused_loss=fused)
        assert trainer.fused_loss is fused
        results.append(_loss_and_grads(model, trainer, batch))
    (loss_f, grads_f), (loss_u, grads_u) = results
    torch.testing.assert_close(loss_f, loss_u, rtol=1e-5, atol=1e-5)
    assert grads_f.keys() == grads_u.keys() and len(grads_f) > 10
    for name in grads_f:
        torch.testing.assert_close(grads_f[name], grads_u[name], rtol=1e-4, atol=1e-5, msg=name)


def test_fused_refused_for_softcapped_logits(tmp_path):
    tok = make_tokenizer()
    config = tf.Gemma2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                             num_attention_heads=2, num_key_value_heads=1, head_dim=16,
                             final_logit_softcapping=30.0)
    model = tf.AutoModelForCausalLM.from_config(config)
    assert check_fused_support(model, requested=None) is False
    with pytest.raises(ValueError, match="softcap"):
        check_fused_support(model, requested=True)
    args = tf.TrainingArguments(output_dir=str(tmp_path), report_to="none")
    assert TS2Trainer(model=model, args=args, loss="ts2").fused_loss is False  # auto: falls back


def test_labels_cover_exactly_the_assistant_turns():
    tok = make_tokenizer()
    record = Record([{"role": "system", "content": "you are helpful ."},
                     {"role": "user", "content": "add 2 and 3"},
                     {"role": "assistant", "content": "the answer is 5"},
                     {"role": "user", "content": "add 1 and 1"},
                     {"role": "assistant", "content": "2"}], None, None, "mem:0")
    short = Record(None, "add 1 and 2", "3", "mem:1")
    examples, stats = tokenize_records([record, short], tok, 64)
    batch = tf.DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100)(examples)
    tokens = tok.convert_ids_to_tokens(batch["input_ids"][0])
    learned = [t for t, lab in zip(tokens, batch["labels"][0].tolist()) if lab != IGNORE_INDEX]
    assert learned == ["the", "answer", "is", "5", "<|end|>", "2", "<|end|>"]
    for ids, labels, mask in zip(batch["input_ids"], batch["labels"], batch["attention_mask"]):
        kept = labels != IGNORE_INDEX
        assert torch.equal(labels[kept], ids[kept])
        assert torch.all(labels[mask == 0] == IGNORE_INDEX)  # padding
    short_tokens = tok.convert_ids_to_tokens(examples[1]["input_ids"])
    assert short_tokens[:2] == ["<|user|>", "add"]
    assert [t for t, lab in zip(short_tokens, examples[1]["labels"]) if lab != IGNORE_INDEX] == ["3", "<|end|>"]
    assert stats.examples == 2 and stats.truncated == 0


def test_truncation_is_counted_and_empty_examples_dropped():
    tok = make_tokenizer()
    records = [Record(None, "add 1 and 2 " * 10, "3", "mem:0"), Record(None, "add 1 and 2", "3", "mem:1")]
    examples, stats = tokenize_records(records, tok, 12)
    assert stats.truncated == 1 and stats.dropped == 1 and stats.dropped_origins == ["mem:0"]
    assert len(examples) == 1


def test_trl_sft_trainer_with_ts2_loss(tmp_path, llama_dir):
    from trl import SFTConfig, SFTTrainer

    model = tf.AutoModelForCausalLM.from_pretrained(llama_dir)
    tok = tf.AutoTokenizer.from_pretrained(llama_dir)
    data = Dataset.from_list([r for r in addition_records(32) if "messages" in r])
    config = SFTConfig(output_dir=str(tmp_path), max_steps=12, per_device_train_batch_size=8,
                       learning_rate=3e-3, logging_steps=3, report_to="none", save_strategy="no",
                       assistant_only_loss=False, max_length=64, bf16=False)
    trainer = SFTTrainer(model=model, args=config, train_dataset=data, processing_class=tok,
                         compute_loss_func=causal_lm_loss_func(get_loss("ts2")))
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert losses[-1] < losses[0]
    # The logged loss is the ts2 loss of a batch, not cross-entropy.
    batch = next(iter(trainer.get_train_dataloader()))
    with torch.no_grad():
        out = trainer.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        ts2_value = causal_lm_loss_func(get_loss("ts2"))(out, batch["labels"])
        ce_value = out.loss if out.loss is not None else None
    assert ts2_value.item() > 0 and (ce_value is None or abs(ce_value - ts2_value) > 1e-3)


@pytest.mark.parametrize("arch", ["llama", "qwen2", "gpt2"])
def test_enable_fused_loss_inside_the_forward_matches_unfused(arch):
    """model(..., labels, num_items_in_batch).loss is the fused ts2 loss, computed inside the forward
    of the module that owns the output embedding (hooks observe it), with the unfused gradients."""
    from ts2 import get_loss
    from ts2.hf import enable_fused_loss, shift_labels

    torch.manual_seed(0)
    config = model_config(arch, 60)
    for name in ("resid_pdrop", "embd_pdrop", "attn_pdrop"):  # GPT-2's dropout would make the runs differ
        if hasattr(config, name):
            setattr(config, name, 0.0)
    reference = tf.AutoModelForCausalLM.from_config(config).train()
    model = tf.AutoModelForCausalLM.from_config(config).train()
    model.load_state_dict(reference.state_dict())
    ids = torch.randint(3, 60, (3, 11))
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0
    labels = ids.masked_fill(mask == 0, -100)
    labels[:, :3] = -100
    n = int((labels[:, 1:] != -100).sum()) + 5  # as if other processes held 5 more tokens
    expected = get_loss("ts2")(reference(input_ids=ids, attention_mask=mask).logits, shift_labels(labels), n)
    expected.backward()
    active, seen = [], []
    model.register_forward_pre_hook(lambda *_: active.append(True))
    model.register_forward_hook(lambda *_: active.clear())  # returns None: the output stays
    enable_fused_loss(model, "ts2", on_fused=lambda hidden, weight, *_: seen.append((bool(active), weight)))
    out = model(input_ids=ids, attention_mask=mask, labels=labels, num_items_in_batch=n)
    assert seen == [(True, model.get_output_embeddings().weight)]  # inside the owner's forward, its weight
    assert out.logits.shape == (3, 1, 60)  # last position only: no [tokens, vocab] logits
    torch.testing.assert_close(out.loss, expected, rtol=1e-5, atol=1e-6)
    out.loss.backward()
    grads = dict(reference.named_parameters())
    for name, param in model.named_parameters():
        torch.testing.assert_close(param.grad, grads[name].grad, rtol=1e-4, atol=1e-6, msg=name)
    full = model(input_ids=ids, attention_mask=mask)  # without labels: the model as before
    assert full.loss is None and full.logits.shape == (3, 11, 60)


def test_fsdp2_two_processes_keep_the_fused_path_and_match_one_process(tmp_path):
    """FSDP2 (fully_shard) on 2 CPU processes over gloo: the fused loss inside the forward gives the
    single-process weights, and no op ever returns a [tokens, vocab] tensor."""
    import os
    import subprocess
    import sys

    worker = os.path.join(os.path.dirname(__file__), "fsdp2_worker.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, worker, str(tmp_path / "one.pt")], check=True, env=env, timeout=300)
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                             "--master_port", "29541", worker, str(tmp_path / "two.pt"), "--watch"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    one, two = torch.load(tmp_path / "one.pt"), torch.load(tmp_path / "two.pt")
    assert two["largest"] < two["tokens"] * two["vocab"]  # rows x vocab logits never existed
    first = one["state"]
    for key, value in first.items():
        torch.testing.assert_close(two["state"][key], value, rtol=1e-4, atol=1e-5, msg=key)
    torch.manual_seed(0)  # the worker's initial weights
    initial = tf.LlamaForCausalLM(tf.LlamaConfig(vocab_size=512, hidden_size=32, intermediate_size=64,
                                                 num_hidden_layers=2, num_attention_heads=4,
                                                 num_key_value_heads=2, max_position_embeddings=64,
                                                 pad_token_id=0, tie_word_embeddings=False)).state_dict()
    assert max((first[k] - initial[k]).abs().max() for k in first) > 1e-3  # training moved the weights


def test_trl_sft_trainer_on_the_fused_path(tmp_path, llama_dir):
    """TS2SFTTrainer: TRL's SFTTrainer (completion-only masks from prompt/completion data) with the ts2
    loss inside the forward: the loss and gradients of a batch equal the unfused ts2 loss of the
    logits, and the loss falls over steps."""
    from trl import SFTConfig

    from ts2.hf import shift_labels
    from ts2.hf.trl import TS2SFTTrainer

    tok = tf.AutoTokenizer.from_pretrained(llama_dir)
    records = [r for r in addition_records(128) if "prompt" in r]
    data = Dataset.from_list(records)
    config = SFTConfig(output_dir=str(tmp_path), max_steps=12, per_device_train_batch_size=8, learning_rate=3e-3,
                       logging_steps=3, report_to="none", save_strategy="no", max_length=64, bf16=False)
    model = tf.AutoModelForCausalLM.from_pretrained(llama_dir)
    trainer = TS2SFTTrainer(model=model, args=config, train_dataset=data, processing_class=tok, loss="ts2")
    batch = next(iter(trainer.get_train_dataloader()))
    assert (batch["labels"] == -100).any() and (batch["labels"] != -100).any()  # prompt tokens masked
    reference = tf.AutoModelForCausalLM.from_pretrained(llama_dir).train()
    n = int((batch["labels"][:, 1:] != -100).sum())
    logits = reference(input_ids=batch["input_ids"], attention_mask=batch.get("attention_mask")).logits
    expected = get_loss("ts2")(logits, shift_labels(batch["labels"]), n)
    expected.backward()
    trainer.model.train()
    loss = trainer.compute_loss(trainer.model, dict(batch), num_items_in_batch=n)
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-6)
    loss.backward()
    grads = dict(reference.named_parameters())
    for name, param in trainer.model.named_parameters():
        torch.testing.assert_close(param.grad, grads[name].grad, rtol=1e-4, atol=1e-6, msg=name)
    trainer.model.zero_grad()
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) >= 3 and losses[-1] < losses[0], losses
