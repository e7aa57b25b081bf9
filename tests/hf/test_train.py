"""ts2 train end to end on tiny models: losses, reload, gradient accumulation, resume."""

import json

import pytest
import torch
import transformers as tf

import ts2
from ts2.training import CONFIG_NAME, TS2Arguments, TS2TrainingArguments, train


def _args(out, **overrides):
    settings = dict(output_dir=str(out), max_steps=24, per_device_train_batch_size=8, learning_rate=3e-3,
                    logging_steps=4, report_to="none", save_strategy="no", warmup_steps=0,
                    disable_tqdm=True, seed=0, data_seed=0)
    settings.update(overrides)
    return TS2TrainingArguments(**settings)


def _weights(path):
    model = tf.AutoModelForCausalLM.from_pretrained(path)
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("loss,extra", [
    ("ce", {}), ("sparsemax", {}), ("ts2", {}), ("ts2-adaptive", {}), ("gem", {}), ("dft", {}),
    ("ce", {"neftune_noise_alpha": 5.0}),
])
def test_each_loss_trains_and_the_model_reloads(tmp_path, llama_dir, train_file, loss, extra):
    script = TS2Arguments(model=str(llama_dir), data=str(train_file), output=str(tmp_path / "out"), loss=loss)
    trainer = train(script, _args(tmp_path / "out", **extra))
    # DFT's own value p(y) (-log p(y)) rises while p(y) < 1/e, so its progress is read off the cross-entropy
    key = "ts2/ce" if loss == "dft" else "loss"
    losses = [h[key] for h in trainer.state.log_history if key in h]
    assert len(losses) >= 5 and losses[-1] < 0.8 * losses[0], losses
    assert all(f"ts2/{k}" in trainer.state.log_history[0] for k in ("support_size", "entropy", "ce"))
    saved = json.loads((tmp_path / "out" / CONFIG_NAME).read_text())
    assert saved["ts2"]["loss"] == loss and saved["final_step"] == 24
    model = tf.AutoModelForCausalLM.from_pretrained(tmp_path / "out")
    tok = tf.AutoTokenizer.from_pretrained(tmp_path / "out")
    prompt = tok.apply_chat_template([{"role": "user", "content": "add 3 and 4"}], add_generation_prompt=True,
                                     return_tensors="pt", return_dict=True)
    out = model.generate(**prompt, max_new_tokens=5, do_sample=False)
    assert out.shape[1] > prompt["input_ids"].shape[1]


def test_gradient_accumulation_matches_larger_batch(tmp_path, llama_dir, train_file):
    finals = []
    for name, bs, accum in (("b2", 2, 1), ("b1x2", 1, 2)):
        out = tmp_path / name
        script = TS2Arguments(model=str(llama_dir), data=str(train_file), output=str(out), loss="ts2")
        train(script, _args(out, max_steps=2, per_device_train_batch_size=bs, gradient_accumulation_steps=accum,
                            optim="sgd", learning_rate=0.5, lr_scheduler_type="constant"))
        finals.append(_weights(out))
    base = _weights(llama_dir)
    moved = max((finals[0][k] - base[k]).abs().max() for k in base)
    assert moved > 1e-3  # the comparison below is not vacuous
    for key in base:
        torch.testing.assert_close(finals[0][key], finals[1][key], rtol=1e-4, atol=1e-6)


def test_resume_from_checkpoint_reproduces_uninterrupted_run(tmp_path, llama_dir, train_file):
    full = tmp_path / "full"
    common = dict(max_steps=6, per_device_train_batch_size=4, save_strategy="steps", save_steps=3)
    script = TS2Arguments(model=str(llama_dir), data=str(train_file), output=str(full), loss="ts2")
    train(script, _args(full, **common))
    # An interruption right after step 3: only the checkpoint survives, in a fresh directory.
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    import shutil

    shutil.copytree(full / "checkpoint-3", resumed / "checkpoint-3")
    script.output = str(resumed)
    train(script, _args(resumed, resume_from_checkpoint=str(resumed / "checkpoint-3"), **common))
    a, b = _weights(full), _weights(resumed)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6)


def test_lora_saves_an_adapter(tmp_path, llama_dir, train_file):
    out = tmp_path / "lora"
    script = TS2Arguments(model=str(llama_dir), data=str(train_file), output=str(out), loss="ts2", lora_r=4)
    trainer = train(script, _args(out, max_steps=4))
    assert trainer.fused_loss  # LoRA on the attention/MLP layers keeps the plain lm_head
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    from peft import AutoPeftModelForCausalLM

    AutoPeftModelForCausalLM.from_pretrained(out)


def test_top_level_train_with_keyword_settings(tmp_path, llama_dir, train_file):
    trainer = ts2.train(model=str(llama_dir), data=str(train_file), output=str(tmp_path / "kw"), loss="gem",
                        gem_h="logsigmoid", max_steps=2, report_to="none", learning_rate=1e-3)
    assert trainer.args.learning_rate == 1e-3 and trainer.args.adam_beta2 == 0.95  # recipe defaults kept
    assert (tmp_path / "kw" / CONFIG_NAME).is_file()
    with pytest.raises(ValueError, match="unknown training settings: lernrate"):
        ts2.train(model=str(llama_dir), data=str(train_file), output=str(tmp_path / "x"), lernrate=1)


def test_tensorboard_logs_include_ts2_diagnostics(tmp_path, llama_dir, train_file):
    out = tmp_path / "tb"
    script = TS2Arguments(model=str(llama_dir), data=str(train_file), output=str(out), loss="ts2")
    train(script, _args(out, max_steps=4, logging_steps=2, report_to="tensorboard"))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(next(out.rglob("events.out.tfevents.*")).parent))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "train/ts2/support_size", "train/ts2/out_of_support_mass", "train/ts2/ce"} <= tags, tags
