"""The Trainer integration: fused == unfused on real architectures, labels, TRL, refusals."""

import pytest
import torch
import transformers as tf
from datasets import Dataset
from tiny import addition_records, make_tokenizer, model_config

from ts2.data import IGNORE_INDEX, Record, check_record, tokenize_records
from ts2.hf import TS2Trainer, causal_lm_loss_func, check_fused_support
from ts2.losses import get_loss


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


def test_fused_refused_for_sharded_parameters():
    model = tf.AutoModelForCausalLM.from_config(model_config("llama", 50))
    assert check_fused_support(model, requested=None) is True
    assert check_fused_support(model, requested=None, sharded_parameters=True) is False
    with pytest.raises(ValueError, match="FSDP"):
        check_fused_support(model, requested=True, sharded_parameters=True)


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
