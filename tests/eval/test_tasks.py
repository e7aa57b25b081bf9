"""`ts2 eval tasks`: the six OpenLLM tasks read from local copies in the hub's own layouts, the
authors' extraction and voting (checked against a re-implementation of their functions written
here), ts2's strict extraction, and scoring ts2 generations and the authors' voting dump."""

import json
import re
from collections import Counter

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ts2.cli import main
from ts2.eval.task_files import read_task
from ts2.eval.tasks import eval_task
from ts2.formats import DataError
from ts2.metrics.openllm import extract, gold_number, strict_letter, strict_number, task_report, votes
from ts2.protocols import task_prompt

# ---- the authors' functions (openllm_evaluation.py), re-implemented from their text -------------
THEIR_LETTER_RE = re.compile(r"(?:The\s+answer\s+is\s*[:\-]?\s*([A-E]))\b|(?:\b([A-E])\b(?=[\s\.\)\:,$]))",
                             flags=re.IGNORECASE)


def their_letter(text, choices):
    found = None
    for m in THEIR_LETTER_RE.finditer(text):
        g = m.group(1) or m.group(2)
        if g:
            found = g.upper()
    if found:
        return found
    for i, ch in enumerate(choices):
        if ch.lower() in text.lower():
            return "ABCDE"[i]
    return None


def their_number(text):
    parts = text.replace("the answer is", "The answer is").split("The answer is")
    if len(parts) > 1:
        m = re.search(r"[-+]?\d*[\.,/]?\d+", parts[-1].strip())
        if m:
            return m.group(0).replace(",", "")
    return None


def their_votes(reference, candidates, depths):
    maj, bon = [], []
    for d in depths:
        if d > len(candidates):
            break
        window = [c for c in candidates[:d] if c is not None]
        majority = Counter(window).most_common(1)[0][0] if window else None
        maj.append(1 if majority == reference else 0)
        bon.append(1 if reference in window else 0)
    return maj, bon


CHOICES = ["a cat", "the dog", "Paris", "42 apples"]
RESPONSES = [
    "The answer is: B", "the answer is c.", "I think it is a cat. The answer is: D", "Answer: (B)", "B",
    "B)", "Let me think. A. no, B. yes.\nThe answer is B", "Paris is nice", "nothing here", "E. none",
    "The answer is **C**", "The answer is: b", "the dog and a cat", "", "e.g. this", "choice d, then",
    "The answer is: F", "(The answer is: A)", "The answer is A or B", "Final: A.\nThe answer is: C (Paris)",
]
NUMBERS = [
    "The answer is: 42", "the answer is 1,234,567.", "The answer is $18.00", "So the answer is -3.5 apples",
    "The answer is: 3/4", "no answer 12", "The answer is 7. Wait, the answer is 8", "The Answer is 9",
    "The answer is: **1,000**", "The answer is +5", "the answer is .5", "The answer is 12 and 13", "",
    "The answer is: x = 4", "The answer is 1,23",
]


@pytest.mark.parametrize("text", RESPONSES)
def test_the_paper_letter_equals_the_authors_function(text):
    assert extract(text, CHOICES, "paper") == their_letter(text, CHOICES)


@pytest.mark.parametrize("text", NUMBERS)
def test_the_paper_number_equals_the_authors_function(text):
    assert extract(text, None, "paper") == their_number(text)


def test_the_quirks_the_paper_protocol_keeps():
    assert extract("I think it is a cat.", CHOICES, "paper") == "A"  # the article "a" is choice A
    assert extract("The answer is: B, not a dog", CHOICES, "paper") == "A"  # the last match wins
    assert extract("e.g. this", CHOICES, "paper") == "E"
    assert extract("Paris, surely", CHOICES, "paper") == "C"  # a quoted choice
    assert extract("The answer is 1,234,567", None, "paper") == "1234"
    assert extract("The answer is $18.00", None, "paper") == "18.00"  # not "18"
    assert gold_number("... #### 1,000", "paper") == "1"


