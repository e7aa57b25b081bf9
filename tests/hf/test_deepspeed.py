"""DeepSpeed ZeRO-3 (the TS² authors' training setup) on 2 CPU processes: the fused loss inside the
forward matches one process and never makes [tokens, vocab] logits; `ts2 train --deepspeed` under
torchrun trains, saves a model that loads and generates, and records the stage; configurations this
machine cannot run are refused with the setting named."""

import json
import os
import subprocess
import sys

import pytest
import torch
import transformers as tf
from tiny import addition_records, write_jsonl

pytest.importorskip("deepspeed")

from ts2.cli import main  # noqa: E402
from ts2.hf.deepspeed import read_deepspeed_config  # noqa: E402

HERE = os.path.dirname(__file__)
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "zero3.json")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "", "DS_ACCELERATOR": "cpu"}


def test_zero3_two_processes_keep_the_fused_path_and_match_one_process(tmp_path):
    subprocess.run([sys.executable, os.path.join(HERE, "fsdp2_worker.py"), str(tmp_path / "one.pt")], check=True,
                   env=ENV, timeout=300)
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                             "--master_port", "29551", os.path.join(HERE, "zero3_worker.py"), str(tmp_path / "two.pt"),
                             "--watch"], env=ENV, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    one, two = torch.load(tmp_path / "one.pt"), torch.load(tmp_path / "two.pt")
    assert two["sharded"]  # the parameters were ZeRO-3 partitions
    # No tensor [rows, vocab] had as many rows as the tokens (the most: 32, the output embedding's
    # transpose).  The largest tensor overall is ZeRO's flat buffer of all 51,360 parameters, about
    # as big as this toy model's [100, 512] logits would be, so the count is by rows.
    assert two["vocab_rows"] < two["tokens"]
    for key, value in one["state"].items():
        torch.testing.assert_close(two["state"][key], value, rtol=1e-4, atol=1e-5, msg=key)


def test_ts2_train_deepspeed_zero3_under_torchrun(tmp_path, llama_dir):
    data = write_jsonl(tmp_path / "train.jsonl", addition_records(8))
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29553",
         "-m", "ts2.cli", "train", "--model", str(llama_dir), "--data", str(data), "--output", str(out),
         "--loss", "ts2", "--deepspeed", EXAMPLE, "--max_steps", "2", "--per_device_train_batch_size", "2",
         "--learning_rate", "1e-3", "--report_to", "none", "--save_strategy", "no", "--disable_tqdm", "true",
         "--dataloader_pin_memory", "false"], env=ENV, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((out / "ts2_config.json").read_text())
    assert record["distributed"] == {"world_size": 2, "fsdp": False, "deepspeed_zero_stage": 3}
    assert record["fused_loss"] is True and record["final_step"] == 2
    model = tf.AutoModelForCausalLM.from_pretrained(out)
    tok = tf.AutoTokenizer.from_pretrained(out)
    ids = tok.apply_chat_template([{"role": "user", "content": "add 3 and 4"}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)["input_ids"]
    generated = model.generate(ids, max_new_tokens=4, do_sample=False)
    assert generated.shape[1] > ids.shape[1]
    trained, base = model.state_dict(), tf.AutoModelForCausalLM.from_pretrained(llama_dir).state_dict()
    assert max((trained[k] - base[k]).abs().max() for k in base) > 1e-5  # the gathered weights moved


@pytest.mark.parametrize("config,message", [
    ({"fp16": {"enabled": True}, "zero_optimization": {"stage": 3}}, "fp16.enabled=true needs a GPU"),
    ({"zero_optimization": {"stage": 5}}, "zero_optimization.stage must be 0, 1, 2 or 3"),
])
def test_configs_this_machine_cannot_run_are_refused(tmp_path, config, message, capsys, llama_dir):
    path = tmp_path / "ds.json"
    path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match=message):
        read_deepspeed_config(str(path))
    assert main(["train", "--model", str(llama_dir), "--data", "x.jsonl", "--output", str(tmp_path / "o"),
                 "--deepspeed", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err
    assert not (tmp_path / "o").exists()


def test_missing_and_malformed_config_files(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        read_deepspeed_config(str(tmp_path / "nope.json"))
    (tmp_path / "bad.json").write_text("{stage: 3")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_deepspeed_config(str(tmp_path / "bad.json"))
    assert read_deepspeed_config(EXAMPLE)["zero_optimization"]["stage"] == 3


def test_first_run_builds_the_communication_op_once_for_concurrent_ranks(tmp_path):
    """A fresh machine: two ranks start at once with no build of DeepSpeed's CPU communication op.
    Under prepare_deepspeed's lock one builds it and the other loads that build; both succeed."""
    env = {**ENV, "TORCH_EXTENSIONS_DIR": str(tmp_path / "ext")}
    code = "from ts2.hf.deepspeed import prepare_deepspeed; print(prepare_deepspeed())"
    ranks = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [r.communicate(timeout=600) for r in ranks]
    assert [r.returncode for r in ranks] == [0, 0], [err[-2000:] for _, err in results]
    assert all(out.strip().endswith("cpu") for out, _ in results)
    assert (tmp_path / "ext" / "deepspeed_shm_comm").is_dir()
