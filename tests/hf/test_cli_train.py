"""`ts2 train` from the command line: bad input, YAML config, and two processes under torchrun."""

import json
import os
import subprocess
import sys

import pytest
import torch
import transformers as tf
from tiny import addition_records, write_jsonl

from ts2.cli import main

FAST = ["--max_steps", "2", "--report_to", "none", "--per_device_train_batch_size", "4", "--disable_tqdm", "true"]


def _run(capsys, *argv):
    code = main(["train", *map(str, argv)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("content,message", [
    ("", "no records"),
    ('{"messages": [{"role": "user", "content": "add 1 and 2"}, {"role": "assistant", "content": "3"}]}\n'
     "{not json\n", "bad.jsonl:2: invalid JSON"),
    ('{"text": "hello"}\n', "bad.jsonl:1: missing 'messages'"),
    ('{"messages": [{"role": "wizard", "content": "hi"}]}\n', "bad.jsonl:1: messages[0] has unknown role 'wizard'"),
    ('{"messages": [{"role": "user", "content": "add 1 and 2"}]}\n', "bad.jsonl:1: conversation has no assistant"),
])
def test_bad_data_is_reported_with_file_and_line(tmp_path, capsys, llama_dir, content, message):
    data = tmp_path / "bad.jsonl"
    data.write_text(content)
    out = tmp_path / "out"
    code, err = _run(capsys, "--model", llama_dir, "--data", data, "--output", out, *FAST)
    assert code == 2 and message in err, err
    assert not out.exists()  # nothing half-written


def test_missing_model_and_unknown_loss(tmp_path, capsys, train_file, llama_dir):
    out = tmp_path / "out"
    code, err = _run(capsys, "--model", tmp_path / "nope", "--data", train_file, "--output", out, *FAST)
    assert code == 2 and "nope" in err and "config.json" in err
    code, err = _run(capsys, "--model", llama_dir, "--data", train_file, "--output", out, "--loss", "focal", *FAST)
    assert code == 2 and "focal" in err
    code, err = _run(capsys, "--model", llama_dir, "--data", train_file, "--output", out, "--alpha", "-1", *FAST)
    assert code == 2 and "alpha=-1.0" in err
    assert not out.exists()


def test_chat_template_required_for_chat_data(tmp_path, capsys, train_file):
    from tiny import make_model_dir

    bare = make_model_dir(tmp_path / "bare", chat_template=None)
    out = tmp_path / "out"
    code, err = _run(capsys, "--model", bare, "--data", train_file, "--output", out, *FAST)
    assert code == 2 and "--chat_template" in err and not out.exists()
    template = tmp_path / "template.jinja"
    from tiny import CHAT_TEMPLATE

    template.write_text(CHAT_TEMPLATE)
    code, _ = _run(capsys, "--model", bare, "--data", train_file, "--output", out,
                   "--chat_template", template, *FAST)
    assert code == 0 and (out / "ts2_config.json").is_file()


def test_yaml_config_and_flags(tmp_path, capsys, llama_dir, train_file):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"model: {llama_dir}\ndata: {train_file}\nloss: ts2-adaptive\nalpha: 0.5\n"
                      "learning_rate: 0.001\nmax_steps: 3\nreport_to: none\n")
    out = tmp_path / "out"
    code = main(["train", "--config", str(recipe), "--output", str(out), "--max_steps", "2"])
    assert code == 0
    saved = json.loads((out / "ts2_config.json").read_text())
    assert saved["ts2"]["loss"] == "ts2-adaptive" and saved["ts2"]["alpha"] == 0.5
    assert saved["training_args"]["learning_rate"] == 0.001 and saved["final_step"] == 2  # flag beats file
    assert saved["training_args"]["lr_scheduler_type"] == "cosine"  # paper recipe default


def _final_weights(path):
    return tf.AutoModelForCausalLM.from_pretrained(path).state_dict()


def test_two_process_torchrun_matches_single_process(tmp_path, llama_dir):
    # Four examples of different lengths: every step sees all of them (4 on one process, 2 + 2 on
    # two), so the runs agree only if the loss is normalised by the global token count.
    data = write_jsonl(tmp_path / "train.jsonl", addition_records(4))
    common = ["--model", str(llama_dir), "--data", str(data), "--loss", "ts2", "--max_steps", "2",
              "--report_to", "none", "--optim", "sgd", "--learning_rate", "0.5",
              "--lr_scheduler_type", "constant", "--seed", "0", "--disable_tqdm", "true",
              "--save_strategy", "no", "--dataloader_pin_memory", "false"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    single = tmp_path / "single"
    subprocess.run([sys.executable, "-m", "ts2.cli", "train", *common, "--output", str(single),
                    "--per_device_train_batch_size", "4"], check=True, env=env, capture_output=True)
    double = tmp_path / "double"
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
         "-m", "ts2.cli", "train", *common, "--output", str(double), "--per_device_train_batch_size", "2"],
        env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    a, b = _final_weights(single), _final_weights(double)
    base = _final_weights(llama_dir)
    assert max((a[k] - base[k]).abs().max() for k in a) > 1e-3
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5, msg=key)


def test_requested_fsdp_that_would_not_happen_is_an_error(tmp_path, train_file, llama_dir):
    # Under a CPU-only torchrun the HF Trainer given --fsdp trains with plain DDP: refused.
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29537",
         "-m", "ts2.cli", "train", "--model", str(llama_dir), "--data", str(train_file), "--output", str(out),
         "--fsdp", "full_shard", "--dataloader_pin_memory", "false", *FAST],
        env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0 and "--fsdp was requested" in result.stderr, result.stderr[-3000:]
    assert not (out / "ts2_config.json").exists()