def test_ts2_reads_only_the_answer_the_template_asks_for():
    assert [strict_letter(t, 4) for t in ("The answer is: B", "the answer is (C).", "The answer is **D**",
                                          "I think it is a cat.", "B", "The answer is: E", "The answer is: b",
                                          "The answer is A or B", "Final: A.\nThe answer is: C (Paris)")] \
        == ["B", "C", "D", None, None, None, None, "A", "C"]
    assert strict_letter("The answer is: E", 5) == "E"
    assert [strict_number(t) for t in NUMBERS] == ["42", "1234567", "18", "-3.5", None, None, "8", "9", "1000",
                                                   "5", None, "12", None, None, None]
    assert gold_number("so 2 x 500 = 1,000\n#### 1,000", "ts2") == "1000"
    assert gold_number("72", "ts2") == "72"


@pytest.mark.parametrize("answers,gold", [
    (["A", "B", "B", None, "A", "A", None, "C"], "A"), ([None] * 8, "A"), (["B", "A", "A", "B"] * 2, "B"),
    (["1", "2", "2", "3", "3", "1", "1", "2"], "2"), (["C"] * 8, "C"),
])
def test_votes_equal_the_authors_majority_and_best_of_n(answers, gold):
    assert votes(answers, gold, [1, 2, 4, 8]) == their_votes(gold, answers, [1, 2, 4, 8])


def test_the_report_means_intervals_and_failures():
    answers = [["A", "B", "A", None], ["B", "B", "C", "C"], [None, None, None, "D"], ["C", "A", "C", "C"]]
    report = task_report(answers, ["A", "C", "D", "C"], [1, 4], resamples=500)
    assert report["majority_vote@1"] == 0.5 and report["best_of@1"] == 0.5
    assert report["majority_vote@4"] == 0.75 and report["best_of@4"] == 1.0  # "B" wins the first tie in row 2
    assert report["majority_vote_accuracy"] == [0.5, 0.75] and report["depths"] == [1, 4]
    assert report["extraction_failure_rate"] == 4 / 16
    low, high = report["ci95"]["majority_vote@4"]
    assert low <= 0.75 <= high and 0 <= low and high <= 1
    assert report["ci95"]["best_of@4"] == [1.0, 1.0]
    with pytest.raises(ValueError, match="depth 8 is larger than the number of samples"):
        task_report(answers, ["A"] * 4, [8])


# ---- the datasets' own layouts ------------------------------------------------------------------
ARC = [{"id": "Q1", "question": "Which is a mammal?", "choices": {"text": ["trout", "whale", "ant", "crow"],
                                                                   "label": ["A", "B", "C", "D"]}, "answerKey": "B"},
       {"id": "Q2", "question": "Pick 3.", "choices": {"text": ["1", "2", "3", "4"], "label": ["1", "2", "3", "4"]},
        "answerKey": "3"}]
HELLASWAG = [{"ind": 4, "ctx": "A man sits. He", "ctx_a": "A man sits.", "ctx_b": "he",
              "endings": ["runs", "stands up", "flies", "sleeps"], "label": "1"}]
WINOGRANDE = [{"sentence": "The cup broke because _ was fragile.", "option1": "the cup", "option2": "the floor",
               "answer": "1"}]
MMLU = [{"question": "2+2?", "subject": "math", "choices": ["3", "4", "5", "6"], "answer": 1}]
MMLU_LETTERS = [{"question": "2+3?", "A": "5", "B": "6", "C": "7", "D": "8", "answer": "A"}]
TRUTHFULQA = [{"question": "Do bulls hate red?", "mc1_targets": {
    "choices": ["No, bulls cannot see red well", "Yes", "Yes, they charge", "Only on Sundays", "Always", "Never"],
    "labels": [1, 0, 0, 0, 0, 0]}}]
GSM8K = [{"question": "Tom has 2 bags of 500 coins. How many coins?", "answer": "2 * 500 = 1,000\n#### 1,000"},
         {"question": "What is 6 times 7?", "answer": "6*7=42\n#### 42"}]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def copies(tmp_path):
    out = {}
    pq.write_table(pa.Table.from_pylist(ARC), tmp_path / "arc.parquet")
    out["arc"] = tmp_path / "arc.parquet"
    out["hellaswag"] = _jsonl(tmp_path / "hellaswag.jsonl", HELLASWAG)
    (tmp_path / "winogrande.json").write_text(json.dumps(WINOGRANDE))
    out["winogrande"] = tmp_path / "winogrande.json"
    datasets.DatasetDict({"dev": datasets.Dataset.from_list(MMLU), "test": datasets.Dataset.from_list(MMLU)}
                         ).save_to_disk(str(tmp_path / "mmlu"))
    out["mmlu"] = tmp_path / "mmlu"
    (tmp_path / "mmlu.csv").write_text("question,A,B,C,D,answer\n2+3?,5,6,7,8,A\n")
    out["mmlu_letters"] = tmp_path / "mmlu.csv"
    out["truthfulqa"] = _jsonl(tmp_path / "truthfulqa.jsonl", TRUTHFULQA)
    pq.write_table(pa.Table.from_pylist(GSM8K), tmp_path / "gsm8k.parquet")
    out["gsm8k"] = tmp_path / "gsm8k.parquet"
    return out


