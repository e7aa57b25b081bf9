"""The six OpenLLM tasks of the TS² authors' evaluation (their ``openllm_evaluation.py``), read from
a local copy of each Hugging Face dataset in its own column layout, and put in their prompts.

A copy is a parquet / JSON / JSONL / CSV file (as downloaded from the hub) or a directory written
by ``save_to_disk`` (``split`` picks a split of a dataset dict; default the split the authors used).
Questions are numbered by their row in the copy ("0", "1", ...), as the authors number them.

Each question becomes a ``TaskQuestion``: its text, its choices (None for GSM8K) and its gold
answer under both protocols (``ts2.metrics.openllm``).  The two golds differ only where the
authors' reading loses information: ARC questions whose answer key is "1"-"4" (theirs: "1",
which no letter ever equals; ts2: the letter at that label's position) and GSM8K answers written
with a thousands comma (theirs: the digits before it).  The prompt is the same under both.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from ..formats import DataError, is_table, iter_jsonl, read_saved_dataset, read_table
from ..metrics.openllm import LETTERS, gold_number
from ..protocols import task_prompt


@dataclass(frozen=True)
class TaskSpec:
    hub: str  # the dataset the authors load
    split: str  # the split they evaluate


TASKS = {
    "arc": TaskSpec("allenai/ai2_arc, config ARC-Challenge", "validation"),
    "hellaswag": TaskSpec("Rowan/hellaswag", "validation"),
    "winogrande": TaskSpec("allenai/winogrande, config winogrande_debiased", "validation"),
    "mmlu": TaskSpec("cais/mmlu, config all", "test"),
    "truthfulqa": TaskSpec("truthfulqa/truthful_qa, config multiple_choice (mc1_targets)", "validation"),
    "gsm8k": TaskSpec("openai/gsm8k, config main", "test"),
}


@dataclass(frozen=True)
class TaskQuestion:
    id: str
    question: str
    choices: list[str] | None  # None: a GSM8K question (the answer is a number)
    gold: str  # ts2's reading of the reference
    paper_gold: str  # the authors' reading

    def prompt(self) -> str:
        return task_prompt(self.question, self.choices)

    def gold_for(self, protocol: str) -> str:
        return self.paper_gold if protocol == "paper" else self.gold


class _RowError(Exception):
    pass


def _letter(index) -> str:
    index = int(index)
    if not 0 <= index < len(LETTERS):
        raise _RowError(f"answer index {index} is not one of the {len(LETTERS)} lettered choices")
    return LETTERS[index]


def _choice_question(question: str, choices: list, index: int, paper_gold: str | None = None) -> tuple:
    if not isinstance(choices, list):
        raise _RowError("the choices must be a list")
    # a CSV reader types "5" as a number; the hub's copies hold text
    choices = [str(c) if isinstance(c, (int, float)) and not isinstance(c, bool) else c for c in choices]
    if not isinstance(question, str) or not all(isinstance(c, str) for c in choices):
        raise _RowError("the question and the choices must be texts")
    if not 0 <= index < len(choices):
        raise _RowError(f"the answer ({index}) is not one of the {len(choices)} choices")
    gold = _letter(index)
    return question, choices, gold, paper_gold or gold


def _arc(row):
    labels, key = [str(label).upper() for label in row["choices"]["label"]], str(row["answerKey"]).strip().upper()
    if key not in labels:
        raise _RowError(f"answerKey {row['answerKey']!r} is not among the choice labels {labels}")
    index = labels.index(key)
    return _choice_question(row["question"], list(row["choices"]["text"]), index, key)


def _hellaswag(row):
    if str(row["label"]).strip() == "":
        raise _RowError("no label (the test split of HellaSwag has none; use validation)")
    # The authors join ctx and ctx_a, although the hub's ctx already ends with ctx_a: kept, since it
    # is the prompt their numbers come from.
    return _choice_question((row["ctx"] + " " + row["ctx_a"]).strip(), list(row["endings"]), int(row["label"]))


def _winogrande(row):
    answer = str(row["answer"]).strip()
    if answer not in ("1", "2"):
        raise _RowError(f"answer must be '1' or '2', got {row['answer']!r}")
    return _choice_question(row["sentence"].replace("_", "_____"), [row["option1"], row["option2"]], int(answer) - 1)


def _mmlu(row):
    choices = list(row["choices"]) if "choices" in row else [row[k] for k in "ABCD"]
    answer = row.get("answer", row.get("target"))
    index = LETTERS.index(answer.strip().upper()) if isinstance(answer, str) and not answer.strip().isdigit() \
        else int(answer)
    return _choice_question(row.get("question", row.get("input")), choices, index)


def _truthfulqa(row):
    targets = row["mc1_targets"]
    correct = [i for i, v in enumerate(targets["labels"]) if int(v) == 1]
    if not correct:
        raise _RowError("mc1_targets.labels marks no choice correct")
    # Only the first five choices fit the template's letters; the hub lists the correct one first.
    return _choice_question(row["question"], list(targets["choices"])[:5], correct[0])


def _gsm8k(row):
    paper, gold = gold_number(row["answer"], "paper"), gold_number(row["answer"], "ts2")
    if paper is None or gold is None:
        raise _RowError("the answer has no '#### N' final number")
    return row["question"], None, gold, paper


READERS = {"arc": _arc, "hellaswag": _hellaswag, "winogrande": _winogrande, "mmlu": _mmlu,
           "truthfulqa": _truthfulqa, "gsm8k": _gsm8k}
COLUMNS = {"arc": [("question", "choices", "answerKey")], "hellaswag": [("ctx", "ctx_a", "endings", "label")],
           "winogrande": [("sentence", "option1", "option2", "answer")],
           "mmlu": [("question", "choices", "answer"), ("question", "A", "B", "C", "D", "answer"),
                    ("input", "A", "B", "C", "D", "target")],
           "truthfulqa": [("question", "mc1_targets")], "gsm8k": [("question", "answer")]}


def _rows(path: Path, split: str | None) -> list[tuple[str, dict]]:
    if path.is_dir():
        ds = read_saved_dataset(path, split)
        return [(f"{path}[{i}]", row) for i, row in enumerate(ds.to_list())]
    if not path.is_file():
        raise DataError(f"{path}: no such file or directory")
    if is_table(path):
        return [(f"{path}[{i}]", row) for i, row in enumerate(read_table(path))]
    return list(iter_jsonl(path))


def read_task(task: str, path: str | Path, split: str | None = None, limit: int | None = None,
              shuffle_seed: int | None = None) -> list[TaskQuestion]:
    """The questions of ``task`` in a local copy at ``path`` (the first ``limit``).  With
    ``shuffle_seed``, each question's choices are put in an order drawn from (seed, question id)
    (the gold letter follows): TruthfulQA lists the right answer first, so in the hub's order a
    model that always answers A scores 100%."""
    if task not in TASKS:
        raise ValueError(f"--task must be one of {', '.join(TASKS)}, got {task!r}")
    if limit is not None and limit < 1:
        raise ValueError(f"--limit must be >= 1, got {limit}")
    path = Path(path)
    split = split or TASKS[task].split
    rows = _rows(path, split)
    if not rows:
        raise DataError(f"{path}: no rows")
    found = sorted(rows[0][1]) if isinstance(rows[0][1], dict) else []
    if not any(all(c in found for c in layout) for layout in COLUMNS[task]):
        expected = " or ".join("(" + ", ".join(layout) + ")" for layout in COLUMNS[task])
        raise DataError(f"{path}: not the {task} layout: expected the columns {expected}, found ({', '.join(found)})")
    questions = []
    for i, (origin, row) in enumerate(rows[:limit] if limit else rows):
        try:
            if not isinstance(row, dict):
                raise _RowError("expected an object")
            text, choices, gold, paper_gold = READERS[task](row)
        except (_RowError, KeyError, TypeError, ValueError, AttributeError) as exc:
            detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            raise DataError(f"{origin}: {detail}") from exc
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{origin}: the question is empty")
        if choices is not None and shuffle_seed is not None:
            order = list(range(len(choices)))
            random.Random(f"{shuffle_seed}:{i}").shuffle(order)
            choices = [choices[j] for j in order]
            gold = LETTERS[order.index(LETTERS.index(gold))]
            paper_gold = gold
        questions.append(TaskQuestion(str(i), text, choices, gold, paper_gold))
    return questions
