"""ts2 train with an evaluation set (--eval_data) and with pre-tokenized JSONL (the authors' format)."""

import json

import pytest
import torch
import transformers as tf
from tiny import addition_records, write_jsonl

from ts2.formats import DataError
from ts2.hf.trainer import shift_labels
from ts2.losses import get_loss
from ts2.training import TS2Arguments, TS2TrainingArguments, train
from ts2.training.data import read_records, tokenize_records


def _args(out, **overrides):
    settings = dict(output_dir=str(out), max_steps=6, per_device_train_batch_size=8, learning_rate=3e-3,
                    logging_steps=2, report_to="none", save_strategy="no", warmup_steps=0, disable_tqdm=True,
                    seed=0, data_seed=0, per_device_eval_batch_size=64)
    settings.update(overrides)
    return TS2TrainingArguments(**settings)


def _reference_eval_loss(model_dir, eval_file, loss_name):
    """The ts2 loss of the saved model on the whole evaluation set, computed directly (unfused)."""
    tok = tf.AutoTokenizer.from_pretrained(model_dir)
    model = tf.AutoModelForCausalLM.from_pretrained(model_dir).eval()
    examples, _ = tokenize_records(read_records(eval_file), tok, 2048)
    batch = tf.DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100)(examples)
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        return float(get_loss(loss_name)(logits, shift_labels(batch["labels"])))


@pytest.mark.parametrize("fused", ["true", "false"])
def test_eval_data_is_scored_with_the_training_loss_and_diagnostics(tmp_path, llama_dir, train_file, fused):
    eval_file = write_jsonl(tmp_path / "eval.jsonl", addition_records(12, seed=7))
    out = tmp_path / "out"
    script = TS2Arguments(model=str(llama_dir), data=str(train_file), eval_data=str(eval_file), output=str(out),
                          loss="ts2", fused_loss=fused)
    trainer = train(script, _args(out, eval_strategy="steps", eval_steps=3))
    evals = [h for h in trainer.state.log_history if "eval_loss" in h]
    assert [h["step"] for h in evals] == [3, 6]
    assert all(f"eval_ts2/{k}" in evals[-1] for k in ("support_size", "out_of_support_mass", "entropy", "ce"))
    assert evals[-1]["eval_loss"] == pytest.approx(_reference_eval_loss(out, eval_file, "ts2"), rel=1e-4)
    train_logs = [h for h in trainer.state.log_history if "loss" in h]
    assert all("eval_ts2/ce" not in h for h in train_logs) and all("ts2/ce" in h for h in train_logs)


def test_eval_data_defaults_to_every_epoch_and_strategy_without_data_is_an_error(tmp_path, llama_dir, train_file):
    eval_file = write_jsonl(tmp_path / "eval.jsonl", addition_records(4, seed=7))
    out = tmp_path / "out"
    script = TS2Arguments(model=str(llama_dir), data=str(train_file), eval_data=str(eval_file), output=str(out))
    trainer = train(script, _args(out, max_steps=-1, num_train_epochs=2))
    assert [h["epoch"] for h in trainer.state.log_history if "eval_loss" in h] == [1.0, 2.0]
    script = TS2Arguments(model=str(llama_dir), data=str(train_file), output=str(tmp_path / "x"))
    with pytest.raises(ValueError, match="--eval_data"):
        train(script, _args(tmp_path / "x", eval_strategy="steps", eval_steps=1))


def test_pretokenized_jsonl_trains_like_the_records_it_came_from(tmp_path, llama_dir, train_file):
    tok = tf.AutoTokenizer.from_pretrained(llama_dir)
    examples, _ = tokenize_records(read_records(train_file), tok, 2048)
    tokenized = write_jsonl(tmp_path / "tokenized.jsonl", examples)  # input_ids, labels, attention_mask
    weights = []
    for name, data in (("records", train_file), ("tokenized", tokenized)):
        out = tmp_path / name
        train(TS2Arguments(model=str(llama_dir), data=str(data), output=str(out), loss="ts2"), _args(out))
        weights.append(tf.AutoModelForCausalLM.from_pretrained(out).state_dict())
    for key in weights[0]:
        torch.testing.assert_close(weights[0][key], weights[1][key])


@pytest.mark.parametrize("record,message", [
    ({"input_ids": [1, 2, 3], "labels": [1, 2]}, "'labels' has 2 entries but 'input_ids' has 3"),
    ({"input_ids": [1, "2"], "labels": [1, 2]}, "'input_ids' must be a non-empty list of integers"),
    ({"input_ids": [1, 2], "labels": [-100, 5]}, "every label must be -100 or equal to its input id"),
    ({"input_ids": [1, 2], "labels": [-100, 2], "attention_mask": [1, 0]}, "'attention_mask' must be all ones"),
    ({"input_ids": [1, 99999], "labels": [-100, 99999]}, "outside the tokenizer's vocabulary"),
])
def test_bad_pretokenized_records_name_file_and_line(tmp_path, llama_dir, record, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"input_ids": [1, 2], "labels": [-100, 2]}) + "\n" + json.dumps(record) + "\n")
    tok = tf.AutoTokenizer.from_pretrained(llama_dir)
    with pytest.raises(DataError, match=f"bad.jsonl:2: .*{message}".replace("(", r"\(").replace(")", r"\)")):
        tokenize_records(read_records(path), tok)