def test_each_layout_reads_into_the_authors_questions(copies):
    arc = read_task("arc", copies["arc"])
    assert [(q.id, q.choices, q.gold, q.paper_gold) for q in arc] == [
        ("0", ["trout", "whale", "ant", "crow"], "B", "B"), ("1", ["1", "2", "3", "4"], "C", "3")]
    hella = read_task("hellaswag", copies["hellaswag"])[0]
    assert hella.question == "A man sits. He A man sits." and hella.gold == "B"  # their ctx + ctx_a
    wino = read_task("winogrande", copies["winogrande"])[0]
    assert wino.question == "The cup broke because _____ was fragile." and wino.choices == ["the cup", "the floor"]
    assert read_task("mmlu", copies["mmlu"])[0].gold == "B"  # the authors' split: test
    assert read_task("mmlu", copies["mmlu_letters"])[0].choices == ["5", "6", "7", "8"]
    truthful = read_task("truthfulqa", copies["truthfulqa"])[0]
    assert len(truthful.choices) == 5 and truthful.gold == "A"
    gsm = read_task("gsm8k", copies["gsm8k"])
    assert [(q.choices, q.gold, q.paper_gold) for q in gsm] == [(None, "1000", "1"), (None, "42", "42")]
    assert gsm[1].prompt() == task_prompt("What is 6 times 7?", None)
    assert "Choices:\nA. trout\nB. whale\nC. ant\nD. crow\n" in arc[0].prompt()
    assert len(read_task("gsm8k", copies["gsm8k"], limit=1)) == 1


def test_shuffled_choices_keep_the_gold_answer_and_are_reproducible(copies):
    shuffled = read_task("truthfulqa", copies["truthfulqa"], shuffle_seed=3)[0]
    assert shuffled.choices[ord(shuffled.gold) - ord("A")] == "No, bulls cannot see red well"
    assert shuffled == read_task("truthfulqa", copies["truthfulqa"], shuffle_seed=3)[0]
    assert sorted(shuffled.choices) == sorted(TRUTHFULQA[0]["mc1_targets"]["choices"][:5])


def test_wrong_layouts_and_bad_rows_name_the_file_and_the_columns(copies, tmp_path):
    with pytest.raises(DataError, match=r"not the arc layout: expected the columns \(question, choices, answerKey\),"
                                        r" found \(answer, question\)"):
        read_task("arc", copies["gsm8k"])
    bad = _jsonl(tmp_path / "bad.jsonl", [GSM8K[1], {"question": "x", "answer": "no final number"}])
    with pytest.raises(DataError, match=r"bad.jsonl:2: the answer has no '#### N'"):
        read_task("gsm8k", bad)
    bad = _jsonl(tmp_path / "hs.jsonl", [{**HELLASWAG[0], "label": ""}])
    with pytest.raises(DataError, match=r"hs.jsonl:1: no label"):
        read_task("hellaswag", bad)
    with pytest.raises(DataError, match="no 'validation' split"):
        read_task("mmlu", copies["mmlu"], split="validation")
    with pytest.raises(ValueError, match="--task must be one of"):
        read_task("boolq", copies["gsm8k"])


def _generations(path, questions, responses):
    rows = [{"id": q.id, "prompt": q.prompt(), "responses": r, "settings": {"n": len(r)}}
            for q, r in zip(questions, responses)]
    return _jsonl(path, rows)


