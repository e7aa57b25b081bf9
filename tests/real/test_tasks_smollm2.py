"""`ts2 eval tasks` end to end on the real SmolLM2-135M-Instruct: hand-made questions in ARC's and
GSM8K's layouts are sampled through the chat template in the authors' prompts, parsed and voted;
an interrupted run resumes to the same bytes, and the same samples are rescored under the paper
protocol without a model."""

import json

import pyarrow as pa
import pyarrow.parquet as pq

from ts2.cli import main
from ts2.metrics.openllm import extract

ARC = [
    {"id": "h1", "question": "Which of these is a mammal?",
     "choices": {"text": ["trout", "whale", "ant", "crow"], "label": ["A", "B", "C", "D"]}, "answerKey": "B"},
    {"id": "h2", "question": "What do plants need to make food from sunlight?",
     "choices": {"text": ["sand", "chlorophyll", "plastic", "salt"], "label": ["A", "B", "C", "D"]}, "answerKey": "B"},
    {"id": "h3", "question": "Which is the hottest?",
     "choices": {"text": ["ice", "snow", "the Sun", "rain"], "label": ["A", "B", "C", "D"]}, "answerKey": "C"},
]
GSM8K = [{"question": "What is 3 plus 4?", "answer": "3+4=7\n#### 7"},
         {"question": "Sam has 10 apples and eats 2. How many are left?", "answer": "10-2=8\n#### 8"}]
SAMPLING = ["--n", "4", "--max_new_tokens", "64", "--depths", "1,2,4", "--resamples", "200", "--no_progress"]


def _run(task, data, out, model, *extra):
    assert main(["eval", "tasks", "--task", task, "--data", str(data), "--model", str(model), "--output", str(out),
                 "--rows", str(out.with_suffix(".rows.jsonl")), *SAMPLING, *extra]) == 0
    return json.loads(out.read_text())


def test_arc_and_gsm8k_sample_parse_vote_and_resume(tmp_path, smollm2, capsys):
    pq.write_table(pa.Table.from_pylist(ARC), tmp_path / "arc.parquet")
    pq.write_table(pa.Table.from_pylist(GSM8K), tmp_path / "gsm8k.parquet")
    for task in ("arc", "gsm8k"):
        out = tmp_path / f"{task}.json"
        report = _run(task, tmp_path / f"{task}.parquet", out, smollm2)
        gens = tmp_path / f"{task}_generations.jsonl"
        rows = [json.loads(line) for line in gens.read_text().splitlines()]
        assert len(rows) == report["questions"] and all(len(r["responses"]) == 4 for r in rows)
        assert rows[0]["settings"]["temperature"] == 0.6 and rows[0]["settings"]["top_p"] == 0.9
        assert "The answer is: X" in rows[0]["prompt"] or "The answer is: ..." in rows[0]["prompt"]
        scored = [json.loads(line) for line in out.with_suffix(".rows.jsonl").read_text().splitlines()]
        for row, gen in zip(scored, rows):  # the answers written are the extraction of the real responses
            assert row["responses"] == gen["responses"]
            assert row["parsed"] == [extract(r, row["choices"], "ts2") for r in gen["responses"]]
        assert 0 <= report["majority_vote@4"] <= report["best_of@4"] <= 1
        assert report["best_of@1"] <= report["best_of@2"] <= report["best_of@4"]
        assert 0 <= report["extraction_failure_rate"] <= 1
        # interrupted after the first question, the last line half written: the rerun completes it
        full = gens.read_bytes()
        first = full.index(b"\n") + 1
        gens.write_bytes(full[:first] + full[first:first + 25])
        assert _run(task, tmp_path / f"{task}.parquet", out, smollm2) == report
        assert gens.read_bytes() == full
    # the same samples, scored the authors' way without loading a model
    paper = tmp_path / "arc_paper.json"
    assert main(["eval", "tasks", "--task", "arc", "--data", str(tmp_path / "arc.parquet"), "--input",
                 str(tmp_path / "arc_generations.jsonl"), "--protocol", "paper", "--depths", "1,2,4",
                 "--output", str(paper)]) == 0
    report = json.loads(paper.read_text())
    assert report["protocol"] == "paper" and report["questions"] == 3
    assert report["settings"]["sampling"]["n"] == 4  # the settings the samples were drawn with
    capsys.readouterr()