def test_ts2_generations_and_the_authors_dump_are_scored_under_either_protocol(copies, tmp_path):
    questions = read_task("gsm8k", copies["gsm8k"])
    responses = [["The answer is 1,000", "the answer is 1000.", "The answer is 999", "no idea"],
                 ["The answer is $42.00", "The answer is 42", "The answer is 41", "The answer is 42"]]
    gens = _generations(tmp_path / "gens.jsonl", questions, responses)
    ts2 = eval_task("gsm8k", data=copies["gsm8k"], input=gens, rows_path=tmp_path / "rows.jsonl",
                    depths=[1, 4], resamples=200)
    assert ts2["majority_vote@1"] == 1.0 and ts2["majority_vote@4"] == 1.0
    paper = eval_task("gsm8k", data=copies["gsm8k"], input=gens, depths=[1, 4], protocol="paper", resamples=200)
    # theirs: gold "1" for 1,000; "42.00" is not "42" as text, so question 2 wins on the later votes
    assert paper["majority_vote@1"] == 0.0 and paper["majority_vote@4"] == 0.5 and paper["best_of@4"] == 0.5
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert rows[0]["parsed"] == ["1000", "1000", "999", None] and rows[0]["majority_vote"] == [1, 1]
    # the authors' voting dump: a JSON array carrying gold and choices, no --data needed
    dump = tmp_path / "arc_voting_dump.json"
    dump.write_text(json.dumps([{"id": 0, "prompt": [{"role": "user", "content": "..."}], "choices": CHOICES,
                                 "gold": "B", "responses": ["The answer is: B", "a cat", "The answer is: B", "x"],
                                 "parsed_letters": ["B", "A", "B", None]}]))
    report = eval_task("arc", input=dump, depths=[1, 4], protocol="paper", resamples=100)
    assert report["majority_vote@4"] == 1.0 and report["extraction_failure_rate"] == 0.25


def test_generations_of_other_questions_are_refused(copies, tmp_path):
    questions = read_task("gsm8k", copies["gsm8k"])
    gens = _generations(tmp_path / "gens.jsonl", questions[:1], [["The answer is 1"]])
    with pytest.raises(DataError, match=r"no generations for question id\(s\) 1 \(1 of 2; --limit"):
        eval_task("gsm8k", data=copies["gsm8k"], input=gens, depths=[1])
    shuffled = read_task("arc", copies["arc"], shuffle_seed=1)
    gens = _generations(tmp_path / "arc.jsonl", shuffled, [["The answer is: A"]] * 2)
    with pytest.raises(DataError, match="answer another prompt"):
        eval_task("arc", data=copies["arc"], input=gens, depths=[1])
    assert eval_task("arc", data=copies["arc"], input=gens, depths=[1], shuffle_seed=1)["questions"] == 2


@pytest.mark.parametrize("argv,message", [
    (["--model", "m"], "--model needs the task's questions: --data PATH"),
    (["--model", "m", "--input", "x"], "exactly one of --model"),
    (["--model", "m", "--data", "d"], "--model needs a --generations file"),
    (["--model", "m", "--data", "d", "--generations", "g", "--n", "4", "--depths", "1,8"],
     "--depths 8 is larger than --n 4"),
    (["--input", "x", "--resamples", "0"], "--resamples must be >= 1, got 0"),
    (["--input", "missing.jsonl"], "missing.jsonl: no such file"),
    (["--input", "x.json", "--shuffle_choices", "1"], "--shuffle_choices and --split apply to --data"),
])
def test_cli_errors_name_the_flag(argv, message, capsys, tmp_path):
    assert main(["eval", "tasks", "--task", "gsm8k", *argv]) == 2
    assert message in capsys.readouterr().err


def test_cli_scores_a_file_and_writes_the_report(copies, tmp_path, capsys):
    questions = read_task("gsm8k", copies["gsm8k"])
    gens = _generations(tmp_path / "gens.jsonl", questions, [["The answer is 1000"] * 4, ["The answer is 6"] * 4])
    out = tmp_path / "gsm8k.json"
    assert main(["eval", "tasks", "--task", "gsm8k", "--data", str(copies["gsm8k"]), "--input", str(gens),
                 "--depths", "1,4", "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["majority_vote@4"] == 0.5 and report["protocol"] == "ts2"
    assert report["settings"]["split"] is None and report["settings"]["depths"] == [1, 4]  # a file has no splits


def test_default_depths_fit_the_samples_there_are(copies, tmp_path, capsys):
    """A dump with 8 samples per question: the default depths stop at 8 (the authors' 16 and 32 do
    not exist there); an explicit depth above 8 stays an error."""
    questions = read_task("gsm8k", copies["gsm8k"])
    gens = _generations(tmp_path / "gens.jsonl", questions, [["The answer is 1000"] * 8, ["The answer is 6"] * 8])
    out = tmp_path / "report.json"
    assert main(["eval", "tasks", "--task", "gsm8k", "--data", str(copies["gsm8k"]), "--input", str(gens),
                 "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["depths"] == [1, 4, 8] and report["settings"]["depths"] == [1, 4, 8]
    assert main(["eval", "tasks", "--task", "gsm8k", "--data", str(copies["gsm8k"]), "--input", str(gens),
                 "--depths", "1,16"]) == 2
    assert "depth 16 is larger than the number of samples (8)" in capsys.readouterr().err
    gens = _generations(tmp_path / "ten.jsonl", questions, [["The answer is 1000"] * 10] * 2)
    assert eval_task("gsm8k", data=copies["gsm8k"], input=gens, resamples=50)["depths"] == [1, 4, 8, 10]


def test_tasks_become_compare_prompts_scored_by_extraction(copies, tmp_path, capsys):
    from ts2.compare.config import read_eval_prompts
    from ts2.metrics.answer_sets import prompt_scores

    for task in ("gsm8k", "arc"):
        path = tmp_path / f"{task}_eval.jsonl"
        assert main(["eval", "tasks", "--task", task, "--data", str(copies[task]), "--write_prompts", str(path)]) == 0
        rows = read_eval_prompts(path)
        assert [r["kind"] for r in rows] == ["closed"] * 2 and rows[0]["split"] == task
    gsm, arc = read_eval_prompts(tmp_path / "gsm8k_eval.jsonl"), read_eval_prompts(tmp_path / "arc_eval.jsonl")
    assert gsm[0]["valid"] == ["1000"] and gsm[0]["extract"] == "number" and gsm[0]["prompt"].startswith("Your task")
    responses = ["The answer is 1,000", "1000", "the answer is $1000.00", "The answer is 100"]
    assert prompt_scores(responses, gsm[0]["valid"], "closed", None, "number") == {"pass@1": 0.5,
                                                                                  "lenient_pass@1": 0.5}
    # ts2 reads "$1000.00" by value; the authors' reading (lenient here) finds "1000.00", also 1000 by value
    responses = ["The answer is: B", "I pick a whale.", "The answer is: C", "whale"]
    assert prompt_scores(responses, arc[0]["valid"], "closed", None, "choice", arc[0]["choices"]) == {
        "pass@1": 0.25, "lenient_pass@1": 0.5}
    assert main(["eval", "tasks", "--task", "arc", "--write_prompts", str(tmp_path / "x.jsonl")]) == 2
    assert "--write_prompts needs --data" in capsys.readouterr().err


def test_torchrun_shares_the_questions_and_rank_0_reports(copies, tmp_path, tiny_model):
    """`torchrun --nproc_per_node 2 -m ts2.cli eval tasks --model ... --num_samples 3`: the merged
    generations are a one-process run's rows, and rank 0 alone prints and writes the same report."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    flags = ["eval", "tasks", "--task", "arc", "--data", str(copies["arc"]), "--model", str(tiny_model),
             "--num_samples", "3", "--max_new_tokens", "4", "--resamples", "50", "--no_progress"]
    runs = {}
    for name, launcher in (("one", []), ("two", ["-m", "torch.distributed.run", "--nproc_per_node", "2",
                                                  "--master_port", "29565"])):
        out = tmp_path / f"{name}.json"
        result = subprocess.run([sys.executable, *launcher, "-m", "ts2.cli", *flags, "--output", str(out)], env=env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        assert json.loads(result.stdout) == json.loads(out.read_text())  # one report printed, by one rank
        rows = [json.loads(line) for line in open(tmp_path / f"{name}_generations.jsonl")]
        runs[name] = json.loads(out.read_text()), rows
    (one, rows_one), (two, rows_two) = runs["one"], runs["two"]
    assert len(rows_one) == len(ARC) > 1 and not list(tmp_path.glob("two_generations.jsonl.rank*"))
    assert [(r["id"], r["responses"]) for r in rows_two] == [(r["id"], r["responses"]) for r in rows_one]
    for report in (one, two):
        report["settings"].pop("generations")
    assert two == one
